package dev.panamadnn.onnx;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The translations of {@link OpTable} that compose an ONNX op of several of ours, each as ONNX
 * defines the op: variadic Max/Min/Sum/Mean, Trilu, the composed reductions, Gemm beyond an inner
 * product, DepthToSpace/SpaceToDepth, LayerNormalization with its statistics outputs.
 */
final class Composed {
    private Composed() {}

    /** Max/Min/Sum/Mean over any number of inputs: {@code binary} folded left; Mean divides by the count. */
    static String fold(NodeContext n, String binary) {
        if (n.inputs.isEmpty()) throw n.refuse("needs at least one input");
        if (n.inputs.size() == 1) return n.emit("Identity", Attributes.empty(), n.input(0));
        String acc = n.input(0);
        for (int i = 1; i < n.inputs.size(); i++) acc = n.emit(binary, Attributes.empty(), acc, n.input(i));
        return n.op.equals("Mean") ? n.emit("Div", Attributes.empty(), acc, n.scalar("count", n.inputs.size())) : acc;
    }

    /**
     * Trilu: Where(mask, X, 0) with the constant mask of the last two dims (kept where j - i >= k, upper; j - i <= k, lower);
     * X F32, BOOL or an integer type (0 = false).
     */
    static List<String> trilu(NodeContext n) {
        var shape = n.value(0).shape();
        int rank = shape.rank();
        if (rank < 2 || !shape.dim(rank - 1).isFixed() || !shape.dim(rank - 2).isFixed()) {
            throw n.needsConstant("needs rank >= 2 with the last two dims fixed, got " + n.value(0));
        }
        long k = 0;
        if (!n.input(1).isEmpty()) {
            Tensor kt = n.constant(1);
            if (kt == null || kt.numel() != 1 || kt.dtype() != dev.panamadnn.DataType.I64) throw n.needsConstant("k must be a constant I64 scalar");
            k = kt.segment().get(ValueLayout.JAVA_LONG, 0);
        }
        boolean upper = n.attributes.integer("upper", 1) != 0;
        long h = shape.dim(rank - 2).size(), w = shape.dim(rank - 1).size();
        Tensor mask = Tensor.allocate(n.arena(), dev.panamadnn.DataType.BOOL, h, w);
        for (long i = 0; i < h; i++) {
            for (long j = 0; j < w; j++) {
                boolean keep = upper ? j - i >= k : j - i <= k;
                mask.segment().set(ValueLayout.JAVA_BYTE, i * w + j, (byte) (keep ? 1 : 0));
            }
        }
        String zero = switch (n.value(0).dtype()) {
            case F32 -> n.scalar("zero", 0f);
            // the integers, and torch.triu of a bool mask (a causal attention mask built from the sequence length)
            case I64, BOOL, I32, I16, I8, U8, U16, U32, U64 -> n.zero("zero", n.value(0).dtype());
            default -> throw n.refuse("X must be F32, BOOL or an integer type, got " + n.value(0));
        };
        String m = n.emit("Constant", Attributes.of("value", mask));
        return List.of(n.emit("Where", Attributes.empty(), m, n.input(0), zero));
    }

    /** ReduceL1, L2, SumSquare, LogSum, LogSumExp (axes an attribute at these opsets) composed of our reductions and math ops. */
    static List<String> composedReduce(NodeContext n) {
        long keep = n.attributes.integer("keepdims", 1);
        long[] axes = n.attributes.has("axes") ? n.attributes.integers("axes") : null;
        String x = n.input(0);
        java.util.function.BiFunction<String, Long, String> sum = (in, kd) -> n.emit("ReduceSum", Attributes.of("keepdims", kd), in,
                axes == null ? "" : n.longs("axes", axes, axes.length));
        java.util.function.BiFunction<String, Long, String> max = (in, kd) -> n.emit("ReduceMax", Attributes.of("keepdims", kd), in,
                axes == null ? "" : n.longs("axes", axes, axes.length));
        Attributes none = Attributes.empty();
        return List.of(switch (n.op) {
            case "ReduceL1" -> sum.apply(n.emit("Abs", none, x), keep);
            case "ReduceL2" -> n.emit("Sqrt", none, sum.apply(n.emit("Mul", none, x, x), keep));
            case "ReduceSumSquare" -> sum.apply(n.emit("Mul", none, x, x), keep);
            case "ReduceLogSum" -> n.emit("Log", none, sum.apply(x, keep));
            case "ReduceLogSumExp" -> {
                // shifted by the max as torch.logsumexp, which shifts by 0 where the max is infinite: a line with +inf gives
                // +inf and one of only -inf gives -inf (inf - inf would be NaN), as the unshifted log(sum(exp(x))) ONNX defines
                java.util.function.Function<String, String> finite = m -> n.emit("Where", none,
                        n.emit("Equal", none, n.emit("Abs", none, m), n.scalar("inf", Float.POSITIVE_INFINITY)), n.scalar("zero", 0f), m);
                String shifted = n.emit("Exp", none, n.emit("Sub", none, x, finite.apply(max.apply(x, 1L))));
                yield n.emit("Add", none, n.emit("Log", none, sum.apply(shifted, keep)), finite.apply(max.apply(x, keep)));
            }
            default -> throw new IllegalStateException(n.op);
        });
    }

