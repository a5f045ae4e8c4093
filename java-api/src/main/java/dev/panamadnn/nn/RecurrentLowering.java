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
        RecurrentSpec s = layer.core.spec;
        Lowering.check(layer, graph, input, path);
        Shape x = graph.value(input).shape();
        boolean unbatched = x.rank() == 2;
        int layout = layer.batchFirst() && !unbatched ? 1 : 0, dirs = s.directions(), h = s.hiddenSize();
        String seq = input;
        if (unbatched) seq = Lowering.reshape(graph, input, Lowering.join(path, "unsqueeze"), Shape.of(x.dim(0), Dim.of(1), x.dim(1)));
        String op = s.lstm() ? "LSTM" : "GRU";
        int[] order = s.lstm() ? RnnWeights.LSTM_ONNX_FROM_PYTORCH : RnnWeights.GRU_ONNX_FROM_PYTORCH;
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
            String y = graph.node(op, name, a.build(), List.of(seq, wName, rName, bName), 1).get(0);
            seq = mergeDirections(graph, y, layout, dirs, name);
        }
        if (!unbatched) return seq;
        Shape out = graph.value(seq).shape();
        return Lowering.reshape(graph, seq, Lowering.join(path, "squeeze"), Shape.of(out.dim(0), out.dim(2)));
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
