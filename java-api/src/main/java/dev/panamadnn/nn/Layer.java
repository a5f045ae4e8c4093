package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import dev.panamadnn.internal.lifetime.NativeAccess;
import dev.panamadnn.internal.safetensors.StridedCopy;
import dev.panamadnn.natives.Natives;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;

/**
 * The common shape of the layers in this package: a validating {@link #forward(Tensor, Backend)}
 * that checks the input completely (liveness, dtype, rank and sizes, via {@link #outputShape})
 * before any native call, then runs the chosen backend.
 *
 * <p>Thread safety: {@code forward} may be called from many threads at once, platform or
 * virtual; native primitives are created once per input shape and shared (each call brings its
 * own oneDNN scratchpad and memory objects). {@link #close()} is safe while calls are in
 * flight on other threads: it waits for them, and later calls fail. Every native call holds the
 * memory it reads and writes until it returns, so closing a tensor (or a {@code SafeTensors})
 * meanwhile waits too, and never frees memory under native code.
 */
public abstract class Layer implements Module {
    private final InFlightCalls calls = new InFlightCalls();

    Layer() {
        Natives.loadInBackground();   // its forward pass or a compile needs them: loading overlaps building the model
    }

    /** {@link #forward(Tensor, Backend)} on {@link Backend#AUTO}. */
    @Override
    public final Tensor forward(Tensor input) {
        return forward(input, Backend.AUTO);
    }

