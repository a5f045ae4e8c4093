package dev.panamadnn.tests.fuzz;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.*;
import dev.panamadnn.tests.fuzz.FuzzCheck.Call;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The configuration generators, one per layer family. Each draws every hyperparameter and the
 * input shape from the case's random source, states the configuration ({@link FuzzCheck#config}),
 * then builds the layer and runs {@link FuzzCheck#layer}. Sizes stay small (channels up to 8,
 * spatial up to 16-32) so the plain-Java reference keeps a case in the milliseconds; a few
 * percent of hyperparameters are bad on purpose (0, negative, 2^16, Integer.MAX_VALUE).
 */
final class FuzzFamilies {
    /** A family: its name (the --family filter), its share of the cases, and the generator. */
    record Family(String name, int weight, Consumer<FuzzCheck> run) {}

    static final List<Family> ALL = List.of(
            new Family("Linear", 3, FuzzFamilies::linear),
            new Family("Conv1d", 3, c -> conv(c, 1, false)),
            new Family("Conv2d", 4, c -> conv(c, 2, false)),
            new Family("ConvTranspose1d", 2, c -> conv(c, 1, true)),
            new Family("ConvTranspose2d", 3, c -> conv(c, 2, true)),
            new Family("MaxPool1d", 2, c -> pool(c, 1, true)),
            new Family("MaxPool2d", 2, c -> pool(c, 2, true)),
            new Family("AvgPool1d", 2, c -> pool(c, 1, false)),
            new Family("AvgPool2d", 2, c -> pool(c, 2, false)),
            new Family("AdaptivePool", 2, FuzzFamilies::adaptive),
            new Family("BatchNorm", 2, FuzzFamilies::batchNorm),
            new Family("LayerNorm", 2, FuzzFamilies::layerNorm),
            new Family("Activation", 3, FuzzFamilies::activationLayer),
            new Family("Softmax", 2, FuzzFamilies::softmax),
            new Family("Add", 1, FuzzFamilies::add),
            new Family("Flatten", 1, FuzzFamilies::flatten),
            new Family("KMaxPool1d", 1, FuzzFamilies::kmax),
            new Family("WideConv1d", 1, FuzzFamilies::wideConv),
            new Family("Folding", 1, FuzzFamilies::folding),
            new Family("Sequential", 2, FuzzFamilies::sequential),
            new Family("Compiled", 2, CompiledFuzz::run),
            new Family("GroupNorm", 1, SequenceFamilies::groupNorm),
            new Family("Upsample", 1, SequenceFamilies::upsample),
            new Family("LSTM", 1, c -> SequenceFamilies.recurrent(c, true)),
            new Family("GRU", 1, c -> SequenceFamilies.recurrent(c, false)),
            new Family("MultiheadAttention", 2, SequenceFamilies::attention),
            new Family("Embedding", 1, SequenceFamilies::embedding),
            new Family("CompiledSequence", 2, CompiledSequenceFuzz::run),
            new Family("Broadcast", 1, SequenceFamilies::broadcast),
            new Family("Cat", 1, SequenceFamilies::cat));

    private FuzzFamilies() {}

    /**
     * Whether a layer with {@code parameters} weights may be built here. Between 2^26 (256 MiB) and
     * 2^34 elements the allocation succeeds on a 24 GiB machine (overcommit) and zero-filling it
     * takes the memory of everyone else on the machine, so those are skipped; above 2^34 (64 GiB)
     * the allocation fails at once, which is what the huge hyperparameters are there to test.
     */
    static boolean affordable(FuzzCheck c, double parameters) {
        if (parameters <= (1 << 26) || parameters >= 0x1p34) return true;
        c.note("not built: " + (long) parameters + " weights would be allocated and zero-filled");
        return false;
    }

    /** Builds through {@link FuzzCheck#call} (a bad constructor exception is a finding); null if refused. */
    static <T> T build(FuzzCheck c, Supplier<T> make) {
        Call<T> made = c.call("build", make);
        return c.named(made.value());
    }

