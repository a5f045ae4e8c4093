package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * select_winograd's channel threshold: by default ({@link Winograd#MIN_CHANNELS}, 64) a 3x3 convolution with
 * fewer input or output channels runs oneDNN's direct kernel; {@code panamadnn.winograd.minChannels} lowers it
 * (this module's other tests run with 16). The property is read per compile, so this test sets it around its own.
 */
class SelectWinogradChannelsTest {
    private static boolean winograd(int in, int out, String minChannels) {
        String before = System.getProperty("panamadnn.winograd.minChannels");
        if (minChannels == null) System.clearProperty("panamadnn.winograd.minChannels");
        else System.setProperty("panamadnn.winograd.minChannels", minChannels);
        try (Sequential m = new Sequential(new ReLU(), Conv2d.builder(in, out, 3).padding(1).build(), new ReLU());
             CompiledModel p = CompiledModel.compile(m, CompileOptions.defaults(), 2, in, 14, 14)) {
            return p.rulesFired().stream().anyMatch(r -> r.startsWith("select_winograd:"));
        } finally {
            if (before == null) System.clearProperty("panamadnn.winograd.minChannels");
            else System.setProperty("panamadnn.winograd.minChannels", before);
        }
    }

    @Test
    void narrowConvolutionsRunDirectByDefault() {
        Assumptions.assumeTrue(Winograd.available(), "needs --add-modules jdk.incubator.vector");
        assertEquals(64, Winograd.MIN_CHANNELS);
        assertTrue(winograd(64, 64, null), "64 -> 64: Winograd");
        assertFalse(winograd(32, 64, null), "32 in: direct");
        assertFalse(winograd(64, 32, null), "32 out: direct");
        assertFalse(winograd(16, 16, null), "16 -> 16: direct");
        assertTrue(winograd(16, 16, "16"), "with the property at 16: Winograd");
        assertTrue(winograd(32, 64, "32"), "with the property at 32: Winograd");
    }
}
