package dev.panamadnn.nn;

import dev.panamadnn.Tensor;

/**
 * PyTorch's {@code nn.GRUCell(input_size, hidden_size, bias)}: one GRU step, {@code h' = cell(x, h)}
 * with {@link GRU}'s formula. Shapes and parameters: {@link RecurrentCell}. Thread-safe (see {@link Layer}).
 */
public final class GRUCell extends RecurrentCell {
    /**
     * A {@code GRUCell} with PyTorch's arguments of the same names.
     *
     * @throws IllegalArgumentException if a size is &lt; 1
     *
     * @param inputSize features of each input step
     * @param hiddenSize features of the hidden state
     * @param bias whether to add a learnable bias
     */
    public GRUCell(int inputSize, int hiddenSize, boolean bias) {
        super("GRUCell", false, inputSize, hiddenSize, bias);
    }

    /**
     * A GRU cell with biases.
     * @param inputSize  features of the input {@code x}, [N, inputSize]
     * @param hiddenSize features of the hidden state, [N, hiddenSize]
     */
    public GRUCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true);
    }

    /**
     * {@code cell(x, h)} on {@link Backend#AUTO}; h null for zeros (for a literal {@code null}, {@link #forward(Tensor)}).
     *
     * @param h the hidden state, [N, hiddenSize]
     * @param input the input tensor (not closed; shape as above)
     * @return a new tensor owned by the caller (close it)
     */
    public Tensor forward(Tensor input, Tensor h) {
        return forward(input, h, Backend.AUTO);
    }

    /**
     * One step on {@code backend}; returns h', owned by the caller.
     *
     * @param h the hidden state, [N, hiddenSize]
     * @param input the input tensor (not closed; shape as above)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if a shape or dtype does not fit, before any native call
     * @throws IllegalStateException    if a tensor was freed or this layer is closed
     * @return a new tensor owned by the caller (close it)
     */
    public Tensor forward(Tensor input, Tensor h, Backend backend) {
        return step(input, h, null, backend).h();
    }
}
