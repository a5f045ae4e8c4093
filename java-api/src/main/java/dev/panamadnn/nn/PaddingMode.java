package dev.panamadnn.nn;

/**
 * How a convolution fills the border, PyTorch's {@code padding_mode}. Anything but
 * {@link #ZEROS} is applied as an explicit padding copy in Java before a zero-padded convolution
 * (what PyTorch does too), so it costs one pass over the input.
 */
public enum PaddingMode {
    /** Zeros outside the input (oneDNN pads itself, no copy). */
    ZEROS,
    /** Mirror without repeating the edge: ... 2 1 | 0 1 2 ... ; padding must be smaller than the size. */
    REFLECT,
    /** Repeat the edge value. */
    REPLICATE,
    /** Wrap around; padding must not exceed the size. */
    CIRCULAR;

    /** PyTorch's spelling, e.g. {@code reflect}. */
    String pytorchName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
