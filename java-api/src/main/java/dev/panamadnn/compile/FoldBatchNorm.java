package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code BatchNormalization(Conv(x, W, b))} → {@code Conv(x, W', b')}, and the same for a
 * {@code Gemm} with {@code transB = 1} (a Linear): inference batch norm is a per-channel affine
 * map, folded into the weights ({@code s = gamma / sqrt(var + eps)} and {@code b' = (b - mean) * s + beta}
 * in double; {@code W' = W * (float) s} in F32). Needs the convolution's output read only by the batch norm, and
 * constant weights. The model's tensors are not touched: the folded ones are new constants. Weights that are an
 * initializer stay uncopied here ({@link PlanGraph#addScaled}): the scales are applied as the weight reorder copies
 * them into the primitive's layout, so a cold compile makes no heap copy of them.
 */
final class FoldBatchNorm implements Rewrite {
    @Override
    public String name() {
        return "fold_batch_norm";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.foldBatchNorm();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node bn : new ArrayList<>(g.nodes)) {
            if (!bn.op().equals("BatchNormalization")) continue;
            String x = bn.input(0);
            Node p = g.producer(x);
            if (p == null || g.uses(x) != 1 || g.hasActivation(p) || p.attributes().has(PlanGraph.SUM)) continue;
            boolean conv = p.op().equals("Conv"), gemm = p.op().equals("Gemm") && p.attributes().integer("transB", 0) == 1
                    && p.attributes().integer("transA", 0) == 0 && p.attributes().real("alpha", 1) == 1 && p.attributes().real("beta", 1) == 1;
            if (!(conv || gemm) || !g.isConstant(p.input(1)) || (p.input(2) != null && !g.isConstant(p.input(2)))) continue;
            if (gemm && p.input(2) != null && g.shape(p.input(2)).rank() != 1) continue;
            boolean constants = true;
            for (int i = 1; i < 5; i++) constants &= bn.input(i) == null || g.isConstant(bn.input(i));
            if (!constants) continue;
            int channels = (int) g.shape(bn.input(3)).dim(0).size();
            float[] b = p.input(2) == null ? new float[channels] : g.floats(p.input(2));
            float[] scales = fold(b, bn.input(1) == null ? null : g.floats(bn.input(1)), bn.input(2) == null ? null : g.floats(bn.input(2)),
                    g.floats(bn.input(3)), g.floats(bn.input(4)), bn.attributes().real("epsilon", 1e-5));
            String wName = p.name() + ".weight+" + bn.name();
            Tensor t = g.tensor(p.input(1));
            if (t != null && t.dtype() == DataType.F32 && t.rank() > 0 && t.dim(0) == channels) {
                wName = g.addScaled(wName, t, scales, g.shape(p.input(1)));   // copied, scaled, by the weight reorder
            } else {
                float[] w = g.floats(p.input(1));
                scale(w, scales);
                wName = g.addConstant(wName, w, g.shape(p.input(1)));
            }
            List<String> in = List.of(p.input(0), wName, g.addConstant(p.name() + ".bias+" + bn.name(), b, Shape.of(channels)));
            Attributes a = p.attributes().toBuilder().put(PlanGraph.FUSED, PlanGraph.fused(p, bn.name())).build();
            g.replace(p, PlanGraph.rebuilt(p, in, a, bn.output()));
            g.remove(bn);
            g.fired.add(name() + ": " + bn.name() + " into " + p.name());
        }
    }

    /**
     * Folds the batch norm into bias {@code b} (in place, in double) and returns the weights' per-channel factors
     * {@code (float) s}; {@code gamma}/{@code beta} null mean 1/0 (a batch norm without affine parameters). The folded
     * weights are {@code w * scales[o]} in F32 ({@link #scale}), which is what a oneDNN reorder with per-channel source
     * scales computes when it applies them ({@link PlanGraph.Scaled}).
     */
    static float[] fold(float[] b, float[] gamma, float[] beta, float[] mean, float[] var, double eps) {
        float[] scales = new float[b.length];
        for (int o = 0; o < b.length; o++) {
            double s = (gamma == null ? 1.0 : gamma[o]) / Math.sqrt(var[o] + eps);
            scales[o] = (float) s;
            b[o] = (float) ((b[o] - (double) mean[o]) * s + (beta == null ? 0.0 : beta[o]));
        }
        return scales;
    }

    /** {@code w}'s slice {@code o} of its first dim times {@code scales[o]}, in place, in F32. */
    static void scale(float[] w, float[] scales) {
        int per = w.length / scales.length;
        for (int o = 0; o < scales.length; o++) {
            float s = scales[o];
            for (int j = o * per; j < (o + 1) * per; j++) w[j] *= s;
        }
    }
}
