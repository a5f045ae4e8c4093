package dev.panamadnn.nn;

/**
 * The "wide" one-dimensional convolution of Kalchbrenner, Grefenstette &amp; Blunsom 2014 (the
 * DCNN): every kernel position that overlaps the sentence, i.e. zero padding {@code m - 1} on
 * both sides of a length-{@code s} input, so {@code [N, C_in, s] -> [N, C_out, s + m - 1]}
 * (narrow/"valid" would give {@code s - m + 1}). Every input value is reached by every kernel
 * weight, and the output is never empty, whatever {@code s}.
 *
 * <p>The result is an ordinary {@link Conv1d} (stride 1, dilation 1, padding {@code m-1}), so it
 * has Conv1d's native oneDNN path, reference, {@code state_dict} names ("weight", "bias") and
 * PyTorch equivalence: {@code nn.Conv1d(in, out, m, padding=m-1, groups=g)}.
 * <ul>
 * <li>{@link #depthwise(int, int) depthwise(d, m)}: the paper's form, one kernel per row
 *     (feature) convolved separately ("one-dimensional convolution per row"): groups = in = out,
 *     weight {@code [d, 1, m]}. The paper's {@code d x m} filter matrix is this weight.</li>
 * <li>{@link #builder(int, int, int) builder(in, out, m)}: full channel mixing (groups 1) or any
 *     grouping via {@link Builder#groups}, e.g. several feature maps per input row
 *     ({@code out = in * maps}, {@code groups = in}).</li>
 * </ul>
 */
public final class WideConv1d {
    private WideConv1d() {}

    /** The paper's depthwise wide convolution over {@code channels} rows with kernel width {@code m}, with bias. */
    public static Conv1d depthwise(int channels, int m) {
        return builder(channels, channels, m).groups(channels).build();
    }

    /** A wide convolution {@code in -> out} with kernel width {@code m}; groups 1 and bias unless set. */
    public static Builder builder(int in, int out, int m) {
        return new Builder(in, out, m);
    }

    /** The output length {@code s + m - 1} of a wide convolution of width {@code m} over length {@code s}. */
    public static long outputLength(long s, int m) {
        return s + m - 1;
    }

    /**
     * Options of a wide convolution: only those that keep it wide (groups, bias). Validated by
     * {@link #build()} with Conv1d's checks (channels divisible by groups, sizes > 0).
     */
    public static final class Builder {
        private final int in, out, m;
        private int groups = 1;
        private boolean bias = true;

        private Builder(int in, int out, int m) {
            this.in = in;
            this.out = out;
            this.m = m;
        }

        /** Channel groups; {@code groups == in == out} is the paper's row-by-row (depthwise) form. */
        public Builder groups(int groups) {
            this.groups = groups;
            return this;
        }

        /** Whether to add a learnable bias (default true; the paper adds one bias per row after folding/pooling). */
        public Builder bias(boolean bias) {
            this.bias = bias;
            return this;
        }

        /**
         * @throws IllegalArgumentException if {@code m < 1} or Conv1d rejects the configuration
         */
        public Conv1d build() {
            if (m < 1) throw new IllegalArgumentException("WideConv1d: expected kernel width m >= 1, got m=" + m);
            return Conv1d.builder(in, out, m).padding(m - 1).groups(groups).bias(bias).build();
        }
    }
}
