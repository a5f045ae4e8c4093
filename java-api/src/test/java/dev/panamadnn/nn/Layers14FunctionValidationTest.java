package dev.panamadnn.nn;

import static dev.panamadnn.nn.Layers14ValidationTest.IAE;
import static dev.panamadnn.nn.Layers14ValidationTest.ISE;
import static dev.panamadnn.nn.Layers14ValidationTest.bad;
import static dev.panamadnn.nn.Layers14ValidationTest.longs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invalid inputs of the functions and two-input modules of issue 14, at least 20 per family:
 * broadcasting add/sub/mul/div, cat/split/chunk, FiLM and the FiLM-ed block. Each fails in Java
 * before any native call, naming the operation, the expected and the given value.
 */
class Layers14FunctionValidationTest {
    private static Tensor z(long... shape) {
        return Tensor.zeros(shape);
    }

    private static Tensor freed(long... shape) {
        Tensor t = Tensor.zeros(shape);
        t.close();
        return t;
    }

    private static Executable op(Broadcast.Op op, Tensor a, Tensor b, Backend backend) {
        return () -> Broadcast.apply(op, a, b, backend).close();
    }

    private static Executable film(int cond, int c, Tensor x, Tensor zz, Backend backend) {
        return () -> {
            try (FiLM f = new FiLM(cond, c)) {
                f.forward(x, zz, backend).close();
            }
        };
    }

    private static Executable block(int in, int c, int cond, Tensor x, Tensor zz) {
        return () -> {
            try (FiLMBlock f = new FiLMBlock(in, c, cond)) {
                f.forward(x, zz).close();
            }
        };
    }

