package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * A MatMul with constant 2-D weights {@code B [K, N]} (and a constant bias, fuse_matmul_bias) whose result is read
 * only by unit-step {@code Slice}s of its last axis → one MatMul per slice, on the slice's columns of B and of the bias,
 * writing the slice itself. torch exports {@code nn.MultiheadAttention}'s packed in-projection this way (one
 * [L*N, E] x [E, 3E] product, then q, k and v sliced out of it): the three slices were three copies of the product
 * (0.54 ms of 16.8 at [128, 8, 512], 2-vCPU AMD EPYC VM, AVX2), while three [E, E] products cost what the packed one does
 * (10.25 against 10.09 ms, the same plans' profiles). The slices together may not cover more than N columns (no
 * multiply-add is repeated); each product keeps the node's fused post-ops (bias slice, scalar scale, activation).
 */
final class SplitMatMulBySlices implements Rewrite {
    @Override
    public String name() {
        return "split_matmul_by_slices";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.fusePostOps();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node mm : new ArrayList<>(g.nodes)) {
            if (!mm.op().equals("MatMul")) continue;
            String product = mm.output(), b = mm.input(1), bias = mm.input(2);
            if (b == null || !g.isConstant(b) || g.shape(b).rank() != 2 || bias != null && !g.isConstant(bias) || g.source.isOutput(product)) continue;
            long[] out = g.shape(product).sizes();
            int r = out.length;
            if (r < 2) continue;
            long n = out[r - 1];
            List<Node> slices = g.consumers(product);
            List<long[]> ranges = new ArrayList<>();
            long covered = 0;
            for (Node s : slices) {
                long[] range = g.unitSlice(s, product);   // {axis, start, width}: of the last axis only
                if (range == null || range[0] != r - 1 || range[2] < 1) break;
                ranges.add(new long[] {range[1], range[2]});
                covered += range[2];
            }
            if (slices.size() < 2 || ranges.size() != slices.size() || covered > n) continue;
            long[] biasShape = bias == null ? null : g.shape(bias).sizes();
            if (bias != null && (biasShape.length == 0 || biasShape[biasShape.length - 1] != n)) continue;   // a per-column bias only
            float[] w = g.floatsToRead(b), bv = bias == null ? null : g.floatsToRead(bias);
            long k = g.shape(b).sizes()[0];
            int at = g.indexOf(mm);
            for (int i = 0; i < slices.size(); i++) {
                Node s = slices.get(i);
                long start = ranges.get(i)[0], width = ranges.get(i)[1];
                List<String> inputs = new ArrayList<>(mm.inputs());
                inputs.set(1, g.addConstant(b + "[:, " + start + ":" + (start + width) + "]", columns(w, n, start, width), Shape.of(k, width)));
                if (bias != null) {
                    long[] shape = biasShape.clone();
                    shape[shape.length - 1] = width;
                    inputs.set(2, g.addConstant(bias + "[" + start + ":" + (start + width) + "]", columns(bv, n, start, width), Shape.of(shape)));
                }
                Node split = new Node(mm.name() + "[" + start + ":" + (start + width) + "]", "MatMul", inputs, List.of(s.output()),
                        mm.attributes().toBuilder().put(PlanGraph.FUSED, PlanGraph.fused(mm, s.name())).build());
                g.nodes.add(at + i, split);
                g.remove(s);
            }
            g.remove(mm);
            g.fired.add(name() + ": " + mm.name() + " into " + slices.size() + " products, one per slice");
        }
    }

    /** Columns {@code [start, start + width)} of {@code v}, rows of {@code n} values each. */
    private static float[] columns(float[] v, long n, long start, long width) {
        int rows = (int) (v.length / n), w = (int) width;
        float[] out = new float[rows * w];
        for (int row = 0; row < rows; row++) System.arraycopy(v, (int) (row * n + start), out, row * w, w);
        return out;
    }
}
