package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Log(Sigmoid(x))} (torch 1.13 exports {@code F.logsigmoid} / {@code nn.LogSigmoid} so) as
 * {@code Neg(Softplus(Neg(x)))}: the same function, {@code -log(1 + e^-x)}, without the sigmoid's underflow. Op by op the
 * sigmoid of x below about -88 is a subnormal or 0 and its log -inf (x = -100: -inf where PyTorch gives -100; -3e38: -inf
 * for -3e38); {@code Softplus} runs in Java without overflow or cancellation ({@link MathKernels#softplus}), so every x
 * gives PyTorch's value: x itself far below 0, -0 at +inf, NaN for NaN. The Sigmoid's output must be read only by the Log.
 */
final class FuseLogSigmoid implements Rewrite {
    @Override
    public String name() {
        return "fuse_log_sigmoid";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node sigmoid : new ArrayList<>(g.nodes)) {
            if (!sigmoid.op().equals("Sigmoid") || g.uses(sigmoid.output()) != 1) continue;
            List<Node> readers = g.consumers(sigmoid.output());
            if (readers.size() != 1 || !readers.get(0).op().equals("Log")) continue;
            Node log = readers.get(0);
            var shape = g.shape(log.output());
            String negated = g.addValue(log.output() + "/negated", DataType.F32, shape);
            String softplus = g.addValue(log.output() + "/softplus", DataType.F32, shape);
            int at = g.indexOf(log);
            g.replace(log, new Node(log.name() + "/neg_in", "Neg", List.of(sigmoid.input(0)), List.of(negated), Attributes.of()));
            g.nodes.add(at + 1, new Node(log.name() + "/softplus", "Softplus", List.of(negated), List.of(softplus), Attributes.of()));
            g.nodes.add(at + 2, new Node(log.name(), "Neg", List.of(softplus), List.of(log.output()), Attributes.of()));
            g.remove(sigmoid);
            g.fired.add(name() + ": " + sigmoid.name() + " and " + log.name() + " into -Softplus(-x)");
        }
    }
}
