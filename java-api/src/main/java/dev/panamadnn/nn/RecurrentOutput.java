package dev.panamadnn.nn;

import dev.panamadnn.Tensor;

/**
 * What {@link LSTM} and {@link GRU} return, PyTorch's {@code (output, (h_n, c_n))} / {@code (output, h_n)}:
 * the caller owns all three tensors; {@link #close()} closes them.
 *
 * @param output the top layer's h at every step: {@code [T, N, D * H_out]} ({@code [N, T, D * H_out]}
 *               with batch_first; {@code [T, D * H_out]} for an unbatched input), both directions
 *               concatenated; 0 past a padded sequence's end
 * @param hN     every layer's and direction's last h, {@code [num_layers * D, N, H_out]} (index
 *               {@code layer * D + direction}; {@code [num_layers * D, H_out]} unbatched)
 * @param cN     the LSTM's last cell states, {@code [num_layers * D, N, hidden_size]}; null for a GRU
 */
public record RecurrentOutput(Tensor output, Tensor hN, Tensor cN) implements AutoCloseable {
    @Override
    public void close() {
        output.close();
        hN.close();
        if (cN != null) cN.close();
    }
}
