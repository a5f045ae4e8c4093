package dev.panamadnn.nn;

import dev.panamadnn.Tensor;

/**
 * PyTorch's {@code nn.GRU(input_size, hidden_size, num_layers, bias, batch_first, dropout,
 * bidirectional)} for inference: per layer and direction {@code r = σ(W_ir x + b_ir + W_hr h + b_hr)},
 * {@code z = σ(..z..)}, {@code n = tanh(W_in x + b_in + r (W_hn h + b_hn))}, {@code h' = (1 - z) n + z h}.
 *
 * <p>Shapes as {@link LSTM}'s with {@code H_out = hidden_size} and no cell state. Parameter names and
 * shapes: {@link #parameters()} (G = 3, gates r, z, n). {@code dropout} is accepted and ignored
 * (inference). Native path: oneDNN's linear-before-reset GRU, which is PyTorch's formula, with the
 * gates reordered (docs/rnn.md). Thread-safe (see {@link Layer}).
 */
public final class GRU extends RecurrentLayer {
    /**
     * {@code GRU(inputSize, hiddenSize)}: one layer, bias, sequence-first, one direction.
     *
     * @param inputSize features of each input step
     * @param hiddenSize features of the hidden state
     */
    public GRU(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, 1, true, false, 0, false);
    }

    /**
     * A {@code GRU} with PyTorch's arguments of the same names.
     *
     * @throws IllegalArgumentException if a size is &lt; 1 or dropout is not in [0, 1]
     *
     * @param inputSize features of each input step
     * @param hiddenSize features of the hidden state
     * @param numLayers the number of stacked layers
     * @param bias whether to add a learnable bias
     * @param batchFirst whether inputs and outputs are [N, L, features] rather than [L, N, features]
     * @param dropout PyTorch's dropout probability, in [0, 1] (inactive at inference)
     * @param bidirectional whether each layer also runs backwards (output features double)
     */
    public GRU(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout, boolean bidirectional) {
        super("GRU", false, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0);
    }

    /**
     * {@code gru(x, h0)} on {@link Backend#AUTO}; h0 null for zeros (a literal {@code null} is ambiguous
     * with {@link #forward(Tensor, Backend)}: use {@link #forward(Tensor)}). Returns the output and h_n ({@code cN} null).
     *
     * @param input the input tensor (not closed; shape as above)
     * @param h0 the initial hidden state, or null for zeros
     * @return the output sequence and the final state(s), new tensors owned by the caller
     */
    public RecurrentOutput forward(Tensor input, Tensor h0) {
        return forwardWithState(input, h0, null, null, Backend.AUTO);
    }

    /**
     * The full call, as {@link LSTM#forward(Tensor, Tensor, Tensor, int[], Backend)} without c0.
     *
     * @param lengths each sequence's length (a packed batch), or null if all are full
     * @param input the input tensor (not closed; shape as above)
     * @param h0 the initial hidden state, or null for zeros
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if a shape, dtype or length does not fit, before any native call
     * @throws IllegalStateException    if a tensor was freed or this layer is closed
     * @return the output sequence and the final state(s), new tensors owned by the caller
     */
    public RecurrentOutput forward(Tensor input, Tensor h0, int[] lengths, Backend backend) {
        return forwardWithState(input, h0, null, lengths, backend);
    }
}
