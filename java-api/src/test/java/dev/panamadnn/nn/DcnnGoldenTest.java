package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Tensor;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of {@code goldens/dcnn.safetensors} (written by {@code scripts/goldens/generate_dcnn.py}
 * from the paper's definitions with PyTorch ops) through the native and the reference path.
 *
 * <p>Tolerances: k-max pooling and folding are exact (selection copies values; folding is one f32
 * add, rounded the same everywhere), so they are compared bit for bit. Cases with a convolution
 * use 1e-5 absolute + 1e-4 relative: oneDNN and PyTorch sum in different orders with FMA, which
 * moves results by a few ulps; an indexing bug moves them by O(0.1).
 */
class DcnnGoldenTest {
    private static GoldenFile file;
    private static final Map<String, Double> LARGEST_ERROR = new ConcurrentHashMap<>();

    @BeforeAll
    static void open() {
        file = GoldenFile.open("dcnn.safetensors");
    }

    @AfterAll
    static void close() {
        System.out.println("DcnnGoldenTest largest |error| per layer and backend: " + new TreeMap<>(LARGEST_ERROR));
        file.close();
    }

    static List<GoldenFile.Case> cases() {
        try (GoldenFile f = GoldenFile.open("dcnn.safetensors")) {
            return f.cases().stream().map(c -> new GoldenFile.Case(c.name(), c.spec(), Map.of(), Map.of(), null, null)).toList();
        }
    }

    /** The layer a spec describes, with the golden parameters copied in. */
    static Layer build(GoldenFile.Case c) {
        Map<String, String> f = c.fields();
        Layer layer = switch (f.get("layer")) {
            case "KMaxPool1d" -> f.containsKey("k") ? new KMaxPool1d(num(f, "k"))
                    : KMaxPool1d.dynamic(num(f, "k_top"), num(f, "l"), num(f, "L"));
            case "Folding" -> new Folding();
            case "WideConv1d" -> WideConv1d.builder(num(f, "in"), num(f, "out"), num(f, "kernel"))
                    .groups(num(f, "groups")).bias(num(f, "bias") == 1).build();
            case "Dcnn" -> new Sequential(
                    WideConv1d.builder(num(f, "in"), num(f, "maps"), num(f, "m1")).build(),
                    KMaxPool1d.dynamic(num(f, "k_top"), 1, num(f, "L")),
                    new Tanh(),
                    WideConv1d.depthwise(num(f, "maps"), num(f, "m2")),
                    new Folding(),
                    new KMaxPool1d(num(f, "k_top")));
            default -> throw new IllegalArgumentException("unknown layer in spec " + c.spec());
        };
        Map<String, Tensor> params = layer.parameters();
        assertEquals(c.params().keySet(), params.keySet(), c.name() + ": state_dict names");
        c.params().forEach((name, golden) -> ConvGoldens.copy(golden.toFloatArray(), params.get(name)));
        return layer;
    }

    private static int num(Map<String, String> f, String key) {
        String v = f.get(key);
        if (v == null) throw new IllegalArgumentException("spec lacks " + key + ": " + f);
        return Integer.parseInt(v);
    }

    private static GoldenFile.Case full(GoldenFile.Case named) {
        return file.cases().stream().filter(c -> c.name().equals(named.name())).findFirst().orElseThrow();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void nativePathMatchesPyTorch(GoldenFile.Case named) {
        check(full(named), Backend.AUTO);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referencePathMatchesPyTorch(GoldenFile.Case named) {
        check(full(named), Backend.REFERENCE);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void everyBackendRunsTheSmallDcnn(Backend backend) {
        check(file.cases().stream().filter(c -> c.name().equals("dcnn_small")).findFirst().orElseThrow(), backend);
    }

    @Test
    void theFileHoldsEveryKindOfCase() {
        List<GoldenFile.Case> all = file.cases();
        assertEquals(39, all.size(), "golden case count (regenerate with scripts/goldens/generate_dcnn.py)");
        for (String kind : List.of("KMaxPool1d k=", "KMaxPool1d k_top=", "Folding", "WideConv1d", "Dcnn")) {
            assertTrue(all.stream().anyMatch(c -> c.spec().startsWith(kind)), "no case of kind " + kind);
        }
    }

    @Test
    void dynamicKOfEveryCaseIsTheRecordedOne() {
        for (GoldenFile.Case c : file.cases()) {
            if (!c.spec().startsWith("KMaxPool1d")) continue;
            try (Layer layer = build(c)) {
                long s = c.input().shape()[c.input().rank() - 1];
                assertEquals((long) c.extras().get("k").toFloatArray()[0], ((KMaxPool1d) layer).k(s), c.name());
            }
        }
    }

    private static void check(GoldenFile.Case c, Backend backend) {
        try (Layer layer = build(c); Tensor y = layer.forward(c.input(), backend)) {
            assertArrayEquals(c.output().shape(), y.shape(), c.name() + ": output shape");
            float[] expected = c.output().toFloatArray(), actual = y.toFloatArray();
            boolean exact = c.spec().startsWith("KMaxPool1d") || c.spec().startsWith("Folding");
            double largest = 0;
            for (int i = 0; i < expected.length; i++) {
                double err = Math.abs((double) expected[i] - actual[i]);
                largest = Math.max(largest, err);
                boolean ok = exact ? Float.floatToIntBits(expected[i]) == Float.floatToIntBits(actual[i])
                        : err <= 1e-5 + 1e-4 * Math.abs(expected[i]);
                if (!ok) {
                    fail(c.name() + " (" + layer + ", " + backend + "): element " + i + " expected " + expected[i] + ", got "
                            + actual[i] + (exact ? " (must be exact)" : " (tolerance 1e-5 + 1e-4*|expected|)"));
                }
            }
            String key = c.spec().split(" ")[0] + "/" + (backend == Backend.REFERENCE ? "reference" : "native");
            double err = largest;
            LARGEST_ERROR.merge(key, err, Math::max);
        }
    }
}
