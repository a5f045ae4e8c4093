package dev.panamadnn.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.benchmarks.BenchMain.Job;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading dnnl_layer_bench's TSV and choosing which harness spec mirrors which JMH job. */
class CHarnessTest {
    @Test
    void parsesRowsAndSkipsCommentAndSkippedLines() {
        Map<String, CHarness.Row> rows = CHarness.parse(List.of(
                "# oneDNN 3.13.0 (N/A) from /x/libdnnl.so.3; OpenMP threads 2",
                "# spec\tkernel\titerations\tcalls\tmean_us\tbest_us\tworst_us\tcheck",
                "conv2d:64>64:3@56\tbrg_conv_fwd:avx512_core\t3\t1500\t1925.566\t1900.100\t1990.000\tok",
                "",
                "# skipped basicblock:64@56: no single oneDNN primitive (a composite layer)",
                "relu:16\tjit:avx512_core\t3\t3000000\t0.921\t0.900\t0.950\tFAILED"));
        assertEquals(List.of("conv2d:64>64:3@56", "relu:16"), List.copyOf(rows.keySet()));
        CHarness.Row conv = rows.get("conv2d:64>64:3@56");
        assertEquals(new CHarness.Row("conv2d:64>64:3@56", "brg_conv_fwd:avx512_core", 3, 1500, 1925.566, 1900.1, 1990.0, true), conv);
        assertFalse(rows.get("relu:16").checked(), "a FAILED check must be kept as unchecked");
    }

    @Test
    void rejectsALineWithTheWrongFieldCount() {
        var e = assertThrows(IllegalArgumentException.class, () -> CHarness.parse(List.of("conv2d:4@8\tjit\t3\t10\t1.0")));
        assertTrue(e.getMessage().contains("expected 8"), e.getMessage());
    }

    @Test
    void eagerLayerJobsMapToTheirShape() {
        assertEquals("conv2d:64>64:3@56", CHarness.specFor(job(LayerBenchmark.class, "nativeForward", "conv2d:64>64:3@56")));
        assertEquals("linear:2048>1000#64", CHarness.specFor(job(LayerBenchmark.class, "nativeForward", "linear:2048>1000#64")));
    }

    @Test
    void compositesReferencesAndGemmHaveNoCTwin() {
        assertNull(CHarness.specFor(job(LayerBenchmark.class, "nativeForward", "basicblock:64@56")));
        assertNull(CHarness.specFor(job(LayerBenchmark.class, "reference", "conv2d:64>64:3@56")));
        assertNull(CHarness.specFor(job(GemmBenchmark.class, "ffm", "256")));
        assertNull(CHarness.specFor(job(OverheadBenchmark.class, "ffmSdot1", null)));
    }

    @Test
    void bindingJobsMapToBareSpecsAndTheReluPairToRelu16() {
        assertEquals("bare:conv2d:64>64:3@56", CHarness.specFor(job(DnnlBindingBenchmark.class, "jni", "conv2d:64>64:3@56")));
        assertEquals("relu:16", CHarness.specFor(job(OverheadBenchmark.class, "ffmDnnlRelu16", null)));
        assertEquals("relu:16", CHarness.specFor(job(OverheadBenchmark.class, "jniDnnlRelu16", null)));
    }

    @Test
    void specsForListsEachSpecOnceInJobOrder() {
        List<Job> jobs = List.of(job(OverheadBenchmark.class, "ffmDnnlRelu16", null), job(OverheadBenchmark.class, "jniDnnlRelu16", null),
                job(LayerBenchmark.class, "nativeForward", "conv2d:64>64:3@56"), job(LayerBenchmark.class, "reference", "conv2d:64>64:3@56"),
                job(DnnlBindingBenchmark.class, "ffm", "conv2d:64>64:3@56"), job(DnnlBindingBenchmark.class, "jni", "conv2d:64>64:3@56"));
        assertEquals(List.of("relu:16", "conv2d:64>64:3@56", "bare:conv2d:64>64:3@56"), CHarness.specsFor(jobs));
    }

    private static Job job(Class<?> cls, String method, String shape) {
        return new Job(cls.getName() + "." + method, shape);
    }
}
