package dev.panamadnn.tests.fuzz;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AttentionMask;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Broadcast;
import dev.panamadnn.nn.Concat;
import dev.panamadnn.nn.Embedding;
import dev.panamadnn.nn.GRU;
import dev.panamadnn.nn.GroupNorm;
import dev.panamadnn.nn.LSTM;
import dev.panamadnn.nn.MultiheadAttention;
import dev.panamadnn.nn.RecurrentOutput;
import dev.panamadnn.nn.Upsample;
import dev.panamadnn.tests.fuzz.FuzzCheck.Call;
import dev.panamadnn.tests.fuzz.FuzzCheck.Input;
import dev.panamadnn.tests.fuzz.FuzzCheck.Values;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The wave-2 layer families of the fuzz suite: GroupNorm, Upsample, LSTM, GRU, MultiheadAttention and Embedding, each
 * a seeded random configuration (now and then a bad hyperparameter), inputs made as {@link FuzzCheck#input} says (valid,
 * strided, heap, read-only, wrong rank/size/dtype, closed), optional states, lengths and masks (valid or misshapen), run
 * natively and on the plain-Java reference: both must accept or both refuse naming the layer, and accepted results
 * must agree. Multi-input layers get their misuse on one input at a time.
 */
final class SequenceFamilies {
    private SequenceFamilies() {}

    // ---------------------------------------------------------------- GroupNorm, Upsample (single-input layers)

    static void groupNorm(FuzzCheck c) {
        int groups = c.hyper(1, 4, 0.02);
        int channels = c.chance(0.1) ? c.hyper(1, 12, 0.02) : Math.max(1, groups) * c.between(1, 3);
        boolean affine = c.chance(0.7);
        double eps = c.chance(0.05) ? c.pick(0.0, -1e-5, Double.NaN) : c.pick(1e-5, 1e-3);
        long[] spatial = new long[c.between(0, 2)];
        for (int i = 0; i < spatial.length; i++) spatial[i] = c.between(1, 6);
        long[] x = FuzzFamilies.nc(c, channels > 4096 ? 64 : Math.max(1, channels), 0, spatial);   // a huge channel count: a small input, refused
        Backend backend = c.pick(Backend.AUTO, Backend.ONEDNN);
        c.config("GroupNorm(groups=" + groups + ", channels=" + channels + ", eps=" + eps + ", affine=" + affine + ") backend=" + backend
                + " x=" + Arrays.toString(x));
        c.names.add("GroupNorm");
        if (affine && !FuzzFamilies.affordable(c, Math.abs((double) channels))) return;
        GroupNorm g = FuzzFamilies.build(c, () -> new GroupNorm(groups, channels, eps, affine));
        if (g == null) return;
        c.randomizeParameters(g, 0);
        long perGroup = FuzzCheck.numel(x) / x[0] / Math.max(1, groups);
        // x - mean of a group whose variance is near eps carries the rounding of x (|x| ulps), which the normalization
        // scales by 1 / sqrt(eps): the tolerance's term count covers that conditioning (wrong indices still err by O(1))
        c.layer(g, x, 1, backend, (int) Math.min(Integer.MAX_VALUE, Math.max(4 * perGroup, (long) (2 / Math.sqrt(eps)))));
    }

    static void upsample(FuzzCheck c) {
        String mode = c.chance(0.02) ? c.pick("bicubic", "area", "") : c.pick("nearest", "linear", "bilinear");
        int nd = mode.equals("linear") ? 1 : mode.equals("bilinear") ? 2 : c.between(1, 2);
        Boolean align = mode.equals("nearest") ? (c.chance(0.05) ? Boolean.TRUE : null) : (c.chance(0.05) ? null : c.chance(0.5));
        boolean bySize = c.chance(0.5);
        long[] size = new long[c.chance(0.05) ? c.between(0, 3) : nd];
        double[] scale = new double[size.length];
        for (int i = 0; i < size.length; i++) {
            size[i] = c.chance(0.03) ? c.pick(0L, -2L, 1L << 40) : c.between(1, 12);
            scale[i] = c.chance(0.03) ? c.pick(0.0, -1.5, Double.NaN, Double.POSITIVE_INFINITY, 1e12) : c.pick(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 0.7);
        }
        long[] spatial = new long[nd];
        for (int i = 0; i < nd; i++) spatial[i] = c.between(1, 7);
        long[] x = FuzzFamilies.nc(c, c.between(1, 3), 0, spatial);
        Backend backend = c.pick(Backend.AUTO, Backend.ONEDNN);
        c.config("Upsample(mode=" + mode + ", align_corners=" + align + ", " + (bySize ? "size=" + Arrays.toString(size) : "scale="
                + Arrays.toString(scale)) + ") backend=" + backend + " x=" + Arrays.toString(x));
        c.names.add("Upsample");
        Upsample u = FuzzFamilies.build(c, () -> bySize ? Upsample.size(mode, align, size) : Upsample.scale(mode, align, scale));
        if (u == null) return;
        c.layer(u, x, 1, backend, 16);
    }

