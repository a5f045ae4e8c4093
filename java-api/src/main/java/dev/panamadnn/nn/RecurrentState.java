package dev.panamadnn.nn;

import dev.panamadnn.Tensor;

/**
 * What {@link LSTMCell} returns, PyTorch's {@code (h', c')}: both {@code [N, hidden_size]}
 * ({@code [hidden_size]} for an unbatched input), owned by the caller; {@link #close()} closes them.
 *
 * @param h the hidden state
 * @param c the cell state (null for a GRU)
 */
public record RecurrentState(Tensor h, Tensor c) implements AutoCloseable {
    @Override
    public void close() {
        h.close();
        c.close();
    }
}
