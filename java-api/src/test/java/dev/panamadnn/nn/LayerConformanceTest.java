package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every PyTorch golden case ({@code scripts/goldens/generate_layers.py}) through every backend.
 *
 * <p>Tolerance: {@code |got - want| <= 1e-5 + 1e-4 |want|}. Why: PyTorch, oneDNN and OpenBLAS sum
 * the f32 products of a dot product in different orders (blocked, FMA, vectorised) and the
 * reference sums in double, so results may differ by a few float ulps times the length of the
 * dot product (at most 129 here, on values of order 1: ~1e-5 absolute in the worst case, far
 * less typically); oneDNN evaluates exp/tanh/erf with polynomial approximations good to a few
 * ulps (relative ~1e-6), and PyTorch's vectorised ones differ likewise. The absolute term covers
 * outputs near zero, where relative error means nothing. A real bug (a wrong index, a missing
 * bias, a transposed weight, a wrong axis) is off by far more than this.
 */
class LayerConformanceTest {
    static final double ATOL = 1e-5, RTOL = 1e-4;
    private static final List<Goldens.Case> CASES = Goldens.load();
    private static final Map<String, Double> MAX_ERROR = new ConcurrentHashMap<>();

    static Stream<Arguments> casesAndBackends() {
        return CASES.stream().flatMap(c -> Arrays.stream(Backend.values()).map(b -> Arguments.of(c, b)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesAndBackends")
    void matchesPyTorch(Goldens.Case c, Backend backend) {
        try (Module m = Goldens.build(c.spec()); Tensor x = Tensor.of(c.input().values(), c.input().shape())) {
            Goldens.loadParameters(m, c.params());
            Tensor y = ((Layer) m).forward(x, backend);
            try {
                assertArrayEquals(c.output().shape(), y.shape(), () -> c.name() + " on " + backend + ": output shape");
                float[] got = y.toFloatArray(), want = c.output().values();
                double worst = 0;
                for (int i = 0; i < want.length; i++) {
                    double err = Math.abs((double) got[i] - want[i]);
                    if (!(err <= ATOL + RTOL * Math.abs(want[i]))) {
                        fail(c.name() + " on " + backend + ": element " + i + " of " + Arrays.toString(y.shape()) + " is "
                                + got[i] + ", PyTorch has " + want[i] + " (|diff| " + err + " > " + ATOL + " + " + RTOL + " * |want|)");
                    }
                    worst = Math.max(worst, err);
                }
                MAX_ERROR.merge(c.kind() + " " + (backend == Backend.REFERENCE ? "reference" : "native"), worst, Math::max);
            } finally {
                y.close();
            }
        }
    }

    @Test
    void everyLayerKindHasGoldens() {
        var kinds = new java.util.TreeSet<String>();
        CASES.forEach(c -> kinds.add(c.kind()));
        for (String k : List.of("Linear", "Linear+ReLU", "Linear+LeakyReLU", "Linear+Sigmoid", "Linear+Tanh", "Linear+GELU",
                "Linear+SiLU", "Linear+ELU", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "ELU", "Softmax",
                "Flatten", "Sequential")) {
            assertEquals(true, kinds.contains(k), "no golden case for " + k + " (have " + kinds + ")");
        }
    }

    /** The largest error seen per layer kind and path, for the record (the build log). */
    @AfterAll
    static void report() {
        StringBuilder sb = new StringBuilder("Largest |Java - PyTorch| per layer over " + CASES.size() + " golden cases:\n");
        new TreeMap<>(MAX_ERROR).forEach((k, v) -> sb.append(String.format("  %-28s %.3e%n", k, v)));
        System.out.print(sb);
    }
}
