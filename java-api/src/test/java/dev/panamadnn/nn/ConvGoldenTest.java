package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Tensor;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every PyTorch golden case through the native and the reference path.
 * Tolerance |got - want| <= 1e-5 + 1e-4 * |want|: outputs are sums of at most a few hundred
 * f32 products of O(1) values, accumulated in a different order (and, natively, with FMA and
 * blocking) than PyTorch's; the rounding differences that causes are a few float ulps of the
 * partial sums, well under 1e-5 absolute, while an indexing bug moves values by O(0.1).
 */
class ConvGoldenTest {
    private static final double ABS = 1e-5, REL = 1e-4;
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();
    private static final Map<String, String> IMPLEMENTATIONS = new ConcurrentHashMap<>();

    static List<ConvGoldens.Case> cases() {
        return ConvGoldens.cases();
    }

    @Test
    void manifestCoversEveryLayer() {
        List<ConvGoldens.Case> cases = cases();
        assertTrue(cases.size() >= 30, "expected at least 30 golden cases, got " + cases.size());
        for (String layer : List.of("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d")) {
            assertTrue(cases.stream().anyMatch(c -> c.layer().equals(layer)), "no golden case for " + layer);
        }
    }

    @ParameterizedTest(name = "{0} native")
    @MethodSource("cases")
    void nativeMatchesPyTorch(ConvGoldens.Case c) {
        check(c, true);
    }

    @ParameterizedTest(name = "{0} reference")
    @MethodSource("cases")
    void referenceMatchesPyTorch(ConvGoldens.Case c) {
        check(c, false);
    }

    /**
     * The layer compiled into a plan (its graph node lowered on its own: a oneDNN convolution, or for the transposed layers
     * the deconvolution of {@code LowerConvTranspose}, groups, dilation and output_padding included), against PyTorch.
     */
    @ParameterizedTest(name = "{0} compiled")
    @MethodSource("cases")
    void compiledMatchesPyTorch(ConvGoldens.Case c) {
        try (ConvNd layer = c.build(); Tensor x = Tensor.of(c.data("input"), c.shape("input"));
             dev.panamadnn.compile.CompiledModel plan = dev.panamadnn.compile.CompiledModel.compile(layer, c.shape("input"));
             Tensor y = plan.run(x)) {
            assertArrayEquals(c.shape("output"), y.shape(), c + ": output shape");
            IMPLEMENTATIONS.put(c.name() + " compiled", plan.steps().stream().filter(st -> st.startsWith("deconv ") || st.startsWith("conv ")
                    || st.startsWith("java")).map(st -> st.substring(0, st.indexOf(' ')) + st.substring(st.lastIndexOf(' '))).toList().toString());
            float[] got = y.toFloatArray(), want = c.data("output");
            for (int i = 0; i < want.length; i++) {
                double err = Math.abs(got[i] - want[i]);
                if (err > ABS + REL * Math.abs(want[i])) {
                    fail(c + " (" + layer + ", compiled): element " + i + " = " + got[i] + ", PyTorch " + want[i] + ", error " + err + "\n"
                            + plan.describe());
                }
            }
        }
    }

    private static void check(ConvGoldens.Case c, boolean nativePath) {
        try (ConvNd layer = c.build(); Tensor x = Tensor.of(c.data("input"), c.shape("input"))) {
            long[] expectedShape = c.shape("output");
            assertArrayEquals(expectedShape, layer.outputShape(c.shape("input")), c + ": outputShape");
            try (Tensor y = nativePath ? layer.forward(x) : layer.forwardReference(x)) {
                assertArrayEquals(expectedShape, y.shape(), c + ": output shape");
                float[] got = y.toFloatArray(), want = c.data("output");
                double worst = 0;
                for (int i = 0; i < want.length; i++) {
                    double err = Math.abs(got[i] - want[i]);
                    worst = Math.max(worst, err);
                    if (err > ABS + REL * Math.abs(want[i])) {
                        fail(c + " (" + layer + ", " + (nativePath ? "native" : "reference") + "): element " + i + " = "
                                + got[i] + ", PyTorch " + want[i] + ", error " + err);
                    }
                }
                WORST.merge(c.layer() + (nativePath ? " native" : " reference"), worst, Math::max);
                if (nativePath) IMPLEMENTATIONS.put(c.name(), implementation(layer, c.shape("input")));
            }
        }
    }

    /** oneDNN's implementation, or why forward ran the layer on the reference (a stride past 1024, oneDNN's ref:any...). */
    private static String implementation(ConvNd layer, long[] shape) {
        try {
            return layer.implementation(shape);
        } catch (IllegalArgumentException e) {
            return "the reference: " + e.getMessage();
        }
    }

    @AfterAll
    static void report() {
        System.out.println("largest absolute error against PyTorch, per layer and path: " + new TreeMap<>(WORST));
        System.out.println("oneDNN implementations: " + new TreeMap<>(IMPLEMENTATIONS));
    }
}
