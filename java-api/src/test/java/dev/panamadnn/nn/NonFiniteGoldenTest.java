package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Eltwise;
import dev.panamadnn.Tensor;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * NaN, infinities, signed zeros, subnormals and values near the float range through every layer
 * that computes element by element or over windows, on every backend, against PyTorch 1.13
 * (goldens: {@code scripts/goldens/generate_nonfinite.py}; semantics: docs/numerics.md).
 */
class NonFiniteGoldenTest {
    private static final List<GoldenFile.Case> CASES = NonFiniteGoldens.cases(false);

    static Stream<Arguments> casesOnEveryBackend() {
        return CASES.stream().flatMap(c -> backends(c).stream().map(b -> Arguments.of(c, b)));
    }

    /** OPENBLAS differs from ONEDNN only for Linear (sgemm, then the activation on oneDNN). */
    private static List<Backend> backends(GoldenFile.Case c) {
        return c.spec().startsWith("Linear") ? List.of(Backend.ONEDNN, Backend.OPENBLAS, Backend.REFERENCE)
                : List.of(Backend.ONEDNN, Backend.REFERENCE);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesOnEveryBackend")
    void matchesPyTorch(GoldenFile.Case c, Backend backend) {
        try (Layer layer = build(c); Tensor y = layer.forward(c.input(), backend)) {
            NonFiniteGoldens.assertMatches(c, layer + " on " + backend, y);
        }
    }

    /** Eltwise in place (src == dst): exact GELU's repair must read the inputs the primitive overwrote. */
    @Test
    void exactGeluInPlaceMatchesPyTorch() {
        GoldenFile.Case c = CASES.stream().filter(k -> k.name().equals("gelu")).findFirst().orElseThrow();
        try (Eltwise gelu = new Eltwise(Eltwise.Kind.GELU_ERF); Tensor x = Tensor.of(c.input().toFloatArray(), c.input().shape())) {
            gelu.forward(x.segment(), x.segment());
            NonFiniteGoldens.assertMatches(c, "Eltwise(GELU_ERF) in place", x);
        }
    }

    @Test
    void everyLayerKindHasACase() {
        for (String kind : List.of("ReLU", "LeakyReLU", "ELU", "GELU approximate=none", "GELU approximate=tanh", "SiLU",
                "Sigmoid", "Tanh", "Softmax", "LayerNorm", "BatchNorm2d", "KMaxPool1d", "Linear in=8 out=5 activation=ReLU",
                "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")) {
            assertTrue(CASES.stream().anyMatch(c -> c.spec().startsWith(kind)), "no golden case for " + kind);
        }
    }

    /** The layer of a spec, its parameters loaded from the case. */
    static Layer build(GoldenFile.Case c) {
        Map<String, String> f = c.fields();
        Layer layer = switch (f.get("layer")) {
            case "ReLU" -> new ReLU();
            case "LeakyReLU" -> new LeakyReLU(Float.parseFloat(f.get("negative_slope")));
            case "ELU" -> new ELU(Float.parseFloat(f.get("alpha")));
            case "GELU" -> new GELU(f.get("approximate"));
            case "SiLU" -> new SiLU();
            case "Sigmoid" -> new Sigmoid();
            case "Tanh" -> new Tanh();
            case "Softmax" -> new Softmax(Integer.parseInt(f.get("dim")));
            case "LayerNorm" -> new LayerNorm(new long[] {Long.parseLong(f.get("shape"))}, Double.parseDouble(f.get("eps")), true);
            case "BatchNorm2d" -> new BatchNorm2d(Integer.parseInt(f.get("features")), Double.parseDouble(f.get("eps")), true);
            case "KMaxPool1d" -> new KMaxPool1d(Integer.parseInt(f.get("k")));
            case "Linear" -> f.containsKey("activation")
                    ? new Linear(Integer.parseInt(f.get("in")), Integer.parseInt(f.get("out")), true, activation(f.get("activation")))
                    : new Linear(Integer.parseInt(f.get("in")), Integer.parseInt(f.get("out")), true);
            default -> PoolGoldens.build(f);
        };
        if (!c.params().isEmpty()) NormTesting.loadParams(layer, c);
        return layer;
    }

    private static Activation activation(String name) {
        return switch (name) {
            case "ReLU" -> Activation.relu();
            case "GELU" -> Activation.gelu("none");
            case "LeakyReLU" -> Activation.leakyRelu(0.01f);
            case "ELU" -> Activation.elu(1f);
            case "SiLU" -> Activation.silu();
            default -> throw new IllegalArgumentException("unknown activation in golden spec: " + name);
        };
    }
}
