package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.ChildJvm;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Convolution geometries past oneDNN 3.13's kernel limits (issue 11: nothing a caller does may
 * crash the JVM) run in one child JVM ({@link ConvNativeLimitsChild}), so a crash fails these
 * tests, not the suite. Before the fix the three fuzzer cases and the boundary case died with
 * SIGSEGV inside {@code dnnl_primitive_execute}; now forward runs them on the reference (and
 * {@code implementation()} refuses them naming the layer and the limit), and large strides within
 * the limit still run natively and match the reference.
 */
class ConvNativeLimitsTest {
    private static final Pattern LINE = Pattern.compile("(?m)^CASE (\\S+) (OK|REFUSED|THREW) (.*)$");
    private static final Map<String, String[]> OUTCOMES = new HashMap<>();
    private static String output;

    @BeforeAll
    static void runChild() throws Exception {
        output = ChildJvm.run(List.of("-Dpanamadnn.threads=1", "-XX:-CreateCoredumpOnCrash"), ConvNativeLimitsChild.class, 120);
        Matcher m = LINE.matcher(output);
        while (m.find()) OUTCOMES.put(m.group(1), new String[] {m.group(2), m.group(3)});
        assertTrue(output.contains("DONE"), "the child did not finish; its output:\n" + output);
    }

    private static String[] outcome(String name) {
        String[] o = OUTCOMES.get(name);
        if (o == null) fail(name + ": no outcome (the child crashed before it?); output:\n" + output);
        return o;
    }

    private static void assertRanLikeTheReference(String name) {
        String[] o = outcome(name);
        assertEquals("OK", o[0], name + ": " + o[0] + " " + o[1]);
        // Sums of at most 64 products of values <= 1 (weights ~ 1/sqrt(fan_in)): float rounding only.
        double diff = Double.parseDouble(o[1].substring(0, o[1].indexOf(' ')));
        assertTrue(diff < 1e-5, name + ": native differs from the reference by " + o[1]);
    }

    /** Ran natively; the reference (Java arrays indexed by int) cannot hold the padded extent to compare. */
    private static void assertRanNatively(String name) {
        String[] o = outcome(name);
        assertEquals("OK", o[0], name + ": " + o[0] + " " + o[1]);
    }

    @Test
    void fuzzerCrashesRunOnTheReferenceInstead() {
        assertRanLikeTheReference("fuzz-7-ConvTranspose1d-203");
        assertRanLikeTheReference("fuzz-7-ConvTranspose2d-774");
        assertRanLikeTheReference("fuzz-7-ConvTranspose1d-692");
    }

    @Test
    void windowsWhollyInThePaddingRunOnAnExplicitlyPaddedInput() {
        // Before: SIGSEGV in brgemm_convolution_fwd_t::perform_outwork (scripts/fuzz --long --seed 7).
        assertRanLikeTheReference("fuzz-7-Conv1d-2754");
        assertRanLikeTheReference("fuzz-7-Conv2d-3782");
    }

    @Test
    void theBoundaryCaseAndItsChannelScalingRunOnTheReferenceInstead() {
        assertRanLikeTheReference("boundary-stride-46341");
        assertRanLikeTheReference("two-channels-stride-32768");
        assertRanLikeTheReference("grouped-two-channels-stride-32768");
    }

    @Test
    void implementationRefusesTheBoundaryCaseNamingTheLayerAndTheLimit() {
        String[] o = outcome("boundary-stride-46341");
        assertTrue(o[1].contains("implementation refused: ConvTranspose1d(8, 1, kernel_size=(3,), stride=(46341,))"), o[1]);
        assertTrue(o[1].contains("width stride 46341 with output width 3 and 1 output channels"), o[1]);
        assertTrue(o[1].contains("2147488281") && o[1].contains("2147479552 = 2^31 - 4096"), o[1]);
    }

    @Test
    void largeStridesWithinTheLimitRunNatively() {
        for (String name : new String[] {"stride-1024", "height-stride-1024", "grouped-stride-1024"}) {
            assertTrue(!outcome(name)[1].contains("implementation refused"), name + " should run on oneDNN: " + outcome(name)[1]);
        }
        assertRanLikeTheReference("stride-1024");
        assertRanLikeTheReference("height-stride-1024");
        assertRanLikeTheReference("grouped-stride-1024");
    }

    @Test
    void stridesPastTheSetupLimitRunOnTheReferenceAndImplementationSaysWhy() {
        for (String name : new String[] {"fuzz-41041-ConvTranspose2d-560", "fuzz-41041-ConvTranspose2d-74", "height-stride-65536", "stride-1025"}) {
            assertRanLikeTheReference(name);
            String[] o = outcome(name);
            assertTrue(o[1].contains("implementation refused: ConvTranspose") && o[1].contains("is past 1024")
                    && o[1].contains("runs it on the reference"), name + ": " + o[1]);
        }
    }

    @Test
    void aGroupedDeconvolutionWithAHugeStrideStaysOnOneDnn() {
        assertRanLikeTheReference("grouped-height-stride-65536");
        assertTrue(!outcome("grouped-height-stride-65536")[1].contains("implementation refused"), outcome("grouped-height-stride-65536")[1]);
    }

    @Test
    void forwardConvolutionsWithIntMaxGeometryAreRefusedOrRunNatively() {
        // Windows wholly in a padding of 2^31 - 1: padded explicitly (see the test above), which makes the
        // input wider than oneDNN's 2^31 - 1 per dimension or a Java array: refused, naming the layer.
        for (String name : new String[] {"conv1d-int-max-geometry", "conv2d-int-max-geometry", "conv2d-stride-65536"}) {
            String[] o = outcome(name);
            assertEquals("REFUSED", o[0], name + ": " + o[0] + " " + o[1]);
            assertTrue(o[1].contains("Conv") && (o[1].contains("2^31 - 1") || o[1].contains("2^31 - 9")), name + ": " + o[1]);
        }
    }
}
