package dev.panamadnn.nn;

import dev.panamadnn.Tensor;

/**
 * PyTorch's {@code nn.LSTM(input_size, hidden_size, num_layers, bias, batch_first, dropout,
 * bidirectional, proj_size)} for inference: per layer and direction
 * {@code i, f, g, o = σ, σ, tanh, σ(W_i* x + b_i* + W_h* h + b_h*)}, {@code c' = f c + i g},
 * {@code h' = o tanh(c')} (then {@code h' = W_hr h'} with {@code proj_size > 0}).
 *
 * <p>Shapes (T steps, N sequences, D = 2 if bidirectional else 1, H_out = proj_size or hidden_size):
 * input {@code [T, N, input_size]} ({@code [N, T, input_size]} with batch_first, {@code [T, input_size]}
 * unbatched); output {@code [T, N, D * H_out]} (same layout); h0/h_n {@code [num_layers * D, N, H_out]},
 * c0/c_n {@code [num_layers * D, N, hidden_size]} (without N when unbatched; never batch_first).
 * Parameter names and shapes: {@link #parameters()}. {@code dropout} is accepted and ignored
 * (inference). Per-sequence {@code lengths} give pack_padded_sequence's semantics (docs/rnn.md).
 *
 * <p>Native path: oneDNN's LSTM primitive, one per layer (docs/rnn.md); reference: plain Java in
 * double per step. Thread-safe: any number of threads may call at once; {@link #close()} waits
 * for calls in flight (see {@link Layer}).
 */
public final class LSTM extends RecurrentLayer {
    /**
     * {@code LSTM(inputSize, hiddenSize)}: one layer, bias, sequence-first, one direction, no projection.
     *
     * @param inputSize features of each input step
     * @param hiddenSize features of the hidden state
     */
    public LSTM(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, 1, true, false, 0, false, 0);
    }

    /**
     * A {@code LSTM} with PyTorch's arguments of the same names.
     *
     * @param projSize features of the projected hidden state (0: no projection)
     * @param inputSize features of each input step
     * @param hiddenSize features of the hidden state
     * @param numLayers the number of stacked layers
     * @param bias whether to add a learnable bias
     * @param batchFirst whether inputs and outputs are [N, L, features] rather than [L, N, features]
     * @param dropout PyTorch's dropout probability, in [0, 1] (inactive at inference)
     * @param bidirectional whether each layer also runs backwards (output features double)
     * @throws IllegalArgumentException if a size is &lt; 1 (proj_size &lt; 0), proj_size &gt;= hidden_size,
     *                                  or dropout is not in [0, 1]
     */
    public LSTM(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout,
                boolean bidirectional, int projSize) {
        super("LSTM", true, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize);
    }

    /** {@return the {@code projSize} setting this layer was built with (PyTorch's name)} */
    public int projSize() {
        return core.spec.projSize();
    }

    /**
     * {@code lstm(x, (h0, c0))} on {@link Backend#AUTO}; h0 and c0 both null (zeros) or both given.
     *
     * @param input the input tensor (not closed; shape as above)
     * @param h0 the initial hidden state, or null for zeros
     * @param c0 the initial cell state, or null for zeros
     * @return the output sequence and the final state(s), new tensors owned by the caller
     */
    public RecurrentOutput forward(Tensor input, Tensor h0, Tensor c0) {
        return forwardWithState(input, h0, c0, null, Backend.AUTO);
    }

    /**
     * The full call: initial states (both null for zeros), per-sequence {@code lengths} (null: all
     * T; else one per sequence in [1, T], any order) and the backend. Returns the output and
     * {@code (h_n, c_n)}, owned by the caller.
     *
     * @param lengths each sequence's length (a packed batch), or null if all are full
     * @param input the input tensor (not closed; shape as above)
     * @param h0 the initial hidden state, or null for zeros
     * @param c0 the initial cell state, or null for zeros
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if a shape, dtype or length does not fit (naming the layer,
     *                                  the expected and the given value), before any native call
     * @throws IllegalStateException    if a tensor was freed or this layer is closed
     * @return the output sequence and the final state(s), new tensors owned by the caller
     */
    public RecurrentOutput forward(Tensor input, Tensor h0, Tensor c0, int[] lengths, Backend backend) {
        return forwardWithState(input, h0, c0, lengths, backend);
    }
}
