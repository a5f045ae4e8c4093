package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * The pure geometry behind three lowerings (each also checked end to end against PyTorch by onnx/'s
 * OnnxBlockModelsTest): the binary op's merged view, the convolution's used kernel taps and its trimmed weights.
 */
class LoweringGeometryTest {

    @Test
    void binaryOperandsMergeRunsOfFullAndBroadcastDims() {
        // a LayerNorm's x - mean over channels-last [1, 56, 56, 96]: rows of 96 against one value per row
        assertArrayEquals(new long[][] {{3136, 96}, {3136, 1}}, LowerBinary.merged(new long[] {1, 56, 56, 96}, new long[] {1, 56, 56, 1}));
        // per-channel scale of [N, C, H, W]: batch broadcast, channels full, spatial broadcast
        assertArrayEquals(new long[][] {{4, 8, 30}, {1, 8, 1}}, LowerBinary.merged(new long[] {4, 8, 5, 6}, new long[] {1, 8, 1, 1}));
        // a scalar against a tensor: one run, kept 2-D
        assertArrayEquals(new long[][] {{1, 120}, {1, 1}}, LowerBinary.merged(new long[] {2, 3, 4, 5}, new long[] {1, 1, 1, 1}));
        // nothing to merge: alternating full and broadcast dims
        assertNull(LowerBinary.merged(new long[] {2, 3, 4}, new long[] {2, 1, 4}));
    }

    @Test
    void usedTapsAreThoseReachingTheInputForSomeOutput() {
        // DeepLabV3's ASPP: 3x3 dilated 24, padding 24, over 14 -> 14: only the centre tap reads the input
        assertArrayEquals(new long[] {1, 1}, LowerConv.usedTaps(14, 14, 3, 1, 24, 24));
        // padding wider than the kernel: every tap reads the input for some output
        assertArrayEquals(new long[] {0, 2}, LowerConv.usedTaps(14, 20, 3, 1, 1, 4));
        // strided: tap 0 reaches position 0 only from the last output (6 * 2 - 12 = 0)
        assertArrayEquals(new long[] {0, 2}, LowerConv.usedTaps(14, 7, 3, 2, 12, 12));
        // a 5-tap kernel dilated 10 over 4 with padding 20 -> 4 outputs: tap 2 only
        assertArrayEquals(new long[] {2, 2}, LowerConv.usedTaps(4, 4, 5, 1, 10, 20));
    }

    @Test
    void trimmedWeightsKeepTheUsedRowsAndColumns() {
        float[] w = new float[2 * 1 * 3 * 3];
        for (int i = 0; i < w.length; i++) w[i] = i;
        assertArrayEquals(new float[] {4, 13}, LowerConv.trim(w, new long[] {2, 1, 3, 3}, new long[][] {{1, 1}, {1, 1}}));
        assertArrayEquals(new float[] {1, 2, 4, 5, 10, 11, 13, 14}, LowerConv.trim(w, new long[] {2, 1, 3, 3}, new long[][] {{0, 1}, {1, 2}}));
    }
}
