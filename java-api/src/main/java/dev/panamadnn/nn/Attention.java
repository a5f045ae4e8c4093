package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Attention as a function: PyTorch 2.x's {@code F.scaled_dot_product_attention} (dropout 0).
 *
 * <p>{@code softmax(q k^T * scale + mask) v} over {@code q [..., L, E]}, {@code k [..., S, E]},
 * {@code v [..., S, Ev]} (the same leading dimensions on all three, none or more), giving
 * {@code [..., L, Ev]}. {@code scale} defaults to {@code 1/sqrt(E)}. {@code attnMask} is
 * broadcast to {@code [..., L, S]} (each of its dimensions, aligned from the right, equal or 1):
 * a boolean mask keeps the positions where it is True (True = "takes part", PyTorch's SDPA
 * convention, the opposite of {@link MultiheadAttention}'s), an additive one is added to the
 * scores. {@code isCausal} masks out key {@code j > i} for query {@code i} (a lower-triangular
 * {@code L x S} mask, as torch builds it) and, as in torch, cannot be combined with a mask. A
 * query row with no key left attends nowhere and comes out NaN (torch 2.0 to 2.4 and the formula
 * its documentation gives; see docs/attention.md).
 *
 * <p>Native (AUTO, ONEDNN; OPENBLAS runs the same oneDNN path): oneDNN batched matmuls and softmax ({@link AttentionCore}), primitives
 * cached per shape in one bounded process-wide cache. REFERENCE: plain loops in double. Inputs
 * that are not contiguous off-heap are copied first. Thread-safe; the caller owns the result.
 */
public final class Attention {
    private static final String NAME = "scaled_dot_product_attention";
    private static final AttentionCore SHARED = new AttentionCore(NAME);

    private Attention() {}

    /**
     * No mask, not causal, default scale, {@link Backend#AUTO}.
     *
     * @param q the queries, [..., L, E]
     * @param k the keys, [..., S, E]
     * @param v the values, [..., S, Ev]
     * @return a new tensor owned by the caller (close it)
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v) {
        return scaledDotProductAttention(q, k, v, null, false, null, Backend.AUTO);
    }

    /**
     * Default scale, {@link Backend#AUTO}.
     *
     * @param q the queries, [..., L, E]
     * @param k the keys, [..., S, E]
     * @param v the values, [..., S, Ev]
     * @param attnMask a mask broadcast to [..., L, S], or null for none
     * @param isCausal whether query i sees only keys up to i
     * @return a new tensor owned by the caller (close it)
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, AttentionMask attnMask, boolean isCausal) {
        return scaledDotProductAttention(q, k, v, attnMask, isCausal, null, Backend.AUTO);
    }

    /**
     * PyTorch's {@code scaled_dot_product_attention(q, k, v, attn_mask, is_causal, scale)} on
     * {@code backend}; shapes and the returned tensor as in the class comment.
     *
     * @param q the queries, [..., L, E]
     * @param k the keys, [..., S, E]
     * @param v the values, [..., S, Ev]
     * @param isCausal whether query i sees only keys up to i
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @param attnMask null for none
     * @param scale    null for {@code 1/sqrt(E)}; else finite
     * @throws IllegalArgumentException if an argument is null (other than the mask or scale), not F32, of a
     *                                  rank or size that does not fit (named, with expected and actual shapes), or if
     *                                  {@code isCausal} comes with a mask or {@code scale} is not finite
     * @throws IllegalStateException    if a tensor's memory was freed
     * @return a new tensor owned by the caller (close it)
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, AttentionMask attnMask, boolean isCausal,
                                                   Double scale, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(NAME + ": backend must not be null");
        checkTensor(NAME, "query", q);
        checkTensor(NAME, "key", k);
        checkTensor(NAME, "value", v);
        long[] qs = q.shape(), ks = k.shape(), vs = v.shape();
        int r = qs.length;
        if (r < 2) throw new IllegalArgumentException(NAME + ": expected a query of rank >= 2 ([..., L, E]), got " + Arrays.toString(qs));
        if (ks.length != r || vs.length != r) {
            throw new IllegalArgumentException(NAME + ": expected key and value of the query's rank " + r + ", got key "
                    + Arrays.toString(ks) + " and value " + Arrays.toString(vs) + " for query " + Arrays.toString(qs));
        }
        long[] lead = Arrays.copyOf(qs, r - 2);
        if (!Arrays.equals(lead, Arrays.copyOf(ks, r - 2)) || !Arrays.equals(lead, Arrays.copyOf(vs, r - 2))) {
            throw new IllegalArgumentException(NAME + ": expected key and value with the query's leading dimensions "
                    + Arrays.toString(lead) + " (no broadcasting), got key " + Arrays.toString(ks) + " and value " + Arrays.toString(vs));
        }
        long l = qs[r - 2], e = qs[r - 1], s = ks[r - 2], ev = vs[r - 1];
        if (ks[r - 1] != e) {
            throw new IllegalArgumentException(NAME + ": expected key's last dimension to be the query's E=" + e + ", got key "
                    + Arrays.toString(ks));
        }
        if (vs[r - 2] != s) {
            throw new IllegalArgumentException(NAME + ": expected value's sequence length to be the key's S=" + s + ", got value "
                    + Arrays.toString(vs));
        }
        if (isCausal && attnMask != null) {
            throw new IllegalArgumentException(NAME + ": expected either attn_mask or is_causal, got both (as torch refuses)");
        }
        if (scale != null && !Double.isFinite(scale)) throw new IllegalArgumentException(NAME + ": expected a finite scale, got " + scale);
        long batch = Sizes.numel(NAME, lead);
        long[] outShape = Arrays.copyOf(qs, r);
        outShape[r - 1] = ev;
        Sizes.f32Bytes(NAME + ": output", outShape);
        Sizes.f32Bytes(NAME + ": attention weights", new long[] {batch, l, s});
        float[] mask = null;
        if (attnMask != null) {
            long[] target = Arrays.copyOf(lead, r);
            target[r - 2] = l;
            target[r - 1] = s;
            mask = expand(NAME, "attn_mask", attnMask, false, target);
        } else if (isCausal) {
            mask = causal(NAME, batch, l, s);
        }
        float sc = (float) (scale != null ? scale : 1 / Math.sqrt(e));
        AttentionCore.Dims d = new AttentionCore.Dims(batch, l, s, e, ev, sc, mask != null);
        try {
            return run(SHARED, NAME, d, q, k, v, mask, outShape, null, backend);
        } catch (IllegalStateException freed) {
            throw freedDuringCall(NAME, freed, q, k, v);
        }
    }

    /**
     * A tensor freed by another thread while Java code read it surfaces from the JDK as a bare
     * "Already closed": this names the call and the tensor instead ({@code e} itself if all are alive).
     */
    static IllegalStateException freedDuringCall(String who, IllegalStateException e, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null && !t.isAlive()) return new IllegalStateException(who + ": the input " + t + " was freed (closed) during the call", e);
        }
        return e;
    }

    /**
     * Runs {@code core} on {@code q [B, L, E]}, {@code k [B, S, E]}, {@code v [B, S, Ev]} (any shapes
     * with those element counts, row-major) and the expanded additive {@code mask} (or null); returns
     * the output, shaped {@code outShape}, owned by the caller. {@code weights} ({@code [B, L, S]}
     * elements, or null) receives the attention weights.
     */
    static Tensor run(AttentionCore core, String who, AttentionCore.Dims d, Tensor q, Tensor k, Tensor v, float[] mask,
                      long[] outShape, Tensor weights, Backend backend) {
        Tensor out = Tensor.zeros(outShape);
        try {
            runInto(core, who, d, q, k, v, mask, out, weights, backend);
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * {@link #run} into {@code out} ({@code [B, L, Ev]} elements, contiguous, off-heap, every element written). The mask
     * and, when {@code weights} is null, the weights the kernel needs go to a confined arena of the call: freed without
     * the JDK handshake an owned tensor's close costs (docs/safety.md).
     */
    static void runInto(AttentionCore core, String who, AttentionCore.Dims d, Tensor q, Tensor k, Tensor v, float[] mask,
                        Tensor out, Tensor weights, Backend backend) {
        long scores = d.batch() * d.queries() * d.keys();
        if (backend == Backend.REFERENCE) {
            float[] w = new float[Sizes.arrayLength(who, "the attention weights", scores)];
            float[] o = new float[Sizes.arrayLength(who, "the output " + Arrays.toString(out.shape()), out.numel())];
            AttentionCore.reference(d, array(who, "query", q), array(who, "key", k), array(who, "value", v), mask, w, o);
            MemorySegment.copy(o, 0, out.segment(), ValueLayout.JAVA_FLOAT, 0, o.length);
            if (weights != null) MemorySegment.copy(w, 0, weights.segment(), ValueLayout.JAVA_FLOAT, 0, w.length);
            return;
        }
        try (Arena call = Arena.ofConfined()) {
            Tensor w = weights != null ? weights : Tensor.allocate(call, DataType.F32, d.batch(), d.queries(), d.keys());
            MemorySegment m = mask == null ? null : call.allocateFrom(ValueLayout.JAVA_FLOAT, mask);
            Tensor qn = Layer.nativeReady(q), kn = null, vn = null;
            try {
                kn = Layer.nativeReady(k);
                vn = Layer.nativeReady(v);
                core.runNative(d, qn.segment(), kn.segment(), vn.segment(), m, w.segment(), out.segment());
            } finally {
                if (qn != q) qn.close();
                if (kn != null && kn != k) kn.close();
                if (vn != null && vn != v) vn.close();
            }
        }
    }

    private static float[] array(String who, String what, Tensor t) {
        Sizes.arrayLength(who, "the " + what + " " + Arrays.toString(t.shape()), t.numel());
        return t.toFloatArray();
    }

    /** Non-null, alive, F32 with every size > 0; else the exception naming {@code who} and {@code what}. */
    static void checkTensor(String who, String what, Tensor t) {
        if (t == null) throw new IllegalArgumentException(who + ": " + what + " must not be null");
        if (!t.isAlive()) throw new IllegalStateException(who + ": expected a live " + what + " tensor, got " + t + " whose memory was freed");
        if (t.dtype() != DataType.F32) {
            throw new IllegalArgumentException(who + ": expected an F32 " + what + ", got " + t.dtype() + " " + Arrays.toString(t.shape()));
        }
        for (long dim : t.shape()) {
            if (dim <= 0) throw new IllegalArgumentException(who + ": expected " + what + " sizes > 0, got " + Arrays.toString(t.shape()));
        }
    }

    /**
     * The mask as additive floats expanded to {@code target} (row-major): the mask's shape, aligned
     * from the right, must match {@code target} or be 1 there. A boolean mask becomes 0 / -inf:
     * -inf where True if {@code trueMasksOut} (MultiheadAttention), where False otherwise (SDPA).
     */
    static float[] expand(String who, String what, AttentionMask m, boolean trueMasksOut, long[] target) {
        Tensor t = m.values();
        checkTensor(who, what, t);
        long[] ms = t.shape();
        if (ms.length > target.length) {
            throw new IllegalArgumentException(who + ": expected " + what + " broadcastable to " + Arrays.toString(target)
                    + ", got " + Arrays.toString(ms));
        }
        int off = target.length - ms.length;
        for (int i = 0; i < ms.length; i++) {
            if (ms[i] != 1 && ms[i] != target[off + i]) {
                throw new IllegalArgumentException(who + ": expected " + what + " broadcastable to " + Arrays.toString(target)
                        + ", got " + Arrays.toString(ms));
            }
        }
        int n = Sizes.arrayLength(who, what + " expanded to " + Arrays.toString(target), Sizes.numel(who, target));
        float[] src = t.toFloatArray();
        long[] strides = new long[target.length];   // the mask's stride per target dimension, 0 where broadcast
        long stride = 1;
        for (int i = ms.length - 1; i >= 0; i--) {
            strides[off + i] = ms[i] == 1 ? 0 : stride;
            stride *= ms[i];
        }
        float[] out = new float[n];
        long[] index = new long[target.length];
        for (int flat = 0; flat < n; flat++) {
            long at = 0;
            for (int i = 0; i < target.length; i++) at += index[i] * strides[i];
            float x = src[(int) at];
            out[flat] = !m.isBool() ? x : ((x != 0) == trueMasksOut ? Float.NEGATIVE_INFINITY : 0f);
            for (int i = target.length - 1; i >= 0 && ++index[i] == target[i]; i--) index[i] = 0;
        }
        return out;
    }

    /** torch's causal mask, {@code [batch, L, S]}: -inf above the diagonal ({@code j > i}). */
    static float[] causal(String who, long batch, long l, long s) {
        int n = Sizes.arrayLength(who, "the causal mask [" + batch + ", " + l + ", " + s + "]", batch * l * s);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            long row = (i / s) % l, col = i % s;
            if (col > row) out[i] = Float.NEGATIVE_INFINITY;
        }
        return out;
    }
}
