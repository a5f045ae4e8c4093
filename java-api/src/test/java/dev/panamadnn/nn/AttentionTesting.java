package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Shared by the attention tests: comparison against PyTorch with NaN/Inf in the same places, masks from goldens. */
final class AttentionTesting {
    private AttentionTesting() {}

    /**
     * Float32 tolerance against PyTorch: two matmuls, a softmax and (for modules) projections and
     * layer norms, each summing at most a few dozen products of O(1) values in float; 1e-5 relative
     * plus 2e-5 absolute covers their different summation orders (measured max errors are in the
     * test output and docs/attention.md).
     */
    static final double ATOL = 2e-5, RTOL = 1e-5;

    /** Asserts shape and values; NaN must be NaN, infinities equal; returns the max absolute error. */
    static double assertMatches(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        double max = 0;
        for (int i = 0; i < e.length; i++) {
            if (Float.isNaN(e[i]) || Float.isNaN(a[i]) || Float.isInfinite(e[i]) || Float.isInfinite(a[i])) {
                if (Float.compare(e[i], a[i]) != 0 && !(Float.isNaN(e[i]) && Float.isNaN(a[i]))) {
                    fail(what + ": at flat index " + i + " expected " + e[i] + ", got " + a[i]);
                }
                continue;
            }
            double err = Math.abs(e[i] - a[i]);
            max = Math.max(max, err);
            if (err > ATOL + RTOL * Math.abs(e[i])) {
                fail(what + ": at flat index " + i + " of shape " + Arrays.toString(expected.shape()) + " expected " + e[i]
                        + ", got " + a[i] + " (error " + err + ")");
            }
        }
        return max;
    }

    /** The golden's mask tensor under {@code key}, as the spec's kind says ("bool", "float"), or null ("none"). */
    static AttentionMask mask(GoldenFile.Case c, String key, String kind) {
        return switch (kind) {
            case "none" -> null;
            case "bool" -> AttentionMask.bool(c.extras().get(key));
            case "float" -> AttentionMask.additive(c.extras().get(key));
            default -> throw new IllegalArgumentException("unknown mask kind " + kind + " in " + c.spec());
        };
    }

    /**
     * Copies torch's state_dict into {@code m}, first asserting that the names (in order) and shapes are
     * exactly the module's: the state_dict naming is part of what the goldens check.
     */
    static void loadStateDict(String what, dev.panamadnn.Module m, Map<String, Tensor> state) {
        assertEquals(List.copyOf(state.keySet()), List.copyOf(m.parameters().keySet()), what + ": state_dict names");
        for (Map.Entry<String, Tensor> e : m.parameters().entrySet()) {
            Tensor src = state.get(e.getKey());
            assertArrayEquals(src.shape(), e.getValue().shape(), what + ": shape of " + e.getKey());
            MemorySegment.copy(src.segment(), 0, e.getValue().segment(), 0, src.segment().byteSize());
        }
    }

    static boolean flag(String v) {
        return v.equals("1");
    }

    /** A tensor of uniform values in [-1, 1). */
    static Tensor random(java.util.SplittableRandom r, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return Tensor.of(v, shape);
    }

    /** A bool mask with about 30% True, values 1, -2.5, NaN, +inf or 1e-40 for True (all != 0), 0 or -0 for False. */
    static Tensor boolMask(java.util.SplittableRandom r, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        float[] trues = {1f, -2.5f, Float.NaN, Float.POSITIVE_INFINITY, 1e-40f};
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() < 0.3 ? trues[r.nextInt(trues.length)] : (r.nextBoolean() ? 0f : -0f);
        return Tensor.of(v, shape);
    }

    /** Every parameter of {@code m} overwritten with uniform values in [-0.5, 0.5). */
    static void randomize(dev.panamadnn.Module m, java.util.SplittableRandom r) {
        for (Tensor t : m.parameters().values()) {
            float[] v = new float[(int) t.numel()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() - 0.5);
            java.lang.foreign.MemorySegment.copy(v, 0, t.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, v.length);
        }
    }
}
