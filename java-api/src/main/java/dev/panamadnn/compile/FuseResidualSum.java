package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Add(Conv(x), y)} → {@code Conv(x) + y} as oneDNN's {@code sum} post-op: the convolution
 * accumulates into the buffer holding {@code y} (a residual block's shortcut). Needs operands of
 * the same shape, the convolution's output read only by the add, no activation fused yet, and
 * {@code y} computed before the convolution runs; of two convolution operands the later one
 * takes the sum. Runs after {@link FoldBatchNorm}, so a block's last convolution + batch norm
 * is one node by then.
 */
final class FuseResidualSum implements Rewrite {
    @Override
    public String name() {
        return "fuse_residual_sum";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.fuseResidualSum();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node add : new ArrayList<>(g.nodes)) {
            if (!add.op().equals("Add")) continue;
            String a = add.input(0), b = add.input(1);
            if (a.equals(b) || !g.value(a).shape().equals(g.value(add.output()).shape())
                    || !g.value(b).shape().equals(g.value(add.output()).shape())) continue;
            Node pa = candidate(g, a), pb = candidate(g, b);
            Node conv;
            String other;
            if (pa != null && (pb == null || g.indexOf(pa) > g.indexOf(pb))) {
                conv = pa;
                other = b;
            } else if (pb != null) {
                conv = pb;
                other = a;
            } else continue;
            Node otherProducer = g.producer(other);
            if (otherProducer != null && g.indexOf(otherProducer) > g.indexOf(conv)) continue;
            List<String> in = new ArrayList<>(conv.inputs());
            while (in.size() < 3) in.add("");
            in.add(other);
            Attributes attrs = conv.attributes().toBuilder().put(PlanGraph.SUM, 1L)
                    .put(PlanGraph.FUSED, PlanGraph.fused(conv, "sum(" + other + ")")).build();
            g.replace(conv, PlanGraph.rebuilt(conv, in, attrs, add.output()));
            g.remove(add);
            g.fired.add(name() + ": " + add.name() + " into " + conv.name());
        }
    }

    private static Node candidate(PlanGraph g, String value) {
        Node p = g.producer(value);
        if (p == null || !p.op().equals("Conv") || g.uses(value) != 1 || g.hasActivation(p) || p.attributes().has(PlanGraph.SUM)) return null;
        return p;
    }
}
