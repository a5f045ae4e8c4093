package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Ops;
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
            if (!mm.op().equals("MatMul") || mm.attributes().has(PlanGraph.PERM_DST) || mm.attributes().has(PlanGraph.PERM_B)) continue;
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
                long[] range = lastAxisRange(g, s, product, out);
                if (range == null) break;
                ranges.add(range);
                covered += range[1];
            }
            if (slices.size() < 2 || ranges.size() != slices.size() || covered > n) continue;
            float[] w = g.floatsToRead(b);
            float[] bv = bias == null ? null : g.floatsToRead(bias);
            long[] biasShape = bias == null ? null : g.shape(bias).sizes();
            if (bias != null && (biasShape.length == 0 || biasShape[biasShape.length - 1] != n)) continue;   // a per-column bias only
            long k = g.shape(b).sizes()[0];
            int at = g.indexOf(mm);
            for (int i = 0; i < slices.size(); i++) {
                Node s = slices.get(i);
                long start = ranges.get(i)[0], width = ranges.get(i)[1];
                float[] part = new float[Math.toIntExact(k * width)];
                for (long row = 0; row < k; row++) System.arraycopy(w, (int) (row * n + start), part, (int) (row * width), (int) width);
                List<String> inputs = new ArrayList<>(mm.inputs());
                inputs.set(1, g.addConstant(b + "[:, " + start + ":" + (start + width) + "]", part, Shape.of(k, width)));
                if (bias != null) {
                    long[] shape = biasShape.clone();
                    shape[shape.length - 1] = width;
                    float[] bp = new float[Math.toIntExact(bv.length / n * width)];
                    for (int row = 0; row < bv.length / n; row++) System.arraycopy(bv, (int) (row * n + start), bp, (int) (row * width), (int) width);
                    inputs.set(2, g.addConstant(bias + "[" + start + ":" + (start + width) + "]", bp, Shape.of(shape)));
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

    /** {@code {start, width}} of a unit-step Slice of {@code product}'s last axis with constant parameters, else null. */
    private static long[] lastAxisRange(PlanGraph g, Node s, String product, long[] shape) {
        if (!s.op().equals("Slice") || !product.equals(s.input(0)) || s.inputs().size() < 4) return null;
        for (int i = 1; i < s.inputs().size(); i++) if (s.input(i) != null && g.tensor(s.input(i)) == null) return null;
        if (s.input(1) == null || s.input(2) == null || s.input(3) == null) return null;
        long[] starts = LowerIndex.longs(g.tensor(s.input(1))), axes = LowerIndex.longs(g.tensor(s.input(3)));
        long[] steps = s.input(4) == null ? new long[] {1} : LowerIndex.longs(g.tensor(s.input(4)));
        int r = shape.length;
        if (starts.length != 1 || axes.length != 1 || steps.length != 1 || steps[0] != 1 || (axes[0] != r - 1 && axes[0] != -1)) return null;
        long width = g.shape(s.output()).sizes()[r - 1];
        if (width < 1) return null;
        return new long[] {Ops.sliceStart(starts[0], shape[r - 1], 1), width};
    }
}
