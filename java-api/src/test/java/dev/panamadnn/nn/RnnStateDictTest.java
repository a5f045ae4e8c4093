package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.SafeTensorsException;
import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A state_dict saved from PyTorch ({@code rnn_state_dict.safetensors}, written by
 * scripts/goldens/generate_rnn.py from the module of the golden case "lstm_2l_bi_proj_bf") loads by
 * name through {@link SafeTensors#load} and reproduces PyTorch's output; the native path's cached
 * weight translation follows later writes only after {@code weightsChanged()}.
 */
class RnnStateDictTest {
    private static final double ABS = 1e-5, REL = 1e-4;

    private static Path stateDict() throws Exception {
        return Path.of(RnnStateDictTest.class.getResource("/goldens/rnn_state_dict.safetensors").toURI());
    }

    @Test
    void torchStateDictLoadsByNameAndMatchesPyTorch() throws Exception {
        try (GoldenFile file = GoldenFile.open("rnn.safetensors");
             LSTM lstm = new LSTM(6, 8, 2, true, true, 0, true, 3)) {
            GoldenFile.Case c = file.cases().stream().filter(k -> k.name().equals("lstm_2l_bi_proj_bf")).findFirst().orElseThrow();
            SafeTensors.load(lstm, stateDict());
            for (Backend b : new Backend[] {Backend.AUTO, Backend.REFERENCE}) {
                try (RecurrentOutput r = RnnTesting.run(lstm, c, b)) {
                    RnnTesting.compare("state_dict " + b + " output", r.output(), c.output(), ABS, REL);
                    RnnTesting.compare("state_dict " + b + " h_n", r.hN(), c.extras().get("h_n"), ABS, REL);
                    RnnTesting.compare("state_dict " + b + " c_n", r.cN(), c.extras().get("c_n"), ABS, REL);
                }
            }
        }
    }

    @Test
    void aStateDictOfAnotherShapeIsRefusedByName() throws Exception {
        try (LSTM noProj = new LSTM(6, 8, 2, true, true, 0, true, 0)) {
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(noProj, stateDict()));
            assertTrue(e.getMessage().contains("weight_hr_l0"), e.getMessage());
            assertTrue(e.getMessage().contains("weight_hh_l0: shape expected [32, 8], found [32, 3]"), e.getMessage());
        }
    }

    @Test
    void nativePathSeesWrittenWeightsAfterWeightsChanged() throws Exception {
        try (GoldenFile file = GoldenFile.open("rnn.safetensors"); GRU gru = new GRU(5, 7)) {
            GoldenFile.Case c = file.cases().stream().filter(k -> k.name().equals("gru_basic")).findFirst().orElseThrow();
            try (Tensor before = gru.forward(c.input())) {   // translates the random initial weights
                RnnTesting.load(gru, c);
                try (Tensor stale = gru.forward(c.input()); Tensor reference = gru.forwardReference(c.input())) {
                    RnnTesting.compare("reference reads the parameters at each call", reference, c.output(), ABS, REL);
                    assertTrue(java.util.Arrays.equals(before.toFloatArray(), stale.toFloatArray()),
                            "without weightsChanged the native path keeps its translation (documented)");
                }
                gru.weightsChanged();
                try (Tensor y = gru.forward(c.input())) {
                    RnnTesting.compare("after weightsChanged", y, c.output(), ABS, REL);
                }
            }
            MemorySegment w = gru.parameters().get("bias_hh_l0").segment();
            w.setAtIndex(ValueLayout.JAVA_FLOAT, 14, w.getAtIndex(ValueLayout.JAVA_FLOAT, 14) + 1f);   // b_hn of unit 0
            gru.weightsChanged();
            try (Tensor y = gru.forward(c.input()); Tensor r = gru.forwardReference(c.input())) {
                RnnTesting.compare("b_hn changed: native vs reference", y, r, ABS, REL);
                assertThrows(AssertionError.class, () -> RnnTesting.compare("b_hn changed: vs PyTorch's original", y, c.output(), ABS, REL));
            }
        }
    }

    @Test
    void aSequentialWithAGruCompilesToANativeGruNodeAndMatchesEager() throws Exception {
        try (GoldenFile file = GoldenFile.open("rnn.safetensors"); GRU gru = new GRU(5, 7); Sequential net = new Sequential(gru, new Tanh())) {
            GoldenFile.Case c = file.cases().stream().filter(k -> k.name().equals("gru_basic")).findFirst().orElseThrow();
            RnnTesting.load(gru, c);
            try (dev.panamadnn.compile.CompiledModel plan = dev.panamadnn.compile.CompiledModel.compile(net, c.input().shape());
                 Tensor compiled = plan.run(c.input()); Tensor eager = net.forward(c.input())) {
                // the plan's GRU primitive reads its weights in the layout oneDNN picks (another kernel than eager's plain
                // ldigo one): equal within the goldens' tolerance, not bit for bit
                RnnTesting.compare("compiled vs eager", compiled, eager, ABS, REL);
                assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith("gru ")), plan.describe());
            }
        }
    }
}
