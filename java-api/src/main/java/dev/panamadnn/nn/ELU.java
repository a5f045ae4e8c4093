package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.ELU}: {@code y = x} for {@code x > 0}, {@code alpha * (e^x - 1)} otherwise.
 * Any input shape; the output has the same shape. Native path: oneDNN eltwise; reference: plain Java in double. Thread-safe (see {@link Layer}).
 */
public final class ELU extends ElementwiseLayer {
    /** {@code alpha = 1.0}, PyTorch's default. */
    public ELU() {
        this(1f);
    }

    /**
     * A {@code ELU} with PyTorch's arguments of the same names.
     *
     * @param alpha the scale of the negative part, finite
     * @throws IllegalArgumentException if {@code alpha} is NaN or infinite
     */
    public ELU(float alpha) {
        super(Activation.elu(alpha));
    }
}