    /**
     * ReverseSequence (opsets 10-17): along {@code time_axis}, each batch entry's first {@code sequence_lens[b]} steps
     * reversed, the rest as they are, as a GatherElements whose index is {@code t < len ? len - 1 - t : t} (computed in F32,
     * exact for any length a tensor can have on this axis, then cast to INT64; folded to a constant where the lengths
     * are). The time axis must have a fixed size; a length outside [0, T] gives an index outside the axis, refused by
     * GatherElements when known, else when run, naming it.
     */
    static List<String> reverseSequence(NodeContext n) {
        var x = n.value(0).shape();
        int rank = x.rank();
        if (rank < 2) throw n.refuse("input must have rank >= 2, got " + n.value(0));
        long t = n.attributes.integer("time_axis", 0), b = n.attributes.integer("batch_axis", 1);
        if (!(t == 0 && b == 1 || t == 1 && b == 0)) throw n.refuse("time_axis and batch_axis must be 0 and 1 in some order, got " + t + " and " + b);
        if (!x.dim((int) t).isFixed()) throw n.needsConstant("ReverseSequence needs a fixed time axis, got " + n.value(0));
        int steps = Math.toIntExact(x.dim((int) t).size());
        float[] positions = new float[steps];
        for (int i = 0; i < steps; i++) positions[i] = i;
        long[] along = new long[rank];
        java.util.Arrays.fill(along, 1);
        along[(int) t] = steps;
        Attributes none = Attributes.empty();
        String ar = n.floats("positions", positions, along);
        long[] perBatch = new long[rank];
        java.util.Arrays.fill(perBatch, 1);
        perBatch[(int) b] = -1;
        String len = n.emit("Reshape", none, n.emit("Cast", Attributes.of("to", 1L), n.input(1)), n.longs("per_batch", perBatch, rank));
        String reversed = n.emit("Sub", none, n.emit("Sub", none, len, n.scalar("one", 1f)), ar);
        String index = n.emit("Where", none, n.emit("Less", none, ar, len), reversed, ar);
        String full = n.emit("Expand", none, index, n.emit("Shape", none, n.input(0)));
        return List.of(n.emit("GatherElements", Attributes.of("axis", t), n.input(0), n.emit("Cast", Attributes.of("to", 7L), full)));
    }

    /** {@code |x|^p} for LpNormalization and the Lp pools: Abs for 1, x * x for 2, else Pow(Abs(x), p). */
    private static String powered(NodeContext n, String x, long p) {
        Attributes none = Attributes.empty();
        return p == 1 ? n.emit("Abs", none, x) : p == 2 ? n.emit("Mul", none, x, x) : n.emit("Pow", none, n.emit("Abs", none, x), n.scalar("p", p));
    }

    /** {@code sum^(1/p)}: the sum for 1, Sqrt for 2, else Pow(sum, 1/p). */
    private static String root(NodeContext n, String sum, long p) {
        Attributes none = Attributes.empty();
        return p == 1 ? sum : p == 2 ? n.emit("Sqrt", none, sum) : n.emit("Pow", none, sum, n.scalar("inv_p", (float) (1.0 / p)));
    }

    /** The Lp pools' and LpNormalization's {@code p}: a positive integer (LpNormalization: 1 or 2, as ONNX allows). */
    private static long p(NodeContext n, boolean oneOrTwo) {
        long p = n.attributes.integer("p", 2);
        if (oneOrTwo ? p != 1 && p != 2 : p < 1) throw n.refuse("p must be " + (oneOrTwo ? "1 or 2" : ">= 1") + ", got " + p);
        return p;
    }

    /**
     * LpNormalization (opsets 1-17): {@code x / (sum over axis of |x|^p)^(1/p)}; a line of zeros stays zeros (its norm
     * taken as 1), as ONNX Runtime and torch's {@code F.normalize} give, where the formula alone would give 0/0 = NaN.
     */
    static List<String> lpNormalization(NodeContext n) {
        long p = p(n, true), axis = n.attributes.integer("axis", -1);
        Attributes none = Attributes.empty();
        String sum = n.emit("ReduceSum", Attributes.of("keepdims", 1L), powered(n, n.input(0), p), n.longs("axes", new long[] {axis}, 1));
        String norm = root(n, sum, p);
        String safe = n.emit("Where", none, n.emit("Equal", none, norm, n.scalar("zero", 0f)), n.scalar("one", 1f), norm);
        return List.of(n.emit("Div", none, n.input(0), safe));
    }

