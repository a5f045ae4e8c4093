package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.lifetime.NativeAccess;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The caller-provided output of {@link Layer#forwardInto(Tensor, Tensor, Backend)}: its checks (all
 * before any native call, each message naming the layer, the expected and the given value) and
 * how a result reaches it when the kernel cannot write it directly.
 */
final class LayerOutputs {
    private LayerOutputs() {
    }

    /**
     * Checks {@code out} against the validated {@code input} and its output shape: live, F32,
     * exactly {@code outShape}, contiguous, writable, and not overlapping the input's memory
     * unless {@code inPlace} and it is the very same memory (same address and size, contiguous).
     */
    static void check(String layer, Tensor input, Tensor out, long[] outShape, boolean inPlace) {
        checkTarget(layer, out, outShape, "input " + Arrays.toString(input.shape()));
        MemorySegment o = out.segment();
        MemorySegment in = input.segment();
        if (in.asOverlappingSlice(o).isPresent()) {
            boolean same = input.isContiguous() && in.isNative() == o.isNative() && in.address() == o.address()
                    && in.byteSize() == o.byteSize() && (in.isNative() || in.heapBase().equals(o.heapBase()));
            if (!(inPlace && same)) {
                throw new IllegalArgumentException(layer + ": out " + out + " overlaps the input " + input + "; "
                        + (inPlace ? "this layer runs in place only when out is exactly the input's memory"
                                   : "this layer cannot run in place, pass a separate out"));
            }
        }
    }

    /**
     * Checks {@code out} for a module of several inputs (all already validated): live, F32,
     * exactly {@code outShape}, contiguous, writable, and overlapping none of {@code inputs}
     * (such a module never runs in place).
     */
    static void check(String layer, Tensor out, long[] outShape, Tensor... inputs) {
        StringBuilder given = new StringBuilder("inputs");
        for (Tensor t : inputs) given.append(' ').append(Arrays.toString(t.shape()));
        checkTarget(layer, out, outShape, given.toString());
        MemorySegment o = out.segment();
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i].segment().asOverlappingSlice(o).isPresent()) {
                throw new IllegalArgumentException(layer + ": out " + out + " overlaps input " + i + " " + inputs[i]
                        + "; this module cannot run in place, pass a separate out");
            }
        }
    }

    /** What every out must be: live, F32, exactly {@code outShape}, contiguous and writable. */
    private static void checkTarget(String layer, Tensor out, long[] outShape, String forWhat) {
        if (out == null) throw new IllegalArgumentException(layer + ": out must not be null");
        if (!out.isAlive()) {
            throw new IllegalStateException(layer + ": expected a live out tensor, got " + out + " whose memory was freed");
        }
        if (out.dtype() != DataType.F32) {
            throw new IllegalArgumentException(layer + ": expected an F32 out, got " + out.dtype() + " (shape "
                    + Arrays.toString(out.shape()) + ")");
        }
        if (!Arrays.equals(out.shape(), outShape)) {
            throw new IllegalArgumentException(layer + ": expected out of shape " + Arrays.toString(outShape) + " for "
                    + forWhat + ", got " + Arrays.toString(out.shape()));
        }
        if (!out.isContiguous()) {
            throw new IllegalArgumentException(layer + ": expected a contiguous out, got " + out + " (a strided view)");
        }
        if (out.segment().isReadOnly()) {
            throw new IllegalArgumentException(layer + ": expected a writable out, got a read-only " + out
                    + " (e.g. a view of a SafeTensors file)");
        }
    }

    /**
     * Runs {@code kernel} on the tensor it should write: {@code out} itself when a native kernel
     * may write it ({@link #directlyWritable}), otherwise a temporary whose result is then copied
     * into {@code out} by Java ({@link #copy}).
     */
    static void into(String layer, Tensor out, Consumer<Tensor> kernel) {
        if (directlyWritable(out)) {
            kernel.accept(out);
            return;
        }
        try (Tensor y = Tensor.zeros(out.shape())) {
            kernel.accept(y);
            copy(layer, y, out);
        }
    }

    /** A new output for {@code forward(x)}, owned by the caller. */
    static Tensor allocate(long[] shape) {
        return Tensor.zeros(shape);
    }

    /** Whether a native kernel may write {@code out} itself: off-heap and not a file mapping. */
    static boolean directlyWritable(Tensor out) {
        MemorySegment s = out.segment();
        return s.isNative() && !s.isMapped();
    }

    /** Copies the contiguous result {@code y} into {@code out} by Java (a mapping: a truncated file is an exception). */
    static void copy(String layer, Tensor y, Tensor out) {
        MemorySegment from = y.isContiguous() ? y.segment() : MemorySegment.ofArray(y.toFloatArray());
        if (out.segment().isMapped()) NativeAccess.copyToMapped(from, out.segment(), layer + " out");
        else MemorySegment.copy(from, 0, out.segment(), 0, out.segment().byteSize());
    }
}
