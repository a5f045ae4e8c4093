package dev.panamadnn.internal.lowering;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link ConvSpec} and {@link ConvLowering} against PyTorch's output shapes, and the lowered
 * geometry against oneDNN's own size formulas (convolution {@code (in + padL + padR - reach) / stride + 1},
 * deconvolution {@code (in - 1) * stride + reach - padL - padR}, {@code reach = (kernel - 1) * (dilate + 1) + 1}):
 * if both hold, oneDNN computes PyTorch's output. Pure arithmetic, no native library.
 *
 * <p>Expected shapes from PyTorch 1.13 ({@code /usr/bin/python3}):
 * <pre>
 * import torch, torch.nn as nn; x = lambda *s: torch.zeros(*s)
 * nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 3), groups=2)(x(1, 4, 9, 8)).shape        # (1, 6, 4, 5); weight (6, 2, 3, 2)
 * nn.Conv1d(3, 5, 5, stride=3, padding=2, dilation=2)(x(2, 3, 17)).shape                                          # (2, 5, 5);    weight (5, 3, 5)
 * nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)(x(1, 4, 5, 7)).shape               # (1, 6, 10, 14); weight (4, 3, 3, 3)
 * nn.ConvTranspose2d(2, 3, 2, stride=1, output_padding=2, dilation=3)(x(1, 2, 4, 5)).shape                        # (1, 3, 9, 10)
 * nn.ConvTranspose1d(3, 2, 3, stride=3, padding=1, output_padding=2)(x(1, 3, 6)).shape                            # (1, 2, 18)
 * nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1, groups=2, dilation=2)(x(1, 4, 7)).shape                        # (1, 6, 17);   weight (4, 3, 4)
 * </pre>
 */
class ConvLoweringTest {
    private static final Object WHO = "Conv";

    private static long[] l(long... v) {
        return v;
    }

    /** oneDNN's output size for the lowered geometry, per axis (what its primitive descriptor checks the dst against). */
    private static long[] oneDnnOutput(ConvLowering c) {
        long[] out = new long[c.axes().size()];
        for (int i = 0; i < out.length; i++) {
            ConvLowering.Axis a = c.axes().get(i);
            long reach = (a.kernel() - 1) * (a.dilate() + 1) + 1;
            out[i] = c.spec().transposed() ? (a.in() - 1) * a.stride() + reach - a.padLeft() - a.padRight()
                    : Math.floorDiv(a.in() + a.padLeft() + a.padRight() - reach, a.stride()) + 1;
        }
        return out;
    }

    private static void assertOneDnnAgrees(ConvLowering c) {
        assertArrayEquals(c.computedOutputSize(), oneDnnOutput(c), "oneDNN's size formula on the lowered geometry " + c);
        for (ConvLowering.Axis a : c.axes()) assertTrue(a.padRight() > -a.stride(), "oneDNN needs padRight > -stride: " + a);
    }

    @Test
    void groupedDilatedStridedConv2d() {
        ConvSpec spec = ConvSpec.of(false, 4, 6, 2, l(3, 2), l(2, 1), l(2, 3), l(1, 0), l(1, 0), null);
        ConvLowering c = spec.lower(WHO, l(9, 8));
        assertArrayEquals(l(4, 5), c.outputSize(), "PyTorch (1, 6, 4, 5)");
        assertArrayEquals(l(2, 3, 2, 3, 2), c.weightDims(), "oneDNN goihw: [g, oc/g, ic/g, kh, kw]");
        assertArrayEquals(l(6, 2, 3, 2), spec.pytorchWeightShape(), "PyTorch weight (6, 2, 3, 2)");
        assertArrayEquals(l(1, 2), c.dilates(), "0-based dilation");
        assertArrayEquals(l(2, 1), c.strides());
        assertArrayEquals(l(1, 0), c.padLeft());
        assertArrayEquals(l(1, 0), c.padRight());
        assertArrayEquals(l(0, 0), c.tail());
        assertTrue(spec.grouped());
        assertOneDnnAgrees(c);
    }

