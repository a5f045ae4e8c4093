package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.Sigmoid}: {@code y = 1 / (1 + e^-x)}.
 * Any input shape; the output has the same shape. Native path: oneDNN eltwise; reference: plain Java in double. Thread-safe (see {@link Layer}).
 */
public final class Sigmoid extends ElementwiseLayer {
    /** Sigmoid: 1 / (1 + e^-x), element-wise, any shape. */
    public Sigmoid() {
        super(Activation.sigmoid());
    }
}
