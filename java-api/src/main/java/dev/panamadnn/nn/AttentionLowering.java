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
 * Self-attention ({@link MultiheadAttention#forward(Tensor)}: query = key = value; masks by {@link GraphMasks}) as
 * graph ops, as torch.onnx writes it: per projection the input's rows {@code [L*N, E]} through a
 * {@code Gemm} (transB = 1) on its slice of {@code in_proj_weight} / {@code in_proj_bias} (copied once,
 * graph-owned), reshaped to {@code [L, N, H, hd]} ({@code [N, L, H, hd]} batch first) and transposed to
 * heads {@code [N, H, L, hd]} (keys to {@code [N, H, hd, S]}); {@code MatMul}, {@code Mul} by
 * 1/sqrt(hd), {@code Softmax} on the last axis, {@code MatMul} with the values; the heads transposed
 * back, merged into rows and through {@code out_proj} ({@code Gemm}); reshaped to the input's shape.
 * Unbatched {@code [L, E]} is a batch of one.
 */
final class AttentionLowering {
    private AttentionLowering() {}

    /** Projections as graph-owned copies: {@code weights[i]} {@code [E, in]}, {@code biases[i]} {@code [E]} or null. */
    record Projections(float[][] weights, float[][] biases, int embedDim, int numHeads, boolean batchFirst) {}

    static String selfAttention(GraphBuilder graph, String input, String path, Projections p, Linear outProj) {
        return selfAttention(graph, input, path, p, outProj, GraphMasks.none(), "MultiheadAttention");
    }

    /** As above, with {@code masks} added to the scaled scores ({@link AttentionMaskLowering}); {@code who} names the module in errors. */
    static String selfAttention(GraphBuilder graph, String input, String path, Projections p, Linear outProj, GraphMasks masks, String who) {
        Shape x = graph.value(input).shape();
        boolean batched = x.rank() == 3, bf = p.batchFirst() && batched;
        Dim steps = x.dim(bf ? 1 : 0), batch = batched ? x.dim(bf ? 0 : 1) : Dim.of(1);
        int e = p.embedDim(), h = p.numHeads(), hd = e / h;
        Dim rowCount = steps.times(batch);
        String rows = Lowering.reshape(graph, input, Lowering.join(path, "rows"), Shape.of(rowCount, Dim.of(e)));
        Shape split = bf ? Shape.of(batch, steps, Dim.of(h), Dim.of(hd)) : Shape.of(steps, batch, Dim.of(h), Dim.of(hd));
        String[] names = {"q", "k", "v"};
        String[] heads = new String[3];
        for (int i = 0; i < 3; i++) {
            String w = graph.initializer(graph.uniqueName(Lowering.join(path, names[i] + "_proj.weight")), tensor(p.weights()[i], e, e));
            String y = p.biases()[i] == null ? graph.node("Gemm", Lowering.join(path, names[i] + "_proj"), Attributes.of("transB", 1L), rows, w)
                    : graph.node("Gemm", Lowering.join(path, names[i] + "_proj"), Attributes.of("transB", 1L), rows, w,
                    graph.initializer(graph.uniqueName(Lowering.join(path, names[i] + "_proj.bias")), tensor(p.biases()[i], e)));
            String r = Lowering.reshape(graph, y, Lowering.join(path, names[i] + "_heads"), split);
            long[] perm = i == 1 ? (bf ? new long[] {0, 2, 3, 1} : new long[] {1, 2, 3, 0}) : (bf ? new long[] {0, 2, 1, 3} : new long[] {1, 2, 0, 3});
            heads[i] = graph.node("Transpose", Lowering.join(path, names[i] + "_transpose"), Attributes.of("perm", perm), r);
        }
        String scores = graph.node("MatMul", Lowering.join(path, "scores"), Attributes.empty(), heads[0], heads[1]);
        String scale = graph.initializer(graph.uniqueName(Lowering.join(path, "scale")), tensor(new float[] {(float) (1 / Math.sqrt(hd))}, 1));
        String scaled = graph.node("Mul", Lowering.join(path, "scaled"), Attributes.empty(), scores, scale);
        String mask = AttentionMaskLowering.additive(graph, path, who, masks, batch, steps, h, batched);
        if (mask != null) scaled = graph.node("Add", Lowering.join(path, "masked"), Attributes.empty(), scaled, mask);
        String probs = graph.node("Softmax", Lowering.join(path, "softmax"), Attributes.of("axis", -1L), scaled);
        String attended = graph.node("MatMul", Lowering.join(path, "attend"), Attributes.empty(), probs, heads[2]);
        long[] back = bf ? new long[] {0, 2, 1, 3} : new long[] {2, 0, 1, 3};
        String merged = graph.node("Transpose", Lowering.join(path, "merge"), Attributes.of("perm", back), attended);
        String mergedRows = Lowering.reshape(graph, merged, Lowering.join(path, "merged_rows"), Shape.of(rowCount, Dim.of(e)));
        String out = outProj.lower(graph, mergedRows, Lowering.join(path, "out_proj"));
        return Lowering.reshape(graph, out, Lowering.join(path, "unrows"), x);
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
