package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Map;

/**
 * What {@link LSTMCell} and {@link GRUCell} share: one step of one layer, parameters
 * {@code weight_ih} {@code [G*hidden, input_size]}, {@code weight_hh} {@code [G*hidden, hidden]},
 * {@code bias_ih}, {@code bias_hh} {@code [G*hidden]} (with bias); input {@code [N, input_size]} or
 * {@code [input_size]} (unbatched), states {@code [N, hidden]} or {@code [hidden]}. Runs as a
 * one-step, one-layer sequence on the same kernels as {@link LSTM}/{@link GRU}.
 */
public abstract sealed class RecurrentCell extends Layer permits LSTMCell, GRUCell {
    final RecurrentCore core;
    private final InFlightCalls stateCalls = new InFlightCalls();

    RecurrentCell(String kind, boolean lstm, int inputSize, int hiddenSize, boolean bias) {
        this.core = new RecurrentCore(new RecurrentSpec(kind, lstm, inputSize, hiddenSize, 1, bias, false, 0), true);
    }

    /** {@return the {@code inputSize} setting this layer was built with (PyTorch's name)} */
    public int inputSize() {
        return core.spec.inputSize();
    }

    /** {@return the {@code hiddenSize} setting this layer was built with (PyTorch's name)} */
    public int hiddenSize() {
        return core.spec.hiddenSize();
    }

    /** {@return the {@code bias} setting this layer was built with (PyTorch's name)} */
    public boolean bias() {
        return core.spec.bias();
    }

    /** Live parameter tensors (see {@link RecurrentLayer#parameters()}; call {@link #weightsChanged()} after writing them late). */
    @Override
    public Map<String, Tensor> parameters() {
        return core.parameters;
    }

    /** See {@link RecurrentLayer#weightsChanged()}. */
    public void weightsChanged() {
        checkOpen();
        core.weightsChanged();
    }

    /** {@code [N, hidden_size]} for {@code [N, input_size]}; {@code [hidden_size]} for {@code [input_size]}. */
    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        if ((inputShape.length != 1 && inputShape.length != 2) || inputShape[inputShape.length - 1] != inputSize()) {
            throw new IllegalArgumentException(label() + ": expected an input of shape [N, " + inputSize() + "] or [" + inputSize()
                    + "] (unbatched), got " + Arrays.toString(inputShape));
        }
        long[] out = inputShape.clone();
        out[out.length - 1] = hiddenSize();
        return out;
    }

    /**
     * h' for zero states, straight into {@code out}; an LSTM's c' into memory of this call (a confined arena, freed without
     * the JDK handshake an owned tensor's close costs; docs/safety.md).
     */
    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        Prepared call = prepare(input, null, null);
        try (Arena states = Arena.ofConfined()) {
            call.into(backend, out, core.spec.lstm() ? Tensor.allocate(states, DataType.F32, outShape) : null);
        }
    }

    /** The validated step: (h', c') in new tensors the caller owns ({@code c} null for a GRU). */
    final RecurrentState step(Tensor input, Tensor h, Tensor c, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(label() + ": backend must not be null");
        checkOpen();
        stateCalls.enter(this);
        try {
            checkInput(input);
            Prepared call = prepare(input, h, c);
            return RecurrentCore.namingFreed(label(), () -> {
                Tensor hNew = null, cNew = null;
                try {
                    hNew = Tensor.zeros(call.stateShape());
                    cNew = core.spec.lstm() ? Tensor.zeros(call.stateShape()) : null;
                    call.into(backend, hNew, cNew);
                    return new RecurrentState(hNew, cNew);
                } catch (RuntimeException | Error e) {
                    if (hNew != null) hNew.close();
                    if (cNew != null) cNew.close();
                    throw e;
                }
            }, input, h, c);
        } finally {
            stateCalls.exit();
        }
    }

    /** A validated step on its input and states: runs into h' and c' (c' null for a GRU). */
    private record Prepared(RecurrentCell cell, Tensor input, Tensor h, Tensor c, RecurrentCore.Sequence seq, long[] stateShape) {
        void into(Backend backend, Tensor hNew, Tensor cNew) {
            // one step of one layer: the output sequence is h' itself, so h' is written as both (the same values)
            cell.core.runInto(cell.label(), input, seq, h, c, null, backend, hNew, hNew, cNew);
        }
    }

    /** Checks the states against the (already checked) input. */
    private Prepared prepare(Tensor input, Tensor h, Tensor c) {
        long[] stateShape = outputShape(input.shape());
        RecurrentCore.checkTensor(label(), "h", h, stateShape);
        if (core.spec.lstm()) {
            RecurrentCore.checkTensor(label(), "c", c, stateShape);
            if ((h == null) != (c == null)) {
                throw new IllegalArgumentException(label() + ": expected h and c together (or neither), got " + (h == null ? "c without h" : "h without c"));
            }
        }
        long batch = input.rank() == 1 ? 1 : input.dim(0);
        return new Prepared(this, input, h, c, new RecurrentCore.Sequence(1, batch, false), stateShape);
    }

    @Override
    void release() {
        stateCalls.close();
        core.close();
    }

    @Override
    public String toString() {
        return core.spec.layer() + "(" + inputSize() + ", " + hiddenSize() + (bias() ? "" : ", bias=False") + ")";
    }
}