    /** GlobalLpPool (opsets 2-17): {@code (sum over the spatial dims of |x|^p)^(1/p)}, the dims kept as 1. */
    static List<String> globalLpPool(NodeContext n) {
        long p = p(n, false);
        int rank = n.value(0).shape().rank();
        if (rank < 3) throw n.refuse("X must be [N, C, D1, ...], got " + n.value(0));
        long[] axes = new long[rank - 2];
        for (int i = 0; i < axes.length; i++) axes[i] = i + 2;
        String sum = n.emit("ReduceSum", Attributes.of("keepdims", 1L), powered(n, n.input(0), p), n.longs("axes", axes, axes.length));
        return List.of(root(n, sum, p));
    }

    /**
     * LpPool (opsets 2-17): per window {@code (sum of |x|^p)^(1/p)}, the padding contributing nothing: |x|^p padded with
     * zeros (explicit pads, or auto_pad SAME_* computed as for the other pools), an AveragePool without padding times
     * the kernel's size, then the root.
     */
    static List<String> lpPool(NodeContext n) {
        long p = p(n, false);
        Shape x = n.value(0).shape();
        int spatial = x.rank() - 2;
        if (spatial < 1) throw n.refuse("X must be [N, C, D1, ...], got " + n.value(0));
        long[] kernel = n.attributes.integers("kernel_shape", null), strides = n.attributes.integers("strides", null);
        if (kernel == null || kernel.length != spatial) throw n.refuse("kernel_shape must have one size per spatial dim of " + n.value(0));
        if (strides != null && strides.length != spatial) throw n.refuse("strides must have one entry per spatial dim of " + n.value(0));
        String autoPad = n.attributes.string("auto_pad", "NOTSET");
        long[] pads = n.attributes.integers("pads", new long[2 * spatial]);
        if (pads.length != 2 * spatial) throw n.refuse("pads must have two entries per spatial dim of " + n.value(0));
        long size = 1;
        for (int i = 0; i < spatial; i++) {
            long s = strides == null ? 1 : strides[i];
            if (kernel[i] < 1 || s < 1) throw n.refuse("kernel_shape and strides must be >= 1");
            size = Math.multiplyExact(size, kernel[i]);
            if (autoPad.startsWith("SAME_")) {
                if (!x.dim(i + 2).isFixed()) throw n.needsConstant("auto_pad " + autoPad + " needs fixed spatial sizes, got " + n.value(0));
                long in = x.dim(i + 2).size(), out = (in + s - 1) / s;
                long total = Math.max(0, Math.multiplyExact(out - 1, s) + kernel[i] - in), small = total / 2;
                pads[i] = autoPad.equals("SAME_UPPER") ? small : total - small;
                pads[i + spatial] = total - pads[i];
            } else if (autoPad.equals("VALID")) {
                pads[i] = pads[i + spatial] = 0;
            }
        }
        String v = powered(n, n.input(0), p);
        if (java.util.Arrays.stream(pads).anyMatch(d -> d != 0)) {
            long[] all = new long[2 * x.rank()];
            for (int i = 0; i < spatial; i++) {
                all[i + 2] = pads[i];
                all[x.rank() + i + 2] = pads[i + spatial];
            }
            v = n.emit("Pad", Attributes.of("mode", "constant"), v, n.longs("pads", all, all.length));
        }
        Attributes.Builder pool = Attributes.builder().put("kernel_shape", kernel);
        if (strides != null) pool.put("strides", strides);
        String mean = n.emit("AveragePool", pool.build(), v);
        return List.of(root(n, n.emit("Mul", Attributes.empty(), mean, n.scalar("kernel_size", size)), p));
    }

    /**
     * MeanVarianceNormalization (opsets 9-17): {@code (X - mean) / (sqrt(mean((X - mean)^2)) + 1e-9)}, the means over
     * {@code axes} (default [0, 2, 3], kept), epsilon added to the deviation as ONNX's function body does.
     */
    static List<String> meanVarianceNormalization(NodeContext n) {
        long[] axes = n.attributes.has("axes") ? n.attributes.integers("axes") : new long[] {0, 2, 3};
        Attributes keep = Attributes.of("keepdims", 1L), none = Attributes.empty();
        java.util.function.Function<String, String> mean = x -> n.emit("ReduceMean", keep, x, n.longs("axes", axes, axes.length));
        String centered = n.emit("Sub", none, n.input(0), mean.apply(n.input(0)));
        String deviation = n.emit("Sqrt", none, mean.apply(n.emit("Mul", none, centered, centered)));
        return List.of(n.emit("Div", none, centered, n.emit("Add", none, deviation, n.scalar("epsilon", 1e-9f))));
    }

