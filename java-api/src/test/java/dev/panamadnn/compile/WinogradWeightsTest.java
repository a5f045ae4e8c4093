package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WinogradWeightsTest {
    private static final double[][] G = {
            {1 / 4.0, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
            {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};

    /**
     * The weight transform is {@code G g G^T} per channel pair, laid out {@code [36][c][k]}: checked
     * bit for bit against the textbook loops (same double arithmetic, same order of the sums), on a
     * non-square shape so that a swapped channel index would show.
     */
    @Test
    void transformIsGgGTransposedPerChannelPairBitForBit() {
        int k = 48, c = 32;
        float[] w = new float[9 * k * c];
        var random = new SplittableRandom(7);
        for (int j = 0; j < w.length; j++) w[j] = (float) random.nextDouble(-1, 1);
        float[] u = Winograd.transformWeights(w, k, c);
        assertEquals(36 * k * c, u.length);
        for (int o = 0; o < k; o++) {
            for (int i = 0; i < c; i++) {
                int base = (o * c + i) * 9;
                double[][] gg = new double[6][3];
                for (int a = 0; a < 6; a++)
                    for (int col = 0; col < 3; col++)
                        gg[a][col] = G[a][0] * w[base + col] + G[a][1] * w[base + 3 + col] + G[a][2] * w[base + 6 + col];
                for (int a = 0; a < 6; a++) {
                    for (int b = 0; b < 6; b++) {
                        float expected = (float) (gg[a][0] * G[b][0] + gg[a][1] * G[b][1] + gg[a][2] * G[b][2]);
                        assertEquals(expected, u[((a * 6 + b) * c + i) * k + o], "point " + a + "," + b + " of output " + o + ", input " + i);
                    }
                }
            }
        }
    }
}