    @Test
    void ungroupedConv1dAndItsLiftTo2d() {
        ConvSpec spec = ConvSpec.of(false, 3, 5, 1, l(5), l(3), l(2), l(2), l(2), null);
        ConvLowering c = spec.lower(WHO, l(17));
        assertArrayEquals(l(5), c.outputSize(), "PyTorch (2, 5, 5)");
        assertArrayEquals(l(5, 3, 5), c.weightDims(), "oneDNN oiw, no groups dimension");
        assertArrayEquals(l(5, 3, 5), spec.pytorchWeightShape());
        assertArrayEquals(l(1), c.dilates());
        assertFalse(spec.grouped());
        ConvLowering lifted = spec.lifted2d().lower(WHO, l(1, 17));
        assertArrayEquals(l(1, 5), lifted.outputSize(), "height 1 stays 1");
        assertArrayEquals(l(5, 3, 1, 5), lifted.weightDims());
        assertArrayEquals(l(0, 1), lifted.dilates());
        assertArrayEquals(l(0, 2), lifted.padLeft());
        assertOneDnnAgrees(lifted);
        assertEquals(spec.lifted2d(), spec.lifted2d().lifted2d(), "a 2-D spec lifts to itself");
    }

    @Test
    void groupedTransposedWeightsAreOneDnnsGroupedDimsInInputMajorOrder() {
        ConvSpec spec = ConvSpec.of(true, 4, 6, 2, l(3, 3), l(2, 2), l(1, 1), l(1, 1), l(1, 1), l(1, 1));
        ConvLowering c = spec.lower(WHO, l(5, 7));
        assertArrayEquals(l(10, 14), c.outputSize(), "PyTorch (1, 6, 10, 14)");
        // PyTorch stores [in, out/g, kh, kw] = [g * ic/g, oc/g, ...]: oneDNN's logical [g, oc/g, ic/g, ...] read g-i-o ("acbde").
        assertArrayEquals(l(4, 3, 3, 3), spec.pytorchWeightShape(), "PyTorch weight (4, 3, 3, 3)");
        assertArrayEquals(l(2, 3, 2, 3, 3), c.weightDims());
        assertArrayEquals(l(0, 0), c.padRight(), "output_padding 1 comes off the right padding 1");
        assertArrayEquals(l(0, 0), c.tail());
        assertOneDnnAgrees(c);
    }

    @Test
    void outputPaddingPastMinusStrideBecomesABiasOnlyTail() {
        // padding 0 - output_padding 2 = -2 <= -stride: oneDNN refuses it, so it computes 7 x 8 and the layer appends 2 x 2 of bias.
        ConvSpec spec = ConvSpec.of(true, 2, 3, 1, l(2, 2), l(1, 1), l(3, 3), l(0, 0), l(0, 0), l(2, 2));
        ConvLowering c = spec.lower(WHO, l(4, 5));
        assertArrayEquals(l(9, 10), c.outputSize(), "PyTorch (1, 3, 9, 10)");
        assertArrayEquals(l(2, 2), c.tail());
        assertArrayEquals(l(7, 8), c.computedOutputSize());
        assertArrayEquals(l(0, 0), c.padRight());
        assertArrayEquals(l(2, 2), c.dilates());
        assertArrayEquals(l(3, 2, 2, 2), c.weightDims(), "ungrouped deconvolution weights [oc, ic, k, k]");
        assertOneDnnAgrees(c);
    }

    @Test
    void outputPaddingWithinTheStrideMakesANegativeRightPadding() {
        ConvSpec spec = ConvSpec.of(true, 3, 2, 1, l(3), l(3), l(1), l(1), l(1), l(2));
        ConvLowering c = spec.lower(WHO, l(6));
        assertArrayEquals(l(18), c.outputSize(), "PyTorch (1, 2, 18)");
        assertArrayEquals(l(-1), c.padRight(), "1 - 2: oneDNN accepts down to -stride + 1");
        assertArrayEquals(l(0), c.tail());
        assertOneDnnAgrees(c);
    }

    @Test
    void groupedDilatedTransposed1d() {
        ConvSpec spec = ConvSpec.of(true, 4, 6, 2, l(4), l(2), l(2), l(1), l(1), l(0));
        ConvLowering c = spec.lower(WHO, l(7));
        assertArrayEquals(l(17), c.outputSize(), "PyTorch (1, 6, 17)");
        assertArrayEquals(l(4, 3, 4), spec.pytorchWeightShape(), "PyTorch weight (4, 3, 4)");
        assertArrayEquals(l(2, 3, 2, 4), c.weightDims());
        assertArrayEquals(l(1), c.dilates());
        assertOneDnnAgrees(c);
    }