    /**
     * Gemm: our Gemm (a oneDNN inner product) where it applies (transA = 0, alpha = beta = 1, B and C
     * constants); else alpha * MatMul(A', B') + beta * C as ONNX defines it, A' and B' transposed as asked.
     */
    static List<String> gemm(NodeContext n) {
        Attributes a = OpTable.kept(n.attributes);
        boolean transA = a.integer("transA", 0) != 0, transB = a.integer("transB", 0) != 0;
        double alpha = a.real("alpha", 1), beta = a.real("beta", 1);
        boolean hasC = !n.input(2).isEmpty();
        if (!transA && alpha == 1 && beta == 1 && n.constant(1) != null && (!hasC || n.constant(2) != null)) {
            return List.of(n.emit("Gemm", a, n.inputs.toArray(new String[0])));
        }
        Attributes none = Attributes.empty(), swap = Attributes.of("perm", new long[] {1, 0});
        String x = transA ? n.emit("Transpose", swap, n.input(0)) : n.input(0);
        String w = transB ? n.emit("Transpose", swap, n.input(1)) : n.input(1);
        String y = n.emit("MatMul", none, x, w);
        if (alpha != 1) y = n.emit("Mul", none, y, n.scalar("alpha", (float) alpha));
        if (hasC) y = n.emit("Add", none, y, beta == 1 ? n.input(2) : n.emit("Mul", none, n.input(2), n.scalar("beta", (float) beta)));
        return List.of(y);
    }

    /**
     * DepthToSpace (DCR or CRD) and SpaceToDepth as ONNX defines them (a 6-D reshape and transpose),
     * done in 5-D with two dims that stay adjacent merged: a Reshape, a Transpose, a Reshape back to 4-D.
     */
    static List<String> depthSpace(NodeContext n) {
        var shape = n.value(0).shape();
        if (shape.rank() != 4 || !shape.dim(1).isFixed() || !shape.dim(2).isFixed() || !shape.dim(3).isFixed()) {
            throw n.needsConstant("needs [N, C, H, W] with C, H, W fixed, got " + n.value(0));
        }
        long bs = n.attributes.integer("blocksize", 0), c = shape.dim(1).size(), h = shape.dim(2).size(), w = shape.dim(3).size();
        if (bs < 1) throw n.refuse("blocksize must be >= 1, got " + bs);
        long[] five, perm, four;   // 5-D: our plans have no rank-6 layouts; two dims stay together through the permutation
        if (n.op.equals("DepthToSpace")) {
            if (c % (bs * bs) != 0) throw n.refuse("C = " + c + " is not a multiple of blocksize^2 = " + bs * bs);
            boolean crd = n.attributes.string("mode", "DCR").equals("CRD");
            if (!crd && !n.attributes.string("mode", "DCR").equals("DCR")) throw n.refuse("mode must be DCR or CRD");
            // DCR: [N, b1, b2, C', H, W] -> [N, C', H, b1, W, b2] with C'H kept together; CRD: [N, C', b1, b2, H, W] -> same, NC' together.
            five = crd ? new long[] {-1, bs, bs, h, w} : new long[] {0, bs, bs, c / (bs * bs) * h, w};
            perm = crd ? new long[] {0, 3, 1, 4, 2} : new long[] {0, 3, 1, 4, 2};
            four = crd ? new long[] {-1, c / (bs * bs), h * bs, w * bs} : new long[] {0, c / (bs * bs), h * bs, w * bs};
        } else {
            if (h % bs != 0 || w % bs != 0) throw n.refuse("H, W = " + h + ", " + w + " are not multiples of blocksize " + bs);
            five = new long[] {0, c * (h / bs), bs, w / bs, bs};   // [N, C, H', b1, W', b2] -> [N, b1, b2, C, H', W'] with CH' kept together
            perm = new long[] {0, 2, 4, 1, 3};
            four = new long[] {0, c * bs * bs, h / bs, w / bs};
        }
        String x = n.emit("Reshape", Attributes.empty(), n.input(0), n.longs("shape5", five, 5));
        x = n.emit("Transpose", Attributes.of("perm", perm), x);
        return List.of(n.emit("Reshape", Attributes.empty(), x, n.longs("shape4", four, 4)));
    }

    /**
     * LayerNormalization: ours when only Y is read; with Mean / InvStdDev read, composed as ONNX
     * defines it (mean and variance over the axes from {@code axis} on, kept as dims of size 1).
     */
    static List<String> layerNorm(NodeContext n) {
        if (n.outputCount <= 1) return List.of(n.emit("LayerNormalization", OpTable.kept(n.attributes), n.inputs.toArray(String[]::new)));
        if (n.attributes.integer("stash_type", 1) != 1) throw n.refuse("stash_type must be 1 (float) with the Mean / InvStdDev outputs");
        int rank = n.value(0).shape().rank();
        long axis = n.attributes.integer("axis", -1);
        if (axis < -rank || axis >= rank) throw n.refuse("axis " + axis + " is out of range for " + n.value(0));
        if (axis < 0) axis += rank;
        long[] axes = new long[(int) (rank - axis)];
        for (int i = 0; i < axes.length; i++) axes[i] = axis + i;
        Attributes none = Attributes.empty(), keep = Attributes.of("keepdims", 1L);
        String x = n.input(0);
        String mean = n.emit("ReduceMean", keep, x, n.longs("axes", axes, axes.length));
        String d = n.emit("Sub", none, x, mean);
        String var = n.emit("ReduceMean", keep, n.emit("Mul", none, d, d), n.longs("axes", axes, axes.length));
        String inv = n.emit("Reciprocal", none, n.emit("Sqrt", none, n.emit("Add", none, var, n.scalar("epsilon", (float) n.attributes.real("epsilon", 1e-5)))));
        String y = n.emit("Mul", none, n.emit("Mul", none, d, inv), n.input(1));
        if (!n.input(2).isEmpty()) y = n.emit("Add", none, y, n.input(2));
        return List.of(y, mean, inv);
    }

