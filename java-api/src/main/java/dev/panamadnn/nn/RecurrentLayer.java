package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Map;

/**
 * What {@link LSTM} and {@link GRU} share: PyTorch's {@code nn.RNNBase} hyperparameters, the
 * parameters under their state_dict names, the shape rules and the validated call with initial
 * states and per-sequence lengths. See {@link LSTM} for the shapes and docs/rnn.md for the
 * native translation.
 */
public abstract sealed class RecurrentLayer extends Layer permits LSTM, GRU {
    final RecurrentCore core;
    private final boolean batchFirst;
    private final double dropout;
    /** The calls that take initial states (those through {@link Layer#forward} are counted by Layer itself). */
    private final InFlightCalls stateCalls = new InFlightCalls();

    RecurrentLayer(String kind, boolean lstm, int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst,
                   double dropout, boolean bidirectional, int projSize) {
        if (!(dropout >= 0 && dropout <= 1)) {
            throw new IllegalArgumentException(kind + ": dropout must be a probability in [0, 1], got " + dropout);
        }
        this.core = new RecurrentCore(new RecurrentSpec(kind, lstm, inputSize, hiddenSize, numLayers, bias, bidirectional, projSize), false);
        this.batchFirst = batchFirst;
        this.dropout = dropout;
    }

    /** {@return the {@code inputSize} setting this layer was built with (PyTorch's name)} */
    public int inputSize() {
        return core.spec.inputSize();
    }

    /** {@return the {@code hiddenSize} setting this layer was built with (PyTorch's name)} */
    public int hiddenSize() {
        return core.spec.hiddenSize();
    }

    /** {@return the {@code numLayers} setting this layer was built with (PyTorch's name)} */
    public int numLayers() {
        return core.spec.numLayers();
    }

    /** {@return the {@code bias} setting this layer was built with (PyTorch's name)} */
    public boolean bias() {
        return core.spec.bias();
    }

    /** {@return the {@code batchFirst} setting this layer was built with (PyTorch's name)} */
    public boolean batchFirst() {
        return batchFirst;
    }

    /**
     * Accepted for PyTorch's signature; inference never drops (PyTorch applies it only in training).
     *
     * @return the dropout probability given
     */
    public double dropout() {
        return dropout;
    }

    /** {@return the {@code bidirectional} setting this layer was built with (PyTorch's name)} */
    public boolean bidirectional() {
        return core.spec.bidirectional();
    }

    /**
     * Parameters by state_dict name, PyTorch's order: per layer {@code k}, per direction ({@code _reverse}
     * for the backward one): {@code weight_ih_l<k>} {@code [G*hidden, in_k]}, {@code weight_hh_l<k>}
     * {@code [G*hidden, H_out]}, {@code bias_ih_l<k>}, {@code bias_hh_l<k>} {@code [G*hidden]} (with bias),
     * {@code weight_hr_l<k>} {@code [proj_size, hidden]} (LSTM with projection); G = 4 (LSTM: i, f, g, o) or
     * 3 (GRU: r, z, n), {@code in_0 = input_size}, {@code in_k = D * H_out} above. Live tensors: the reference
     * reads them at every call, the native path translates them at its first call; call
     * {@link #weightsChanged()} after writing them later.
     */
    @Override
    public Map<String, Tensor> parameters() {
        return core.parameters;
    }

    /**
     * Tells the native path that the parameters were written after its first call: the next call
     * translates them again (a call in flight finishes on the old translation).
     */
    public void weightsChanged() {
        checkOpen();
        core.weightsChanged();
    }

