package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;

/**
 * An activation to apply: oneDNN eltwise kind (as {@link dev.panamadnn.Eltwise.Kind} names it), alpha
 * and beta; kind {@code CLIP} (only fused, {@code clamp(x, 0, beta)}) is several eltwise operations,
 * see {@link FusedActivation#ops}.
 */
record Act(String kind, float alpha, float beta, String label) {
    Act(String kind, float alpha, String label) {
        this(kind, alpha, 0f, label);
    }

    boolean isPlainRelu() {
        return kind.equals("RELU") && alpha == 0f;
    }

    /**
     * The activation of node op {@code op} with attributes read under {@code prefix} ("" or "activation.").
     * A Clip is one only as fused by {@link FuseActivation} (its bounds then in attributes): a Clip node
     * of its own is LowerMath's, which keeps the exact result.
     */
    static Act of(String op, Attributes a, String prefix, String label) {
        return switch (op) {
            case "Relu" -> new Act("RELU", 0f, label);
            case "LeakyRelu" -> new Act("RELU", (float) a.real(prefix + "alpha", 0.01), label);
            case "Sigmoid" -> new Act("SIGMOID", 0f, label);
            case "Tanh" -> new Act("TANH", 0f, label);
            case "Elu" -> new Act("ELU", (float) a.real(prefix + "alpha", 1.0), label);
            case "Gelu" -> new Act(a.string(prefix + "approximate", "none").equals("tanh") ? "GELU_TANH" : "GELU_ERF", 0f, label);
            case "Silu" -> new Act("SWISH", 1f, label);
            case "HardSwish" -> new Act("HARDSWISH", 0f, label);
            case "Clip" -> prefix.isEmpty() ? null : new Act("CLIP", 0f, (float) a.real(prefix + "max"), label);
            default -> null;
        };
    }
}
