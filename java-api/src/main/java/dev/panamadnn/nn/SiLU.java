package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.SiLU} (swish): {@code y = x * sigmoid(x)}.
 * Any input shape; the output has the same shape. Native path: oneDNN eltwise; reference: plain Java in double. Thread-safe (see {@link Layer}).
 */
public final class SiLU extends ElementwiseLayer {
    /** SiLU (swish): x * sigmoid(x), element-wise, any shape. */
    public SiLU() {
        super(Activation.silu());
    }
}
