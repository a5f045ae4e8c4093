package dev.panamadnn.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The goal and ratio cells of results.md. */
class ReportTest {
    private static CHarness.Row c(double meanUs, boolean checked) {
        return new CHarness.Row("conv2d:64>64:3@56", "brg_conv_fwd:avx512_core", 3, 100, meanUs, meanUs, meanUs, checked);
    }

    @Test
    void goalIsMetAtExactly97Percent() {
        assertEquals("✔", Report.goal(100, c(97, true)));
        assertEquals("✔", Report.goal(90, c(100, true)), "faster than C meets the goal");
    }

    @Test
    void goalIsMissedBelow97Percent() {
        assertEquals("✘", Report.goal(100, c(96.9, true)));
    }

    @Test
    void shapesUnder50MicrosecondsInCAreOutsideTheGoal() {
        assertEquals("n/a (C < 50 µs)", Report.goal(1000, c(49.9, true)));
        assertEquals("✘", Report.goal(1000, c(50, true)), "50 µs itself is inside the goal");
    }

    @Test
    void aFailedHarnessCheckOrAMissingFigureIsNeverAPass() {
        assertEquals("✘ C check failed", Report.goal(100, c(1000, false)));
        assertEquals("–", Report.goal(100, null));
        assertEquals("–", Report.goal(Double.NaN, c(1000, true)));
    }

    @Test
    void ratioIsOtherTimeOverOurTime() {
        assertEquals("1.25", Report.ratio(125, 100));
        assertEquals("0.80", Report.ratio(80, 100));
        assertEquals("–", Report.ratio(Double.NaN, 100));
        assertEquals("–", Report.ratio(100, Double.NaN));
    }

    @Test
    void sameBuildComparesTheLibdnnlHashesOfEveryFork() {
        assertEquals("", Report.sameBuild(Map.of()));
        assertTrue(Report.sameBuild(Map.of(
                "FFM (ours)\tlibdnnl.so.3", "/a/libdnnl.so.3 (sha256 abc1)",
                "JNI (JavaCPP dnnl)\tlibdnnl.so.3", "/b/libdnnl.so.3 (sha256 abc1)",
                "JNI (JavaCPP dnnl)\tlibgomp.so.1", "/b/libgomp.so.1 (sha256 ffff)")).startsWith("libdnnl.so.3: one build"));
        assertTrue(Report.sameBuild(Map.of(
                "FFM (ours)\tlibdnnl.so.3", "/a/libdnnl.so.3 (sha256 abc1)",
                "JNI (JavaCPP dnnl)\tlibdnnl.so.3", "/b/libdnnl.so.3 (sha256 abc2)")).contains("DIFFERENT"));
    }
}
