package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Empty tensors (a size of 0, which {@link Tensor} can hold) given to the layers and functions that take tensors: each
 * refuses with an {@link IllegalArgumentException} naming itself and the shape, on every backend, before any native
 * call (oneDNN primitives get no zero-size memory); {@code cat} joins them as {@code torch.cat} does (they add nothing).
 */
class EmptyInputsTest {
    @Test
    void everyEntryPointRefusesAnEmptyInputNamingItself() {
        try (Arena arena = Arena.ofConfined(); Tensor e = Tensor.zeros(0, 4); Tensor x = Tensor.zeros(2, 4); Tensor e3 = Tensor.zeros(1, 0, 4);
             Tensor q = Tensor.zeros(1, 2, 4); Tensor h = Tensor.zeros(0, 3);
             Add add = new Add(); GRUCell gru = new GRUCell(4, 3); Linear linear = new Linear(4, 2, true); ReLU relu = new ReLU();
             MultiheadAttention mha = new MultiheadAttention(4, 2); Embedding embedding = new Embedding(5, 3)) {
            for (Backend b : Backend.values()) {
                refused(() -> add.forward(e, e, b), "Add", "[0, 4]");
                refused(() -> Broadcast.apply(Broadcast.Op.ADD, e, x, b), "Broadcast.add", "[0, 4]");
                try (Tensor joined = Concat.cat(0, b, x, e); Tensor none = Concat.cat(0, b, e, e)) {   // as torch.cat: empty inputs add nothing
                    assertArrayEquals(new long[] {2, 4}, joined.shape());
                    assertArrayEquals(new long[] {0, 4}, none.shape());
                }
                refused(() -> gru.forward(e, h, b), "GRUCell", "[0, 4]");
                refused(() -> linear.forward(e, b), "Linear", "[0, 4]");
                refused(() -> relu.forward(e, b), "ReLU", "[0, 4]");
            }
            refused(() -> Attention.scaledDotProductAttention(e3, q, q), "scaled_dot_product_attention", "query", "[1, 0, 4]");
            refused(() -> Attention.scaledDotProductAttention(q, e3, e3), "scaled_dot_product_attention", "key", "[1, 0, 4]");
            refused(() -> mha.forward(e3), "MultiheadAttention", "[1, 0, 4]");
            refused(() -> embedding.forward(Tensor.allocate(arena, DataType.I64, 0)), "Embedding", "[0]");
        }
    }

    private static void refused(Executable call, String... fragments) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) assertTrue(ex.getMessage().contains(f), () -> "expected '" + f + "' in: " + ex.getMessage());
    }
}
