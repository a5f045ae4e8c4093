package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
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
 * Every PyTorch 1.13 golden of {@code scripts/goldens/generate_rnn.py} (LSTM, GRU, LSTMCell, GRUCell:
 * layers, directions, batch_first, projection, initial states, padded lengths, one step, batch 1,
 * unbatched, large, NaN and Inf inputs) through the native and the reference path: output, h_n, c_n.
 *
 * <p>Tolerance |got - want| <= 1e-5 + 1e-4 * |want| (largest seen: 3.9e-7, GRU reference, the wide case).
 * Each step is a few dot products of up to 192 terms (the wide GRU's second layer: 128 inputs + 64 states) of
 * O(0.1..1) values and saturating activations (|derivative| <= 1), in another summation order (and with
 * FMA, and oneDNN's vectorised tanh/sigmoid natively); errors of ~1e-7 per step can compound over at
 * most 20 steps and 3 layers. A wrong gate order, bias or direction moves values by O(0.1).
 */
class RnnGoldenTest {
    private static final double ABS = 1e-5, REL = 1e-4;
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();
    private static GoldenFile file;
    private static List<GoldenFile.Case> cases;

    @BeforeAll
    static void open() {
        file = GoldenFile.open("rnn.safetensors");
        cases = file.cases();
    }

    @AfterAll
    static void report() {
        file.close();
        System.out.println("rnn goldens: " + cases.size() + " cases; largest absolute error vs PyTorch per layer and path: " + new TreeMap<>(WORST));
    }

    static List<String> names() {
        try (GoldenFile f = GoldenFile.open("rnn.safetensors")) {
            return f.cases().stream().map(GoldenFile.Case::name).toList();
        }
    }

    private static GoldenFile.Case byName(String name) {
        return cases.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void casesCoverTheConfigurations() {
        for (String layer : List.of("LSTM", "GRU", "LSTMCell", "GRUCell")) {
            long n = cases.stream().filter(c -> c.fields().get("layer").equals(layer)).count();
            assertTrue(n >= 5, layer + ": expected at least 5 cases, got " + n);
        }
        assertTrue(cases.stream().anyMatch(c -> c.extras().containsKey("lengths") && c.fields().get("layer").equals("GRU")), "GRU with lengths");
        assertTrue(cases.stream().anyMatch(c -> "2".equals(c.fields().get("num_layers")) && "1".equals(c.fields().get("bidirectional"))
                && !"0".equals(c.fields().get("proj_size")) && "1".equals(c.fields().get("batch_first"))), "2-layer bidirectional LSTM with projection");
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
        try (Layer m = RnnTesting.build(c)) {
            RnnTesting.load(m, c);
            String what = c + " " + backend + " (" + c.spec() + ")";
            assertArrayEquals(c.output().shape(), m.outputShape(c.input().shape()), what + ": outputShape");
            double worst;
            try (RecurrentOutput r = RnnTesting.run(m, c, backend)) {
                worst = RnnTesting.compare(what + " output", r.output(), c.output(), ABS, REL);
                if (c.extras().containsKey("h_n")) worst = Math.max(worst, RnnTesting.compare(what + " h_n", r.hN(), c.extras().get("h_n"), ABS, REL));
                Tensor cn = c.extras().get("c_n");
                if (cn != null) worst = Math.max(worst, RnnTesting.compare(what + " c_n", r.cN(), cn, ABS, REL));
                else assertNull(r.cN(), what + ": a GRU has no c_n");
            }
            if (c.extras().get("h0") == null && c.extras().get("lengths") == null) {
                try (Tensor y = m.forward(c.input(), backend)) {   // forward(x) is the output alone
                    RnnTesting.compare(what + " forward(x)", y, c.output(), ABS, REL);
                }
                try (Arena arena = Arena.ofConfined()) {   // forwardInto writes every element of the caller's tensor (NaN before)
                    Tensor out = Tensor.allocate(arena, DataType.F32, c.output().shape());
                    out.segment().fill((byte) 0xff);
                    m.forwardInto(c.input(), out, backend);
                    RnnTesting.compare(what + " forwardInto", out, c.output(), ABS, REL);
                }
            }
            WORST.merge(c.fields().get("layer") + (backend == Backend.REFERENCE ? " reference" : " native"), worst, Math::max);
        }
    }

    @Test
    void reprIsPyTorchs() {
        try (LSTM a = new LSTM(3, 4, 2, true, false, 0, true, 2); GRU b = new GRU(3, 4, 2, true, true, 0.5, true);
             LSTM c = new LSTM(3, 4, 1, false, false, 0, false, 0); LSTMCell d = new LSTMCell(3, 4, false); GRUCell e = new GRUCell(3, 4)) {
            assertEquals("LSTM(3, 4, proj_size=2, num_layers=2, bidirectional=True)", a.toString());
            assertEquals("GRU(3, 4, num_layers=2, batch_first=True, dropout=0.5, bidirectional=True)", b.toString());
            assertEquals("LSTM(3, 4, bias=False)", c.toString());
            assertEquals("LSTMCell(3, 4, bias=False)", d.toString());
            assertEquals("GRUCell(3, 4)", e.toString());
        }
    }
}
