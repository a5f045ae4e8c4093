package dev.panamadnn.nn;

import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.RnnOps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The oneDNN side of a recurrent stack: one LSTM or linear-before-reset GRU primitive per
 * (layer input width, steps, batch), one layer and both directions ({@code bidirectional_concat})
 * each, created on first use; and PyTorch's parameters translated once into oneDNN's plain layouts
 * ({@link RecurrentTranslation}), cached until {@link #clear()}.
 *
 * <p>Thread-safe like {@link ConvPrimitives}: both caches are {@link PrimitiveCache}s whose entries a
 * call leases, so {@link #clear()} or eviction never frees what a running call uses.
 */
final class RecurrentPrimitives implements AutoCloseable {
    private static final String WEIGHTS_KEY = "weights";
    private final RecurrentSpec spec;
    private final List<RecurrentSpec.DirectionWeights> params;
    private final PrimitiveCache<String, RecurrentTranslation> translated = new PrimitiveCache<>();
    private final PrimitiveCache<Key, Kernel> kernels = new PrimitiveCache<>();

    private record Key(int features, long steps, long batch) {}

    /** A primitive and the descriptors of its per-call arguments. */
    private record Kernel(Primitive primitive, MemoryDescriptor srcLayer, MemoryDescriptor srcIter, MemoryDescriptor srcIterC,
                          MemoryDescriptor dstLayer, MemoryDescriptor dstIter, MemoryDescriptor dstIterC) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            for (MemoryDescriptor m : new MemoryDescriptor[] {srcLayer, srcIter, srcIterC, dstLayer, dstIter, dstIterC}) {
                if (m != null) m.close();
            }
        }
    }

    RecurrentPrimitives(RecurrentSpec spec, List<RecurrentSpec.DirectionWeights> params) {
        this.spec = spec;
        this.params = params;
    }

    /**
     * Runs the stack natively. {@code x} (contiguous, laid out as {@code seq} says), {@code h0}/{@code c0}
     * ({@code [L*D, N, *]}, null for zeros) are read; {@code y}, {@code hn}, {@code cn} (zero-filled, {@code cn}
     * null for a GRU) are written. The batch is run in groups of equal length (oneDNN has no per-sequence
     * lengths): each group is gathered into its own {@code tnc} buffers, run for exactly its length, and
     * scattered back, so outputs past a sequence's end stay 0 and h_n is the state at its last step.
     */
    void run(MemorySegment x, RecurrentCore.Sequence seq, MemorySegment h0, MemorySegment c0, int[] lengths,
             MemorySegment y, MemorySegment hn, MemorySegment cn) {
        try (PrimitiveCache.Lease<RecurrentTranslation> weights = translated.acquire(WEIGHTS_KEY,
                key -> RecurrentTranslation.of(spec, params))) {
            for (int[] group : RecurrentCore.groupsByLength(lengths, seq)) {
                try (Arena buffers = Arena.ofConfined()) {   // this group's activations and states, freed after it
                    runGroup(weights.value(), buffers, x, seq, h0, c0, group, y, hn, cn);
                }
            }
        }
    }

    /** One group: {@code group[0]} is its length, the rest its batch indices. */
    private void runGroup(RecurrentTranslation weights, Arena call, MemorySegment x, RecurrentCore.Sequence seq, MemorySegment h0,
                          MemorySegment c0, int[] group, MemorySegment y, MemorySegment hn, MemorySegment cn) {
        int steps = group[0], n = group.length - 1, dirs = spec.directions(), out = spec.outSize(), hidden = spec.hiddenSize();
        MemorySegment src = call.allocate((long) steps * n * spec.inputSize() * Float.BYTES, 64);
        for (int t = 0; t < steps; t++)
            for (int j = 0; j < n; j++) copyRow(x, seq.row(t, group[j + 1]), src, (long) t * n + j, spec.inputSize());
        for (int k = 0; k < spec.numLayers(); k++) {
            int features = spec.layerInput(k);
            MemorySegment srcIter = gatherState(call, h0, seq.batch(), k, group, out);
            MemorySegment srcIterC = spec.lstm() ? gatherState(call, c0, seq.batch(), k, group, hidden) : null;
            MemorySegment dst = call.allocate((long) steps * n * dirs * out * Float.BYTES, 64);
            MemorySegment dstIter = call.allocate((long) dirs * n * out * Float.BYTES, 64);
            MemorySegment dstIterC = spec.lstm() ? call.allocate((long) dirs * n * hidden * Float.BYTES, 64) : null;
            RecurrentTranslation.LayerArgs w = weights.layers().get(k);
            try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(new Key(features, steps, n), this::createKernel)) {
                Kernel c = lease.value();
                c.primitive().execute(Args.src(c.srcLayer(), src), Args.of(Args.SRC_ITER, c.srcIter(), srcIter),
                        Args.of(Args.SRC_ITER_C, c.srcIterC(), srcIterC), w.weightsLayer(), w.weightsIter(), w.projection(), w.bias(),
                        Args.dst(c.dstLayer(), dst), Args.of(Args.DST_ITER, c.dstIter(), dstIter),
                        Args.of(Args.DST_ITER_C, c.dstIterC(), dstIterC));
            }
            scatterState(dstIter, hn, seq.batch(), k, group, out);
            if (spec.lstm()) scatterState(dstIterC, cn, seq.batch(), k, group, hidden);
            src = dst;
        }
        int width = dirs * out;
        for (int t = 0; t < steps; t++)
            for (int j = 0; j < n; j++) copyRow(src, (long) t * n + j, y, seq.row(t, group[j + 1]), width);
    }

    /** Layer {@code k}'s initial states of the group's sequences, {@code [1, D, n, size]} (zeros without {@code state}). */
    private MemorySegment gatherState(Arena call, MemorySegment state, long batch, int k, int[] group, int size) {
        int n = group.length - 1, dirs = spec.directions();
        MemorySegment s = call.allocate((long) dirs * n * size * Float.BYTES, 64);
        if (state == null) return s;
        for (int d = 0; d < dirs; d++)
            for (int j = 0; j < n; j++) copyRow(state, (k * dirs + d) * batch + group[j + 1], s, (long) d * n + j, size);
        return s;
    }

    /** Writes layer {@code k}'s final states of the group ({@code [1, D, n, size]}) into their rows of {@code state} ({@code [L*D, batch, size]}). */
    private void scatterState(MemorySegment from, MemorySegment state, long batch, int k, int[] group, int size) {
        int n = group.length - 1, dirs = spec.directions();
        for (int d = 0; d < dirs; d++)
            for (int j = 0; j < n; j++) copyRow(from, (long) d * n + j, state, (k * dirs + d) * batch + group[j + 1], size);
    }

    private static void copyRow(MemorySegment from, long fromRow, MemorySegment to, long toRow, int width) {
        long bytes = (long) width * Float.BYTES;
        MemorySegment.copy(from, fromRow * bytes, to, toRow * bytes, bytes);
    }

    /** The primitive for one layer input width, length and group size (weights in the layouts {@link RecurrentTranslation} writes). */
    private Kernel createKernel(Key key) {
        int dirs = spec.directions(), out = spec.outSize(), hidden = spec.hiddenSize();
        long n = key.batch();
        String description = spec.layer() + " layer with " + key.features() + " inputs on [" + key.steps() + ", " + n + "]";
        List<MemoryDescriptor> temporary = new ArrayList<>();
        MemoryDescriptor srcLayer = null, srcIter = null, srcIterC = null, dstLayer = null, dstIter = null, dstIterC = null;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            srcLayer = MemoryDescriptor.f32(RnnOps.tnc(), key.steps(), n, key.features());
            srcIter = MemoryDescriptor.f32(RnnOps.ldnc(), 1, dirs, n, out);
            dstLayer = MemoryDescriptor.f32(RnnOps.tnc(), key.steps(), n, (long) dirs * out);
            dstIter = MemoryDescriptor.f32(RnnOps.ldnc(), 1, dirs, n, out);
            MemoryDescriptor wLayer = add(temporary, RecurrentTranslation.weightsLayerDescriptor(spec, key.features()));
            MemoryDescriptor wIter = add(temporary, RecurrentTranslation.weightsIterDescriptor(spec));
            MemoryDescriptor bias = add(temporary, RecurrentTranslation.biasDescriptor(spec));
            PrimitiveDescriptor pd;
            if (spec.lstm()) {
                srcIterC = MemoryDescriptor.f32(RnnOps.ldnc(), 1, dirs, n, hidden);
                dstIterC = MemoryDescriptor.f32(RnnOps.ldnc(), 1, dirs, n, hidden);
                MemoryDescriptor proj = spec.projSize() > 0 ? add(temporary, RecurrentTranslation.projectionDescriptor(spec)) : null;
                pd = RnnOps.lstm(spec.bidirectional(), srcLayer, srcIter, srcIterC, wLayer, wIter, proj, bias, dstLayer, dstIter,
                        dstIterC, attr, description);
            } else {
                pd = RnnOps.lbrGru(spec.bidirectional(), srcLayer, srcIter, wLayer, wIter, bias, dstLayer, dstIter, attr, description);
            }
            try (pd) {
                return new Kernel(Primitive.create(pd), srcLayer, srcIter, srcIterC, dstLayer, dstIter, dstIterC);
            }
        } catch (RuntimeException e) {
            for (MemoryDescriptor m : new MemoryDescriptor[] {srcLayer, srcIter, srcIterC, dstLayer, dstIter, dstIterC}) {
                if (m != null) m.close();
            }
            throw e;
        } finally {
            for (MemoryDescriptor m : temporary) m.close();
        }
    }

    private static MemoryDescriptor add(List<MemoryDescriptor> owned, MemoryDescriptor md) {
        owned.add(md);
        return md;
    }

    /** Drops the translated weights (and keeps the primitives, which do not depend on their values). */
    void clear() {
        translated.clear();
    }

    @Override
    public void close() {
        translated.close();
        kernels.close();
    }
}
