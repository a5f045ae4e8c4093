package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Add(MatMul(a, b), c)} with {@code c} a constant that broadcasts into the product → the
 * MatMul with {@code c} as a third input, added by a binary post-op of the matmul primitive (how
 * exporters write a Linear layer on a 3-D input, e.g. a transformer's projections). Needs the
 * product read only by the Add, and runs before {@code fuse_activation}, so a following activation
 * is fused after the bias.
 */
final class FuseMatMulBias implements Rewrite {
    @Override
    public String name() {
        return "fuse_matmul_bias";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.fusePostOps();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node add : new ArrayList<>(g.nodes)) {
            if (!add.op().equals("Add")) continue;
            for (int side = 0; side < 2; side++) {
                String product = add.input(side), bias = add.input(1 - side);
                Node mm = g.producer(product);
                if (mm == null || !mm.op().equals("MatMul") || mm.inputs().size() != 2 || g.uses(product) != 1 || !g.isConstant(bias)
                        || g.hasActivation(mm)) {
                    continue;
                }
                Shape out = g.value(product).shape(), c = g.shape(bias);
                if (!g.value(add.output()).shape().equals(out) || !broadcastsInto(c, out)) continue;
                g.replace(mm, PlanGraph.rebuilt(mm, List.of(mm.input(0), mm.input(1), bias),
                        mm.attributes().toBuilder().put(PlanGraph.FUSED, PlanGraph.fused(mm, add.name())).build(), add.output()));
                g.remove(add);
                g.fired.add(name() + ": " + add.name() + " into " + mm.name());
                break;
            }
        }
    }

    /** Whether {@code c} broadcasts into {@code out} without changing it (each dim equal or 1, rank at most out's). */
    private static boolean broadcastsInto(Shape c, Shape out) {
        if (c.rank() > out.rank()) return false;
        for (int i = 1; i <= c.rank(); i++) {
            long d = c.sizes()[c.rank() - i];
            if (d != 1 && d != out.sizes()[out.rank() - i]) return false;
        }
        return true;
    }
}