    /**
     * BatchNormalization-14 and 15: ours in inference; with training_mode=1 composed as ONNX defines it: Y normalized by the
     * batch's statistics (mean and biased variance over every axis but the channels'), and the running statistics
     * {@code input_mean * momentum + batch_mean * (1 - momentum)} (and the variance likewise) as outputs 1 and 2.
     */
    static List<String> batchNorm(NodeContext n) {
        if (n.attributes.integer("training_mode", 0) == 0) {
            if (n.outputCount > 1) throw n.refuse("running_mean and running_var are outputs only with training_mode=1");
            return List.of(n.emit("BatchNormalization", OpTable.kept(n.attributes), n.inputs.toArray(String[]::new)));
        }
        int rank = n.value(0).shape().rank();
        if (rank < 2) throw n.refuse("X must be [N, C, ...], got " + n.value(0));
        long[] axes = new long[rank - 1], perChannel = new long[rank - 1];
        for (int i = 0, a = 0; i < rank; i++) if (i != 1) axes[a++] = i;
        java.util.Arrays.fill(perChannel, 1);
        perChannel[0] = -1;   // [C, 1, ...]: broadcast over the dims after the channels
        Attributes none = Attributes.empty(), keep = Attributes.of("keepdims", 1L);
        String x = n.input(0);
        String mean = n.emit("ReduceMean", keep, x, n.longs("axes", axes, axes.length));
        String d = n.emit("Sub", none, x, mean);
        String var = n.emit("ReduceMean", keep, n.emit("Mul", none, d, d), n.longs("axes", axes, axes.length));
        String std = n.emit("Sqrt", none, n.emit("Add", none, var, n.scalar("epsilon", (float) n.attributes.real("epsilon", 1e-5))));
        String shape = n.longs("per_channel", perChannel, perChannel.length);
        String y = n.emit("Add", none, n.emit("Mul", none, n.emit("Div", none, d, std), n.emit("Reshape", none, n.input(1), shape)),
                n.emit("Reshape", none, n.input(2), shape));
        double momentum = n.attributes.real("momentum", 0.9);
        String flat = n.longs("flat", new long[] {-1}, 1);
        String kept = n.scalar("momentum", (float) momentum), taken = n.scalar("one_minus_momentum", (float) (1 - momentum));
        String runningMean = n.emit("Add", none, n.emit("Mul", none, n.input(3), kept), n.emit("Mul", none, n.emit("Reshape", none, mean, flat), taken));
        String runningVar = n.emit("Add", none, n.emit("Mul", none, n.input(4), kept), n.emit("Mul", none, n.emit("Reshape", none, var, flat), taken));
        return List.of(y, runningMean, runningVar);
    }

    /**
     * LRN (across channels, ONNX's definition): {@code Y = X / (bias + alpha / size * square_sum)^beta}, square_sum over
     * channels {@code [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)]} within range. X [N, C, ...] is viewed as
     * [N, 1, C, rest], its squares padded with zero channels and averaged by an AveragePool of [size, 1] (so the average
     * is square_sum / size), all on oneDNN.
     */
    static List<String> lrn(NodeContext n) {
        var shape = n.value(0).shape();
        if (shape.rank() < 3) throw n.refuse("X must be [N, C, D1, ...], got " + n.value(0));
        if (!shape.dim(1).isFixed()) throw n.needsConstant("the channel count of " + n.value(0) + " must be fixed");
        long size = n.attributes.integer("size");
        if (size < 1) throw n.refuse("size must be >= 1, got " + size);
        double alpha = n.attributes.real("alpha", 1e-4), beta = n.attributes.real("beta", 0.75), bias = n.attributes.real("bias", 1);
        Attributes none = Attributes.empty();
        String x = n.input(0);
        String view = n.emit("Reshape", none, n.emit("Mul", none, x, x), n.longs("view", new long[] {0, 1, shape.dim(1).size(), -1}, 4));
        // zero channels before and after (an even size's window is asymmetric), then the plain average of size squares
        String padded = n.emit("Pad", Attributes.of("mode", "constant"), view, n.longs("pads", new long[] {0, 0, (size - 1) / 2, 0, 0, 0, size / 2, 0}, 8));
        Attributes pool = Attributes.builder().put("kernel_shape", new long[] {size, 1}).put("strides", new long[] {1, 1}).build();
        String mean = n.emit("Reshape", none, n.emit("AveragePool", pool, padded), n.emit("Shape", none, x));
        String scaled = n.emit("Add", none, n.emit("Mul", none, mean, n.scalar("alpha", (float) alpha)), n.scalar("bias", (float) bias));
        return List.of(n.emit("Div", none, x, n.emit("Pow", none, scaled, n.scalar("beta", (float) beta))));
    }

