package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The NaN / infinity / extreme-value goldens ({@code scripts/goldens/generate_nonfinite.py}),
 * copied out of the file, and the one comparison every test of them uses (docs/numerics.md).
 */
final class NonFiniteGoldens {
    private NonFiniteGoldens() {}

    static List<GoldenFile.Case> cases(boolean compiled) {
        try (GoldenFile file = GoldenFile.open("nonfinite.safetensors")) {
            return file.cases().stream().filter(c -> c.spec().startsWith("Compiled") == compiled).map(NonFiniteGoldens::detach)
                    .toList();
        }
    }

    private static GoldenFile.Case detach(GoldenFile.Case c) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        c.params().forEach((k, v) -> params.put(k, copy(v)));
        return new GoldenFile.Case(c.name(), c.spec(), params, Map.of(), copy(c.input()), copy(c.output()));
    }

    private static Tensor copy(Tensor t) {
        return switch (t.dtype()) {
            case F32 -> Tensor.of(t.toFloatArray(), t.shape());
            // BatchNorm's num_batches_tracked (I64): a copy in memory the GC frees.
            default -> Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocate(t.segment().byteSize(), 8).copyFrom(t.segment()),
                    t.dtype(), t.shape());
        };
    }

    /**
     * PyTorch's output against ours: NaN exactly where PyTorch has NaN, the same infinity where it
     * has one, and finite values within {@code 1e-5 + 1e-4*|expected|} (the kernels round
     * differently: oneDNN's polynomial erf/exp, float vs double sums). The sign of a zero is not
     * compared (docs/numerics.md says why). The message names the element, its input and both values.
     */
    static void assertMatches(GoldenFile.Case c, String path, Tensor actualTensor) {
        compare(c, path, actualTensor);
    }

    private static void compare(GoldenFile.Case c, String path, Tensor actualTensor) {
        assertArrayEquals(c.output().shape(), actualTensor.shape(), c.name() + " (" + path + "): output shape");
        float[] expected = c.output().toFloatArray(), actual = actualTensor.toFloatArray(), input = c.input().toFloatArray();
        StringBuilder wrong = new StringBuilder();
        int count = 0;
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            boolean ok = Float.isNaN(e) ? Float.isNaN(a)
                    : Float.isInfinite(e) ? e == a
                    : Float.isFinite(a) && Math.abs((double) e - a) <= 1e-5 + 1e-4 * Math.abs(e);
            if (!ok && count++ < 8) {
                wrong.append("\n  element ").append(i).append(": expected ").append(e)
                        .append(", got ").append(a);
                if (input.length == expected.length) wrong.append(" (input ").append(input[i]).append(')');
            }
        }
        if (count > 0) fail(c.name() + " [" + c.spec() + "] on " + path + ": " + count + " of " + expected.length
                + " elements differ from PyTorch" + wrong);
    }
}
