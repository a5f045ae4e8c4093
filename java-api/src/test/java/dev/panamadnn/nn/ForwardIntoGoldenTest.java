package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code forwardInto(x, out)} against the same PyTorch goldens as {@code forward(x)}: every layer
 * case of {@code generate_layers.py} (Linear on both OpenBLAS and oneDNN, activations, Softmax,
 * Flatten, Sequential), every convolution and every pooling case, native and reference. {@code out}
 * starts full of NaN, so an element the kernel leaves unwritten fails the comparison, and each
 * case runs twice into the same {@code out} (a reused output must be overwritten, not accumulated).
 * Tolerances are those of the golden tests these mirror (LayerConformanceTest, ConvGoldenTest,
 * PoolGoldenTest), for the same reasons: summation order and polynomial approximations.
 */
class ForwardIntoGoldenTest {
    static Stream<Arguments> layerCases() {
        return Goldens.load().stream().flatMap(c -> Arrays.stream(Backend.values()).map(b -> Arguments.of(c, b)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("layerCases")
    void layersMatchPyTorch(Goldens.Case c, Backend backend) {
        try (Module m = Goldens.build(c.spec()); Tensor x = Tensor.of(c.input().values(), c.input().shape())) {
            Goldens.loadParameters(m, c.params());
            check(c.name() + " on " + backend, (Layer) m, x, backend, c.output().shape(), c.output().values(),
                    LayerConformanceTest.ATOL, LayerConformanceTest.RTOL);
        }
    }

    static Stream<Arguments> convCases() {
        return ConvGoldens.cases().stream().flatMap(c -> Stream.of(Arguments.of(c, Backend.AUTO), Arguments.of(c, Backend.REFERENCE)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("convCases")
    void convolutionsMatchPyTorch(ConvGoldens.Case c, Backend backend) {
        try (ConvNd layer = c.build(); Tensor x = Tensor.of(c.data("input"), c.shape("input"))) {
            check(c + " on " + backend, layer, x, backend, c.shape("output"), c.data("output"), 1e-5, 1e-4);
        }
    }

    static Stream<Arguments> poolCases() {
        return PoolGoldens.cases().stream().flatMap(c -> Stream.of(Arguments.of(c, Backend.AUTO), Arguments.of(c, Backend.REFERENCE)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("poolCases")
    void poolingMatchesPyTorch(GoldenFile.Case c, Backend backend) {
        Map<String, String> f = c.fields();
        boolean max = f.get("layer").contains("Max");
        try (PoolLayer layer = PoolGoldens.build(f)) {
            check(c + " on " + backend, layer, c.input(), backend, c.output().shape(), c.output().toFloatArray(), max ? 0 : 1e-6, max ? 0 : 1e-6);
        }
    }

    private static void check(String name, Layer layer, Tensor x, Backend backend, long[] shape, float[] want, double atol, double rtol) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor out = Tensor.allocate(arena, DataType.F32, shape);
            out.segment().fill((byte) 0xFF);                       // all NaN (0xFFFFFFFF)
            for (String round : List.of("first call", "second call into the same out")) {
                layer.forwardInto(x, out, backend);
                assertArrayEquals(shape, out.shape(), name);
                float[] got = out.toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    double err = Math.abs((double) got[i] - want[i]);
                    boolean ok = atol == 0 ? Float.compare(got[i], want[i]) == 0 : err <= atol + rtol * Math.abs(want[i]);
                    if (!ok) {
                        fail(name + ", " + round + ": out element " + i + " of " + Arrays.toString(shape) + " is " + got[i]
                                + ", PyTorch has " + want[i]);
                    }
                }
            }
        }
    }
}