    /**
     * Every Conv1d of one channel for in 1..6, kernel 1..3, stride 1..2, dilation 1..2, padding 0..2
     * (both sides), in that nesting order; PyTorch's output length in base 36, '-' where it refuses:
     * <pre>
     * import torch, torch.nn.functional as F; b36 = lambda n: "0123456789abcdefghijklmnopqrstuvwxyz"[n]; c = []
     * for i in range(1, 7):
     *  for k in range(1, 4):
     *   for s in (1, 2):
     *    for d in (1, 2):
     *     for p in range(0, 3):
     *      try: c.append(b36(F.conv1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), None, s, p, d).shape[-1]))
     *      except RuntimeError: c.append("-")
     * print("".join(c))
     * </pre>
     */
    private static final String CONV1D = "135135123123-24-13-12-12-13--1-12--1246246123123135-24123-12-24--2-12--1357357234234246135"
            + "123123135-13123-12468468234234357246234123246-24123-1257957934534546835723423435713523412368a68a345345579468345234468246234123";

    @Test
    void conv1dOutputSizesMatchPyTorchOnAGrid() {
        int at = 0;
        for (long i = 1; i <= 6; i++)
            for (long k = 1; k <= 3; k++)
                for (long s = 1; s <= 2; s++)
                    for (long d = 1; d <= 2; d++)
                        for (long p = 0; p <= 2; p++) {
                            char want = CONV1D.charAt(at++);
                            ConvSpec spec = ConvSpec.of(false, 1, 1, 1, l(k), l(s), l(d), l(p), l(p), null);
                            String where = "in " + i + ", kernel " + k + ", stride " + s + ", dilation " + d + ", padding " + p;
                            long out = spec.outputSize(WHO, l(i))[0];
                            if (want == '-') {
                                assertTrue(out <= 0, where + ": PyTorch refuses, got " + out);
                                long[] size = l(i);
                                assertThrows(IllegalArgumentException.class, () -> spec.lower(WHO, size), where);
                            } else {
                                assertEquals(Character.digit(want, 36), out, where);
                                assertOneDnnAgrees(spec.lower(WHO, l(i)));
                            }
                        }
        assertEquals(CONV1D.length(), at);
    }

    /**
     * Every ConvTranspose1d of one channel for in 1..4, kernel 1..3, stride 1..3, dilation 1..2,
     * padding 0..1, output_padding below max(stride, dilation), in that nesting order; PyTorch's
     * output length in base 36, '-' where it refuses:
     * <pre>
     * t = []
     * for i in range(1, 5):
     *  for k in range(1, 4):
     *   for s in (1, 2, 3):
     *    for d in (1, 2):
     *     for p in (0, 1):
     *      for op in range(0, max(s, d)):
     *       try: t.append(b36(F.conv_transpose1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), None, s, p, op, 1, d).shape[-1]))
     *       except RuntimeError: t.append("-")
     * print("".join(t))
     * </pre>
     */
    private static final String TRANSPOSED1D = "1-12--12--12--123--1123--12-341223-13412234-12345123315634341256343451235673452-23-1341234"
            + "12456234456234314523452356345673456784564267455634785667845689a678313412563456347895677895674256346745785689a6789ab789537"
            + "85678569a789ab789bcd9ab42452378567856abc89aabc89a53674589679a78bcd9abcdeabc6489679a78bc9acdeabcefgcde";