    // ---------------------------------------------------------------- LSTM, GRU

    static void recurrent(FuzzCheck c, boolean lstm) {
        int in = c.hyper(1, 9, 0.02), hidden = c.hyper(1, 9, 0.02), layers = c.chance(0.02) ? c.pick(0, -1) : c.between(1, 3);
        boolean bias = c.chance(0.8), batchFirst = c.chance(0.5), bidirectional = c.chance(0.5);
        int proj = lstm && c.chance(0.3) ? (c.chance(0.05) ? c.pick(-1, hidden, hidden + 2) : c.between(0, Math.max(1, Math.min(hidden, 64)) - 1)) : 0;
        boolean unbatched = c.chance(0.1);
        int t = c.between(1, 6), n = unbatched ? 1 : c.between(1, 4), dirs = bidirectional ? 2 : 1;
        int out = proj > 0 && proj < hidden ? proj : hidden;
        long[] x = unbatched ? new long[] {t, in} : batchFirst ? new long[] {n, t, in} : new long[] {t, n, in};
        long[] h = unbatched ? new long[] {(long) layers * dirs, out} : new long[] {(long) layers * dirs, n, out};
        long[] cs = unbatched ? new long[] {(long) layers * dirs, hidden} : new long[] {(long) layers * dirs, n, hidden};
        String name = lstm ? "LSTM" : "GRU";
        c.config(name + "(in=" + in + ", hidden=" + hidden + ", layers=" + layers + ", bias=" + bias + ", batch_first=" + batchFirst
                + ", bidirectional=" + bidirectional + (lstm ? ", proj=" + proj : "") + ") x=" + Arrays.toString(x));
        c.names.add(name);
        if (!FuzzFamilies.affordable(c, 4.0 * Math.abs((double) hidden) * (Math.abs((double) in) + Math.abs((double) hidden)) * Math.abs((double) layers))) return;
        var layer = FuzzFamilies.build(c, () -> lstm ? new LSTM(in, hidden, layers, bias, batchFirst, 0, bidirectional, proj)
                : new GRU(in, hidden, layers, bias, batchFirst, 0, bidirectional));
        if (layer == null) return;
        c.randomizeParameters(layer, 0);
        // One input of the call gets the misuse (or none): the sequence, h0, c0 or the lengths.
        int target = c.between(0, lstm ? 3 : 2);
        Tensor xt = input(c, x, target == 0, 2);
        boolean state = c.chance(0.5) || target == 1 || target == 2;   // LSTM: h0 and c0 together, as torch's hx (now and then one alone)
        Tensor h0 = state && !(lstm && c.chance(0.03)) ? input(c, h, target == 1, h.length - 1) : null;
        Tensor c0 = lstm && state && !(h0 != null && c.chance(0.03)) ? input(c, cs, target == 2, cs.length - 1) : null;
        int[] lengths = null;
        if (!unbatched && c.chance(0.3)) {
            lengths = new int[n];
            for (int i = 0; i < n; i++) lengths[i] = c.between(1, t);
            if (c.chance(0.15)) {   // a bad one: 0, past T, negative, or one too many or few
                switch (c.between(0, 3)) {
                    case 0 -> lengths[c.between(0, n - 1)] = 0;
                    case 1 -> lengths[c.between(0, n - 1)] = t + 1;
                    case 2 -> lengths[c.between(0, n - 1)] = -1;
                    default -> lengths = Arrays.copyOf(lengths, n + c.pick(-1, 1));
                }
            }
        }
        if (xt == null) return;
        int[] lens = lengths;
        c.note("h0=" + shapeOf(h0) + " c0=" + shapeOf(c0) + " lengths=" + Arrays.toString(lengths));
        Backend backend = c.pick(Backend.AUTO, Backend.ONEDNN);
        Supplier<RecurrentOutput> nat = () -> lstm ? ((LSTM) layer).forward(xt, h0, c0, lens, backend) : ((GRU) layer).forward(xt, h0, lens, backend);
        Supplier<RecurrentOutput> ref = () -> lstm ? ((LSTM) layer).forward(xt, h0, c0, lens, Backend.REFERENCE)
                : ((GRU) layer).forward(xt, h0, lens, Backend.REFERENCE);
        Call<RecurrentOutput> a = c.call(backend + " forward", nat), b = c.call("REFERENCE forward", ref);
        int reduction = (Math.max(1, in) + Math.max(1, hidden)) * t * Math.max(1, layers);
        if (hidden > 256) {   // a huge hidden size (a weird hyperparameter) saturates the gates: rounding flips some, so only shapes compare
            c.special = true;
            c.overflowRange = true;   // as order-sensitive as an overflow: --nonfinite does not hold it to NaN positions
            c.note("hidden " + hidden + ": values are chaotic in float, not compared");
        }
        c.agree(backend + " output", "REFERENCE", part(a, RecurrentOutput::output), part(b, RecurrentOutput::output), null, reduction, 0);
        c.agree(backend + " h_n", "REFERENCE", part(a, RecurrentOutput::hN), part(b, RecurrentOutput::hN), null, reduction, 0);
        if (lstm) c.agree(backend + " c_n", "REFERENCE", part(a, RecurrentOutput::cN), part(b, RecurrentOutput::cN), null, reduction, 0);
        closeAfter(c, layer, nat);
    }

