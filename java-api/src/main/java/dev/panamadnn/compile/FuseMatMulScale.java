package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Mul(MatMul(a, b), c)}, {@code Mul(c, MatMul(a, b))} or {@code Div(MatMul(a, b), c)} with {@code c} a constant
 * F32 scalar → the MatMul with {@code c} as a fourth input ({@link PlanGraph#SCALE_OP}), applied by a binary post-op of
 * the matmul primitive: attention's {@code (q k^T) * scale}, or a projection scaled after its bias. The post-op
 * multiplies (divides) each result by the same float as the separate step would, so the result is bit-identical; it
 * saves a pass over the product (at attention's [N, heads, L, L] scores, a write and a read of the largest tensor of
 * the block). Needs the product read only by the Mul or Div and no scale fused yet; runs after {@code fuse_matmul_bias}
 * (the bias comes first, as in the graph) and before {@code fuse_activation} (so no activation is fused yet either).
 */
final class FuseMatMulScale implements Rewrite {
    @Override
    public String name() {
        return "fuse_matmul_scale";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.fusePostOps();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node scale : new ArrayList<>(g.nodes)) {
            boolean div = scale.op().equals("Div");
            if (!div && !scale.op().equals("Mul") || scale.inputs().size() != 2) continue;
            for (int side = 0; side < (div ? 1 : 2); side++) {   // x / c only: c / x is no post-op
                String product = scale.input(side), c = scale.input(1 - side);
                Node mm = g.producer(product);
                if (mm == null || !mm.op().equals("MatMul") || mm.inputs().size() > 3 || g.uses(product) != 1 || c == null || !scalar(g, c)) {
                    continue;
                }
                Shape out = g.value(product).shape();
                if (!g.value(scale.output()).shape().equals(out) || g.shape(c).rank() > out.rank() || g.value(product).dtype() != DataType.F32) continue;
                String bias = mm.inputs().size() > 2 && mm.input(2) != null ? mm.input(2) : "";
                g.replace(mm, PlanGraph.rebuilt(mm, List.of(mm.input(0), mm.input(1), bias, c), mm.attributes().toBuilder()
                        .put(PlanGraph.SCALE_OP, scale.op()).put(PlanGraph.FUSED, PlanGraph.fused(mm, scale.name())).build(), scale.output()));
                g.remove(scale);
                g.fired.add(name() + ": " + scale.name() + " into " + mm.name());
                break;
            }
        }
    }

    /** Whether {@code c} is a constant F32 holding one value. */
    static boolean scalar(PlanGraph g, String c) {
        if (!g.isConstant(c)) return false;
        for (long d : g.shape(c).sizes()) if (d != 1) return false;
        if (g.computed.containsKey(c)) return true;   // a rule's result: F32
        dev.panamadnn.Tensor t = g.tensor(c);
        return t != null && t.dtype() == DataType.F32;
    }
}
