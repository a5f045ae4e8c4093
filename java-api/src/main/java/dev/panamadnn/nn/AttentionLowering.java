package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Multi-head attention ({@link MultiheadAttention#forward(Tensor, Tensor, Tensor, AttentionMask, boolean, AttentionMask,
 * boolean, Backend)}; masks by {@link GraphMasks}) as graph ops, as torch.onnx writes it: the query's
 * rows {@code [L*N, E]}, the key's {@code [S*N, kdim]} and the value's {@code [S*N, vdim]} (one reshape per
 * distinct input: self-attention projects the same rows three times) each through a {@code Gemm} (transB = 1)
 * on its projection (its slice of {@code in_proj_weight}, or {@code q/k/v_proj_weight}, and of
 * {@code in_proj_bias}; copied once, graph-owned), reshaped to {@code [L, N, H, hd]} ({@code [N, L, H, hd]}
 * batch first) and transposed to heads {@code [N, H, L, hd]} (keys to {@code [N, H, hd, S]}); {@code MatMul},
 * {@code Mul} by 1/sqrt(hd), the masks added, {@code Softmax} on the last axis, {@code MatMul} with the values;
 * the heads transposed back, merged into rows and through {@code out_proj} ({@code Gemm}); reshaped to the
 * query's shape. With weights asked for, the softmax's {@code [N, H, L, S]} is a second output, averaged over
 * the heads by {@code ReduceMean} (axis 1) when asked ({@code [N, L, S]}); unbatched inputs are a batch of one
 * and the weights lose that axis ({@code [L, S]} or {@code [H, L, S]}), as in PyTorch.
 */
final class AttentionLowering {
    private AttentionLowering() {}

    /**
     * Projections as graph-owned copies: {@code weights[i]} {@code [E, in_i]} (in: E, kdim, vdim), {@code biases[i]}
     * {@code [E]} or null.
     */
    record Projections(float[][] weights, float[][] biases, int embedDim, int numHeads, boolean batchFirst) {
        /** The input width of projection {@code i} (0 query, 1 key, 2 value). */
        int width(int i) {
            return weights[i].length / embedDim;
        }
    }

    /** Self-attention (query = key = value = {@code input}) with {@code masks}; {@code who} names the module in errors. */
    static String selfAttention(GraphBuilder graph, String input, String path, Projections p, Linear outProj, GraphMasks masks, String who) {
        return attention(graph, input, input, input, path, p, outProj, masks, who, false, false).output();
    }

