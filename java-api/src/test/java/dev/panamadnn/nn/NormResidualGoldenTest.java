package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every PyTorch 1.13 golden of {@code scripts/goldens/generate_norm_residual.py} (modules in
 * eval() mode with randomized running statistics and affine parameters, loaded here by their
 * exact state_dict keys) through the native and the reference path.
 *
 * <p>Tolerance |got - want| <= 1e-5 + 1e-4 * |want| (largest seen: 4.8e-7, Bottleneck). Normalization alone is a few f32 operations
 * per element (PyTorch folds it into one multiply-add, oneDNN and the reference do not), so
 * differences are a few ulps; the blocks chain up to three convolutions (sums of <= 144 products
 * of O(1) values in another order, with FMA natively) and batch norms that scale by up to
 * 1.5/sqrt(0.5) ~ 2.1 each, which can grow those rounding differences to ~1e-6 on values of
 * O(1..10). 1e-5 leaves margin; a wrong statistic, index or missing shortcut moves values by O(0.1).
 */
class NormResidualGoldenTest {
    private static final double ABS = 1e-5, REL = 1e-4;
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();
    private static GoldenFile file;
    private static List<GoldenFile.Case> cases;

    @BeforeAll
    static void open() {
        file = GoldenFile.open("norm_residual.safetensors");
        cases = file.cases();
    }

    @AfterAll
    static void report() {
        file.close();
        System.out.println("norm/residual goldens: " + cases.size() + " cases; largest absolute error vs PyTorch per layer and path: "
                + new TreeMap<>(WORST));
    }

    static List<String> names() {
        try (GoldenFile f = GoldenFile.open("norm_residual.safetensors")) {
            return f.cases().stream().map(GoldenFile.Case::name).toList();
        }
    }

    private static GoldenFile.Case byName(String name) {
        return cases.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void casesCoverEveryLayerAndBatchSizes() {
        assertTrue(cases.size() >= 20, "expected at least 20 cases, got " + cases.size());
        for (String layer : List.of("BatchNorm1d", "BatchNorm2d", "LayerNorm", "Residual", "BasicBlock", "Bottleneck")) {
            assertTrue(cases.stream().anyMatch(c -> c.fields().get("layer").equals(layer) && c.input().dim(0) == 1), layer + " with batch 1");
            assertTrue(cases.stream().anyMatch(c -> c.fields().get("layer").equals(layer) && c.input().dim(0) > 1), layer + " with batch > 1");
        }
    }

    @ParameterizedTest(name = "{0} native")
    @MethodSource("names")
    void nativeMatchesPyTorch(String name) {
        check(byName(name), Backend.AUTO);
    }

    @ParameterizedTest(name = "{0} reference")
    @MethodSource("names")
    void referenceMatchesPyTorch(String name) {
        check(byName(name), Backend.REFERENCE);
    }

    private static void check(GoldenFile.Case c, Backend backend) {
        try (Module m = NormTesting.build(c)) {
            NormTesting.loadParams(m, c);
            Layer layer = (Layer) m;
            assertArrayEquals(c.output().shape(), layer.outputShape(c.input().shape()), c + ": outputShape");
            try (Tensor y = layer.forward(c.input(), backend)) {
                assertArrayEquals(c.output().shape(), y.shape(), c + ": output shape");
                double worst = NormTesting.compare(c + " " + backend + " (" + c.spec() + ")", y.toFloatArray(), c.output().toFloatArray(), ABS, REL);
                WORST.merge(c.fields().get("layer") + (backend == Backend.REFERENCE ? " reference" : " native"), worst, Math::max);
            }
        }
    }
}
