package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same recurrent layer instances called from 16 threads at once (platform or virtual) give
 * bit for bit the single-thread results of separate instances: native and reference, with initial
 * states and padded lengths (several length groups, so several primitives are created concurrently
 * on first use), a 2-layer bidirectional LSTM with projection, GRUs and both cells.
 */
class RnnConcurrencyTest {
    private static final int THREADS = 16, CALLS = 4;
    private static final List<String> CASES = List.of("lstm_2l_bi_proj_bf", "lstm_lengths_bi", "lstm_lengths_2l_bi_bf",
            "gru_lengths_bi", "gru_2l_bi_bf", "lstmcell_state", "grucell_state");

    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void sixteenThreadsGiveTheSingleThreadResults(boolean virtual) throws Exception {
        try (GoldenFile file = GoldenFile.open("rnn.safetensors")) {
            List<GoldenFile.Case> cases = file.cases().stream().filter(c -> CASES.contains(c.name())).toList();
            List<Layer> shared = new ArrayList<>();
            try {
                Backend[] backends = {Backend.AUTO, Backend.REFERENCE};
                float[][][] expected = new float[cases.size() * 2][][];
                for (int i = 0; i < cases.size(); i++) {
                    Layer m = RnnTesting.build(cases.get(i));
                    shared.add(m);
                    RnnTesting.load(m, cases.get(i));
                    for (int b = 0; b < 2; b++) {
                        try (Layer fresh = RnnTesting.build(cases.get(i))) {
                            RnnTesting.load(fresh, cases.get(i));
                            expected[i * 2 + b] = results(fresh, cases.get(i), backends[b]);
                        }
                    }
                }
                ManyThreads.run(virtual, THREADS, thread -> {
                    for (int call = 0; call < CALLS; call++) {
                        for (int j = 0; j < expected.length; j++) {
                            int k = (j + thread + call) % expected.length;   // threads start on different layers and paths
                            float[][] got = results(shared.get(k / 2), cases.get(k / 2), backends[k % 2]);
                            for (int r = 0; r < got.length; r++) {
                                assertArrayEquals(expected[k][r], got[r], "thread " + thread + ", call " + call + ": " + cases.get(k / 2)
                                        + " " + backends[k % 2] + " result " + r);
                            }
                        }
                    }
                });
                assertNotEquals(0f, Arrays.stream(expected).mapToDouble(e -> Math.abs(e[0][0])).sum(), "non-trivial outputs");
            } finally {
                shared.forEach(Layer::close);
            }
        }
    }

    /** Output, h_n and (if any) c_n as arrays. */
    private static float[][] results(Layer m, GoldenFile.Case c, Backend backend) {
        try (RecurrentOutput r = RnnTesting.run(m, c, backend)) {
            return r.cN() == null ? new float[][] {r.output().toFloatArray(), r.hN().toFloatArray()}
                    : new float[][] {r.output().toFloatArray(), r.hN().toFloatArray(), r.cN().toFloatArray()};
        }
    }
}
