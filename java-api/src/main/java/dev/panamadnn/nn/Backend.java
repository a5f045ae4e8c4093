package dev.panamadnn.nn;

/**
 * Which kernels a layer's {@link Layer#forward(dev.panamadnn.Tensor, Backend) forward} runs on.
 * Every layer computes the same function on every backend, within floating-point rounding.
 */
public enum Backend {
    /** The fastest native path for the shape, as measured (each layer's doc says what it picks). */
    AUTO,
    /** oneDNN primitives (inner product, eltwise, softmax). */
    ONEDNN,
    /**
     * OpenBLAS sgemm for matrix products ({@link Linear}); OpenBLAS has no element-wise or softmax
     * kernels, so those parts (and layers made only of them) still run on oneDNN.
     */
    OPENBLAS,
    /** Plain-Java loops: the correctness oracle and the "pure Java" baseline. Slow by design. */
    REFERENCE
}
