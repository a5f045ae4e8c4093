package dev.panamadnn.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.benchmarks.BenchMain.Job;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResNetJobsTest {
    @Test
    void pairsRunInAlternatingOrderRoundByRound() {
        List<Job> jobs = ResNetJobs.jobs(false);
        List<String> r18b1 = jobs.stream().filter(j -> j.shape().startsWith("model=resnet18,batch=1,") || j.shape().equals("model=resnet18,batch=1,round=1")
                || j.shape().equals("model=resnet18,batch=1,round=2")).map(Job::label).toList();
        assertEquals(List.of("ResNetBenchmark.compiled resnet18 b1 fused round 1", "OnnxRuntimeResNetBenchmark.ort resnet18 b1 round 1",
                "OnnxRuntimeResNetBenchmark.ort resnet18 b1 round 2", "ResNetBenchmark.compiled resnet18 b1 fused round 2",
                "ResNetBenchmark.eager resnet18 b1 fused"), r18b1.subList(0, 5));
        long pairs = jobs.stream().filter(j -> j.shape().contains("round=")).count();
        assertEquals(2L * 2 * 2 * ResNetJobs.rounds(false), pairs, "2 models x 2 batches x 2 sides x rounds");
        assertTrue(ResNetJobs.jobs(true).size() > jobs.size());
    }

    @Test
    void roundsOptionSetsThePairCount() {
        try {
            ResNetJobs.roundsOverride = 7;
            assertEquals(7, ResNetJobs.rounds(false));
            assertEquals(7, ResNetJobs.rounds(true));
            assertEquals(2L * 2 * 2 * 7, ResNetJobs.jobs(false).stream().filter(j -> j.shape().contains("round=")).count());
        } finally {
            ResNetJobs.roundsOverride = 0;
        }
        assertEquals(2, ResNetJobs.rounds(false));
        assertEquals(5, ResNetJobs.rounds(true));
        assertTrue(ResNetJobs.jobs(false).stream().anyMatch(j -> j.shape().equals("model=resnet18,batch=1,plan=no-winograd")),
                "the Winograd variant runs in the quick profile");
        assertTrue(ResNetJobs.jobs(true).stream().anyMatch(j -> j.shape().equals("model=resnet18,batch=1,plan=channel-blocked")),
                "the layout variants run in the full profile");
        assertTrue(ResNetJobs.jobs(false).stream().noneMatch(j -> j.shape().contains("plan=channel-blocked") || j.shape().contains("plan=plain-layouts")),
                "and not in the quick one");
    }

    @Test
    void paramsAndLabels() {
        assertEquals(Map.of("model", "resnet50", "batch", "16", "plan", "no-sum"), ResNetJobs.params("model=resnet50,batch=16,plan=no-sum"));
        assertEquals("resnet50 b16 no-sum", ResNetJobs.label("model=resnet50,batch=16,plan=no-sum"));
        assertThrows(IllegalArgumentException.class, () -> ResNetJobs.params("model"));
    }

    @Test
    void medianSkipsMissingRounds() {
        assertEquals(2.0, ResNetJobs.median(new double[] {3, 1, 2}));
        assertEquals(2.5, ResNetJobs.median(new double[] {4, 1, Double.NaN}));
        assertTrue(Double.isNaN(ResNetJobs.median(new double[] {Double.NaN})));
    }
}
