package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every PyTorch 1.13 golden of {@code scripts/goldens/generate_layers14.py} (Embedding, GroupNorm,
 * Upsample, cat/split/chunk, broadcasting add/sub/mul/div, Dropout/Identity in a Sequential,
 * AdaptiveMaxPool1d, FiLM, the FiLM-ed residual block) on the native and the reference path.
 *
 * <p>Tolerance |got - want| <= 1e-5 + 1e-5 * |want|: lookups, copies, views, broadcasting
 * arithmetic and max pooling are exact (one IEEE operation per element, as PyTorch); upsampling
 * does PyTorch's f32 blend; GroupNorm's statistics (largest seen 1.3e-5, groupnorm4: two elements per group, where
 * PyTorch's own f32 result is 1.3e-5 off its float64 one, so both our paths sit nearer the exact value) and the Linear/conv sums of FiLM differ from
 * PyTorch's only in summation order (a few ulps on O(1) values, the conv block's up to ~1e-6).
 * A wrong index, group or broadcast moves values by O(0.1). NaN and infinities must match exactly.
 */
class Layers14GoldenTest {
    private static final double ABS = 1e-5, REL = 1e-5;
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();
    private static GoldenFile file;
    private static List<GoldenFile.Case> cases;

    @BeforeAll
    static void open() {
        file = GoldenFile.open(Layers14Goldens.FILE);
        cases = file.cases();
    }

    @AfterAll
    static void report() {
        file.close();
        System.out.println("layers14 goldens: " + cases.size() + " cases; largest absolute error vs PyTorch per layer and path: "
                + new TreeMap<>(WORST));
    }

    static List<String> names() {
        try (GoldenFile f = GoldenFile.open(Layers14Goldens.FILE)) {
            return f.cases().stream().map(GoldenFile.Case::name).toList();
        }
    }

    private static GoldenFile.Case byName(String name) {
        return cases.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void casesCoverEveryLayer() {
        Set<String> layers = new TreeSet<>();
        for (GoldenFile.Case c : cases) layers.add(c.fields().get("layer"));
        assertTrue(layers.containsAll(Set.of("Embedding", "EmbeddingPretrained", "GroupNorm", "Upsample", "cat", "split", "chunk", "add", "sub",
                "mul", "div", "SequentialDropout", "AdaptiveMaxPool1d", "FiLM", "FiLMBlock")), "layers covered: " + layers);
    }

    @ParameterizedTest
    @MethodSource("names")
    void nativeMatchesPyTorch(String name) {
        check(byName(name), Backend.AUTO);
    }

    @ParameterizedTest
    @MethodSource("names")
    void referenceMatchesPyTorch(String name) {
        check(byName(name), Backend.REFERENCE);
    }

    static List<Arguments> intoCases() {
        try (GoldenFile f = GoldenFile.open(Layers14Goldens.FILE)) {
            return f.cases().stream().filter(c -> Layers14Goldens.INTO_LAYERS.contains(c.fields().get("layer")))
                    .flatMap(c -> Stream.of(Arguments.of(c.name(), Backend.AUTO), Arguments.of(c.name(), Backend.REFERENCE))).toList();
        }
    }

    /** Embedding, cat, the broadcast ops and FiLM through their {@code ...Into} calls: the same PyTorch goldens. */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("intoCases")
    void intoMatchesPyTorch(String name, Backend backend) {
        GoldenFile.Case c = byName(name);
        Layers14Goldens.compare(c + " (" + backend + ", into)", Layers14Goldens.runInto(c, backend), Layers14Goldens.expected(c), ABS, REL);
    }

    private static void check(GoldenFile.Case c, Backend backend) {
        float[] got = Layers14Goldens.run(c, backend);
        double worst = Layers14Goldens.compare(c + " (" + backend + ")", got, Layers14Goldens.expected(c), ABS, REL);
        WORST.merge(c.fields().get("layer") + "/" + backend, worst, Math::max);
    }
}