    static long[] shape(long... dims) {
        return dims;
    }

    /** A batched [N, C, spatial...] shape, or (with probability pUnbatched) the unbatched [C, spatial...]. */
    static long[] nc(FuzzCheck c, long channels, double pUnbatched, long... spatial) {
        boolean batched = !c.chance(pUnbatched);
        long[] s = new long[(batched ? 2 : 1) + spatial.length];
        int i = 0;
        if (batched) s[i++] = c.between(1, 3);
        s[i++] = channels;
        System.arraycopy(spatial, 0, s, i, spatial.length);
        return s;
    }

    // ---------------------------------------------------------------- Linear

    static void linear(FuzzCheck c) {
        int in = c.hyper(1, 64, 0.03), out = c.hyper(1, 48, 0.03);
        boolean bias = c.chance(0.7);
        Activation act = c.chance(0.5) ? null : activation(c);
        Backend backend = c.pick(Backend.AUTO, Backend.ONEDNN, Backend.OPENBLAS);
        int rank = c.between(1, 3);
        long[] x = new long[rank];
        for (int i = 0; i < rank - 1; i++) x[i] = c.between(1, 9);
        x[rank - 1] = Math.max(1, in);
        c.config("Linear(in=" + in + ", out=" + out + ", bias=" + bias + ", act=" + act + ") backend=" + backend + " x=" + Arrays.toString(x));
        c.names.add("Linear");
        if (!affordable(c, Math.abs((double) in) * Math.abs((double) out))) return;
        Linear l = build(c, () -> act == null ? new Linear(in, out, bias) : new Linear(in, out, bias, act));
        if (l == null) return;
        c.randomizeParameters(l, 0);
        // Products of ordinary inputs (below 2) and weights (below 1); a sigmoid or tanh output is not small where its sum
        // cancels, so those keep the output-relative tolerance.
        String a = String.valueOf(act);
        if (!a.startsWith("Sigmoid") && !a.startsWith("Tanh")) c.termScale = 2;
        c.layer(l, x, rank - 1, backend, in);
    }

    static Activation activation(FuzzCheck c) {
        return switch (c.between(0, 6)) {
            case 0 -> Activation.relu();
            case 1 -> Activation.leakyRelu((float) c.r.nextDouble(-1, 1));
            case 2 -> Activation.sigmoid();
            case 3 -> Activation.tanh();
            case 4 -> Activation.gelu(c.pick("none", "tanh"));
            case 5 -> Activation.silu();
            default -> Activation.elu((float) c.r.nextDouble(0, 2));
        };
    }

    // ---------------------------------------------------------------- convolutions

