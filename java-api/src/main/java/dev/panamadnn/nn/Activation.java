package dev.panamadnn.nn;

import dev.panamadnn.Eltwise;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.GraphBuilder;
import java.util.Objects;

/**
 * An element-wise activation function, as a value: what {@link Linear} fuses after its matrix
 * product and what the activation layers ({@link ReLU}, {@link GELU}, ...) apply. Immutable;
 * holds no native resources. {@link #toString()} is the PyTorch module's repr.
 */
public final class Activation {
    private final Eltwise.Kind kind;
    private final float alpha;
    private final String repr;
    private final Attributes attributes;   // the graph op's: LeakyRelu/Elu alpha, Gelu approximate
    private final String op;               // the graph op (ONNX's name; Silu is ours)

    private Activation(Eltwise.Kind kind, float alpha, String repr, String op, Attributes attributes) {
        this.kind = kind;
        this.alpha = alpha;
        this.repr = repr;
        this.op = op;
        this.attributes = attributes;
    }

    private Activation(Eltwise.Kind kind, float alpha, String repr, String op) {
        this(kind, alpha, repr, op, Attributes.empty());
    }

    /**
     * max(x, 0).
     *
     * @return the activation
     */
    public static Activation relu() {
        return new Activation(Eltwise.Kind.RELU, 0f, "ReLU()", "Relu");
    }

    /**
     * x for x >= 0, negativeSlope * x otherwise; {@code negativeSlope} must be finite.
     *
     * @param negativeSlope the slope for negative inputs, finite
     * @return the activation
     */
    public static Activation leakyRelu(float negativeSlope) {
        if (!Float.isFinite(negativeSlope)) {
            throw new IllegalArgumentException("LeakyReLU: negative_slope must be finite, got " + negativeSlope);
        }
        return new Activation(Eltwise.Kind.RELU, negativeSlope, "LeakyReLU(negative_slope=" + negativeSlope + ")", "LeakyRelu",
                Attributes.of("alpha", negativeSlope));
    }

    /**
     * 1 / (1 + e^-x).
     *
     * @return the activation
     */
    public static Activation sigmoid() {
        return new Activation(Eltwise.Kind.SIGMOID, 0f, "Sigmoid()", "Sigmoid");
    }

    /** {@return tanh as a fused activation} */
    public static Activation tanh() {
        return new Activation(Eltwise.Kind.TANH, 0f, "Tanh()", "Tanh");
    }

    /**
     * GELU: x * Phi(x) with {@code approximate = "none"} (exact erf), or
     * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) with {@code "tanh"}, as in PyTorch.
     *
     * @param approximate {@code "none"} (exact erf) or {@code "tanh"}
     * @return the activation
     */
    public static Activation gelu(String approximate) {
        if (!"none".equals(approximate) && !"tanh".equals(approximate)) {
            throw new IllegalArgumentException("GELU: approximate must be 'none' or 'tanh', got "
                    + (approximate == null ? "null" : "'" + approximate + "'"));
        }
        return new Activation(approximate.equals("none") ? Eltwise.Kind.GELU_ERF : Eltwise.Kind.GELU_TANH, 0f,
                "GELU(approximate='" + approximate + "')", "Gelu", Attributes.of("approximate", approximate));
    }

    /**
     * SiLU (swish): x * sigmoid(x).
     *
     * @return the activation
     */
    public static Activation silu() {
        return new Activation(Eltwise.Kind.SWISH, 1f, "SiLU()", "Silu");
    }

    /**
     * x for x > 0, alpha * (e^x - 1) otherwise; {@code alpha} must be finite.
     *
     * @param alpha the scale of the negative part, finite
     * @return the activation
     */
    public static Activation elu(float alpha) {
        if (!Float.isFinite(alpha)) throw new IllegalArgumentException("ELU: alpha must be finite, got " + alpha);
        return new Activation(Eltwise.Kind.ELU, alpha, "ELU(alpha=" + alpha + ")", "Elu", Attributes.of("alpha", alpha));
    }

    /** {@return the oneDNN eltwise kind that computes it} */
    public Eltwise.Kind kind() {
        return kind;
    }

    /** {@return the kind's parameter in oneDNN's meaning (LeakyReLU's slope, ELU's alpha, 1 for SiLU, else 0)} */
    public float alpha() {
        return alpha;
    }

    /**
     * Whether oneDNN computes it as PyTorch does on every input when fused as a post-op. Not
     * exact GELU: its kernel overflows from 2^127 and turns +inf into NaN, which only the
     * repair of a separate {@link Eltwise} pass can put right (docs/numerics.md).
     */
    boolean fusesExactly() {
        return kind != Eltwise.Kind.GELU_ERF;
    }

    /**
     * Adds this function's graph node ({@code Relu}, {@code LeakyRelu} alpha, {@code Sigmoid},
     * {@code Tanh}, {@code Gelu} approximate, {@code Silu}, {@code Elu} alpha) on {@code input},
     * named {@code name} (the op's name when empty); returns its output. LeakyReLU keeps its own
     * op even with slope 0, whose negative outputs are -0.0 where ReLU's are 0.0.
     */
    String lower(GraphBuilder graph, String input, String name) {
        return graph.node(op, name, attributes, input);
    }

    /** The graph op, e.g. {@code "LeakyRelu"}. */
    String op() {
        return op;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Activation a && a.kind == kind && Float.compare(a.alpha, alpha) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, alpha);
    }

    @Override
    public String toString() {
        return repr;
    }
}
