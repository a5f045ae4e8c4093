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
 * Every PyTorch pooling golden through the native and the reference path.
 * Max pooling must be exact: a maximum picks one of the inputs, nothing rounds. Average pooling:
 * |got - want| <= 1e-6 + 1e-6 * |want|: a mean of at most 30 f32 values of O(1), summed in a
 * different order (double in the reference, oneDNN's f32 vector order natively) than PyTorch's,
 * differs by a few float ulps (~1e-7), while a wrong window or divisor moves a value by O(0.1).
 */
class PoolGoldenTest {
    private static final double ABS = 1e-6, REL = 1e-6;
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();

    static List<GoldenFile.Case> cases() {
        return PoolGoldens.cases();
    }

    @Test
    void goldensCoverEveryLayer() {
        List<GoldenFile.Case> cases = cases();
        assertTrue(cases.size() >= 50, "expected at least 50 golden cases, got " + cases.size());
        for (String layer : List.of("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
                "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")) {
            assertTrue(cases.stream().anyMatch(c -> c.fields().get("layer").equals(layer)), "no golden case for " + layer);
        }
    }

    @ParameterizedTest(name = "{0} native")
    @MethodSource("cases")
    void nativeMatchesPyTorch(GoldenFile.Case c) {
        check(c, true);
    }

    @ParameterizedTest(name = "{0} reference")
    @MethodSource("cases")
    void referenceMatchesPyTorch(GoldenFile.Case c) {
        check(c, false);
    }

    private static void check(GoldenFile.Case c, boolean nativePath) {
        Map<String, String> f = c.fields();
        boolean max = f.get("layer").contains("Max");
        try (PoolLayer layer = PoolGoldens.build(f)) {
            long[] want = c.output().shape();
            assertArrayEquals(want, layer.outputShape(c.input().shape()), c + " (" + layer + "): outputShape");
            try (Tensor y = nativePath ? layer.forward(c.input()) : layer.forwardReference(c.input())) {
                assertArrayEquals(want, y.shape(), c + " (" + layer + "): output shape");
                float[] got = y.toFloatArray(), expected = c.output().toFloatArray();
                double worst = 0;
                for (int i = 0; i < expected.length; i++) {
                    double err = Math.abs((double) got[i] - expected[i]);
                    worst = Math.max(worst, err);
                    if (max ? Float.compare(got[i], expected[i]) != 0 : err > ABS + REL * Math.abs(expected[i])) {
                        fail(c + " (" + layer + ", " + (nativePath ? "native" : "reference") + "): element " + i + " = "
                                + got[i] + ", PyTorch " + expected[i] + ", error " + err);
                    }
                }
                WORST.merge(f.get("layer") + (nativePath ? " native" : " reference"), worst, Math::max);
            }
        }
    }

    @AfterAll
    static void report() {
        System.out.println("pooling: largest absolute error against PyTorch, per layer and path: " + new TreeMap<>(WORST));
    }
}