    /**
     * HannWindow, HammingWindow, BlackmanWindow of a known size (a constant or a bound input): the window's values, computed
     * now as ONNX's function bodies define them over {@code x = 2 pi n / N} ({@code N} the size, or size - 1 when not
     * periodic), a constant of the graph.
     */
    static List<String> window(NodeContext n) {
        Tensor size = n.constant(0);
        if (size == null) throw n.needsConstant("size must be known (a constant, or an input bound per call)");
        if (size.numel() != 1 || size.dtype() != dev.panamadnn.DataType.I32 && size.dtype() != dev.panamadnn.DataType.I64) {
            throw n.refuse("size must be an I32 or I64 scalar, got " + size);
        }
        long m = size.dtype() == dev.panamadnn.DataType.I32 ? size.segment().get(ValueLayout.JAVA_INT, 0) : size.segment().get(ValueLayout.JAVA_LONG, 0);
        if (m < 1 || m > 1 << 24) throw n.refuse("size must be in [1, 2^24], got " + m);
        if (n.attributes.integer("output_datatype", 1) != 1) throw n.refuse("output_datatype must be 1 (FLOAT), got " + n.attributes.integer("output_datatype", 1));
        double period = n.attributes.integer("periodic", 1) != 0 ? m : m - 1;
        Tensor w = Tensor.allocate(n.arena(), dev.panamadnn.DataType.F32, m);
        double alpha = 25.0 / 46;
        for (int i = 0; i < m; i++) {
            double x = 2 * Math.PI * i / period;
            double v = switch (n.op) {
                case "HannWindow" -> 0.5 - 0.5 * Math.cos(x);
                case "HammingWindow" -> alpha - (1 - alpha) * Math.cos(x);
                default -> 0.42 - 0.5 * Math.cos(x) + 0.08 * Math.cos(2 * x);   // BlackmanWindow
            };
            w.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
        }
        return List.of(n.emit("Constant", Attributes.of("value", w)));
    }

    /**
     * EyeLike: a constant of the input's shape (2-D, fixed) with ones on diagonal {@code k} (column - row = k; beyond the
     * matrix: all zeros), of element type {@code dtype} (default: the input's), computed at import. The input's values
     * are not read.
     */
    static List<String> eyeLike(NodeContext n) {
        var shape = n.value(0).shape();
        if (shape.rank() != 2) throw n.refuse("input must be 2-D, got " + n.value(0));
        if (!shape.isFixed()) throw n.needsConstant("the input's dims must be known, got " + n.value(0));
        dev.panamadnn.DataType t = n.value(0).dtype();
        if (n.attributes.has("dtype")) {
            int code = (int) n.attributes.integer("dtype");
            t = TensorProtos.dtype(code);
            if (t == null || t == dev.panamadnn.DataType.BF16) throw n.refuse("dtype " + TensorProtos.elemTypeName(code) + " is not supported");
        }
        long h = shape.dim(0).size(), w = shape.dim(1).size(), k = n.attributes.integer("k", 0);
        Tensor eye = Tensor.allocate(n.arena(), t, h, w);
        eye.segment().fill((byte) 0);
        for (long i = k >= w || k <= -h ? h : Math.max(0, -k); i < h && i + k < w; i++) {   // (a k beyond the matrix: no ones)
            long at = i * w + i + k;
            switch (t) {
                case F32 -> eye.segment().setAtIndex(ValueLayout.JAVA_FLOAT, at, 1f);
                case F16 -> eye.segment().setAtIndex(ValueLayout.JAVA_SHORT, at, Float.floatToFloat16(1f));
                case I64, U64 -> eye.segment().setAtIndex(ValueLayout.JAVA_LONG, at, 1L);
                case I32, U32 -> eye.segment().setAtIndex(ValueLayout.JAVA_INT, at, 1);
                case I16, U16 -> eye.segment().setAtIndex(ValueLayout.JAVA_SHORT, at, (short) 1);
                default -> eye.segment().set(ValueLayout.JAVA_BYTE, at, (byte) 1);   // I8, U8, BOOL
            }
        }
        return List.of(n.emit("Constant", Attributes.of("value", eye)));
    }

