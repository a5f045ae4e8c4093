package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Add(Conv(x), y)} → {@code Conv(x) + y} as oneDNN's {@code sum} post-op: the convolution
 * accumulates into the buffer holding {@code y} (a residual block's shortcut); likewise a {@code Gemm}
 * (oneDNN's inner product), e.g. an unrolled recurrent cell's {@code tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)},
 * whose add then costs no step of its own (a 3 us step of each iteration's four at one row). Needs operands of
 * the same shape, the convolution's output read only by the add, no activation fused yet, and
 * {@code y} computed before the convolution runs; of two convolution operands the one reading the
 * newer value takes the sum (a block's main path), and the other (its shortcut) is moved up to run
 * right after its own input. Runs after {@link FoldBatchNorm}, so a block's last convolution + batch norm
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
            // A constant operand is no buffer to accumulate into (fused, the sum read an unset buffer: a wrong result).
            if (a.equals(b) || g.isConstant(a) || g.isConstant(b) || !g.value(a).shape().equals(g.value(add.output()).shape())
                    || !g.value(b).shape().equals(g.value(add.output()).shape())) continue;
            Node pa = candidate(g, a), pb = candidate(g, b);
            Node conv;
            String other;
            if (pa != null && (pb == null || laterInput(g, pa, pb))) {
                conv = pa;
                other = b;
            } else if (pb != null) {
                conv = pb;
                other = a;
            } else continue;
            Node otherProducer = g.producer(other);
            // a convolution's shortcut first, right after its input (not a Gemm's addend: an unrolled cell's T row blocks, each
            // hoisted next to the one product they come from, would all be live at once)
            if (otherProducer != null && conv.op().equals("Conv")) hoist(g, otherProducer);
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

    /**
     * Moves {@code n} (the producer of the buffer a convolution sums into: a block's shortcut) to just
     * after the last producer of its inputs, so it runs while its input is still in cache, as the
     * shortcut of a ResNet block ran before (measured: ResNet-50 at batch 1 was 5-10% slower with
     * the downsample after the block's main path, which reads the block input again once it has
     * left the cache). Topologically safe: its inputs are defined before the new place, and its
     * readers all come after its old one.
     */
    private static void hoist(PlanGraph g, Node n) {
        int at = inputAt(g, n) + 1, from = g.indexOf(n);
        if (at < from) {
            g.nodes.remove(from);   // by index
            g.nodes.add(at, n);
        }
    }

    /**
     * Of two convolution operands, whether {@code a} should take the sum: the one reading the newer
     * value (a block's main path, not its shortcut, which reads the block input), else the later one.
     */
    private static boolean laterInput(PlanGraph g, Node a, Node b) {
        int ia = inputAt(g, a), ib = inputAt(g, b);
        return ia != ib ? ia > ib : g.indexOf(a) > g.indexOf(b);
    }

    /** The index of the last node producing an input of {@code n} (-1: graph inputs and constants only). */
    private static int inputAt(PlanGraph g, Node n) {
        int at = -1;
        for (String i : n.inputs()) {
            Node p = i.isEmpty() ? null : g.producer(i);
            if (p != null) at = Math.max(at, g.indexOf(p));
        }
        return at;
    }

    private static Node candidate(PlanGraph g, String value) {
        Node p = g.producer(value);
        if (p == null || !p.op().equals("Conv") && !p.op().equals("Gemm") || g.uses(value) != 1 || g.hasActivation(p)
                || p.attributes().has(PlanGraph.SUM)) return null;
        return p;
    }
}
