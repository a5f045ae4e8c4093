package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code MatMul(Transpose(x), b)} or {@code MatMul(a, Transpose(y))} → the MatMul reading {@code x} (or {@code y})
 * through a strided view ({@link PlanGraph#PERM_A}, {@link PlanGraph#PERM_B}), where oneDNN's matmul reads such a view
 * as fast as a plain operand: as A when the transpose keeps the last dim in place (A's rows stay contiguous, only their
 * leading dimension and the batch strides change: attention's {@code q} as [N, heads, L, d] over a [L, N, heads, d]
 * projection), as B when it moves the last dim to the reduction dim (a transposed B, which the matmul kernels copy into
 * their own blocks anyway: attention's {@code k^T}). A view B with its columns contiguous but a longer leading
 * dimension ({@code v} as [N, heads, L, d]) is not folded: measured 2.3 ms against 0.8 plain (2-vCPU AMD EPYC, AVX2,
 * [8, 8, 128, 128] x [8, 8, 128, 64]), where the transpose costs 0.12. The lowering reorders the operand after all
 * when its source is not plain or oneDNN has only its reference kernel for the view. Both operands of the same rank
 * with the same batch dims (no broadcasting), the transpose read by this MatMul only. Likewise
 * {@code Transpose(MatMul(a, b))} keeping the last dim last ({@link PlanGraph#PERM_DST}): the product is written through
 * a strided view of the transposed result (its rows stay contiguous; measured as fast as a plain one: attention's
 * [N, heads, L, d] result merged into [L, N, heads, d]).
 */
final class FoldTransposeMatMul implements Rewrite {
    @Override
    public String name() {
        return "fold_transpose_matmul";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.fusePostOps();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        operands(g);
        results(g);
    }

    /** {@code Transpose(MatMul(a, b))} keeping the last dim last: the product written through a strided view of the transposed result. */
    private void results(PlanGraph g) {
        for (Node t : new ArrayList<>(g.nodes)) {
            if (!t.op().equals("Transpose")) continue;
            String product = t.input(0);
            Node mm = g.producer(product);
            if (mm == null || !mm.op().equals("MatMul") || mm.attributes().has(PlanGraph.PERM_DST) || g.uses(product) != 1) continue;
            int r = g.shape(product).rank();
            if (r < 3 || r > 5 || g.shape(mm.input(0)).rank() != r || g.shape(mm.input(1)).rank() != r) continue;   // no 1-D operand
            long[] perm = perm(t, r);
            if (perm[r - 1] != r - 1) continue;
            g.replace(mm, PlanGraph.rebuilt(mm, mm.inputs(), mm.attributes().toBuilder().put(PlanGraph.PERM_DST, perm)
                    .put(PlanGraph.FUSED, PlanGraph.fused(mm, t.name())).build(), t.output()));
            g.remove(t);
            g.fired.add(name() + ": " + t.name() + " into " + mm.name() + " (result)");
        }
    }

    /** A {@code Transpose}'s permutation of its rank-{@code r} input: its {@code perm}, by default the dims reversed (ONNX's rule). */
    static long[] perm(Node t, int r) {
        long[] perm = t.attributes().integers("perm", null);
        if (perm == null) {
            perm = new long[r];
            for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        }
        return perm;
    }

    private void operands(PlanGraph g) {
        for (Node original : new ArrayList<>(g.nodes)) {
            if (!original.op().equals("MatMul")) continue;
            Node mm = original;
            for (int side = 0; side < 2; side++) {
                String key = side == 0 ? PlanGraph.PERM_A : PlanGraph.PERM_B;
                String v = mm.input(side);
                Node t = v == null ? null : g.producer(v);
                if (t == null || !t.op().equals("Transpose") || mm.attributes().has(key) || g.uses(v) != 1 || g.isConstant(v)
                        || v.equals(mm.input(1 - side))) {   // x^T @ x^T: the other side still reads the transpose
                    continue;
                }
                long[] shape = g.shape(v).sizes(), other = g.shape(mm.input(1 - side)).sizes();
                long[] otherPerm = mm.attributes().integers(side == 0 ? PlanGraph.PERM_B : PlanGraph.PERM_A, null);
                if (otherPerm != null) other = LowerMatMul.permute(other, otherPerm);   // A already folded: the dims the product reads
                int r = shape.length;
                if (r < 2 || r > 5 || other.length != r || g.shape(t.input(0)).rank() != r) continue;
                if (!Arrays.equals(Arrays.copyOf(shape, r - 2), Arrays.copyOf(other, r - 2))) continue;   // no broadcast
                long[] perm = perm(t, r);
                if (side == 0 ? perm[r - 1] != r - 1 : perm[r - 2] != r - 1) continue;
                List<String> inputs = new ArrayList<>(mm.inputs());
                inputs.set(side, t.input(0));
                Node folded = PlanGraph.rebuilt(mm, inputs, mm.attributes().toBuilder().put(key, perm).put(PlanGraph.FUSED, PlanGraph.fused(mm, t.name())).build(), mm.output());
                g.replace(mm, folded);
                g.remove(t);
                g.fired.add(name() + ": " + t.name() + " into " + mm.name() + (side == 0 ? " (A)" : " (B)"));
                mm = folded;
            }
        }
    }
}