    /**
     * Runs the layer on {@code backend}; returns a new tensor the caller owns and closes (a
     * {@link Flatten} of a contiguous input returns a view of it instead, whose close does nothing).
     *
     * @param input the input tensor (not closed; shape as above)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if the input's dtype, rank or sizes do not fit (the message
     *                                  names the layer, the expected and the actual value)
     * @throws IllegalStateException    if the input's memory was freed or this layer is closed
     * @return a new tensor owned by the caller (close it)
     */
    public final Tensor forward(Tensor input, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(label() + ": backend must not be null");
        calls.enter(this);
        try {
            long[] outShape = checkInput(input);
            if (backend == Backend.REFERENCE) checkReferenceSizes(input, outShape);
            boolean interruptedBefore = Thread.currentThread().isInterrupted();
            try {
                return compute(input, outShape, backend);
            } catch (IllegalStateException e) {
                // A tensor freed by another thread while Java code read it (a reference kernel, a repair
                // scan) surfaces from the JDK as a bare "Already closed", sometimes with a stray interrupt.
                if (!input.isAlive()) {
                    NativeAccess.clearStrayInterrupt(interruptedBefore);
                    throw new IllegalStateException(label() + ": the input " + input + " was freed (closed) during the call", e);
                }
                throw e;
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * {@link #forwardInto(Tensor, Tensor, Backend)} on {@link Backend#AUTO}.
     *
     * @param input the input tensor (not closed)
     * @param out where the result goes (not closed by the call)
     */
    public final void forwardInto(Tensor input, Tensor out) {
        forwardInto(input, out, Backend.AUTO);
    }

    /**
     * Runs the layer on {@code backend} into {@code out}, a tensor the caller provides and keeps
     * (reusing one across calls makes an eager call allocate no output memory). Named apart from
     * {@code forward} because recurrent layers' {@code forward(input, h0)} takes two tensors too. {@code out} must
     * be live, F32, contiguous, writable and of exactly {@link #outputShape}; it must not
     * overlap the input, except that an activation may run in place ({@code out} the very same
     * memory as a contiguous input). Everything is checked before any native call. Off-heap
     * memory is written directly by the kernel; heap or memory-mapped memory receives a copy
     * made by Java (so a truncated file is an exception, not a crash). If the call fails,
     * {@code out}'s contents are unspecified.
     *
     * @param input the input tensor (not closed; shape as above)
     * @param out where the result goes (not closed by the call)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if the input or {@code out} does not fit (the message names
     *                                  the layer, the expected and the actual value)
     * @throws IllegalStateException    if the input's or {@code out}'s memory was freed or this layer is closed
     */
    public final void forwardInto(Tensor input, Tensor out, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(label() + ": backend must not be null");
        calls.enter(this);
        try {
            long[] outShape = checkInput(input);
            if (outShape == null) {   // shapes known only by running (see checkInput): computed, then checked and copied into out
                if (backend == Backend.REFERENCE) checkReferenceSizes(input, null);
                Tensor y = compute(input, null, backend);
                try {
                    LayerOutputs.check(label(), input, out, y.shape(), false);
                    LayerOutputs.copy(label(), y, out);
                } finally {
                    y.close();
                }
                return;
            }
            LayerOutputs.check(label(), input, out, outShape, inPlaceCapable());
            if (backend == Backend.REFERENCE) checkReferenceSizes(input, outShape);
            boolean interruptedBefore = Thread.currentThread().isInterrupted();
            try {
                if (LayerOutputs.directlyWritable(out)) {
                    computeInto(input, outShape, backend, out);
                } else {
                    Tensor y = compute(input, outShape, backend);
                    try {
                        LayerOutputs.copy(label(), y, out);
                    } finally {
                        if (y != input) y.close();
                    }
                }
            } catch (IllegalStateException e) {
                if (!input.isAlive() || !out.isAlive()) {
                    NativeAccess.clearStrayInterrupt(interruptedBefore);
                    throw new IllegalStateException(label() + ": the " + (input.isAlive() ? "output " + out : "input " + input)
                            + " was freed (closed) during the call", e);
                }
                throw e;
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * {@return the plain-Java reference: {@code forward(input, Backend.REFERENCE)}}
     *
     * @param input the input tensor (not closed; shape as above)
     */
    public final Tensor forwardReference(Tensor input) {
        return forward(input, Backend.REFERENCE);
    }

    /**
     * The output shape for an input of shape {@code inputShape}, with the same checks as forward.
     *
     * @param inputShape the input shape
     * @throws IllegalArgumentException if the shape does not fit this layer
     * @return the output shape
     */
    public abstract long[] outputShape(long... inputShape);

    /**
     * A {@code Layer} node that runs this layer's {@link #forward(Tensor)} (its own kernel): what a
     * layer without an op of its own lowers to, so every model of layers can be compiled. Layers
     * with a graph op (convolution, pooling, normalisation, activations...) override this.
     */
    @Override
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String input, String path) {
        return graph.node("Layer", path, dev.panamadnn.graph.Attributes.of("module", this), input);
    }

    /** Liveness, dtype and shape checks shared by every layer; returns the output shape. */
    final long[] checkInput(Tensor input) {
        checkOpen();
        if (input == null) throw new IllegalArgumentException(label() + ": input must not be null");
        if (!input.isAlive()) {
            throw new IllegalStateException(label() + ": expected a live input tensor, got " + input + " whose memory was freed");
        }
        if (input.dtype() != DataType.F32 && !takesAnyInputType()) {
            throw new IllegalArgumentException(label() + ": expected an F32 input, got " + input.dtype()
                    + " (shape " + Arrays.toString(input.shape()) + ")");
        }
        if (!input.segment().isAccessibleBy(Thread.currentThread())) {   // else the JDK's bare WrongThreadException at the first access
            throw new IllegalArgumentException(label() + ": the input " + input + " belongs to a confined arena of another thread"
                    + " (Arena.ofConfined); call on that thread, or allocate it in a shared or automatic arena (Tensor.zeros)");
        }
        long[] outShape = checkShape(input.shape());
        // Refused here, naming the layer, rather than in Tensor.zeros (the message is built only on failure). Null: a
        // Sequential whose shapes are known only by running a child that is not a Layer (an Embedding, an encoder layer).
        if (outShape != null && !Sizes.fits(outShape, Float.BYTES)) Sizes.f32Bytes(label() + ": output", outShape);
        return outShape;
    }

    /** Whether an input of another dtype than F32 is this layer's children's to check ({@link Sequential} starting with an Embedding). */
    boolean takesAnyInputType() {
        return false;
    }

    /** {@link #outputShape} by default; {@link Sequential} checks as far as it can see. */
    long[] checkShape(long[] inputShape) {
        return outputShape(inputShape);
    }

    /** The reference kernels hold the input and the output in Java arrays: refuse what does not fit one. */
    private void checkReferenceSizes(Tensor input, long[] outShape) {
        Sizes.arrayLength(label(), "the input " + Arrays.toString(input.shape()), input.numel());
        if (outShape != null) Sizes.arrayLength(label(), "the output " + Arrays.toString(outShape), Sizes.numel(label(), outShape));
    }

    final void checkOpen() {
        if (calls.isClosed()) throw new IllegalStateException(label() + " is closed");
    }

    /** How messages name this layer: its repr by default (one line). */
    String label() {
        return toString();
    }

    /**
     * The computation proper, on a validated input; returns a tensor the caller owns. Layers
     * override this or {@link #computeInto} (or both); this default allocates the output
     * ({@link LayerOutputs#allocate}) and runs {@link #computeInto} on it.
     */
    Tensor compute(Tensor input, long[] outShape, Backend backend) {
        Tensor y = LayerOutputs.allocate(outShape);
        try {
            computeInto(input, outShape, backend, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /**
     * The computation into a validated caller's {@code out} (contiguous, off-heap, not mapped,
     * {@code outShape}; overlapping the input only in place where {@link #inPlaceCapable}). This
     * default computes a new output and copies it; layers whose kernels can write {@code out}
     * directly override it.
     */
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        Tensor y = compute(input, outShape, backend);
        try {
            MemorySegment.copy(y.isContiguous() ? y.segment() : MemorySegment.ofArray(y.toFloatArray()), 0, out.segment(), 0,
                    out.segment().byteSize());
        } finally {
            if (y != input) y.close();
        }
    }

    /** Whether {@link #computeInto} may be handed {@code out} over the very memory of the input (elementwise layers). */
    boolean inPlaceCapable() {
        return false;
    }

    /** The reference kernel of a layer: reads the input's row-major values, writes {@code y}. */
    @FunctionalInterface
    interface ReferenceKernel {
        void run(float[] x, Tensor y);
    }

    /** The native kernel of a layer: {@code x} is contiguous and off-heap, {@code y} a new output or the caller's validated out. */
    @FunctionalInterface
    interface NativeKernel {
        void run(Tensor x, Tensor y);
    }

    /**
     * The common body of {@link #computeInto} for layers with one reference and one native
     * kernel: runs the reference, or the native kernel on a native-ready copy of the input when
     * needed (freed after), writing {@code y} (a new output, or the caller's validated out).
     */
    static void into(Tensor input, Tensor y, Backend backend, ReferenceKernel reference, NativeKernel nativeKernel) {
        if (backend == Backend.REFERENCE) {
            reference.run(input.toFloatArray(), y);
            return;
        }
        Tensor x = nativeReady(input);
        try {
            nativeKernel.run(x, y);
        } finally {
            if (x != input) x.close();
        }
    }

    /**
     * {@code t} itself if native kernels can take it as is (contiguous and off-heap), else a
     * contiguous off-heap copy that the caller must close, made without a Java array.
     */
    static Tensor nativeReady(Tensor t) {
        if (t.isContiguous() && t.segment().isNative()) return t;
        if (t.dtype() != DataType.F32 || !t.isAlive() || !t.segment().isAccessibleBy(Thread.currentThread())) {
            return Tensor.of(t.toFloatArray(), t.shape());   // toFloatArray refuses these, naming the tensor and the reason
        }
        Tensor copy = Tensor.zeros(t.shape());
        boolean interruptedBefore = Thread.currentThread().isInterrupted();
        try {
            // Without a Java array: a large strided or heap input costs no heap of its size, and may exceed a Java array's length.
            if (t.isContiguous()) MemorySegment.copy(t.segment(), 0, copy.segment(), 0, t.numel() * Float.BYTES);
            else StridedCopy.copy(t.segment(), t.shape(), t.strides(), Float.BYTES, copy.segment(), true);
            if (t.segment().isMapped()) NativeAccess.deliverPendingFault();   // the fault's error, if any, thrown here
            return copy;
        } catch (IllegalStateException e) {
            copy.close();
            if (t.isAlive()) throw e;
            throw NativeAccess.freedWhileCopying("input " + t, interruptedBefore, e);
        } catch (InternalError e) {
            copy.close();
            throw new IllegalStateException("input " + t + ": its memory-mapped file was truncated while mapped; reopen the file", e);
        } catch (RuntimeException | Error e) {
            copy.close();
            throw e;
        }
    }

    /** Validates a shape handed to {@link #outputShape}. */
    final void checkShapeArgument(long[] inputShape) {
        checkOpen();
        if (inputShape == null) throw new IllegalArgumentException(label() + ": input shape must not be null");
        for (long d : inputShape) {
            if (d <= 0) throw new IllegalArgumentException(label() + ": expected sizes > 0, got input shape " + Arrays.toString(inputShape));
        }
        if (!Sizes.fits(inputShape, Float.BYTES)) Sizes.f32Bytes(label() + ": input", inputShape);
    }

    /** A parameter-free layer has none; layers with weights override. */
    @Override
    public Map<String, Tensor> parameters() {
        return Map.of();
    }

    /**
     * Marks the layer closed, waits for the calls in flight on other threads to return, then
     * frees its native objects and parameters; idempotent. Calls that start after this began
     * fail with an {@link IllegalStateException} naming the layer.
     */
    @Override
    public final void close() {
        if (calls.close()) release();
    }

    /** Frees what the layer owns (primitives, parameter tensors). */
    void release() {}
}
