package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.Set;

/**
 * Constant folding of weight-only subgraphs and shape computations: a node whose every output
 * shape inference computed ({@link dev.panamadnn.graph.Graph#knownValue}: a {@code Shape} of a
 * fixed-shape value and the Gather/Unsqueeze/Concat... reading it, any dtype) becomes that
 * constant, so the lowering never sees a shape computation; a {@code Constant} node becomes a constant of the
 * plan; an {@code Identity}, {@code Reshape}, {@code Flatten}, {@code Transpose} or a same-shape
 * {@code Add}/{@code Sub}/{@code Mul}/{@code Div} whose inputs are all constants (f32 data)
 * is computed now, in Java, and its output becomes a constant too (what exporters leave around
 * weights, e.g. a transposed or rescaled weight). Later rules and lowerings see only constants.
 */
final class FoldConstants implements Rewrite {
    private static final Set<String> FOLDABLE = Set.of("Identity", "Reshape", "Flatten", "Transpose", "Add", "Sub", "Mul", "Div");

    @Override
    public String name() {
        return "fold_constants";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node n : new ArrayList<>(g.nodes)) {
            if (!n.op().equals("Constant") && known(g, n)) {   // a shape computation: its value was computed when shapes were inferred
                for (String o : n.outputs()) g.constantNodes.put(o, g.source.knownValue(o));
                g.remove(n);
                g.fired.add(name() + ": " + n.op().toLowerCase(java.util.Locale.ROOT) + " " + n.name() + " (known when compiling)");
                continue;
            }
            if (n.op().equals("Constant")) {
                g.constantNodes.put(n.output(), n.attributes().tensor("value"));
                g.remove(n);
                g.fired.add(name() + ": constant " + n.name());
                continue;
            }
            if (!FOLDABLE.contains(n.op()) || n.outputs().size() != 1) continue;
            String data = n.input(0);
            if (data == null || !g.isConstant(data) || !isF32(g, data)) continue;
            float[] out;
            Shape outShape = g.value(n.output()).shape();
            switch (n.op()) {
                case "Identity", "Reshape", "Flatten" -> {
                    if (n.op().equals("Reshape") && !g.isConstant(n.input(1))) continue;
                    out = g.floats(data);
                }
                case "Transpose" -> out = transpose(g.floats(data), g.shape(data).sizes(), n.attributes().integers("perm", null));
                default -> {
                    String other = n.input(1);
                    if (!g.isConstant(other) || !isF32(g, other) || !g.shape(data).equals(g.shape(other))) continue;
                    float[] a = g.floats(data), b = g.floats(other);
                    out = new float[a.length];
                    for (int i = 0; i < a.length; i++) {
                        out[i] = switch (n.op()) {
                            case "Add" -> a[i] + b[i];
                            case "Sub" -> a[i] - b[i];
                            case "Mul" -> a[i] * b[i];
                            default -> a[i] / b[i];
                        };
                    }
                }
            }
            g.setConstant(n.output(), out, outShape);
            g.remove(n);
            g.fired.add(name() + ": " + n.op().toLowerCase(java.util.Locale.ROOT) + " " + n.name());
        }
    }

    /** Whether shape inference computed every output of {@code n} (e.g. a Shape of a fixed-shape value, a Gather of that). */
    private static boolean known(PlanGraph g, Node n) {
        for (String o : n.outputs()) if (g.source.knownValue(o) == null) return false;
        return true;
    }

    private static boolean isF32(PlanGraph g, String value) {
        var t = g.tensor(value);
        return t == null || t.dtype() == DataType.F32;   // null: computed by a rule, always f32
    }

    /** Row-major transpose of {@code x} (shape {@code shape}) by {@code perm} (null: reversed, as ONNX). */
    static float[] transpose(float[] x, long[] shape, long[] perm) {
        int r = shape.length;
        int[] p = new int[r];
        for (int i = 0; i < r; i++) p[i] = perm == null ? r - 1 - i : (int) perm[i];
        long[] inStride = new long[r];
        long s = 1;
        for (int d = r - 1; d >= 0; d--) {
            inStride[d] = s;
            s *= shape[d];
        }
        long[] outShape = new long[r];
        for (int i = 0; i < r; i++) outShape[i] = shape[p[i]];
        float[] out = new float[x.length];
        long[] idx = new long[r];
        for (int o = 0; o < out.length; o++) {
            long at = 0;
            for (int d = 0; d < r; d++) at += idx[d] * inStride[p[d]];
            out[o] = x[(int) at];
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }
}