    // ---------------------------------------------------------------- MultiheadAttention

    static void attention(FuzzCheck c) {
        int heads = c.hyper(1, 4, 0.02), e = Math.max(1, heads) * c.between(1, 4);
        if (c.chance(0.03)) e = c.pick(0, -2, 5 * Math.max(1, heads) + 1);
        boolean self = c.chance(0.4), batchFirst = c.chance(0.5), bias = c.chance(0.8), unbatched = c.chance(0.1);
        Integer kdim = self || c.chance(0.6) ? null : c.hyper(1, 7, 0.02), vdim = self || c.chance(0.6) ? null : c.hyper(1, 7, 0.02);
        int l = c.between(1, 6), s = self ? l : c.between(1, 6), n = unbatched ? 1 : c.between(1, 3);
        int embed = e;
        long[] q = seq(unbatched, batchFirst, n, l, embed), k = seq(unbatched, batchFirst, n, s, kdim == null ? embed : kdim),
                v = seq(unbatched, batchFirst, n, s, vdim == null ? embed : vdim);
        c.config("MultiheadAttention(embed=" + embed + ", heads=" + heads + ", bias=" + bias + ", kdim=" + kdim + ", vdim=" + vdim
                + ", batch_first=" + batchFirst + ") q=" + Arrays.toString(q) + " k=" + Arrays.toString(k) + " v=" + Arrays.toString(v));
        c.names.add("MultiheadAttention");
        double kd = kdim == null ? embed : Math.abs((double) kdim), vd = vdim == null ? embed : Math.abs((double) vdim);
        if (!FuzzFamilies.affordable(c, Math.abs((double) embed) * (2.0 * Math.abs((double) embed) + kd + vd))) return;
        MultiheadAttention m = FuzzFamilies.build(c, () -> new MultiheadAttention(embed, heads, 0, bias, false, false, kdim, vdim, batchFirst));
        if (m == null) return;
        c.randomizeParameters(m, 0);
        int target = c.between(0, 4);   // which input gets the misuse: q, k, v, the padding mask, the attention mask
        Tensor qt = input(c, q, target == 0, q.length - 1);
        Tensor kt = self ? qt : input(c, k, target == 1, k.length - 1);
        Tensor vt = self ? qt : input(c, v, target == 2, v.length - 1);
        AttentionMask kpm = null, am = null;
        if (c.chance(0.4) || target == 3) {
            long[] ks = unbatched ? new long[] {s} : new long[] {n, s};
            Tensor t = maskValues(c, ks, target == 3);
            kpm = t == null ? null : c.chance(0.6) ? AttentionMask.bool(t) : AttentionMask.additive(t);
        }
        if (c.chance(0.4) || target == 4) {
            long[] ms = c.chance(0.6) ? new long[] {l, s} : new long[] {(long) n * Math.max(1, heads), l, s};
            Tensor t = maskValues(c, ms, target == 4);
            am = t == null ? null : c.chance(0.5) ? AttentionMask.bool(t) : AttentionMask.additive(t);
        }
        if (qt == null || kt == null || vt == null) return;
        boolean needWeights = c.chance(0.6), average = c.chance(0.6);
        AttentionMask kp = kpm, at = am;
        c.note("key_padding_mask=" + (kp == null ? "none" : shapeOf(kp.values())) + " attn_mask=" + (at == null ? "none" : shapeOf(at.values()))
                + " need_weights=" + needWeights + " average=" + average);
        Backend backend = c.pick(Backend.AUTO, Backend.ONEDNN, Backend.OPENBLAS);
        Supplier<MultiheadAttention.Output> nat = () -> m.forward(qt, kt, vt, kp, needWeights, at, average, backend);
        Call<MultiheadAttention.Output> a = c.call(backend + " forward", nat);
        Call<MultiheadAttention.Output> b = c.call("REFERENCE forward", () -> m.forward(qt, kt, vt, kp, needWeights, at, average, Backend.REFERENCE));
        // The key and value projections sum kdim and vdim products: a long key projection (kdim 65,536) makes the scores
        // large and the softmax sharp, so its rounding reaches the output (scripts/fuzz --long --seed 4953 --family
        // MultiheadAttention --case 27482: 2.7e-4 on outputs of 8 with a reduction of 48 counted before).
        int reduction = 4 * (int) Math.min(1 << 24, Math.max(Math.max(embed, Math.max(s, 1)), Math.max(kd, vd)));
        c.termScale = 2;   // the projections' products of ordinary inputs (below 2) and weights (below 1); small embeddings cancel
        c.agree(backend + " output", "REFERENCE", part(a, MultiheadAttention.Output::output), part(b, MultiheadAttention.Output::output), null, reduction, 0);
        if (needWeights && a.ok() && b.ok()) {
            c.agree(backend + " weights", "REFERENCE", part(a, MultiheadAttention.Output::weights), part(b, MultiheadAttention.Output::weights), null,
                    reduction, 0);
        }
        closeAfter(c, m, nat);
    }

