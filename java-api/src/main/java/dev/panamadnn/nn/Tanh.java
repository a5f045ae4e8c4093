package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.Tanh}: {@code y = tanh(x)}.
 * Any input shape; the output has the same shape. Native path: oneDNN eltwise; reference: plain Java in double. Thread-safe (see {@link Layer}).
 */
public final class Tanh extends ElementwiseLayer {
    /** Tanh, element-wise, any shape. */
    public Tanh() {
        super(Activation.tanh());
    }
}
