package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Mul(x, Sigmoid(x))} (SiLU / swish as exporters write it: torch 1.13's {@code nn.SiLU}) → one
 * {@code Silu} node (oneDNN's {@code swish} with alpha 1), and {@code Mul(x, HardSigmoid(x))} with alpha 1/6 and
 * beta 1/2 (torch 1.13's {@code nn.Hardswish} at opsets before 14) → one {@code HardSwish} node (oneDNN's
 * {@code hardswish}, the same {@code x * clamp(x / 6 + 1/2, 0, 1)}; NaN and -inf give NaN both ways), which
 * {@code fuse_activation} may then fuse into the convolution before it: two passes over the activation (and a
 * buffer) fewer per SiLU; for the hard form also the HardSigmoid's NaN mask, and two reorders to plain (MobileNetV3).
 * The Sigmoid's output must be read only by that Mul. A Mul of a value by the sigmoid of another
 * one (a squeeze-excitation scale) does not match.
 */
final class FuseSilu implements Rewrite {
    @Override
    public String name() {
        return "fuse_silu";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node sigmoid : new ArrayList<>(g.nodes)) {
            boolean hard = sigmoid.op().equals("HardSigmoid") && (float) sigmoid.attributes().real("alpha", 0.2) == 1f / 6f
                    && (float) sigmoid.attributes().real("beta", 0.5) == 0.5f;   // x * HardSigmoid(x) with ONNX's HardSwish constants
            if (!(sigmoid.op().equals("Sigmoid") || hard) || g.uses(sigmoid.output()) != 1) continue;
            String x = sigmoid.input(0), s = sigmoid.output();
            List<Node> readers = g.consumers(s);
            if (readers.size() != 1) continue;
            Node mul = readers.get(0);
            if (!mul.op().equals("Mul") || mul.inputs().size() != 2) continue;
            boolean matches = mul.input(0).equals(x) && mul.input(1).equals(s) || mul.input(1).equals(x) && mul.input(0).equals(s);
            if (!matches) continue;
            String op = hard ? "HardSwish" : "Silu";
            g.replace(mul, new Node(mul.name(), op, List.of(x), List.of(mul.output()), Attributes.of()));
            g.remove(sigmoid);
            g.fired.add(name() + ": " + sigmoid.name() + " and " + mul.name() + " into one " + op);
        }
    }
}