    /**
     * Attention of {@code query} over {@code key} and {@code value} (shapes checked by the caller: same rank, batch
     * and layout; key and value of one length), with {@code masks} added to the scaled scores
     * ({@link AttentionMaskLowering}) and, with {@code needWeights}, the softmax as a second output (averaged over
     * the heads with {@code average}).
     */
    static MultiheadAttention.Lowered attention(GraphBuilder graph, String query, String key, String value, String path, Projections p, Linear outProj,
                             GraphMasks masks, String who, boolean needWeights, boolean average) {
        Shape x = graph.value(query).shape();
        boolean batched = x.rank() == 3, bf = p.batchFirst() && batched;
        Dim steps = x.dim(bf ? 1 : 0), batch = batched ? x.dim(bf ? 0 : 1) : Dim.of(1);
        Dim keySteps = graph.value(key).shape().dim(bf ? 1 : 0);
        int e = p.embedDim(), h = p.numHeads(), hd = e / h;
        String[] inputs = {query, key, value};
        String[] names = {"q", "k", "v"};
        String[] heads = new String[3];
        java.util.Map<String, String> rowsOf = new java.util.HashMap<>();
        for (int i = 0; i < 3; i++) {
            Dim len = i == 0 ? steps : keySteps;
            int width = p.width(i);
            String rows = rowsOf.get(inputs[i] + "/" + width);
            if (rows == null) {
                rows = Lowering.reshape(graph, inputs[i], Lowering.join(path, i == 0 ? "rows" : names[i] + "_rows"),
                        Shape.of(len.times(batch), Dim.of(width)));
                rowsOf.put(inputs[i] + "/" + width, rows);
            }
            String w = graph.initializer(graph.uniqueName(Lowering.join(path, names[i] + "_proj.weight")), tensor(p.weights()[i], e, width));
            String y = p.biases()[i] == null ? graph.node("Gemm", Lowering.join(path, names[i] + "_proj"), Attributes.of("transB", 1L), rows, w)
                    : graph.node("Gemm", Lowering.join(path, names[i] + "_proj"), Attributes.of("transB", 1L), rows, w,
                    graph.initializer(graph.uniqueName(Lowering.join(path, names[i] + "_proj.bias")), tensor(p.biases()[i], e)));
            Shape split = bf ? Shape.of(batch, len, Dim.of(h), Dim.of(hd)) : Shape.of(len, batch, Dim.of(h), Dim.of(hd));
            String r = Lowering.reshape(graph, y, Lowering.join(path, names[i] + "_heads"), split);
            long[] perm = i == 1 ? (bf ? new long[] {0, 2, 3, 1} : new long[] {1, 2, 3, 0}) : (bf ? new long[] {0, 2, 1, 3} : new long[] {1, 2, 0, 3});
            heads[i] = graph.node("Transpose", Lowering.join(path, names[i] + "_transpose"), Attributes.of("perm", perm), r);
        }
        String scores = graph.node("MatMul", Lowering.join(path, "scores"), Attributes.empty(), heads[0], heads[1]);
        String scale = graph.initializer(graph.uniqueName(Lowering.join(path, "scale")), tensor(new float[] {(float) (1 / Math.sqrt(hd))}, 1));
        String scaled = graph.node("Mul", Lowering.join(path, "scaled"), Attributes.empty(), scores, scale);
        String mask = AttentionMaskLowering.additive(graph, path, who, masks, batch, steps, keySteps, h, batched);
        if (mask != null) scaled = graph.node("Add", Lowering.join(path, "masked"), Attributes.empty(), scaled, mask);
        String probs = graph.node("Softmax", Lowering.join(path, "softmax"), Attributes.of("axis", -1L), scaled);
        String attended = graph.node("MatMul", Lowering.join(path, "attend"), Attributes.empty(), probs, heads[2]);
        long[] back = bf ? new long[] {0, 2, 1, 3} : new long[] {2, 0, 1, 3};
        String merged = graph.node("Transpose", Lowering.join(path, "merge"), Attributes.of("perm", back), attended);
        String mergedRows = Lowering.reshape(graph, merged, Lowering.join(path, "merged_rows"), Shape.of(steps.times(batch), Dim.of(e)));
        String out = outProj.lower(graph, mergedRows, Lowering.join(path, "out_proj"));
        String output = Lowering.reshape(graph, out, Lowering.join(path, "unrows"), x);   // the query's shape (its last dim is E)
        if (!needWeights) return new MultiheadAttention.Lowered(output, null);
        String weights = probs;
        if (average) {
            weights = graph.node("ReduceMean", Lowering.join(path, "weights_averaged"), Attributes.of("axes", new long[] {1}, "keepdims", 0L), probs);
        }
        if (!batched) {
            weights = Lowering.reshape(graph, weights, Lowering.join(path, "weights_unbatched"),
                    average ? Shape.of(steps, keySteps) : Shape.of(Dim.of(h), steps, keySteps));
        }
        return new MultiheadAttention.Lowered(output, weights);
    }

    /** A graph-owned F32 tensor (freed by the garbage collector once the graph is unreachable). */
    static Tensor tensor(float[] values, long... shape) {
        return Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_FLOAT, values), DataType.F32, shape);
    }

    /** Rows {@code [from, from + count)} of a row-major {@code [*, width]} segment. */
    static float[] rows(MemorySegment s, long from, long count, long width) {
        return s.asSlice(from * width * Float.BYTES, count * width * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
    }
}