    // ---------------------------------------------------------------- Embedding

    static void embedding(FuzzCheck c) {
        long num = c.chance(0.02) ? c.pick(0L, -1L) : c.between(1, 12), dim = c.chance(0.02) ? c.pick(0L, -3L) : c.between(1, 6);
        Long pad = c.chance(0.6) || num < 1 ? null : c.chance(0.05) ? c.pick(num, -num - 1, Long.MIN_VALUE) : (long) c.between((int) -num, (int) num - 1);
        long[] shape = new long[c.between(0, 3)];
        for (int i = 0; i < shape.length; i++) shape[i] = c.between(1, 5);
        DataType dt = c.pick(DataType.I64, DataType.I32);
        c.config("Embedding(num=" + num + ", dim=" + dim + ", padding_idx=" + pad + ") indices " + dt + Arrays.toString(shape));
        c.names.add("Embedding");
        Embedding emb = FuzzFamilies.build(c, () -> new Embedding(num, dim, pad));
        if (emb == null) return;
        c.randomizeParameters(emb, 0);
        Tensor idx = Tensor.allocate(c.own(java.lang.foreign.Arena.ofShared()), dt, shape);
        boolean outOfRange = c.chance(0.1);
        for (long i = 0; i < idx.numel(); i++) {
            long v = c.between(0, (int) Math.max(0, num - 1));
            if (outOfRange && c.chance(0.3)) v = c.pick(num, -1L, Long.MAX_VALUE, Integer.MIN_VALUE - 1L);
            if (dt == DataType.I64) idx.segment().setAtIndex(ValueLayout.JAVA_LONG, i, v);
            else idx.segment().setAtIndex(ValueLayout.JAVA_INT, i, (int) v);
        }
        Tensor in = c.chance(0.05) ? c.tensor(shape, Input.VALID, Values.NORMAL) : idx;   // now and then F32 indices: refused
        Backend backend = c.pick(Backend.AUTO, Backend.ONEDNN);
        Call<Tensor> a = c.call(backend + " forward", () -> emb.forward(in, backend));
        Call<Tensor> b = c.call("REFERENCE forward", () -> emb.forward(in, Backend.REFERENCE));
        c.agree(backend.toString(), "REFERENCE", a, b, null, 1, 0);
        if (a.ok()) {   // every row is its index's row of the weight (the padding row included: PyTorch does not zero it at inference)
            float[] w = emb.parameters().get("weight").toFloatArray(), y = a.value().toFloatArray();
            for (long i = 0; i < idx.numel(); i++) {
                long row = dt == DataType.I64 ? idx.segment().getAtIndex(ValueLayout.JAVA_LONG, i) : idx.segment().getAtIndex(ValueLayout.JAVA_INT, i);
                for (int j = 0; j < dim; j++) {
                    if (Float.floatToRawIntBits(y[(int) (i * dim + j)]) != Float.floatToRawIntBits(w[(int) (row * dim + j)])) {
                        c.finding("row " + i + " (index " + row + ") element " + j + " = " + y[(int) (i * dim + j)] + ", weight has "
                                + w[(int) (row * dim + j)]);
                        return;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- broadcasting ops, cat

    static void broadcast(FuzzCheck c) {
        int rank = c.between(0, 6);
        long[] a = new long[rank];
        for (int i = 0; i < rank; i++) a[i] = c.chance(0.3) ? 1 : c.between(1, 5);
        long[] b = Arrays.copyOfRange(a, c.between(0, rank), rank);   // a suffix of a's dims, some set to 1
        for (int i = 0; i < b.length; i++) if (c.chance(0.3)) b[i] = 1;
        if (c.chance(0.08) && b.length > 0) b[c.between(0, b.length - 1)] += c.between(1, 3);   // incompatible (unless a's dim is 1)
        if (c.chance(0.5)) {
            long[] t = a;
            a = b;
            b = t;
        }
        Broadcast.Op op = c.pick(Broadcast.Op.values());
        Backend backend = c.pick(Backend.AUTO, Backend.ONEDNN);
        long[] as = a, bs = b;
        c.config("Broadcast." + op + " a=" + Arrays.toString(a) + " b=" + Arrays.toString(b) + " backend=" + backend);
        c.names.add("Broadcast");
        Values values = c.values();
        Input how = c.input();
        if (how == Input.SHAPE_ONLY || how == Input.HUGE_WRAP) how = Input.VALID;
        boolean first = c.chance(0.5);   // which operand gets the misuse (a scalar, rank 0, gets none)
        if ((first ? as : bs).length == 0) how = Input.VALID;
        Tensor x = c.tensor(first ? c.mutate(as, how, as.length - 1) : as, first ? how : Input.VALID, values);
        Tensor y = c.tensor(first ? bs : c.mutate(bs, how, bs.length - 1), first ? Input.VALID : how, values);
        c.note("a " + (first ? how : "VALID") + " " + shapeOf(x) + ", b " + (first ? "VALID" : how) + " " + shapeOf(y) + " " + values);
        Call<Tensor> nat = c.call(backend + " " + op, () -> Broadcast.apply(op, x, y, backend));
        Call<Tensor> ref = c.call("REFERENCE " + op, () -> Broadcast.apply(op, x, y, Backend.REFERENCE));
        c.agree(backend.toString(), "REFERENCE", nat, ref, null, 1, 0);
    }

    static void cat(FuzzCheck c) {
        int rank = c.between(1, 4), k = c.between(1, 14);
        long[] base = new long[rank];
        for (int i = 0; i < rank; i++) base[i] = c.between(1, 4);
        int dim = c.between(-rank, rank - 1), d = dim < 0 ? dim + rank : dim;
        Tensor[] parts = new Tensor[k];
        List<String> shapes = new java.util.ArrayList<>();
        Values values = c.values();
        int bad = c.chance(0.3) ? c.between(0, k - 1) : -1;   // one misused part
        for (int i = 0; i < k; i++) {
            long[] s = base.clone();
            s[d] = c.between(0, 3);   // empty parts now and then: torch.cat skips them
            Input how = i == bad ? c.input() : Input.VALID;
            if (how == Input.SHAPE_ONLY || how == Input.HUGE_WRAP) how = Input.VALID;
            long[] m = c.mutate(s, how, d == 0 ? Math.min(1, rank - 1) : 0);
            parts[i] = c.tensor(m, how, values);
            shapes.add(how + Arrays.toString(m));
        }
        Backend backend = c.pick(Backend.AUTO, Backend.ONEDNN);
        c.config("cat(dim=" + dim + ", " + k + " tensors) backend=" + backend + " " + shapes);
        c.names.add("cat");
        Call<Tensor> nat = c.call(backend + " cat", () -> Concat.cat(dim, backend, parts));
        Call<Tensor> ref = c.call("REFERENCE cat", () -> Concat.cat(dim, Backend.REFERENCE, parts));
        c.agree(backend.toString(), "REFERENCE", nat, ref, null, 1, 0);
    }

    // ---------------------------------------------------------------- helpers

    /** An input of {@code shape}: as {@link FuzzCheck#input} draws it where {@code misuse}, else valid (strided or heap now and then). */
    private static Tensor input(FuzzCheck c, long[] shape, boolean misuse, int channelDim) {
        Input how = misuse ? c.input() : c.pick(Input.VALID, Input.VALID, Input.VALID, Input.STRIDED, Input.HEAP);
        if (how == Input.SHAPE_ONLY) how = Input.VALID;
        Values values = c.values();
        long[] s = c.mutate(shape, how, channelDim);
        c.note("input " + how + " " + Arrays.toString(s) + " " + values);
        return c.tensor(s, how, values);
    }

    /** Mask values of {@code shape}: 0/1 (read as bool), or additive values with some -inf; misshapen where {@code misuse}. */
    private static Tensor maskValues(FuzzCheck c, long[] shape, boolean misuse) {
        Input how = misuse ? c.input() : Input.VALID;
        if (how == Input.SHAPE_ONLY || how == Input.HUGE_WRAP) how = Input.VALID;
        long[] s = c.mutate(shape, how, shape.length - 1);
        Tensor t = c.tensor(s, how, Values.NORMAL);
        if (t != null && t.isAlive() && t.dtype() == DataType.F32 && !t.segment().isReadOnly() && how != Input.STRIDED) {
            for (long i = 0; i < t.numel(); i++) {
                float v = c.chance(0.3) ? 1f : c.chance(0.1) ? Float.NEGATIVE_INFINITY : 0f;
                t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
            }
        }
        return t;
    }

    private static long[] seq(boolean unbatched, boolean batchFirst, int n, int len, int features) {
        return unbatched ? new long[] {len, features} : batchFirst ? new long[] {n, len, features} : new long[] {len, n, features};
    }

    private static <T> Call<Tensor> part(Call<T> call, Function<T, Tensor> get) {
        return call.ok() ? new Call<>(get.apply(call.value()), null) : new Call<>(null, call.rejected());
    }

    private static String shapeOf(Tensor t) {
        return t == null ? "none" : t.isAlive() ? Arrays.toString(t.shape()) : "(closed)";
    }

    /** Now and then closes {@code layer} and checks that the call is then refused with an IllegalStateException. */
    private static <T> void closeAfter(FuzzCheck c, AutoCloseable layer, Supplier<T> call) {
        if (!c.chance(0.05)) return;
        try {
            layer.close();
        } catch (Exception e) {
            c.finding("close: " + FuzzCheck.describe(e));
            return;
        }
        Call<T> after = c.call("forward after close", call);
        if (after.ok()) c.finding("forward on a closed layer returned " + after.value());
    }
}
