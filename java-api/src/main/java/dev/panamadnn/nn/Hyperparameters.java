package dev.panamadnn.nn;

/**
 * Checks of hyperparameters given as a double (as PyTorch's are) but used by the kernels as a
 * float: the value is checked as the float it becomes, so {@code eps = Double.MIN_VALUE} (0 as a
 * float, which gives NaN on oneDNN's path) or {@code 1e39} (infinity) fail up front.
 */
final class Hyperparameters {
    private Hyperparameters() {}

    /** {@code value} as a float, which must be finite and > 0; else an exception naming the layer and the value. */
    static float positiveFloat(String layer, String name, double value) {
        float f = (float) value;
        if (!(f > 0) || Float.isInfinite(f)) {
            throw new IllegalArgumentException(layer + ": expected " + name + " a finite number > 0 that is one as a float too ("
                    + Float.MIN_VALUE + " to " + Float.MAX_VALUE + "; the kernels use a float), got " + value
                    + (Double.isFinite(value) && value > 0 ? ", which is " + f + " as a float" : ""));
        }
        return f;
    }
}
