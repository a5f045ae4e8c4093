package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * The GELU subgraphs exporters write → one {@code Gelu} node (oneDNN's {@code gelu_erf} /
 * {@code gelu_tanh}), which {@code fuse_activation} may then fuse into the MatMul, Gemm or Conv before it:
 * <ul>
 *   <li>exact: {@code x * 0.5 * (1 + Erf(x / sqrt 2))} (torch's {@code nn.GELU()}; {@code x * (1/sqrt 2)} also);</li>
 *   <li>tanh: {@code x * 0.5 * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))} ({@code approximate='tanh'};
 *       {@code x^3} as {@code Pow(x, 3)} or {@code x * (x * x)}).</li>
 * </ul>
 * The three factors of the outer product may come in any order and association, the operands of
 * every Add and Mul either way round; the constants are scalars within 1e-5 (relative) of the
 * values above. Every node of the pattern but the last must be read only inside it. The fused exact
 * GELU inherits oneDNN's exception of docs/numerics.md ("Compiled exact GELU": +inf gives NaN, from
 * 2^127 +inf) where the unfused subgraph gives +inf and x.
 */
final class FuseGelu implements Rewrite {
    private static final double SQRT2 = Math.sqrt(2), SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI), KAPPA = 0.044715;

    @Override
    public String name() {
        return "fuse_gelu";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node top : new ArrayList<>(g.nodes)) {
            if (!top.op().equals("Mul") || !g.contains(top)) continue;
            List<Node> matched = new ArrayList<>();
            List<String> leaves = new ArrayList<>();
            factors(g, top, matched, leaves);
            if (leaves.size() != 3) continue;
            String half = null;
            for (String l : leaves) if (half == null && isScalar(g, l, 0.5)) half = l;
            if (half == null) continue;
            List<String> rest = new ArrayList<>(leaves);
            rest.remove(half);
            for (int k = 0; k < 2; k++) {
                String x = rest.get(k), onePlus = rest.get(1 - k);
                List<Node> inner = new ArrayList<>();
                String form = g.isConstant(x) ? null : onePlus(g, onePlus, x, inner);
                if (form == null) continue;
                matched.addAll(inner);
                Node gelu = new Node(top.name(), "Gelu", List.of(x), List.of(top.output()), Attributes.of("approximate", form));
                g.replace(top, gelu);
                for (Node n : matched) if (n != top) g.remove(n);
                g.fired.add(name() + ": " + matched.size() + " nodes (" + (form.equals("none") ? "erf" : "tanh") + ") ending in " + top.name()
                        + " into one Gelu");
                break;
            }
        }
    }

    /** The factors of a product: Mul nodes read only by this product are opened (and added to {@code matched}). */
    private static void factors(PlanGraph g, Node mul, List<Node> matched, List<String> leaves) {
        matched.add(mul);
        for (String in : mul.inputs()) {
            Node p = g.producer(in);
            if (p != null && p.op().equals("Mul") && g.uses(in) == 1 && leaves.size() < 4) factors(g, p, matched, leaves);
            else leaves.add(in);
        }
    }

    /** {@code 1 + Erf(x / sqrt 2)} → "none", {@code 1 + Tanh(...)} → "tanh", else null; the nodes go to {@code inner}. */
    private static String onePlus(PlanGraph g, String value, String x, List<Node> inner) {
        Node add = single(g, value, "Add");
        if (add == null) return null;
        String f = other(g, add, 1.0);
        Node fn = f == null ? null : single(g, f, null);
        if (fn == null) return null;
        List<Node> seen = new ArrayList<>(List.of(add, fn));
        String form = switch (fn.op()) {
            case "Erf" -> erfArgument(g, fn.input(0), x, seen) ? "none" : null;
            case "Tanh" -> tanhArgument(g, fn.input(0), x, seen) ? "tanh" : null;
            default -> null;
        };
        if (form != null) inner.addAll(seen);
        return form;
    }

    /** {@code x / sqrt 2} or {@code x * (1 / sqrt 2)}. */
    private static boolean erfArgument(PlanGraph g, String value, String x, List<Node> seen) {
        Node n = single(g, value, null);
        if (n == null) return false;
        seen.add(n);
        if (n.op().equals("Div")) return n.input(0).equals(x) && isScalar(g, n.input(1), SQRT2);
        return n.op().equals("Mul") && x.equals(other(g, n, 1 / SQRT2));
    }

    /** {@code sqrt(2/pi) * (x + 0.044715 * x^3)}. */
    private static boolean tanhArgument(PlanGraph g, String value, String x, List<Node> seen) {
        Node scale = single(g, value, "Mul");
        String sum = scale == null ? null : other(g, scale, SQRT_2_OVER_PI);
        Node add = sum == null ? null : single(g, sum, "Add");
        if (add == null) return false;
        seen.add(scale);
        seen.add(add);
        String cubicTerm = add.input(0).equals(x) ? add.input(1) : add.input(1).equals(x) ? add.input(0) : null;
        Node kappa = cubicTerm == null ? null : single(g, cubicTerm, "Mul");
        String cube = kappa == null ? null : other(g, kappa, KAPPA);
        if (cube == null) return false;
        seen.add(kappa);
        return isCube(g, cube, x, seen);
    }

    /** {@code Pow(x, 3)}, {@code x * (x * x)} or {@code (x * x) * x}. */
    private static boolean isCube(PlanGraph g, String value, String x, List<Node> seen) {
        Node n = single(g, value, null);
        if (n == null) return false;
        if (n.op().equals("Pow")) {
            seen.add(n);
            return n.input(0).equals(x) && isScalar(g, n.input(1), 3.0);
        }
        if (!n.op().equals("Mul")) return false;
        for (int i = 0; i < 2; i++) {
            Node sq = n.input(i).equals(x) ? single(g, n.input(1 - i), "Mul") : null;
            if (sq != null && sq.input(0).equals(x) && sq.input(1).equals(x)) {
                seen.add(n);
                seen.add(sq);
                return true;
            }
        }
        return false;
    }

    /** The producer of {@code value} if it has one output read once (by the pattern) and is of {@code op} (null: any). */
    private static Node single(PlanGraph g, String value, String op) {
        return g.soleProducer(value, op, 1);
    }

    /** For a binary node with one operand the scalar {@code c}: the other operand, else null. */
    private static String other(PlanGraph g, Node n, double c) {
        if (n.inputs().size() != 2) return null;
        if (isScalar(g, n.input(1), c)) return n.input(0);
        if (isScalar(g, n.input(0), c)) return n.input(1);
        return null;
    }

    private static boolean isScalar(PlanGraph g, String value, double expected) {
        if (!g.isConstant(value) || g.shape(value).rank() > 1) return false;
        float[] v;
        try {
            v = g.floats(value);
        } catch (UnsupportedOperationException e) {   // an integer constant
            return false;
        }
        return v.length == 1 && Math.abs(v[0] - expected) <= 1e-5 * Math.abs(expected);
    }
}
