package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.internal.lowering.RnnWeights;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link LSTM} and {@link GRU} as ONNX {@code LSTM} / {@code GRU} nodes, one per layer, as
 * {@code torch.onnx} exports them: the parameters converted once to ONNX's layout and gate order
 * (W {@code [D, G*H, in]}, R {@code [D, G*H, H]}, B {@code [D, 2*G*H]} = b_ih then b_hh; LSTM gates
 * i, o, f, c from PyTorch's i, f, g, o, GRU z, r, h from r, z, n; GRU with
 * {@code linear_before_reset = 1}, PyTorch's formula). Those copies belong to the graph (freed by the
 * garbage collector with it) and are a snapshot: later writes to the parameters do not reach it.
 *
 * <p>batch_first is {@code layout = 1}, whose Y {@code [N, T, D, H]} is the next layer's
 * {@code [N, T, D*H]} by a Reshape; with {@code layout = 0} Y is {@code [T, D, N, H]}: one direction
 * is a Reshape, two are a Split on the direction axis and a Concat on the feature axis first.
 * Unbatched {@code [T, I]} runs as a batch of one. A projection ({@code proj_size > 0}) has no ONNX
 * form: that layer stays a {@code Layer} node running its own forward.
 */
final class RecurrentLowering {
    private RecurrentLowering() {}

    static String lower(RecurrentLayer layer, GraphBuilder graph, String input, String path) {
        return lower(layer, graph, input, null, null, null, path, false).output();
    }

    /**
     * The layers as nodes, with initial states {@code h0} / {@code c0} (graph values {@code [L*D, N, Hout]} /
     * {@code [L*D, N, H]}, {@code [L*D, H]} unbatched; null: zeros) and, with {@code states}, the final states as
     * values of the same shapes: each layer's rows of h0 / c0 ({@code Slice} on axis 0; {@code Transpose} to
     * {@code [N, D, H]} for layout 1) as its {@code initial_h} / {@code initial_c}, its {@code Y_h} / {@code Y_c} back in
     * PyTorch's order and the layers' {@code Concat} on axis 0; {@code lengths} (an integer value {@code [N]}, or null)
     * is every layer's {@code sequence_lens}. Shapes are checked by the caller.
     */
    static RecurrentLayer.Lowered lower(RecurrentLayer layer, GraphBuilder graph, String input, String h0, String c0, String lengths,
                                        String path, boolean states) {
        RecurrentSpec s = layer.core.spec;
        Lowering.check(layer, graph, input, path);
        Shape x = graph.value(input).shape();
        boolean unbatched = x.rank() == 2;
        int layout = layer.batchFirst() && !unbatched ? 1 : 0, dirs = s.directions(), h = s.hiddenSize();
        String seq = input;
        if (unbatched) {
            seq = Lowering.reshape(graph, input, Lowering.join(path, "unsqueeze"), Shape.of(x.dim(0), Dim.of(1), x.dim(1)));
            if (h0 != null) h0 = batchOfOne(graph, h0, Lowering.join(path, "h0_unsqueeze"));
            if (c0 != null) c0 = batchOfOne(graph, c0, Lowering.join(path, "c0_unsqueeze"));
        }
        String op = s.lstm() ? "LSTM" : "GRU";
        int[] order = s.lstm() ? RnnWeights.LSTM_ONNX_FROM_PYTORCH : RnnWeights.GRU_ONNX_FROM_PYTORCH;
        int outputs = states ? (s.lstm() ? 3 : 2) : 1;
        List<String> hN = new ArrayList<>(), cN = new ArrayList<>();
        for (int k = 0; k < s.numLayers(); k++) {
            String name = s.numLayers() == 1 ? path : Lowering.join(path, "l" + k);
            int in = s.layerInput(k), gh = s.gates() * h;
            float[] w = new float[dirs * gh * in], r = new float[dirs * gh * h], b = new float[dirs * 2 * gh];
            for (int d = 0; d < dirs; d++) {
                RecurrentSpec.DirectionWeights p = layer.core.weights.get(k * dirs + d);
                System.arraycopy(RnnWeights.permuteGates(p.wih().toFloatArray(), h, in, order), 0, w, d * gh * in, gh * in);
                System.arraycopy(RnnWeights.permuteGates(p.whh().toFloatArray(), h, h, order), 0, r, d * gh * h, gh * h);
                if (s.bias()) {
                    System.arraycopy(RnnWeights.permuteGates(p.bih().toFloatArray(), h, 1, order), 0, b, d * 2 * gh, gh);
                    System.arraycopy(RnnWeights.permuteGates(p.bhh().toFloatArray(), h, 1, order), 0, b, d * 2 * gh + gh, gh);
                }
            }
            String wName = graph.initializer(graph.uniqueName(Lowering.join(name, "W")), tensor(w, dirs, gh, in));
            String rName = graph.initializer(graph.uniqueName(Lowering.join(name, "R")), tensor(r, dirs, gh, h));
            String bName = s.bias() ? graph.initializer(graph.uniqueName(Lowering.join(name, "B")), tensor(b, dirs, 2L * gh)) : "";
            Attributes.Builder a = Attributes.builder().put("hidden_size", (long) h).put("layout", (long) layout)
                    .put("direction", dirs == 2 ? "bidirectional" : "forward");
            if (!s.lstm()) a.put("linear_before_reset", 1L);
            List<String> inputs = new ArrayList<>(List.of(seq, wName, rName, bName));
            if (h0 != null || c0 != null || lengths != null) {
                inputs.add(lengths == null ? "" : lengths);   // sequence_lens: every layer's node reads the same lengths
                inputs.add(h0 == null ? "" : layerState(graph, h0, k, dirs, s.numLayers(), layout, Lowering.join(name, "initial_h")));
                if (s.lstm()) inputs.add(c0 == null ? "" : layerState(graph, c0, k, dirs, s.numLayers(), layout, Lowering.join(name, "initial_c")));
            }
            List<String> ys = graph.node(op, name, a.build(), inputs, outputs);
            seq = mergeDirections(graph, ys.get(0), layout, dirs, name);
            if (states) {
                hN.add(layout == 1 ? transpose(graph, ys.get(1), Lowering.join(name, "Y_h_dnh")) : ys.get(1));
                if (s.lstm()) cN.add(layout == 1 ? transpose(graph, ys.get(2), Lowering.join(name, "Y_c_dnh")) : ys.get(2));
            }
        }
        if (unbatched) {
            Shape out = graph.value(seq).shape();
            seq = Lowering.reshape(graph, seq, Lowering.join(path, "squeeze"), Shape.of(out.dim(0), out.dim(2)));
        }
        if (!states) return new RecurrentLayer.Lowered(seq, null, null);
        return new RecurrentLayer.Lowered(seq, stack(graph, hN, unbatched, Lowering.join(path, "h_n")),
                s.lstm() ? stack(graph, cN, unbatched, Lowering.join(path, "c_n")) : null);
    }