    static Stream<Arguments> invalid() {
        Backend n = Backend.AUTO, r = Backend.REFERENCE;
        Broadcast.Op add = Broadcast.Op.ADD, sub = Broadcast.Op.SUB, mul = Broadcast.Op.MUL, div = Broadcast.Op.DIV;
        String b = "Broadcast";
        return Stream.of(
                bad(b, "mismatched last dim", IAE, op(add, z(2, 3), z(4), n), "Broadcast.add", "do not broadcast", "dimension -1", "got 3 and 4"),
                bad(b, "mismatched middle dim", IAE, op(sub, z(2, 3, 4), z(2, 1, 5), n), "Broadcast.sub", "[2, 3, 4] and [2, 1, 5]", "got 4 and 5"),
                bad(b, "mismatched leading dim", IAE, op(mul, z(2, 3), z(3, 3), r), "Broadcast.mul", "dimension -2", "got 2 and 3"),
                bad(b, "mismatched with longer rank", IAE, op(div, z(3), z(2, 2, 4), n), "Broadcast.div", "got 3 and 4"),
                bad(b, "mismatched (reference)", IAE, op(add, z(5, 1), z(1, 4, 2), r), "Broadcast.add", "dimension -2", "got 5 and 4"),
                bad(b, "null first", IAE, op(add, null, z(2), n), "Broadcast.add", "first input must not be null"),
                bad(b, "null second", IAE, op(mul, z(2), null, n), "Broadcast.mul", "second input must not be null"),
                bad(b, "null op", IAE, op(null, z(2), z(2), n), "Broadcast", "op must not be null"),
                bad(b, "null backend", IAE, op(sub, z(2), z(2), null), "Broadcast.sub", "backend must not be null"),
                bad(b, "freed first", ISE, op(add, freed(2), z(2), n), "Broadcast.add", "live first input", "freed"),
                bad(b, "freed second", ISE, op(div, z(2), freed(2), r), "Broadcast.div", "live second input", "freed"),
                bad(b, "I64 first", IAE, op(add, longs(1, 2), z(2), n), "Broadcast.add", "F32 first", "got I64"),
                bad(b, "I64 second", IAE, op(sub, z(2), longs(1, 2), n), "Broadcast.sub", "F32 second", "got I64"),
                bad(b, "null shape", IAE, () -> Broadcast.shape(null, new long[] {2}), "Broadcast", "must not be null"),
                bad(b, "zero size", IAE, () -> Broadcast.shape(new long[] {0}, new long[] {2}), "Broadcast", ">= 1", "[0]"),
                bad(b, "negative size", IAE, () -> Broadcast.shape(new long[] {2}, new long[] {-1, 2}), ">= 1", "[-1, 2]"),
                bad(b, "shape mismatch", IAE, () -> Broadcast.shape(new long[] {7, 2}, new long[] {6, 2}), "do not broadcast", "got 7 and 6"),
                bad(b, "mismatch with 1 in the other", IAE, op(mul, z(1, 3), z(2, 4), n), "Broadcast.mul", "got 3 and 4"),
                bad(b, "mismatch leading of three", IAE, op(sub, z(3, 1, 2), z(4, 1, 2), r), "Broadcast.sub", "dimension -3", "got 3 and 4"),
                bad(b, "mismatch 6-D", IAE, op(add, z(1, 2, 1, 2, 1, 3), z(2, 1, 2, 1, 2, 2), n), "Broadcast.add", "got 3 and 2"),
                bad(b, "div mismatch", IAE, op(div, z(4, 4), z(4, 3), n), "Broadcast.div", "got 4 and 3"),

                bad("cat", "no tensors", IAE, () -> Concat.cat(0), "cat", "non-empty", "got none"),
                bad("cat", "null list", IAE, () -> Concat.cat(0, (Tensor[]) null), "cat", "non-empty"),
                bad("cat", "null tensor", IAE, () -> Concat.cat(0, z(2), null), "cat", "tensor 1 must not be null"),
                bad("cat", "freed tensor", ISE, () -> Concat.cat(0, z(2), freed(2)), "cat", "live tensor 1", "freed"),
                bad("cat", "I64 tensor", IAE, () -> Concat.cat(0, longs(1), z(1)), "cat", "F32", "got I64 for tensor 0"),
                bad("cat", "dim too large", IAE, () -> Concat.cat(2, z(2, 3), z(2, 3)), "cat", "[-2, 1]", "got 2"),
                bad("cat", "dim too negative", IAE, () -> Concat.cat(-3, z(2, 3), z(2, 3)), "cat", "[-2, 1]", "got -3"),
                bad("cat", "rank differs", IAE, () -> Concat.cat(0, z(2, 3), z(2, 3, 1)), "cat", "[2, 3]", "got [2, 3, 1] for tensor 1"),
                bad("cat", "other dim differs", IAE, () -> Concat.cat(1, z(2, 3), z(3, 3)), "cat", "except in dimension 1", "got [3, 3]"),
                bad("cat", "other dim differs (reference)", IAE, () -> Concat.cat(0, r, z(2, 3), z(2, 4)), "cat", "[2, 3]", "got [2, 4]"),
                bad("cat", "null backend", IAE, () -> Concat.cat(0, (Backend) null, z(2)), "cat", "backend must not be null"),
                bad("cat", "third differs", IAE, () -> Concat.cat(-1, z(2, 1), z(2, 2), z(3, 1)), "cat", "got [3, 1] for tensor 2"),
                bad("split", "size 0", IAE, () -> Concat.split(z(4), 0, 0), "split", "split_size must be >= 1", "got 0"),
                bad("split", "null tensor", IAE, () -> Concat.split(null, 2, 0), "split", "must not be null"),
                bad("split", "freed tensor", ISE, () -> Concat.split(freed(4), 2, 0), "split", "live tensor"),
                bad("split", "dim out of range", IAE, () -> Concat.split(z(4, 2), 2, 2), "split", "[-2, 1]", "got 2"),
                bad("split", "sizes do not add up", IAE, () -> Concat.split(z(6), new long[] {2, 3}, 0), "split", "[2, 3]", "sum to the size of dimension 0 (6)", "got 5"),
                bad("split", "a negative size", IAE, () -> Concat.split(z(6), new long[] {7, -1}, 0), "split", ">= 0", "[7, -1]"),
                bad("split", "negative split_size", IAE, () -> Concat.split(z(6), -2, 0), "split", "split_size must be >= 1", "got -2"),
                bad("split", "no sizes", IAE, () -> Concat.split(z(6), new long[0], 0), "split", "got none"),
                bad("chunk", "zero chunks", IAE, () -> Concat.chunk(z(6), 0, 0), "chunk", ">= 1", "got 0"),
                bad("chunk", "dim out of range", IAE, () -> Concat.chunk(z(6), 2, -2), "chunk", "[-1, 0]", "got -2"),
                bad("chunk", "null tensor", IAE, () -> Concat.chunk(null, 2, 0), "chunk", "must not be null"),

                bad("FiLM", "zero cond", IAE, () -> new FiLM(0, 3), "FiLM", ">= 1", "got 0 and 3"),
                bad("FiLM", "zero channels", IAE, () -> new FiLM(2, 0), "FiLM", ">= 1", "got 2 and 0"),
                bad("FiLM", "x rank 1", IAE, film(2, 3, z(3), z(1, 2), n), "FiLM(condition_dim=2, channels=3)", "[N, 3, *]", "got [3]"),
                bad("FiLM", "x channels", IAE, film(2, 3, z(2, 4, 5), z(2, 2), n), "FiLM(condition_dim=2, channels=3)", "[N, 3, *]", "[2, 4, 5]"),
                bad("FiLM", "z batch", IAE, film(2, 3, z(2, 3, 5), z(3, 2), n), "FiLM", "conditioning input [2, 2]", "got [3, 2]"),
                bad("FiLM", "z dim", IAE, film(2, 3, z(2, 3, 5), z(2, 4), r), "FiLM", "[2, 2]", "got [2, 4]"),
                bad("FiLM", "z rank 3", IAE, film(2, 3, z(1, 3, 5, 5), z(1, 2, 1), n), "FiLM", "[1, 2]", "got [1, 2, 1]"),
                bad("FiLM", "z rank 1", IAE, film(2, 3, z(1, 3, 5), z(2), n), "FiLM", "got [2]"),
                bad("FiLM", "null x", IAE, film(2, 3, null, z(1, 2), n), "FiLM", "features input must not be null"),
                bad("FiLM", "null z", IAE, film(2, 3, z(1, 3), null, n), "FiLM", "conditioning input must not be null"),
                bad("FiLM", "freed x", ISE, film(2, 3, freed(1, 3), z(1, 2), n), "FiLM", "live features", "freed"),
                bad("FiLM", "freed z", ISE, film(2, 3, z(1, 3), freed(1, 2), r), "FiLM", "live conditioning", "freed"),
                bad("FiLM", "I64 z", IAE, film(1, 3, z(1, 3), longs(1), n), "FiLM", "F32 conditioning", "I64"),
                bad("FiLM", "null backend", IAE, film(2, 3, z(1, 3), z(1, 2), null), "FiLM", "backend must not be null"),
                bad("FiLM", "closed", ISE, () -> { FiLM f = new FiLM(2, 3); f.close(); f.forward(z(1, 3), z(1, 2)); }, "FiLM", "closed"),
                bad("FiLM", "null shapes", IAE, () -> new FiLM(2, 3).outputShape(null, new long[] {1, 2}), "FiLM", "must not be null"),
                bad("FiLM", "block zero in", IAE, () -> new FiLMBlock(0, 4, 2), "FiLMBlock", ">= 1", "got 0, 4 and 2"),
                bad("FiLM", "block zero cond", IAE, () -> new FiLMBlock(3, 4, 0), "FiLMBlock", "got 3, 4 and 0"),
                bad("FiLM", "block x rank 3", IAE, block(3, 4, 2, z(1, 3, 5), z(1, 2)), "FiLMBlock(in_channels=3, channels=4, condition_dim=2)", "[N, 3, H, W]", "[1, 3, 5]"),
                bad("FiLM", "block x channels", IAE, block(3, 4, 2, z(1, 4, 5, 5), z(1, 2)), "FiLMBlock", "[N, 3, H, W]", "[1, 4, 5, 5]"),
                bad("FiLM", "block z batch", IAE, block(3, 4, 2, z(2, 3, 5, 5), z(1, 2)), "FiLM(condition_dim=2, channels=4)", "[2, 2]", "got [1, 2]"),
                bad("FiLM", "block null x", IAE, block(3, 4, 2, null, z(1, 2)), "FiLMBlock", "must not be null"),
                bad("FiLM", "block freed x", ISE, block(3, 4, 2, freed(1, 3, 4, 4), z(1, 2)), "freed"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("invalid")
    void rejected(String family, String what, Class<? extends RuntimeException> type, Executable action, List<String> fragments) {
        RuntimeException e = assertThrows(type, action, what);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), what + ": message lacks '" + f + "': " + e.getMessage());
    }

    @Test
    void atLeastTwentyRowsPerFamily() {
        Map<String, Long> perFamily = invalid().collect(Collectors.groupingBy(a -> {
            String f = (String) a.get()[0];
            return f.equals("split") || f.equals("chunk") ? "cat" : f;
        }, Collectors.counting()));
        assertEquals(3, perFamily.size(), perFamily.toString());
        perFamily.forEach((family, count) -> assertTrue(count >= 20, family + ": " + count + " rows"));
    }
}
