package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.lifetime.NativeAccess;
import dev.panamadnn.internal.lowering.LengthGroups;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What {@link RecurrentLayer} (LSTM, GRU) and {@link RecurrentCell} share: the parameters (by
 * state_dict name and per layer and direction), the checks of the optional inputs (initial states,
 * lengths), and one {@link #run} that allocates the results and dispatches to oneDNN
 * ({@link RecurrentPrimitives}) or the plain-Java reference ({@link RecurrentReference}).
 */
final class RecurrentCore implements AutoCloseable {
    /** How a batch of sequences is laid out: {@code [T, N, *]}, or {@code [N, T, *]} with {@code batchFirst}. */
    record Sequence(long steps, long batch, boolean batchFirst) {
        /** The row (of features) holding step {@code t} of sequence {@code b}. */
        long row(long t, long b) {
            return batchFirst ? b * steps + t : t * batch + b;
        }
    }

    final RecurrentSpec spec;
    final Map<String, Tensor> parameters;
    final List<RecurrentSpec.DirectionWeights> weights;
    final RecurrentPrimitives primitives;

    RecurrentCore(RecurrentSpec spec, boolean cell) {
        this.spec = spec;
        Map<String, Tensor> p = new LinkedHashMap<>();
        this.weights = spec.createParameters(p, cell);
        this.parameters = Collections.unmodifiableMap(p);
        this.primitives = new RecurrentPrimitives(spec, weights);
    }

    /**
     * Checks an optional tensor input (an initial state): null passes; otherwise live, F32 and exactly
     * {@code expected}, else an exception naming the layer, the input, the expected and the given shape.
     */
    static void checkTensor(String label, String name, Tensor t, long[] expected) {
        if (t == null) return;
        if (!t.isAlive()) throw new IllegalStateException(label + ": expected a live " + name + ", got " + t + " whose memory was freed");
        if (t.dtype() != DataType.F32) {
            throw new IllegalArgumentException(label + ": expected an F32 " + name + ", got " + t.dtype() + " (shape "
                    + Arrays.toString(t.shape()) + ")");
        }
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException(label + ": expected " + name + " of shape " + Arrays.toString(expected) + ", got "
                    + Arrays.toString(t.shape()));
        }
    }

    /**
     * Runs {@code call}; a tensor among {@code tensors} freed by another thread while Java code read
     * it surfaces from the JDK as a bare "Already closed": this names the layer and the tensor instead.
     */
    static <T> T namingFreed(String label, Supplier<T> call, Tensor... tensors) {
        boolean interruptedBefore = Thread.currentThread().isInterrupted();
        try {
            return call.get();
        } catch (IllegalStateException e) {
            for (Tensor t : tensors) {
                if (t != null && !t.isAlive()) {
                    NativeAccess.clearStrayInterrupt(interruptedBefore);
                    throw new IllegalStateException(label + ": the tensor " + t + " was freed (closed) during the call", e);
                }
            }
            throw e;
        }
    }

    /** Lengths: null, or one per sequence, each in {@code [1, T]} (any order: PyTorch's enforce_sorted=False). */
    static void checkLengths(String label, int[] lengths, Sequence seq) {
        if (lengths == null) return;
        if (lengths.length != seq.batch()) {
            throw new IllegalArgumentException(label + ": expected " + seq.batch() + " lengths (one per sequence), got " + lengths.length);
        }
        for (int b = 0; b < lengths.length; b++) {
            if (lengths[b] < 1 || lengths[b] > seq.steps()) {
                throw new IllegalArgumentException(label + ": expected every length in [1, " + seq.steps() + "] (the input's steps), got "
                        + "lengths[" + b + "] = " + lengths[b] + " in " + Arrays.toString(lengths));
            }
        }
    }

    /** The batch split by length, longest first ({@link LengthGroups#of}); no lengths: one group of every sequence at full length. */
    static List<int[]> groupsByLength(int[] lengths, Sequence seq) {
        if (lengths == null) {
            lengths = new int[(int) seq.batch()];
            java.util.Arrays.fill(lengths, (int) seq.steps());
        }
        return LengthGroups.of(lengths);
    }

    /**
     * Runs the stack on validated inputs; returns new tensors of the given shapes ({@code cShape} null
     * for a GRU), owned by the caller. The reference refuses tensors past a Java array's length.
     */
    RecurrentOutput run(String label, Tensor x, Sequence seq, Tensor h0, Tensor c0, int[] lengths, Backend backend,
                        long[] outShape, long[] hShape, long[] cShape) {
        Tensor y = null, hn = null, cn = null;
        try {
            y = Tensor.zeros(outShape);
            hn = Tensor.zeros(hShape);
            cn = cShape == null ? null : Tensor.zeros(cShape);
            runInto(label, x, seq, h0, c0, lengths, backend, y, hn, cn);
            return new RecurrentOutput(y, hn, cn);
        } catch (RuntimeException | Error e) {
            for (Tensor t : new Tensor[] {y, hn, cn}) if (t != null) t.close();
            throw e;
        }
    }

    /**
     * Runs the stack on validated inputs into {@code y}, {@code hn}, {@code cn} (contiguous, off-heap, of the result
     * shapes; {@code cn} null for a GRU). Rows past a padded sequence's end are not written: with {@code lengths},
     * {@code y} must be zero-filled.
     */
    void runInto(String label, Tensor x, Sequence seq, Tensor h0, Tensor c0, int[] lengths, Backend backend, Tensor y, Tensor hn, Tensor cn) {
        if (backend == Backend.REFERENCE) {
            for (Tensor t : new Tensor[] {x, y, hn, cn}) if (t != null) Sizes.arrayLength(label, "a tensor " + Arrays.toString(t.shape()), t.numel());
            RecurrentReference.Result r = RecurrentReference.run(spec, weights, x.toFloatArray(), seq,
                    h0 == null ? null : h0.toFloatArray(), c0 == null ? null : c0.toFloatArray(), lengths);
            fill(y, r.output());
            fill(hn, r.hn());
            if (cn != null) fill(cn, r.cn());
        } else {
            runNative(x, seq, h0, c0, lengths, y, hn, cn);
        }
    }

    private void runNative(Tensor x, Sequence seq, Tensor h0, Tensor c0, int[] lengths, Tensor y, Tensor hn, Tensor cn) {
        Tensor xs = null, h0s = null, c0s = null;
        try {
            xs = Layer.nativeReady(x);
            h0s = h0 == null ? null : Layer.nativeReady(h0);
            c0s = c0 == null ? null : Layer.nativeReady(c0);
            primitives.run(xs.segment(), seq, h0s == null ? null : h0s.segment(), c0s == null ? null : c0s.segment(), lengths,
                    y.segment(), hn.segment(), cn == null ? null : cn.segment());
        } catch (InternalError e) {
            // Java's copy out of a memory-mapped input whose file was truncated (the JDK's SIGBUS handling)
            throw new IllegalStateException(spec.layer() + ": an input's memory-mapped file was truncated while mapped; reopen the file", e);
        } finally {
            if (xs != null && xs != x) xs.close();
            if (h0s != null && h0s != h0) h0s.close();
            if (c0s != null && c0s != c0) c0s.close();
        }
    }

    private static void fill(Tensor t, float[] values) {
        MemorySegment.copy(values, 0, t.segment(), ValueLayout.JAVA_FLOAT, 0, values.length);
    }

    /** Drops the translated weights: the next native call translates the parameters as they are then. */
    void weightsChanged() {
        primitives.clear();
    }

    @Override
    public void close() {
        primitives.close();
        for (Tensor t : parameters.values()) t.close();
    }
}
