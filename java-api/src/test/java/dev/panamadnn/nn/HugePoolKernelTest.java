package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.ChildJvm;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.internal.lowering.PoolLowering;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A max pooling whose kernel is far longer than any window can use (kernel 2^31 - 1 with ceil_mode and a stride as large:
 * PyTorch accepts it and answers at once, clipping each window to the input) answers at once here too, eagerly,
 * through the reference and compiled, with PyTorch's values. Before, oneDNN's pooling and the reference walked all 2^31
 * taps of every window (over a minute; found by {@code scripts/fuzz --long --seed 4850}). In a child JVM with a time
 * limit, so a hang fails this test instead of stalling the suite.
 */
class HugePoolKernelTest {
    /**
     * PyTorch 1.13: {@code x = torch.arange(24.).reshape(1, 2, 1, 12) * (-1) ** torch.arange(24).reshape(1, 2, 1, 12);
     * F.max_pool2d(x, (2147483647, 2), (2147483647, 2), padding=1, ceil_mode=True).flatten().tolist()}.
     */
    static final float[] PYTORCH = {0, 2, 4, 6, 8, 10, -11, 12, 14, 16, 18, 20, 22, -23};

    /** The child: eager (native and reference) and compiled, each checked against PyTorch's values. */
    public static final class Child {
        public static void main(String[] args) {
            float[] x = new float[24];
            for (int i = 0; i < x.length; i++) x[i] = i % 2 == 0 ? i : -i;
            int big = Integer.MAX_VALUE;
            try (MaxPool2d pool = new MaxPool2d(new int[] {big, 2}, new int[] {big, 2}, new int[] {1, 1}, new int[] {1, 1}, true);
                 Tensor in = Tensor.of(x, 1, 2, 1, 12);
                 Tensor eager = pool.forward(in);
                 Tensor reference = pool.forward(in, Backend.REFERENCE);
                 CompiledModel c = CompiledModel.compile(new Sequential(pool), 1, 2, 1, 12);
                 Tensor compiled = c.run(in)) {
                check("eager", eager);
                check("reference", reference);
                check("compiled", compiled);
            }
        }

        private static void check(String what, Tensor t) {
            float[] got = t.toFloatArray();
            if (!Arrays.equals(got, PYTORCH) || !Arrays.equals(t.shape(), new long[] {1, 2, 1, 7})) {
                throw new AssertionError(what + ": " + Arrays.toString(t.shape()) + " " + Arrays.toString(got) + ", PyTorch gives "
                        + Arrays.toString(PYTORCH));
            }
            System.out.println(what + " equal to PyTorch");
        }
    }

    @Test
    void aKernelLongerThanAnyWindowCanUseAnswersAtOnceWithPyTorchsValues() throws Exception {
        String out = ChildJvm.run(List.of("-Dpanamadnn.threads=1"), Child.class, 60);
        assertTrue(out.contains("eager equal to PyTorch") && out.contains("reference equal to PyTorch")
                && out.contains("compiled equal to PyTorch"), out);
    }

    @Test
    void tapsAreCountedNotSearched() {
        // a window starting at -1 on an input of 1: tap 1 only, whatever the kernel
        assertArrayEquals(new long[] {1, 2}, taps(-1, 1, Integer.MAX_VALUE, 1));
        // taps at -2, 0, 2, 4, 6 on an input of 5: j = 1, 2, 3
        assertArrayEquals(new long[] {1, 4}, taps(-2, 2, 5, 5));
        // wholly right of the input, wholly left of it: empty
        long[] right = taps(5, 1, 3, 5), left = taps(-10, 1, 3, 5);
        assertTrue(right[0] >= right[1] && left[0] >= left[1], Arrays.toString(right) + " " + Arrays.toString(left));
    }

    private static long[] taps(long start, long step, long kernel, long in) {
        return new long[] {PoolLowering.firstTap(start, step, kernel), PoolLowering.endTap(start, step, kernel, in)};
    }
}
