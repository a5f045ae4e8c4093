package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.LeakyReLU}: {@code y = x} for {@code x >= 0}, {@code negative_slope * x} otherwise.
 * Any input shape; the output has the same shape. Native path: oneDNN eltwise; reference: plain Java in double. Thread-safe (see {@link Layer}).
 */
public final class LeakyReLU extends ElementwiseLayer {
    /** {@code negative_slope = 0.01}, PyTorch's default. */
    public LeakyReLU() {
        this(0.01f);
    }

    /**
     * A {@code LeakyReLU} with PyTorch's arguments of the same names.
     *
     * @throws IllegalArgumentException if {@code negativeSlope} is NaN or infinite
     *
     * @param negativeSlope the slope for negative inputs, finite
     */
    public LeakyReLU(float negativeSlope) {
        super(Activation.leakyRelu(negativeSlope));
    }
}
