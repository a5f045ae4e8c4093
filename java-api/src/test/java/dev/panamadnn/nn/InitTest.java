package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InitTest {
    /** The chunked fill draws exactly what one draw per element in order gives, across chunk boundaries, so seeded layers keep their values. */
    @Test
    void uniformMatchesOneDrawPerElementInOrder() {
        for (long n : new long[] {1, 7, (1 << 14) - 1, 1 << 14, 2 * (1 << 14) + 5}) {
            try (Tensor t = Tensor.zeros(n)) {
                Init.uniform(t, new SplittableRandom(0x5eed), 0.25);
                SplittableRandom expected = new SplittableRandom(0x5eed);
                for (long i = 0; i < n; i++) {
                    float want = (float) expected.nextDouble(-0.25, 0.25);
                    assertEquals(want, t.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i), "element " + i + " of " + n);
                }
            }
        }
    }
}