    /**
     * QuantizeLinear and DequantizeLinear (opsets 10-17) in F32, as ONNX defines them: {@code y = saturate(round(x / scale)
     * + zero_point)} (round half to even, saturated to the zero point's type, UINT8 by default; a Cast gives the integer
     * type, its values exact in F32) and {@code y = (x - zero_point) * scale}. A 1-D scale and zero point apply along
     * {@code axis} (default 1), reshaped to broadcast there. A quantized model (QDQ) thus runs in F32 with the same
     * quantization steps; a DequantizeLinear of constant weights folds to F32 weights.
     */
    static List<String> quantize(NodeContext n) {
        boolean q = n.op.equals("QuantizeLinear");
        var x = n.value(0);
        dev.panamadnn.DataType zt = n.inputs.size() > 2 && !n.input(2).isEmpty() ? n.value(2).dtype() : dev.panamadnn.DataType.U8;
        if (q && zt != dev.panamadnn.DataType.U8 && zt != dev.panamadnn.DataType.I8) throw n.refuse("y_zero_point must be UINT8 or INT8, got " + zt);
        if (q && x.dtype() != dev.panamadnn.DataType.F32) throw n.refuse("x must be FLOAT, got " + x);
        if (!q && x.dtype() != dev.panamadnn.DataType.U8 && x.dtype() != dev.panamadnn.DataType.I8 && x.dtype() != dev.panamadnn.DataType.I32) {
            throw n.refuse("x must be UINT8, INT8 or INT32, got " + x);
        }
        if (n.value(1).dtype() != dev.panamadnn.DataType.F32) throw n.refuse("the scale must be FLOAT, got " + n.value(1));
        Attributes none = Attributes.empty();
        String scale = perAxis(n, n.input(1));
        String zero = n.inputs.size() > 2 && !n.input(2).isEmpty() ? perAxis(n, n.emit("Cast", Attributes.of("to", 1L), n.input(2))) : null;
        if (!q) {
            String xf = n.emit("Cast", Attributes.of("to", 1L), n.input(0));
            return List.of(n.emit("Mul", none, zero == null ? xf : n.emit("Sub", none, xf, zero), scale));
        }
        String r = n.emit("Round", none, n.emit("Div", none, n.input(0), scale));
        if (zero != null) r = n.emit("Add", none, r, zero);
        boolean u8 = zt == dev.panamadnn.DataType.U8;
        String clipped = n.emit("Clip", none, r, n.scalar("low", u8 ? 0 : -128), n.scalar("high", u8 ? 255 : 127));
        return List.of(n.emit("Cast", Attributes.of("to", u8 ? 2L : 3L), clipped));
    }

    /**
     * The integer-arithmetic quantized ops (opset 10-17) on exact F32 values: {@code ConvInteger} and {@code MatMulInteger}
     * (INT32 out: a Conv or MatMul of the inputs minus their zero points), {@code QLinearConv} and {@code QLinearMatMul}
     * (the same sum, QLinearConv's INT32 bias added, then {@code saturate(round(sum * (x_scale * w_scale / y_scale)) + y_zero_point)}
     * in the output's UINT8/INT8, round half to even, as ONNX Runtime computes them). The integer sums are exact while they stay
     * below 2^24 in magnitude (8-bit operands: at least 256 products at the extremes, far more in practice). Per-channel
     * weight scales and zero points ([M]) apply along the output channels; a matrix's per-row (A) and per-column (B) ones
     * along those. Explicit pads only (auto_pad SAME_* refused).
     */
    static List<String> integerOps(NodeContext n) {
        Attributes none = Attributes.empty();
        boolean conv = n.op.contains("Conv"), linear = n.op.startsWith("QLinear");
        int rank = n.value(0).shape().rank();
        // Where a 1-D scale or zero point lies: a matrix A's along its rows, a convolution's weights' along the output
        // channels (of W, then of the sum); B's along its columns and x's (per tensor) as they are.
        long[] rows = conv ? null : broadcastAlong(2, 0), weights = conv ? broadcastAlong(rank, 0) : null;
        long[] channels = conv ? broadcastAlong(rank, 1) : null;
        String x = centered(n, 0, 2, rows), wt = centered(n, linear ? 3 : 1, linear ? 5 : 3, weights);
        String sum;
        if (conv) {
            if (n.attributes.string("auto_pad", "NOTSET").startsWith("SAME_")) throw n.refuse("auto_pad SAME_* is not supported here; give explicit pads");
            Attributes a = OpTable.kept(n.attributes).toBuilder().remove("auto_pad").build();
            sum = n.emit("Conv", a, x, wt);
        } else {
            sum = n.emit("MatMul", none, x, wt);
        }
        if (!linear) return List.of(n.emit("Cast", Attributes.of("to", 6L), sum));   // INT32
        if (conv && n.inputs.size() > 8 && !n.input(8).isEmpty()) {   // QLinearConv's INT32 bias, in the sum's units
            sum = n.emit("Add", none, sum, n.emit("Reshape", none, n.emit("Cast", Attributes.of("to", 1L), n.input(8)),
                    n.longs("per_channel", channels, rank)));
        }
        String xs = perSlice(n, n.input(1), rows), ws = perSlice(n, n.input(4), channels);
        String multiplier = n.emit("Div", none, n.emit("Mul", none, xs, ws), n.input(6));
        String r = n.emit("Round", none, n.emit("Mul", none, sum, multiplier));
        dev.panamadnn.DataType zt = n.value(7).dtype();
        if (zt != dev.panamadnn.DataType.U8 && zt != dev.panamadnn.DataType.I8) throw n.refuse("y_zero_point must be UINT8 or INT8, got " + n.value(7));
        r = n.emit("Add", none, r, n.emit("Cast", Attributes.of("to", 1L), n.input(7)));
        boolean u8 = zt == dev.panamadnn.DataType.U8;
        String clipped = n.emit("Clip", none, r, n.scalar("low", u8 ? 0 : -128), n.scalar("high", u8 ? 255 : 127));
        return List.of(n.emit("Cast", Attributes.of("to", u8 ? 2L : 3L), clipped));
    }