    static void conv(FuzzCheck c, int nd, boolean transposed) {
        int in = c.hyper(1, 8, 0.02);
        int groups = c.chance(0.03) ? c.pick(0, -1, 3) : c.chance(0.5) ? 1 : divisor(c, Math.max(1, in));
        int out = c.chance(0.1) ? c.hyper(1, 8, 0.02) : Math.max(1, groups) * c.between(1, 3);
        int[] kernel = ints(c, c.chance(0.05) ? c.pick(1, 3) : (c.chance(0.3) ? 1 : nd), 1, 5, 0.02);
        int[] stride = ints(c, c.chance(0.4) ? 1 : nd, 1, 3, 0.02);
        int[] dilation = c.chance(0.6) ? new int[] {1} : ints(c, c.chance(0.4) ? 1 : nd, 1, 3, 0.02);
        boolean bias = c.chance(0.7);
        String pad;
        int[] padding = null, before = null, after = null, outputPadding = null;
        boolean causal = false;
        PaddingMode mode = PaddingMode.ZEROS;
        if (transposed) {
            padding = ints(c, c.chance(0.4) ? 1 : nd, 0, 3, 0.02);
            outputPadding = c.chance(0.5) ? new int[] {0} : ints(c, c.chance(0.4) ? 1 : nd, 0, 2, 0.02);
            pad = "padding=" + Arrays.toString(padding) + " output_padding=" + Arrays.toString(outputPadding);
        } else {
            switch (c.between(0, nd == 1 ? 6 : 5)) {
                case 0 -> pad = "padding=default";
                case 1, 2 -> {
                    padding = ints(c, c.chance(0.4) ? 1 : nd, 0, 3, 0.02);
                    pad = "padding=" + Arrays.toString(padding);
                }
                case 3 -> {
                    before = ints(c, c.chance(0.4) ? 1 : nd, 0, 3, 0.02);
                    after = ints(c, c.chance(0.4) ? 1 : nd, 0, 3, 0.02);
                    pad = "padding=(before " + Arrays.toString(before) + ", after " + Arrays.toString(after) + ")";
                }
                case 4 -> {
                    pad = "padding='same'";
                    if (c.chance(0.85)) Arrays.fill(stride, 1);   // 'same' needs stride 1: mostly keep it valid
                }
                case 5 -> pad = "padding='" + c.pick("valid", "valid", "bogus") + "'";
                default -> {
                    causal = true;
                    pad = "causal";
                }
            }
            if (c.chance(0.3)) mode = c.pick(PaddingMode.REFLECT, PaddingMode.REPLICATE, PaddingMode.CIRCULAR);
        }
        String family = (transposed ? "ConvTranspose" : "Conv") + nd + "d";
        long[] spatial = new long[nd];
        for (int i = 0; i < nd; i++) {
            long extent = (long) Math.max(1, dilation[Math.min(i, dilation.length - 1)]) * (Math.max(1, kernel[Math.min(i, kernel.length - 1)]) - 1) + 1;
            spatial[i] = c.chance(0.8) && extent <= 24 ? c.between((int) extent, (int) extent + (nd == 1 ? 24 : 10)) : c.between(1, nd == 1 ? 32 : 14);
        }
        long[] x = nc(c, Math.max(1, in), 0.15, spatial);
        int k = 1;
        for (int v : kernel) k = (int) Math.min(1 << 20, (long) k * Math.max(1, v));
        int reduction = (int) Math.min(1 << 24, (long) Math.max(1, in) / Math.max(1, Math.abs(groups)) * k * (nd == 2 && kernel.length == 1 ? k : 1));
        final String padText = pad;
        final int[] fp = padding, fb = before, fa = after, fop = outputPadding;
        final boolean fc = causal;
        final PaddingMode fm = mode;
        c.config(family + "(in=" + in + ", out=" + out + ", kernel=" + Arrays.toString(kernel) + ", stride=" + Arrays.toString(stride)
                + ", " + padText + ", dilation=" + Arrays.toString(dilation) + ", groups=" + groups + ", bias=" + bias
                + (transposed ? "" : ", mode=" + fm) + ") x=" + Arrays.toString(x));
        c.names.add(family);
        double weights = Math.abs((double) in) * Math.abs((double) out) / Math.max(1, Math.abs(groups));
        for (int v : kernel) weights *= Math.abs((double) v);
        if (nd == 2 && kernel.length == 1) weights *= Math.abs((double) kernel[0]);   // a square kernel given once
        if (!affordable(c, weights)) return;
        Layer layer = build(c, () -> {
            if (transposed) {
                if (nd == 1) {
                    return ConvTranspose1d.builder(in, out, kernel[0]).stride(stride).padding(fp).dilation(dilation).groups(groups).bias(bias)
                            .outputPadding(fop).build();
                }
                return ConvTranspose2d.builder(in, out, kernel).stride(stride).padding(fp).dilation(dilation).groups(groups).bias(bias)
                        .outputPadding(fop).build();
            }
            if (nd == 1) {
                Conv1d.Builder b = Conv1d.builder(in, out, kernel[0]).stride(stride).dilation(dilation).groups(groups).bias(bias).paddingMode(fm);
                if (fp != null) b.padding(fp);
                if (fb != null) b.padding(fb, fa);
                if (padText.contains("'")) b.padding(padText.substring(padText.indexOf('\'') + 1, padText.lastIndexOf('\'')));
                if (fc) b.causal();
                return b.build();
            }
            Conv2d.Builder b = Conv2d.builder(in, out, kernel).stride(stride).dilation(dilation).groups(groups).bias(bias).paddingMode(fm);
            if (fp != null) b.padding(fp);
            if (fb != null) b.padding(fb, fa);
            if (padText.contains("'")) b.padding(padText.substring(padText.indexOf('\'') + 1, padText.lastIndexOf('\'')));
            return b.build();
        });
        if (layer == null) return;
        c.randomizeParameters(layer, 0);
        c.layer(layer, x, x.length - nd - 1, c.pick(Backend.AUTO, Backend.ONEDNN), reduction);
    }

