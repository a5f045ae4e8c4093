package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Mul|Div(Reshape|Transpose(...(MatMul)), c)} with {@code c} a constant scalar → the {@code Mul}/{@code Div}
 * applied to the MatMul's result, before the reshapes and transposes, where {@code fuse_matmul_scale} makes it a
 * post-op. torch's export of {@code nn.MultiheadAttention} divides q by sqrt(d) after reshaping and transposing the
 * projection: that division was a step of its own and kept q's transpose from folding into the scores' matmul
 * ({@code fold_transpose_matmul}). The same values (one float operation per element, on the same elements in another
 * order). Only along a chain read nowhere else, ending at a MatMul (this rule runs before fuse_matmul_scale and
 * fuse_activation: the MatMul has neither fused yet).
 */
final class HoistScalarOps implements Rewrite {
    @Override
    public String name() {
        return "hoist_scalar_ops";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.fusePostOps();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node op : new ArrayList<>(g.nodes)) {
            boolean div = op.op().equals("Div");
            if (!div && !op.op().equals("Mul") || op.inputs().size() != 2) continue;
            int at = div || !g.isConstant(op.input(0)) ? 0 : 1;   // the operand that is not the scalar (x / c only)
            String c = op.input(1 - at), x = op.input(at);
            if (c == null || x == null || !FuseMatMulScale.scalar(g, c) || !g.shape(op.output()).equals(g.shape(x))) continue;
            List<Node> chain = new ArrayList<>();   // from the op's input back towards the MatMul
            String v = x;
            for (Node p = g.producer(v); p != null && (p.op().equals("Reshape") || p.op().equals("Transpose")) && g.uses(v) == 1; p = g.producer(v)) {
                chain.add(p);
                v = p.input(0);
            }
            Node mm = g.producer(v);
            if (chain.isEmpty() || mm == null || !mm.op().equals("MatMul") || g.uses(v) != 1 || g.shape(c).rank() > g.shape(v).rank()) continue;
            String scaled = g.addValue(v + "/" + op.name(), g.value(v).dtype(), g.shape(v));
            List<String> inputs = new ArrayList<>(op.inputs());
            inputs.set(at, v);
            Node first = chain.get(chain.size() - 1), last = chain.get(0);   // first reads the MatMul's result, last feeds the op
            g.remove(op);
            g.nodes.add(g.indexOf(mm) + 1, new Node(op.name(), op.op(), inputs, List.of(scaled), op.attributes()));
            for (Node p : chain) {   // the chain now reads the scaled result and ends in the op's output
                List<String> in = new ArrayList<>(p.inputs());
                if (p == first) in.set(0, scaled);
                g.replace(p, new Node(p.name(), p.op(), in, p == last ? List.of(op.output()) : p.outputs(), p.attributes()));
            }
            g.fired.add(name() + ": " + op.name() + " onto " + mm.name() + " (before " + chain.stream().map(Node::name).toList() + ")");
        }
    }
}
