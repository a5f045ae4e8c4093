package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;
import java.util.Map;

/**
 * The "wide" one-dimensional convolution of Kalchbrenner, Grefenstette &amp; Blunsom 2014 (the
 * DCNN): every kernel position that overlaps the sentence, i.e. zero padding {@code m - 1} on
 * both sides of a length-{@code s} input, so {@code [N, C_in, s] -> [N, C_out, s + m - 1]}, or
 * unbatched {@code [C_in, s] -> [C_out, s + m - 1]} (narrow/"valid" would give {@code s - m + 1}).
 * Every input value is reached by every kernel weight, and the output is never empty.
 *
 * <p>PyTorch equivalent: {@code nn.Conv1d(in, out, m, padding=m-1, groups=g)}. The computation
 * is a {@link Conv1d} built that way (stride 1, dilation 1), owned by this layer: same oneDNN
 * native path, same reference ({@link Backend#REFERENCE} runs {@link Conv1d#forwardReference}),
 * same {@code state_dict} names ("weight" {@code [out, in/groups, m]}, "bias" {@code [out]}).
 * Being a {@link Layer}, it takes part in {@link Sequential}'s up-front shape checks and backend
 * choice. As with Conv1d, write the parameters before the first forward or call
 * {@link #weightsChanged()}.
 * <ul>
 * <li>{@link #depthwise(int, int) depthwise(d, m)}: the paper's form, each row (feature) convolved
 *     separately ("one-dimensional convolution per row"): groups = in = out, weight {@code [d, 1, m]}
 *     is the paper's {@code d x m} filter matrix.</li>
 * <li>{@link #builder(int, int, int) builder(in, out, m)}: full channel mixing (groups 1, the
 *     default), or any grouping via {@link Builder#groups}, e.g. several maps per input row
 *     ({@code out = in * maps, groups = in}).</li>
 * </ul>
 * Thread-safe like Conv1d.
 */
public final class WideConv1d extends Layer {
    private final Conv1d conv;
    private final int in, out, m, groups;
    private final boolean bias;

    private WideConv1d(Builder b) {
        if (b.m < 1) throw new IllegalArgumentException("WideConv1d: expected kernel width m >= 1, got m=" + b.m);
        try {
            this.conv = Conv1d.builder(b.in, b.out, b.m).padding(b.m - 1).groups(b.groups).bias(b.bias).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("WideConv1d(in=" + b.in + ", out=" + b.out + ", m=" + b.m + ", groups=" + b.groups
                    + "): " + e.getMessage(), e);
        }
        this.in = b.in;
        this.out = b.out;
        this.m = b.m;
        this.groups = b.groups;
        this.bias = b.bias;
    }

    /**
     * {@return the paper's depthwise wide convolution over {@code channels} rows with kernel width {@code m}, with bias}
     *
     * @param m the kernel width
     * @param channels the number of channels
     */
    public static WideConv1d depthwise(int channels, int m) {
        return builder(channels, channels, m).groups(channels).build();
    }

    /**
     * {@return a wide convolution {@code in -> out} with kernel width {@code m}; groups 1 and bias unless set}
     *
     * @param m the kernel width
     * @param in input channels
     * @param out output channels
     */
    public static Builder builder(int in, int out, int m) {
        return new Builder(in, out, m);
    }

    /** {@return the weight {@code [out, in/groups, m]} (PyTorch layout)} */
    public Tensor weight() {
        return conv.weight();
    }

    /** {@return the bias {@code [out]}, or null without one} */
    public Tensor bias() {
        return conv.bias();
    }

    /** See {@link Conv1d#weightsChanged()}. */
    public void weightsChanged() {
        checkOpen();
        conv.weightsChanged();
    }

    /** {@code [.., C_out, s + m - 1]}; validates rank and channels like Conv1d. */
    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        try {
            return conv.outputShape(inputShape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(this + ": " + e.getMessage(), e);
        }
    }

    /** Its {@link Conv1d} straight into {@code out} (no intermediate tensor: freeing one is a JDK handshake). */
    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        conv.forwardInto(input, out, backend);
    }

    /**
     * Exactly its {@link Conv1d}: one {@code Conv} node (pads {@code [m-1, m-1]}, group) with
     * {@code <path>.weight} and {@code <path>.bias}, the same state_dict names as this layer's.
     */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        return conv.lower(graph, input, path);
    }

    @Override
    public Map<String, Tensor> parameters() {
        return conv.parameters();
    }

    @Override
    void release() {
        conv.close();
    }

    @Override
    public String toString() {
        return "WideConv1d(" + in + ", " + out + ", kernel_size=" + m + ", padding=" + (m - 1)
                + (groups != 1 ? ", groups=" + groups : "") + (bias ? "" : ", bias=False") + ")";
    }

    /** Options of a wide convolution: only those that keep it wide. Validated by {@link #build()}. */
    public static final class Builder {
        private final int in, out, m;
        private int groups = 1;
        private boolean bias = true;

        private Builder(int in, int out, int m) {
            this.in = in;
            this.out = out;
            this.m = m;
        }

        /**
         * Channel groups; {@code groups == in == out} is the paper's row-by-row (depthwise) form.
         *
         * @param groups the number of channel groups (in and out must divide by it)
         * @return this builder
         */
        public Builder groups(int groups) {
            this.groups = groups;
            return this;
        }

        /**
         * Whether to add a learnable bias (default true).
         *
         * @param bias whether to add it
         * @return this builder
         */
        public Builder bias(boolean bias) {
            this.bias = bias;
            return this;
        }

        /**
         * Builds the layer.
         *
         * @throws IllegalArgumentException if {@code m < 1} or Conv1d rejects the configuration
         *                                  (channels not divisible by groups, sizes &lt;= 0)
         * @return the layer
         */
        public WideConv1d build() {
            return new WideConv1d(this);
        }
    }
}
