package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.GELU}: {@code y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))} with
 * {@code approximate = "none"}, or {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))} with {@code "tanh"}.
 * Any input shape; the output has the same shape. Native path: oneDNN eltwise; reference: plain Java in double. Thread-safe (see {@link Layer}).
 */
public final class GELU extends ElementwiseLayer {
    /** The exact form, {@code approximate = "none"}. */
    public GELU() {
        this("none");
    }

    /**
     * A {@code GELU} with PyTorch's arguments of the same names.
     *
     * @param approximate {@code "none"} (exact erf) or {@code "tanh"}
     * @throws IllegalArgumentException unless {@code approximate} is {@code "none"} or {@code "tanh"}
     */
    public GELU(String approximate) {
        super(Activation.gelu(approximate));
    }
}