    @Test
    void transposed1dOutputSizesAndTailsMatchPyTorchOnAGrid() {
        int at = 0, tails = 0;
        for (long i = 1; i <= 4; i++)
            for (long k = 1; k <= 3; k++)
                for (long s = 1; s <= 3; s++)
                    for (long d = 1; d <= 2; d++)
                        for (long p = 0; p <= 1; p++)
                            for (long op = 0; op < Math.max(s, d); op++) {
                                char want = TRANSPOSED1D.charAt(at++);
                                ConvSpec spec = ConvSpec.of(true, 1, 1, 1, l(k), l(s), l(d), l(p), l(p), l(op));
                                String where = "in " + i + ", kernel " + k + ", stride " + s + ", dilation " + d + ", padding " + p
                                        + ", output_padding " + op;
                                long out = spec.outputSize(WHO, l(i))[0];
                                if (want == '-') {
                                    assertTrue(out <= 0, where + ": PyTorch refuses, got " + out);
                                } else {
                                    assertEquals(Character.digit(want, 36), out, where);
                                    ConvLowering c = spec.lower(WHO, l(i));
                                    assertOneDnnAgrees(c);
                                    if (c.tail()[0] != 0) tails++;
                                }
                            }
        assertEquals(TRANSPOSED1D.length(), at);
        assertTrue(tails > 0, "the grid reaches output padding past -stride");
    }

    @Test
    void windowsWhollyInThePadding() {
        // Conv1d(4, 1, kernel 1, stride 3, padding (2, 1)) on length 1: the first window is all padding.
        assertTrue(ConvSpec.of(false, 4, 1, 1, l(1), l(3), l(1), l(2), l(1), null).mayHavePaddingOnlyWindows(l(1)));
        // Taps spaced wider than the input: dilation 5 on 4, any padding.
        assertTrue(new ConvSpec.Axis(2, 1, 5, 1, 0, 0).mayHavePaddingOnlyWindows(4));
        // The everyday 3x3, padding 1.
        assertFalse(ConvSpec.of(false, 8, 8, 1, l(3, 3), l(1, 1), l(1, 1), l(1, 1), l(1, 1), null).mayHavePaddingOnlyWindows(l(5, 5)));
    }

    @Test
    void anEmptyOutputOrAnOverflowingTransposedSizeIsRefusedNamingTheCaller() {
        ConvSpec tooBig = ConvSpec.of(false, 1, 1, 1, l(5), l(1), l(1), l(0), l(0), null);
        var e = assertThrows(IllegalArgumentException.class, () -> tooBig.lower("Conv1d(1, 1, kernel_size=(5,))", l(3)));
        assertTrue(e.getMessage().startsWith("Conv1d(1, 1, kernel_size=(5,)): output size -1 <= 0"), e.getMessage());
        ConvSpec huge = ConvSpec.of(true, 1, 1, 1, l(3), l(1L << 30), l(1), l(0), l(0), l(0));
        e = assertThrows(IllegalArgumentException.class, () -> huge.outputSize("Up", l(1L << 40)));
        assertTrue(e.getMessage().contains("Up: (in - 1) * stride on a spatial dim"), e.getMessage());
    }

    @Test
    void inconsistentSpecsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ConvSpec.of(false, 3, 6, 2, l(3), l(1), l(1), l(0), l(0), null),
                "in_channels 3 not divisible by groups 2");
        assertThrows(IllegalArgumentException.class, () -> ConvSpec.of(false, 2, 2, 1, l(3), l(1), l(1), l(0), l(0), l(1)),
                "output_padding on a convolution");
        assertThrows(IllegalArgumentException.class, () -> ConvSpec.of(false, 2, 2, 1, l(3, 3), l(1), l(1), l(0), l(0), null),
                "per-axis arrays of different lengths");
        assertThrows(IllegalArgumentException.class, () -> new ConvSpec.Axis(3, 0, 1, 0, 0, 0), "stride 0");
    }

    @Test
    void loweringsAreValuesUsableAsCacheKeys() {
        ConvSpec a = ConvSpec.of(false, 4, 6, 2, l(3, 2), l(2, 1), l(2, 3), l(1, 0), l(1, 0), null);
        ConvSpec b = ConvSpec.of(false, 4, 6, 2, l(3, 2), l(2, 1), l(2, 3), l(1, 0), l(1, 0), null);
        assertEquals(a.lower(WHO, l(9, 8)), b.lower(WHO, l(9, 8)));
        assertEquals(a.lower(WHO, l(9, 8)).hashCode(), b.lower(WHO, l(9, 8)).hashCode());
        assertFalse(a.lower(WHO, l(9, 8)).equals(a.lower(WHO, l(9, 9))));
        long[] dims = a.weightDims();
        dims[0] = 99;
        assertEquals(2, a.weightDims()[0], "accessors hand out copies");
    }
}