    /** {@code [T, N, D * H_out]} ({@code [N, T, ...]} with batch_first) for {@code [T, N, input_size]}; unbatched {@code [T, input_size]} too. */
    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        if ((inputShape.length != 2 && inputShape.length != 3) || inputShape[inputShape.length - 1] != inputSize()) {
            String batched = batchFirst ? "[N, T, " + inputSize() + "]" : "[T, N, " + inputSize() + "]";
            throw new IllegalArgumentException(label() + ": expected an input of shape " + batched + " or [T, " + inputSize()
                    + "] (unbatched), got " + Arrays.toString(inputShape));
        }
        long[] out = inputShape.clone();
        out[out.length - 1] = (long) core.spec.directions() * core.spec.outSize();
        return out;
    }

    /**
     * One ONNX {@code LSTM}/{@code GRU} node per layer ({@link RecurrentLowering}: the parameters
     * converted to ONNX's layout and gate order now, a snapshot), so a compiled plan runs the oneDNN
     * primitives directly; with a projection ({@code proj_size > 0}, which ONNX's LSTM cannot express)
     * a {@code Layer} node running this layer's own forward.
     */
    @Override
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String input, String path) {
        if (core.spec.projSize() > 0) return super.lower(graph, input, path);
        return RecurrentLowering.lower(this, graph, input, path);
    }

    /**
     * The graph values of a recurrent layer lowered with its states by
     * {@link #lower(dev.panamadnn.graph.GraphBuilder, String, String, String, String)}.
     *
     * @param output the output's value name ({@code [T, N, D*Hout]}, as {@code forward})
     * @param hN the final hidden state's value name ({@code [L*D, N, Hout]}; {@code [L*D, Hout]} unbatched)
     * @param cN the final cell state's value name (LSTM; {@code [L*D, N, H]}), null for a GRU
     */
    public record Lowered(String output, String hN, String cN) {}

    /**
     * {@code forward(input, h0, c0)} as graph ops: the layers as ONNX {@code LSTM}/{@code GRU} nodes (as
     * {@link #lower(dev.panamadnn.graph.GraphBuilder, String, String)}) fed each layer's rows of the initial states, and
     * the final states as values: what a streaming model needs to carry its state from one call of a compiled plan
     * to the next.
     *
     * @param graph the graph being built
     * @param input the input's value ({@code [T, N, I]}, {@code [N, T, I]} batch first, {@code [T, I]} unbatched)
     * @param h0 the initial hidden state's value ({@code [L*D, N, Hout]}; {@code [L*D, Hout]} unbatched), or null for zeros
     * @param c0 the initial cell state's value (LSTM only: {@code [L*D, N, H]}), or null for zeros
     * @param path this module's path in the model (node names)
     * @return the output's, final hidden state's and (LSTM) final cell state's value names
     * @throws dev.panamadnn.graph.GraphException if a shape or dtype does not fit (naming this layer, expected and given),
     *         or the layer has a projection ({@code proj_size > 0}, which compiles as {@code forward(x)} only)
     */
    public Lowered lower(dev.panamadnn.graph.GraphBuilder graph, String input, String h0, String c0, String path) {
        return lower(graph, input, h0, c0, null, path);
    }

    /**
     * {@code forward(input, h0, c0, lengths)} as graph ops: {@link #lower(dev.panamadnn.graph.GraphBuilder, String, String,
     * String, String)} with per-sequence lengths as a graph value (usually an integer graph input, so each run of a
     * compiled plan brings its own: a server batching requests of different lengths), PyTorch's
     * {@code pack_padded_sequence} semantics as in {@code forward}: outputs past a sequence's end are 0, the final
     * states are those at its last step.
     *
     * @param graph the graph being built
     * @param input the input's value ({@code [T, N, I]} or {@code [N, T, I]} batch first; batched)
     * @param h0 the initial hidden state's value, or null for zeros
     * @param c0 the initial cell state's value (LSTM only), or null for zeros
     * @param lengths the lengths' value: I32 {@code [N]} (ONNX's sequence_lens), each in [1, T] (checked on every run), or null
     *                for full length
     * @param path this module's path in the model (node names)
     * @return the output's, final hidden state's and (LSTM) final cell state's value names
     * @throws dev.panamadnn.graph.GraphException if a shape or dtype does not fit (naming this layer, expected and given),
     *         or the layer has a projection
     */
    public Lowered lower(dev.panamadnn.graph.GraphBuilder graph, String input, String h0, String c0, String lengths, String path) {
        if (graph == null || input == null || path == null) throw new IllegalArgumentException(label() + ": graph, input and path must not be null");
        String where = Lowering.where(path);
        if (core.spec.projSize() > 0) {
            throw new dev.panamadnn.graph.GraphException(where + ": " + label() + ": proj_size > 0 has no ONNX LSTM form; such a layer "
                    + "compiles as forward(x) only (a Layer node), without states");
        }
        if (c0 != null && !core.spec.lstm()) throw new dev.panamadnn.graph.GraphException(where + ": " + label() + ": a GRU has no cell state c0");
        Lowering.check(this, graph, input, path);
        dev.panamadnn.graph.Shape x = graph.value(input).shape();
        boolean unbatched = x.rank() == 2;
        dev.panamadnn.graph.Dim rows = dev.panamadnn.graph.Dim.of((long) numLayers() * core.spec.directions());
        dev.panamadnn.graph.Dim batch = unbatched ? null : x.dim(batchFirst ? 0 : 1);
        checkState(graph, where, "h0", h0, rows, batch, core.spec.outSize());
        checkState(graph, where, "c0", c0, rows, batch, hiddenSize());
        if (lengths != null) {
            dev.panamadnn.graph.Value v = graph.value(lengths);
            if (batch == null || !v.shape().equals(dev.panamadnn.graph.Shape.of(batch))
                    || v.dtype() != dev.panamadnn.DataType.I32) {
                throw new dev.panamadnn.graph.GraphException(where + ": " + label() + ": expected lengths i32"
                        + (batch == null ? " with a batched input (got an unbatched one, " + x + ")" : dev.panamadnn.graph.Shape.of(batch)
                        + " (one per sequence)") + ", got " + v);
            }
        }
        return RecurrentLowering.lower(this, graph, input, h0, c0, lengths, path, true);
    }

    private void checkState(dev.panamadnn.graph.GraphBuilder graph, String where, String what, String value, dev.panamadnn.graph.Dim rows,
                            dev.panamadnn.graph.Dim batch, int size) {
        if (value == null) return;
        dev.panamadnn.graph.Value v = graph.value(value);
        dev.panamadnn.graph.Shape want = batch == null ? dev.panamadnn.graph.Shape.of(rows, dev.panamadnn.graph.Dim.of(size))
                : dev.panamadnn.graph.Shape.of(rows, batch, dev.panamadnn.graph.Dim.of(size));
        if (!v.shape().equals(want) || v.dtype() != dev.panamadnn.DataType.F32) {
            throw new dev.panamadnn.graph.GraphException(where + ": " + label() + ": expected " + what + " f32" + want
                    + (batch == null ? " (num_layers * num_directions, hidden) for an unbatched input" : " (num_layers * num_directions, N, hidden)")
                    + ", got " + v);
        }
    }

    /**
     * {@code forward}'s output only: written straight into {@code out} (a new output for {@code forward(x)}, the caller's for
     * {@code forwardInto}), the final states into memory of this call (a confined arena: closing it costs no JDK handshake,
     * where the two owned state tensors cost one each, tens of microseconds with many threads; docs/safety.md).
     */
    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        Call call = prepare(input, null, null, null);
        try (Arena states = Arena.ofConfined()) {
            Tensor hn = Tensor.allocate(states, DataType.F32, call.hShape());
            Tensor cn = call.cShape() == null ? null : Tensor.allocate(states, DataType.F32, call.cShape());
            core.runInto(label(), input, call.seq(), null, null, null, backend, out, hn, cn);   // no lengths: every row written
        }
    }

    /**
     * The full call: validates everything (input, states, lengths) before any native call, then
     * runs. {@code c0} must be null for a GRU.
     */
    final RecurrentOutput forwardWithState(Tensor input, Tensor h0, Tensor c0, int[] lengths, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(label() + ": backend must not be null");
        checkOpen();
        stateCalls.enter(this);
        try {
            checkInput(input);
            int[] fixed = lengths == null ? null : lengths.clone();   // checked and used as one snapshot
            Call call = prepare(input, h0, c0, fixed);
            return RecurrentCore.namingFreed(label(), () -> call.run(core, input, h0, c0, fixed, backend), input, h0, c0);
        } finally {
            stateCalls.exit();
        }
    }

    /** A validated call: the layout and the shapes of its results. */
    private record Call(String label, RecurrentCore.Sequence seq, long[] outShape, long[] hShape, long[] cShape) {
        RecurrentOutput run(RecurrentCore core, Tensor input, Tensor h0, Tensor c0, int[] lengths, Backend backend) {
            return core.run(label, input, seq, h0, c0, lengths, backend, outShape, hShape, cShape);
        }
    }

    /** Checks the states and lengths against the (already checked) input. */
    private Call prepare(Tensor input, Tensor h0, Tensor c0, int[] lengths) {
        RecurrentSpec s = core.spec;
        boolean unbatched = input.rank() == 2;
        long steps = input.dim(unbatched || !batchFirst ? 0 : 1), batch = unbatched ? 1 : input.dim(batchFirst ? 0 : 1);
        RecurrentCore.Sequence seq = new RecurrentCore.Sequence(steps, batch, batchFirst && !unbatched);
        long stacks = (long) s.numLayers() * s.directions();
        long[] hShape = unbatched ? new long[] {stacks, s.outSize()} : new long[] {stacks, batch, s.outSize()};
        long[] cShape = unbatched ? new long[] {stacks, s.hiddenSize()} : new long[] {stacks, batch, s.hiddenSize()};
        RecurrentCore.checkTensor(label(), "h0", h0, hShape);
        if (s.lstm()) {
            RecurrentCore.checkTensor(label(), "c0", c0, cShape);
            if ((h0 == null) != (c0 == null)) {
                throw new IllegalArgumentException(label() + ": expected h0 and c0 together (or neither), got "
                        + (h0 == null ? "c0 without h0" : "h0 without c0"));
            }
        } else if (c0 != null) {
            throw new IllegalArgumentException(label() + ": a GRU has no cell state, got c0 " + c0);
        }
        if (lengths != null && unbatched) {
            throw new IllegalArgumentException(label() + ": lengths need a batched input, got an unbatched one of shape "
                    + Arrays.toString(input.shape()));
        }
        RecurrentCore.checkLengths(label(), lengths, seq);
        return new Call(label(), seq, outputShape(input.shape()), hShape, s.lstm() ? cShape : null);
    }

    @Override
    void release() {
        stateCalls.close();
        core.close();
    }

    /** PyTorch's repr arguments after the sizes: {@code , proj_size=3, num_layers=2, ...} (defaults omitted). */
    String reprOptions() {
        RecurrentSpec s = core.spec;
        StringBuilder sb = new StringBuilder();
        if (s.projSize() > 0) sb.append(", proj_size=").append(s.projSize());
        if (s.numLayers() != 1) sb.append(", num_layers=").append(s.numLayers());
        if (!s.bias()) sb.append(", bias=False");
        if (batchFirst) sb.append(", batch_first=True");
        if (dropout != 0) sb.append(", dropout=").append(Modules.pyFloat(dropout));
        if (s.bidirectional()) sb.append(", bidirectional=True");
        return sb.toString();
    }

    @Override
    public String toString() {
        return core.spec.layer() + "(" + inputSize() + ", " + hiddenSize() + reprOptions() + ")";
    }
}
