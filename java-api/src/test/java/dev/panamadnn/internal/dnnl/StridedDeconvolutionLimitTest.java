package dev.panamadnn.internal.dnnl;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The arithmetic of {@link ConvOps#checkStridedDeconvolution}: oneDNN 3.13's strided deconvolution
 * buffer {@code ceil(width / stride) * stride * stride * channels} must stay at most 2^31 - 4096.
 * The boundary values are the measured ones (docs/convolution.md, "Limits"); nothing here calls
 * oneDNN.
 */
class StridedDeconvolutionLimitTest {
    private static void accepted(long width, long stride, long channels) {
        assertDoesNotThrow(() -> ConvOps.checkStridedDeconvolution("L", width, stride, channels),
                "width " + width + ", stride " + stride + ", channels " + channels);
    }

    private static void refused(long width, long stride, long channels) {
        var e = assertThrows(IllegalArgumentException.class, () -> ConvOps.checkStridedDeconvolution("L", width, stride, channels),
                "width " + width + ", stride " + stride + ", channels " + channels);
        assertTrue(e.getMessage().startsWith("L: width stride " + stride), e.getMessage());
        assertTrue(e.getMessage().contains("2147479552 = 2^31 - 4096"), e.getMessage());
    }

    @Test
    void theMeasuredBoundary() {
        // Output width 3, one channel: 46340^2 = 2147395600 booked 8.6 GB and ran; 46341^2 wrapped and crashed.
        accepted(3, 46340, 1);
        refused(3, 46341, 1);
        // Channels multiply the buffer: two channels overflow at 2 * 32768^2 = 2^31.
        accepted(3, 32767, 2);
        refused(3, 32768, 2);
        // The fuzzer's cases.
        refused(1572866, 65536, 1);
        refused(458755, 65536, 1);
        refused(524286, 65536, 2);
    }

    @Test
    void theBufferIsRoundedUpToFourKibibytesInTheInt() {
        // rnd_up(x, 4096) in int overflows for x in (2^31 - 4096, 2^31 - 1]: 2^31 - 4096 itself is the largest accepted.
        accepted(1, 1L << 12, (1L << 7) - 1);          // (2^12)^2 * (2^7 - 1) = 2^31 - 2^24
        accepted(3, 2, (Integer.MAX_VALUE - 4095L) / 8);   // 4 * 2 * c <= 2^31 - 4096
        refused(3, 2, (Integer.MAX_VALUE - 4095L) / 8 + 1);
    }

    @Test
    void anOutputWidthThatIsAMultipleOfTheStrideBooksNoBuffer() {
        // has_uneven_iw false: the buffer is not booked, so no size can overflow it.
        accepted(65536L * 24, 65536, 1);
        accepted(Integer.MAX_VALUE, Integer.MAX_VALUE, 1L << 20);
    }

    @Test
    void hugeValuesAreComparedWithoutWrappingALong() {
        refused(3, Integer.MAX_VALUE, 1);
        refused((1L << 47) + 1, 1L << 20, 1L << 20);
        refused(1L << 40, 3, Integer.MAX_VALUE);
        accepted(1, 1, 1);
        accepted(1L << 30, 1, 1);   // stride 1: width is always a multiple
    }
}
