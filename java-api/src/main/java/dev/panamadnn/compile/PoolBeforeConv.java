package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code AveragePool(Conv(x, W, b))} with a pointwise convolution (every kernel size 1, stride 1, no padding, any
 * groups, no fused activation or sum) becomes {@code Conv(AveragePool(x), W, b)} where the pooling shrinks the
 * activation (at most half its positions remain): a pointwise convolution is the same affine map at every position
 * and an average pooling is a weighted mean of positions whose weights sum to one, so the two commute, bias included
 * (the mean of {@code b} is {@code b}). The convolution then runs on the pooled positions only: DenseNet's
 * transitions ({@code Conv 1x1 -> AveragePool 2x2 stride 2}) do a quarter of their multiply-adds, for a pooling over
 * the convolution's input channels instead of its output channels. Needs the convolution's output read by the
 * pooling alone, and a pooling that counts no padded zeros (no padding, or {@code count_include_pad = 0}: a padded zero
 * of the convolution's output is not the convolution of a zero, which is {@code b}). Results differ by float rounding
 * only (the sums are taken in another order), non-finite values included: an infinity or NaN reaches the same outputs
 * through either order, except where a finite sum overflows in one order and not in the other.
 */
final class PoolBeforeConv implements Rewrite {
    @Override
    public String name() {
        return "pool_before_conv";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node pool : new ArrayList<>(g.nodes)) {
            if (!pool.op().equals("AveragePool") || pool.inputs().size() != 1) continue;
            Node conv = g.producer(pool.input(0));
            if (conv == null || !fits(g, conv, pool)) continue;
            String x = conv.input(0);
            Shape pooledShape = g.shape(pool.output()), in = g.shape(x);
            List<Dim> dims = new ArrayList<>(pooledShape.dims());
            dims.set(1, in.dim(1));
            String pooled = g.addValue(pool.output() + "/pooled_input", DataType.F32, Shape.of(dims.toArray(Dim[]::new)));
            List<String> convInputs = new ArrayList<>(conv.inputs());
            convInputs.set(0, pooled);
            // the pooling takes the convolution's place, the convolution the pooling's: each still follows what it reads
            g.replace(conv, PlanGraph.rebuilt(pool, List.of(x), pool.attributes(), pooled));
            g.replace(pool, PlanGraph.rebuilt(conv, convInputs, conv.attributes(), pool.output()));
            g.fired.add(name() + ": " + pool.name() + " before " + conv.name());
        }
    }

    private static boolean fits(PlanGraph g, Node conv, Node pool) {
        if (!conv.op().equals("Conv") || conv.output() == null || !conv.output().equals(pool.input(0))) return false;
        if (conv.outputs().size() != 1 || g.uses(conv.output()) != 1) return false;
        if (g.hasActivation(conv) || conv.attributes().has(PlanGraph.SUM)) return false;
        if (g.value(conv.input(0)).dtype() != DataType.F32 || g.value(pool.output()).dtype() != DataType.F32) return false;
        Shape x = g.shape(conv.input(0)), y = g.shape(conv.output()), z = g.shape(pool.output()), w = g.shape(conv.input(1));
        if (!x.isFixed() || !y.isFixed() || !z.isFixed() || !w.isFixed() || x.rank() < 3 || x.rank() != z.rank() || w.rank() != x.rank()) return false;
        for (int d = 2; d < w.rank(); d++) if (w.dim(d).size() != 1) return false;
        Attributes c = conv.attributes(), p = pool.attributes();
        if (!ones(c.integers("strides", null)) || !zeros(c.integers("pads", null))) return false;
        if (!List.of("NOTSET", "VALID").contains(c.string("auto_pad", "NOTSET"))) return false;
        if (!p.string("auto_pad", "NOTSET").equals("NOTSET") || p.has("dilations")) return false;
        if (!zeros(p.integers("pads", null)) && p.integer("count_include_pad", 0) != 0) return false;
        long before = 1, after = 1;
        for (int d = 2; d < y.rank(); d++) {
            before *= y.dim(d).size();
            after *= z.dim(d).size();
        }
        return after * 2 <= before;
    }

    private static boolean ones(long[] values) {
        if (values != null) for (long v : values) if (v != 1) return false;
        return true;
    }

    private static boolean zeros(long[] values) {
        if (values != null) for (long v : values) if (v != 0) return false;
        return true;
    }
}