    /**
     * DynamicQuantizeLinear (opsets 11-17): UINT8 quantization of {@code x} with a scale and zero point from its own range
     * (which always includes 0): {@code scale = (max(x_max, 0) - min(x_min, 0)) / 255}, {@code zero_point =
     * saturate(round(-min(x_min, 0) / scale))}, {@code y = saturate(round(x / scale) + zero_point)}, rounding half to even;
     * outputs y, y_scale (FLOAT scalar), y_zero_point (UINT8 scalar).
     */
    static List<String> dynamicQuantize(NodeContext n) {
        if (n.value(0).dtype() != dev.panamadnn.DataType.F32) throw n.refuse("x must be FLOAT, got " + n.value(0));
        Attributes none = Attributes.empty(), all = Attributes.of("keepdims", 0L);
        String zero = n.scalar("zero", 0f);
        String lo = n.emit("Min", none, n.emit("ReduceMin", all, n.input(0)), zero);
        String hi = n.emit("Max", none, n.emit("ReduceMax", all, n.input(0)), zero);
        String scale = n.emit("Div", none, n.emit("Sub", none, hi, lo), n.scalar("levels", 255f));
        String low = n.scalar("low", 0f), high = n.scalar("high", 255f);
        String zp = n.emit("Clip", none, n.emit("Round", none, n.emit("Div", none, n.emit("Neg", none, lo), scale)), low, high);
        String y = n.emit("Clip", none, n.emit("Add", none, n.emit("Round", none, n.emit("Div", none, n.input(0), scale)), zp), low, high);
        Attributes u8 = Attributes.of("to", 2L);
        return List.of(n.emit("Cast", u8, y), n.emit("Identity", none, scale), n.emit("Cast", u8, zp));
    }

    /** Operand {@code i} (UINT8 or INT8) as F32 minus its zero point (input {@code zp}, if given), a 1-D one reshaped {@code to}. */
    private static String centered(NodeContext n, int i, int zp, long[] to) {
        dev.panamadnn.DataType t = n.value(i).dtype();
        if (t != dev.panamadnn.DataType.U8 && t != dev.panamadnn.DataType.I8) throw n.refuse("input " + i + " must be UINT8 or INT8, got " + n.value(i));
        String f = n.emit("Cast", Attributes.of("to", 1L), n.input(i));
        if (n.inputs.size() <= zp || n.input(zp).isEmpty()) return f;
        return n.emit("Sub", Attributes.empty(), f, perSlice(n, n.emit("Cast", Attributes.of("to", 1L), n.input(zp)), to));
    }

    /**
     * A scale or zero point of one operand: as is if a scalar, of one element, or {@code to} is null (it broadcasts as
     * given); a 1-D one reshaped {@code to}, to broadcast along its operand's axis.
     */
    private static String perSlice(NodeContext n, String v, long[] to) {
        var shape = n.builderValue(v).shape();
        if (shape.rank() == 0 || shape.rank() == 1 && shape.isFixed() && shape.dim(0).size() == 1) return v;
        if (shape.rank() != 1) throw n.refuse("a scale or zero point must be a scalar or 1-D, got " + n.builderValue(v));
        return to == null ? v : n.emit("Reshape", Attributes.empty(), v, n.longs("per_slice", to, to.length));
    }

    /** [1, ..., -1, ..., 1] of {@code rank}, the -1 at {@code axis}: a per-slice value broadcast along that axis. */
    private static long[] broadcastAlong(int rank, int axis) {
        long[] to = new long[rank];
        java.util.Arrays.fill(to, 1);
        to[axis] = -1;
        return to;
    }

    /** A scale or zero point: as is if a scalar (or x is 1-D), else its C values reshaped to [C, 1, ...] to broadcast along axis. */
    private static String perAxis(NodeContext n, String v) {
        var shape = n.builderValue(v).shape();
        int rank = n.value(0).shape().rank();
        if (shape.rank() == 0 || rank <= 1) return v;
        if (shape.rank() != 1) throw n.refuse("a scale or zero point must be a scalar or 1-D, got " + n.builderValue(v));
        long axis = n.attributes.integer("axis", 1);
        if (axis < -rank || axis >= rank) throw n.refuse("axis " + axis + " is out of range for " + n.value(0));
        if (axis < 0) axis += rank;
        if (axis == rank - 1) return v;
        long[] to = new long[(int) (rank - axis)];
        java.util.Arrays.fill(to, 1);
        to[0] = -1;
        return n.emit("Reshape", Attributes.empty(), v, n.longs("per_axis", to, to.length));
    }
}