    /** {@code [L*D, H]} as {@code [L*D, 1, H]}. */
    private static String batchOfOne(GraphBuilder graph, String state, String name) {
        Shape t = graph.value(state).shape();
        return Lowering.reshape(graph, state, name, Shape.of(t.dim(0), Dim.of(1), t.dim(1)));
    }

    /** Layer {@code k}'s rows {@code [k*D, (k+1)*D)} of a {@code [L*D, N, H]} state, as the node's {@code initial_h/c}. */
    private static String layerState(GraphBuilder graph, String state, int k, int dirs, int layers, int layout, String name) {
        String rows = layers == 1 ? state : graph.node("Slice", name, Attributes.empty(), state, graph.constant(graph.uniqueName(name + ".starts"),
                (long) k * dirs), graph.constant(graph.uniqueName(name + ".ends"), (long) (k + 1) * dirs),
                graph.constant(graph.uniqueName(name + ".axes"), 0L));
        return layout == 1 ? transpose(graph, rows, name + "_ndh") : rows;
    }

    /** {@code [A, B, H]} as {@code [B, A, H]} (layout 1's states are {@code [N, D, H]}). */
    private static String transpose(GraphBuilder graph, String value, String name) {
        return graph.node("Transpose", name, Attributes.of("perm", new long[] {1, 0, 2}), value);
    }

    /** The layers' {@code [D, N, H]} final states as {@code [L*D, N, H]} ({@code [L*D, H]} unbatched). */
    private static String stack(GraphBuilder graph, List<String> perLayer, boolean unbatched, String name) {
        String all = perLayer.size() == 1 ? perLayer.get(0)
                : graph.node("Concat", name, Attributes.of("axis", 0L), perLayer.toArray(String[]::new));
        if (!unbatched) return all;
        Shape t = graph.value(all).shape();
        return Lowering.reshape(graph, all, name + "_unbatched", Shape.of(t.dim(0), t.dim(2)));
    }

    /** Y as PyTorch's output {@code [T, N, D*H]} ({@code [N, T, D*H]} for layout 1). */
    private static String mergeDirections(GraphBuilder graph, String y, int layout, int dirs, String name) {
        Shape s = graph.value(y).shape();
        Dim h = s.dim(3);
        if (layout == 1) return Lowering.reshape(graph, y, Lowering.join(name, "merge"), Shape.of(s.dim(0), s.dim(1), h.times(dirs)));
        if (dirs == 2) {
            List<String> parts = graph.node("Split", Lowering.join(name, "split"), Attributes.of("axis", 1L, "num_outputs", 2L), List.of(y), 2);
            y = graph.node("Concat", Lowering.join(name, "concat"), Attributes.of("axis", 3L), parts.get(0), parts.get(1));
        }
        return Lowering.reshape(graph, y, Lowering.join(name, "merge"), Shape.of(s.dim(0), s.dim(2), h.times(dirs)));
    }

    /** A graph-owned F32 tensor (freed by the garbage collector once the graph is unreachable). */
    private static Tensor tensor(float[] values, long... shape) {
        return Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_FLOAT, values), DataType.F32, shape);
    }
}
