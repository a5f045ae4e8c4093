package dev.panamadnn.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.benchmarks.BenchMain.Job;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sequence jobs' shapes, order (alternating rounds) and C twins, and SeqSpec's parsing and FLOP counts. */
class SequenceJobsTest {
    @Test
    void specsParseAndCountFlops() {
        SeqSpec l = SeqSpec.parse("lstm:512>256@128#32");
        assertEquals(List.of(512, 256, 128, 32), List.of(l.in(), l.hidden(), l.steps(), l.batch()));
        assertEquals(2.0 * 128 * 32 * 4 * 256 * (512 + 256), l.flop());
        assertEquals("lstm-512-256", l.modelName());
        SeqSpec e = SeqSpec.parse("encoder:512h8f2048@128#1");
        assertEquals(8 * 128 * 512.0 * 512 + 4 * 128.0 * 128 * 512 + 4 * 128 * 512.0 * 2048, e.flop());
        assertEquals("encoder-512h8f2048", e.modelName());
        assertEquals("MHA E=512 h=8 T=128 N=8", SeqSpec.parse("mha:512h8@128#8").label());
        for (String bad : List.of("lstm:8h2@4", "mha:8>4@3", "encoder:8h2@4", "mha:8h2f4@3", "gru:8>4", "rnn:8@3")) {
            assertThrows(IllegalArgumentException.class, () -> SeqSpec.parse(bad), bad);
        }
    }

    @Test
    void roundsAlternateAndOnlyTheCompiledPlanHasACTwin() {
        List<Job> jobs = SequenceJobs.jobs(false);
        String ours = SequenceBenchmark.class.getName(), ort = OnnxRuntimeSequenceBenchmark.class.getName();
        assertEquals(new Job(ours + ".compiled", "lstm:512>512@128#1|r1"), jobs.get(0));
        assertEquals(new Job(ort + ".ort", "lstm:512>512@128#1|r1"), jobs.get(1));
        assertEquals(new Job(ort + ".ort", "lstm:512>512@128#1|r2"), jobs.get(2));
        assertEquals(new Job(ours + ".compiled", "lstm:512>512@128#1|r2"), jobs.get(3));
        assertEquals("lstm:512>512@128#1", SequenceJobs.cSpecFor(jobs.get(0)));
        assertNull(SequenceJobs.cSpecFor(jobs.get(1)));
        assertTrue(jobs.contains(new Job(ours + ".reference", "mha:512h8@128#1")));
        assertTrue(!jobs.contains(new Job(ours + ".reference", "lstm:512>512@128#32")), "no reference at batch 32");
        assertTrue(jobs.stream().allMatch(SequenceJobs::owns));
        assertEquals("LSTM 512->512 T=128 N=1 round 2", SequenceJobs.label("lstm:512>512@128#1|r2"));
    }

    @Test
    void noSequenceRunsNoSection() {
        StringBuilder sb = new StringBuilder();
        SequenceJobs.report(sb, false, Map.of(), Map.of());
        assertEquals("", sb.toString());
    }
}
