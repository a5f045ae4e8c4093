package dev.panamadnn.nn;

import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.AttentionOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.reference.SpecialValues;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The attention kernel shared by {@link Attention#scaledDotProductAttention} and
 * {@link MultiheadAttention}: over a batch of {@code B} independent problems,
 * {@code weights = softmax(q k^T * scale + mask)} ({@code [B, L, S]}) and
 * {@code out = weights v} ({@code [B, L, Ev]}), every buffer contiguous row-major, the mask (if
 * any) already additive and expanded to {@code [B, L, S]} by the caller.
 *
 * <p>Native: three oneDNN primitives per {@link Dims}, cached (bounded, leased per call): a
 * batched matmul {@code q x k^T} reading the keys in place through a transposed descriptor, with
 * the scale ({@code eltwise_linear}) and the mask ({@code binary_add}) as post-ops; an accurate
 * softmax over the last axis, in place; a batched matmul {@code weights x v}. A row whose scores
 * are all -inf (every key masked out), or hold a NaN or a +inf, comes out NaN from both paths, as from PyTorch.
 * Reference: plain loops in double. Thread-safe; {@link #close()} frees the primitives once the
 * calls holding them have returned (callers guard it with their own in-flight count).
 */
final class AttentionCore implements AutoCloseable {
    /** One problem's geometry; the scale's bits and whether a mask is added are part of the primitive. */
    record Dims(long batch, long queries, long keys, long embed, long valueEmbed, float scale, boolean masked) {}

    private record Kernel(MemoryDescriptor q, MemoryDescriptor keysT, MemoryDescriptor v, MemoryDescriptor scores,
                          MemoryDescriptor out, Primitive qk, Primitive softmax, Primitive av) implements AutoCloseable {
        @Override
        public void close() {
            for (Primitive p : new Primitive[] {qk, softmax, av}) if (p != null) p.close();
            for (MemoryDescriptor d : new MemoryDescriptor[] {q, keysT, v, scores, out}) if (d != null) d.close();
        }
    }

    private final PrimitiveCache<Dims, Kernel> kernels = new PrimitiveCache<>();
    private final String owner;

    AttentionCore(String owner) {
        this.owner = owner;
    }

    /** Native attention; {@code mask} is null when {@code d.masked()} is false. Every buffer off-heap and large enough. */
    void runNative(Dims d, MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment weights,
                   MemorySegment out) {
        try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(d, this::createKernel)) {
            Kernel c = lease.value();
            c.qk().execute(Args.src(c.q(), q), Args.weights(c.keysT(), k), Args.dst(c.scores(), weights),
                    Args.postOpSrc1(1, d.masked() ? c.scores() : null, mask));
            c.softmax().execute(Args.src(c.scores(), weights), Args.dst(c.scores(), weights));
            long rows = d.batch() * d.queries();
            if (SpecialValues.anyNaN(weights, rows * d.keys())) nanRows(weights, rows, d.keys());
            c.av().execute(Args.src(c.scores(), weights), Args.weights(c.v(), v), Args.dst(c.out(), out));
        }
    }

    /**
     * PyTorch's softmax is NaN on a whole row whose {@code x - max} has a NaN (a NaN or a +inf among the scores, or only
     * -inf); oneDNN's maximum skips NaN and gives {@code [NaN, 0, 0]} for {@code [NaN, 1, 2]} or {@code [inf, 1, 2]} (only
     * -inf gives a NaN row already). A row of oneDNN's output holding a NaN is exactly such a row: it becomes all NaN, so
     * the returned weights (and their average over heads) are PyTorch's. Run only when a scan finds a NaN.
     */
    private static void nanRows(MemorySegment weights, long rows, long keys) {
        for (long r = 0; r < rows; r++) {
            long base = r * keys;
            if (!SpecialValues.anyNaN(weights.asSlice(base * Float.BYTES, keys * Float.BYTES), keys)) continue;
            for (long j = 0; j < keys; j++) weights.setAtIndex(ValueLayout.JAVA_FLOAT, base + j, Float.NaN);
        }
    }

    private Kernel createKernel(Dims d) {
        MemoryDescriptor q = null, keysT = null, v = null, scores = null, out = null;
        Primitive qk = null, softmax = null;
        String what = owner + " attention on q[" + d.batch() + ", " + d.queries() + ", " + d.embed() + "] x k["
                + d.batch() + ", " + d.keys() + ", " + d.embed() + "] x v[" + d.batch() + ", " + d.keys() + ", " + d.valueEmbed() + "]";
        try {
            q = MemoryDescriptor.f32(Ops.plain(3), d.batch(), d.queries(), d.embed());
            keysT = AttentionOps.transposedKeys(d.batch(), d.keys(), d.embed());
            v = MemoryDescriptor.f32(Ops.plain(3), d.batch(), d.keys(), d.valueEmbed());
            scores = MemoryDescriptor.f32(Ops.plain(3), d.batch(), d.queries(), d.keys());
            out = MemoryDescriptor.f32(Ops.plain(3), d.batch(), d.queries(), d.valueEmbed());
            try (PostOps post = PostOps.create()) {
                post.eltwise(AttentionOps.scale(d.scale()));
                if (d.masked()) post.add(scores);
                try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                     PrimitiveDescriptor pd = Ops.matmul(q, keysT, scores, attr, what + ": scores")) {
                    qk = Primitive.create(pd);
                }
            }
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
                 PrimitiveDescriptor pd = Ops.softmax(scores, 2, attr, what + ": softmax (accurate)")) {
                softmax = Primitive.create(pd);
            }
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
                 PrimitiveDescriptor pd = Ops.matmul(scores, v, out, attr, what + ": weights x v")) {
                return new Kernel(q, keysT, v, scores, out, qk, softmax, Primitive.create(pd));
            }
        } catch (RuntimeException | Error e) {
            new Kernel(q, keysT, v, scores, out, qk, softmax, null).close();
            throw e;
        }
    }

    /** The plain-Java oracle of {@link #runNative}: each score, softmax and product in double. */
    static void reference(Dims d, float[] q, float[] k, float[] v, float[] mask, float[] weights, float[] out) {
        int b = (int) d.batch(), l = (int) d.queries(), s = (int) d.keys(), e = (int) d.embed(), ev = (int) d.valueEmbed();
        double[] row = new double[s];
        for (int n = 0; n < b; n++) {
            for (int i = 0; i < l; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < s; j++) {
                    double dot = 0;
                    for (int x = 0; x < e; x++) dot += (double) q[(n * l + i) * e + x] * k[(n * s + j) * e + x];
                    double score = (float) (dot * d.scale());
                    if (mask != null) score = (float) (score + mask[(n * l + i) * s + j]);
                    row[j] = score;
                    max = Double.isNaN(score) || Double.isNaN(max) ? Double.NaN : Math.max(max, score);
                }
                double sum = 0;
                for (int j = 0; j < s; j++) {
                    row[j] = Math.exp(row[j] - max);   // all -inf: -inf - -inf = NaN, so the row is NaN, as in PyTorch
                    sum += row[j];
                }
                int wBase = (n * l + i) * s;
                for (int j = 0; j < s; j++) weights[wBase + j] = (float) (row[j] / sum);
                for (int x = 0; x < ev; x++) {
                    double acc = 0;
                    for (int j = 0; j < s; j++) acc += (double) weights[wBase + j] * v[(n * s + j) * ev + x];
                    out[(n * l + i) * ev + x] = (float) acc;
                }
            }
        }
    }

    @Override
    public void close() {
        kernels.close();
    }
}