    /** A random divisor of {@code n} (valid channel groups). */
    static int divisor(FuzzCheck c, int n) {
        List<Integer> d = new ArrayList<>();
        for (int i = 1; i <= Math.min(n, 64); i++) if (n % i == 0) d.add(i);
        return d.get(c.r.nextInt(d.size()));
    }

    /** {@code n} values in [lo, hi], each bad with probability pWeird. */
    static int[] ints(FuzzCheck c, int n, int lo, int hi, double pWeird) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = c.hyper(lo, hi, pWeird);
        return v;
    }

    // ---------------------------------------------------------------- pooling

    static void pool(FuzzCheck c, int nd, boolean max) {
        int[] kernel = ints(c, nd, 1, 4, 0.02);
        int[] stride = ints(c, nd, 1, 3, 0.02);
        int[] padding = new int[nd];
        for (int i = 0; i < nd; i++) padding[i] = c.chance(0.02) ? c.hyper(0, 0, 1) : c.between(0, Math.max(0, Math.min(3, kernel[i] / 2 + (c.chance(0.05) ? 1 : 0))));
        int[] dilation = max && c.chance(0.3) ? ints(c, nd, 1, 3, 0.02) : ones(nd);
        boolean ceil = c.chance(0.4), countIncludePad = c.chance(0.5);
        long[] spatial = new long[nd];
        for (int i = 0; i < nd; i++) spatial[i] = c.between(1, nd == 1 ? 32 : 14);
        long[] x = nc(c, c.between(1, 6), 0.2, spatial);
        String family = (max ? "MaxPool" : "AvgPool") + nd + "d";
        c.config(family + "(kernel=" + Arrays.toString(kernel) + ", stride=" + Arrays.toString(stride) + ", padding=" + Arrays.toString(padding)
                + (max ? ", dilation=" + Arrays.toString(dilation) : ", count_include_pad=" + countIncludePad) + ", ceil_mode=" + ceil
                + ") x=" + Arrays.toString(x));
        c.names.add(family);
        Layer layer = build(c, (Supplier<Layer>) () -> {
            if (max) {
                if (nd == 1) return new MaxPool1d(kernel[0], stride[0], padding[0], dilation[0], ceil);
                return new MaxPool2d(kernel, stride, padding, dilation, ceil);
            }
            if (nd == 1) return new AvgPool1d(kernel[0], stride[0], padding[0], ceil, countIncludePad);
            return new AvgPool2d(kernel, stride, padding, ceil, countIncludePad);
        });
        if (layer == null) return;
        int window = 1;
        for (int k : kernel) window *= Math.max(1, Math.min(k, 64));
        c.layer(layer, x, x.length - nd - 1, Backend.AUTO, window);
    }

    static int[] ones(int n) {
        int[] v = new int[n];
        Arrays.fill(v, 1);
        return v;
    }

    static void adaptive(FuzzCheck c) {
        int kind = c.between(0, 2);
        int oh = c.hyper(1, 8, 0.03), ow = c.hyper(1, 8, 0.03);
        int nd = kind == 0 ? 1 : 2;
        long[] spatial = new long[nd];
        for (int i = 0; i < nd; i++) spatial[i] = c.between(1, nd == 1 ? 32 : 14);
        long[] x = nc(c, c.between(1, 6), 0.2, spatial);
        String name = switch (kind) {
            case 0 -> "AdaptiveAvgPool1d(" + oh + ")";
            case 1 -> "AdaptiveAvgPool2d(" + oh + ", " + ow + ")";
            default -> "AdaptiveMaxPool2d(" + oh + ", " + ow + ")";
        };
        c.config(name + " x=" + Arrays.toString(x));
        c.names.add(name.substring(0, name.indexOf('(')));
        // The output is N x C x oh (x ow) floats: a valid but huge one would take the machine's memory.
        if (!affordable(c, (double) x[0] * x[x.length - nd - 1] * Math.abs((double) oh) * (nd == 2 ? Math.abs((double) ow) : 1))) return;
        Layer layer = build(c, (Supplier<Layer>) () -> switch (kind) {
            case 0 -> new AdaptiveAvgPool1d(oh);
            case 1 -> new AdaptiveAvgPool2d(oh, ow);
            default -> new AdaptiveMaxPool2d(oh, ow);
        });
        if (layer == null) return;
        long window = 1;
        for (long s : spatial) window *= s;
        c.layer(layer, x, x.length - nd - 1, Backend.AUTO, (int) window);
    }

    // ---------------------------------------------------------------- normalization

    static void batchNorm(FuzzCheck c) {
        boolean two = c.chance(0.5);
        int features = c.hyper(1, 8, 0.03);
        double eps = c.chance(0.9) ? c.pick(1e-5, 1e-3, 0.1) : c.pick(0.0, -1.0, Double.MIN_VALUE, Double.NaN, 1e-50);
        boolean affine = c.chance(0.7);
        long[] x = two ? shape(c.between(1, 3), Math.max(1, features), c.between(1, 10), c.between(1, 10))
                : (c.chance(0.5) ? shape(c.between(1, 5), Math.max(1, features)) : shape(c.between(1, 3), Math.max(1, features), c.between(1, 20)));
        String name = two ? "BatchNorm2d" : "BatchNorm1d";
        c.config(name + "(" + features + ", eps=" + eps + ", affine=" + affine + ") x=" + Arrays.toString(x));
        c.names.add(name);
        if (!affordable(c, 4.0 * Math.abs((double) features))) return;   // mean, var, weight, bias
        Layer layer = build(c, () -> two ? (Layer) new BatchNorm2d(features, eps, affine) : new BatchNorm1d(features, eps, affine));
        if (layer == null) return;
        c.randomizeParameters(layer, 0.05);
        c.layer(layer, x, 1, Backend.AUTO, 4);
    }

    static void layerNorm(FuzzCheck c) {
        int rank = c.between(1, 4);
        long[] x = new long[rank];
        for (int i = 0; i < rank; i++) x[i] = c.between(1, 12);
        int normDims = c.between(1, Math.min(2, rank));
        long[] normalized = Arrays.copyOfRange(x, rank - normDims, rank);
        if (c.chance(0.03)) normalized[0] = c.pick(0L, -1L, 1L << 31, 1L << 40);
        double eps = c.chance(0.9) ? c.pick(1e-5, 1e-3) : c.pick(0.0, -1.0, Double.MIN_VALUE, Double.NaN, 1e-50);
        boolean affine = c.chance(0.7);
        c.config("LayerNorm(" + Arrays.toString(normalized) + ", eps=" + eps + ", affine=" + affine + ") x=" + Arrays.toString(x));
        c.names.add("LayerNorm");
        double weights = 2;   // weight and bias
        for (long d : normalized) weights *= Math.abs((double) d);
        if (affine && !affordable(c, weights)) return;
        Layer layer = build(c, () -> new LayerNorm(normalized, eps, affine));
        if (layer == null) return;
        c.randomizeParameters(layer, 0);
        // a row whose variance is near eps: x - mean carries x's rounding, scaled by 1 / sqrt(eps) (the term count covers it)
        long conditioning = eps > 0 && eps < 1 ? (long) (2 / Math.sqrt(eps)) : 0;
        c.layer(layer, x, rank - 1, Backend.AUTO, (int) Math.min(1 << 20, Math.max(FuzzCheck.numel(normalized), conditioning)));
    }

    // ---------------------------------------------------------------- element-wise, softmax, shapes

    static long[] anyShape(FuzzCheck c, int maxRank, int maxDim) {
        long[] x = new long[c.between(1, maxRank)];
        for (int i = 0; i < x.length; i++) x[i] = c.between(1, maxDim);
        return x;
    }

    static void activationLayer(FuzzCheck c) {
        int kind = c.between(0, 7);
        float alpha = (float) (c.chance(0.9) ? c.r.nextDouble(-1, 2) : c.pick(Float.NaN, Float.POSITIVE_INFINITY, -1e30f, 0f));
        String approx = c.chance(0.95) ? c.pick("none", "tanh") : c.pick("fast", "", "TANH");
        long[] x = anyShape(c, 4, 9);
        String cfg = switch (kind) {
            case 0 -> "ReLU()";
            case 1 -> "LeakyReLU(" + alpha + ")";
            case 2 -> "Sigmoid()";
            case 3 -> "Tanh()";
            case 4 -> "GELU('" + approx + "')";
            case 5 -> "SiLU()";
            case 6 -> "ELU(" + alpha + ")";
            default -> "GELU()";
        };
        c.config(cfg + " x=" + Arrays.toString(x));
        c.names.add(cfg.substring(0, cfg.indexOf('(')));
        Layer layer = build(c, (Supplier<Layer>) () -> switch (kind) {
            case 0 -> new ReLU();
            case 1 -> new LeakyReLU(alpha);
            case 2 -> new Sigmoid();
            case 3 -> new Tanh();
            case 4 -> new GELU(approx);
            case 5 -> new SiLU();
            case 6 -> new ELU(alpha);
            default -> new GELU();
        });
        if (layer == null) return;
        c.layer(layer, x, -1, Backend.AUTO, 1);
    }

    static void softmax(FuzzCheck c) {
        long[] x = anyShape(c, 4, 12);
        int dim = c.between(-x.length - 1, x.length);
        c.config("Softmax(dim=" + dim + ") x=" + Arrays.toString(x));
        c.names.add("Softmax");
        Layer layer = build(c, () -> new Softmax(dim));
        if (layer == null) return;
        int axis = dim < 0 ? dim + x.length : dim;
        c.layer(layer, x, -1, Backend.AUTO, axis >= 0 && axis < x.length ? (int) x[axis] : 1);
    }

    static void flatten(FuzzCheck c) {
        long[] x = anyShape(c, 5, 6);
        int start = c.chance(0.7) ? c.between(0, x.length - 1) : c.between(-4, 4);
        int end = c.chance(0.7) ? c.between(start >= 0 && start < x.length ? start : 0, x.length - 1) : c.between(-4, 4);
        boolean defaults = c.chance(0.2);
        c.config((defaults ? "Flatten()" : "Flatten(" + start + ", " + end + ")") + " x=" + Arrays.toString(x));
        c.names.add("Flatten");
        Layer layer = build(c, () -> defaults ? new Flatten() : new Flatten(start, end));
        if (layer == null) return;
        c.layer(layer, x, -1, Backend.AUTO, 1);
    }

    static void kmax(FuzzCheck c) {
        boolean dynamic = c.chance(0.4);
        int k = c.hyper(1, 8, 0.03), l = c.between(0, 4), bigL = c.between(0, 4);
        long[] x = c.chance(0.5) ? shape(c.between(1, 6), c.between(1, 24)) : shape(c.between(1, 3), c.between(1, 6), c.between(1, 24));
        c.config((dynamic ? "KMaxPool1d.dynamic(kTop=" + k + ", l=" + l + ", L=" + bigL + ")" : "KMaxPool1d(" + k + ")") + " x=" + Arrays.toString(x));
        c.names.add("KMaxPool1d");
        Layer layer = build(c, () -> dynamic ? KMaxPool1d.dynamic(k, l, bigL) : new KMaxPool1d(k));
        if (layer == null) return;
        c.layer(layer, x, -1, Backend.AUTO, 1);
    }

    static void wideConv(FuzzCheck c) {
        boolean depthwise = c.chance(0.4);
        int in = c.hyper(1, 8, 0.02), m = c.hyper(1, 6, 0.03);
        int groups = depthwise ? in : c.chance(0.5) ? 1 : divisor(c, Math.max(1, in));
        int out = depthwise ? in : Math.max(1, groups) * c.between(1, 3);
        boolean bias = c.chance(0.7);
        long[] x = c.chance(0.3) ? shape(Math.max(1, in), c.between(1, 24)) : shape(c.between(1, 3), Math.max(1, in), c.between(1, 24));
        c.config((depthwise ? "WideConv1d.depthwise(" + in + ", m=" + m + ")"
                : "WideConv1d(in=" + in + ", out=" + out + ", m=" + m + ", groups=" + groups + ", bias=" + bias + ")") + " x=" + Arrays.toString(x));
        c.names.add("WideConv1d");
        if (!affordable(c, Math.abs((double) in) * Math.abs((double) out) * Math.abs((double) m) / Math.max(1, Math.abs(groups)))) return;
        Layer layer = build(c, () -> depthwise ? WideConv1d.depthwise(in, m) : WideConv1d.builder(in, out, m).groups(groups).bias(bias).build());
        if (layer == null) return;
        c.randomizeParameters(layer, 0);
        if (layer instanceof WideConv1d w) w.weightsChanged();
        c.layer(layer, x, x.length - 2, Backend.AUTO, Math.max(1, in / Math.max(1, groups)) * Math.max(1, m));
    }

    static void folding(FuzzCheck c) {
        long rows = c.chance(0.85) ? 2L * c.between(1, 6) : c.between(1, 6) * 2L + 1;
        long[] x = c.chance(0.3) ? shape(rows, c.between(1, 20)) : shape(c.between(1, 3), rows, c.between(1, 20));
        c.config("Folding() x=" + Arrays.toString(x));
        c.names.add("Folding");
        Layer layer = build(c, Folding::new);
        if (layer == null) return;
        c.layer(layer, x, x.length - 2, Backend.AUTO, 2);
    }

    static void add(FuzzCheck c) {
        long[] a = anyShape(c, 4, 8);
        long[] b = c.chance(0.8) ? a.clone() : c.mutate(a, c.pick(FuzzCheck.Input.WRONG_RANK, FuzzCheck.Input.WRONG_SIZE), -1);
        FuzzCheck.Input how = c.pick(FuzzCheck.Input.VALID, FuzzCheck.Input.VALID, FuzzCheck.Input.STRIDED, FuzzCheck.Input.HEAP,
                FuzzCheck.Input.CLOSED, FuzzCheck.Input.WRONG_DTYPE, FuzzCheck.Input.READ_ONLY);
        FuzzCheck.Values values = c.values();
        c.config("Add() a=" + Arrays.toString(a) + " b=" + Arrays.toString(b) + " b-input=" + how + " " + values);
        c.names.add("Add");
        Add op = c.own(new Add());
        Tensor ta = c.tensor(a, FuzzCheck.Input.VALID, values), tb = c.tensor(b, how, values);
        Call<long[]> expected = c.call("outputShape", () -> op.outputShape(a, b));
        Call<Tensor> nat = c.call("AUTO forward", () -> op.forward(ta, tb, Backend.AUTO));
        Call<Tensor> ref = c.call("REFERENCE forward", () -> op.forward(ta, tb, Backend.REFERENCE));
        c.agree("AUTO", "REFERENCE", nat, ref, expected, 2, 0);
    }

    // ---------------------------------------------------------------- Sequential

    /** A small random 1-D or 2-D CNN (or MLP) as a Sequential; what a chain adds is the shape propagation between children. */
    static void sequential(FuzzCheck c) {
        boolean twoD = c.chance(0.6);
        int channels = c.between(1, 6);
        long[] x = twoD ? shape(c.between(1, 2), channels, c.between(3, 12), c.between(3, 12)) : shape(c.between(1, 2), channels, c.between(3, 24));
        List<Supplier<Layer>> parts = new ArrayList<>();
        List<String> desc = new ArrayList<>();
        int ch = channels, depth = c.between(1, 4), reduction = 0;
        for (int i = 0; i < depth; i++) {
            int kind = c.between(0, 5);
            if (kind <= 1) {
                int out = c.between(1, 6), k = c.pick(1, 3), pad = c.between(0, 1);
                int in = c.chance(0.05) ? ch + 1 : ch;   // a channel mismatch deep in the chain
                parts.add(twoD ? () -> Conv2d.builder(in, out, k).padding(pad).build() : () -> Conv1d.builder(in, out, k).padding(pad).build());
                desc.add((twoD ? "Conv2d(" : "Conv1d(") + in + ", " + out + ", k=" + k + ", pad=" + pad + ")");
                ch = out;
                reduction += in * k * (twoD ? k : 1);
            } else if (kind == 2) {
                int f = c.chance(0.05) ? ch + 1 : ch;
                parts.add(twoD ? () -> new BatchNorm2d(f) : () -> new BatchNorm1d(f));
                desc.add((twoD ? "BatchNorm2d(" : "BatchNorm1d(") + f + ")");
            } else if (kind == 3) {
                boolean relu = c.chance(0.6);
                parts.add(() -> relu ? new ReLU() : new Tanh());
                desc.add(relu ? "ReLU()" : "Tanh()");
            } else if (kind == 4) {
                int k = c.between(1, 3);
                boolean m = c.chance(0.5);
                parts.add(twoD ? () -> m ? new MaxPool2d(k) : new AvgPool2d(k) : () -> m ? new MaxPool1d(k) : new AvgPool1d(k));
                desc.add((m ? "MaxPool" : "AvgPool") + (twoD ? "2d(" : "1d(") + k + ")");
                reduction += k * k;
            } else {
                int o = c.between(1, 3);
                parts.add(twoD ? () -> new AdaptiveAvgPool2d(o) : () -> new AdaptiveAvgPool1d(o));
                desc.add((twoD ? "AdaptiveAvgPool2d(" : "AdaptiveAvgPool1d(") + o + ")");
                reduction += 64;
            }
        }
        boolean head = c.chance(0.5), rightFeatures = c.chance(0.85);
        int randomFeatures = c.between(1, 40), outFeatures = c.between(1, 8);
        c.config("Sequential(" + String.join(", ", desc) + (head ? ", Flatten(), Linear(" + (rightFeatures ? "fits" : randomFeatures)
                + ", " + outFeatures + ")" : "") + ") x=" + Arrays.toString(x));
        c.names.add("Sequential");
        List<Module> modules = new ArrayList<>();
        long[] s = x;
        for (Supplier<Layer> p : parts) {
            Layer m = build(c, p);
            if (m == null) return;
            modules.add(m);
            try {
                s = s == null ? null : m.outputShape(s);
            } catch (IllegalArgumentException e) {
                s = null;
            }
        }
        if (head) {
            long fits = s == null ? randomFeatures : FuzzCheck.numel(s) / s[0];
            int feat = rightFeatures && fits < 4096 ? (int) fits : randomFeatures;
            modules.add(c.named(new Flatten()));
            Linear linear = build(c, () -> new Linear(feat, outFeatures, true));
            if (linear == null) return;
            modules.add(linear);
            reduction += feat;
        }
        Sequential seq = build(c, () -> new Sequential(modules.toArray(Module[]::new)));
        if (seq == null) return;
        for (Module m : modules) c.named(m);
        c.randomizeParameters(seq, 0);
        c.layer(seq, x, 1, Backend.AUTO, reduction);
    }
}
