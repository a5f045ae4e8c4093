package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.ReLU}: {@code y = max(x, 0)}.
 * Any input shape; the output has the same shape. Native path: oneDNN eltwise; reference: plain Java in double. Thread-safe (see {@link Layer}).
 */
public final class ReLU extends ElementwiseLayer {
    /** ReLU: max(x, 0), element-wise, any shape. */
    public ReLU() {
        super(Activation.relu());
    }
}
