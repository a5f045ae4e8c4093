package dev.panamadnn.nn;

import dev.panamadnn.Tensor;

/**
 * PyTorch's {@code nn.LSTMCell(input_size, hidden_size, bias)}: one LSTM step,
 * {@code (h', c') = cell(x, (h, c))} with {@link LSTM}'s formula. {@link #forward(Tensor)} returns
 * h' for zero states. Shapes and parameters: {@link RecurrentCell}. Thread-safe (see {@link Layer}).
 */
public final class LSTMCell extends RecurrentCell {
    /**
     * A {@code LSTMCell} with PyTorch's arguments of the same names.
     *
     * @throws IllegalArgumentException if a size is &lt; 1
     *
     * @param inputSize features of each input step
     * @param hiddenSize features of the hidden state
     * @param bias whether to add a learnable bias
     */
    public LSTMCell(int inputSize, int hiddenSize, boolean bias) {
        super("LSTMCell", true, inputSize, hiddenSize, bias);
    }

    /**
     * An LSTM cell with biases.
     * @param inputSize  features of the input {@code x}, [N, inputSize]
     * @param hiddenSize features of the hidden and cell states, [N, hiddenSize]
     */
    public LSTMCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true);
    }

    /**
     * {@code cell(x, (h, c))} on {@link Backend#AUTO}; h and c both null (zeros) or both given.
     *
     * @param h the hidden state, [N, hiddenSize]
     * @param c the cell state, [N, hiddenSize]
     * @param input the input tensor (not closed; shape as above)
     * @return the next hidden and cell states, new tensors owned by the caller
     */
    public RecurrentState forward(Tensor input, Tensor h, Tensor c) {
        return forward(input, h, c, Backend.AUTO);
    }

    /**
     * One step on {@code backend}; returns (h', c'), owned by the caller.
     *
     * @param h the hidden state, [N, hiddenSize]
     * @param c the cell state, [N, hiddenSize]
     * @param input the input tensor (not closed; shape as above)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if a shape or dtype does not fit, before any native call
     * @throws IllegalStateException    if a tensor was freed or this layer is closed
     * @return the next hidden and cell states, new tensors owned by the caller
     */
    public RecurrentState forward(Tensor input, Tensor h, Tensor c, Backend backend) {
        return step(input, h, c, backend);
    }
}
