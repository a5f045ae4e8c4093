package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.Set;

/**
 * {@code Act(Conv | Gemm | Add | MatMul | BatchNormalization)} → the activation as an eltwise post-op of that primitive (after
 * its residual sum, if any), also across a Reshape, Flatten, Squeeze or Unsqueeze between the two (a {@code Linear} on
 * a sequence lowers to a flatten, a Gemm and an unflatten): the activation moves before the reshape, which it commutes with.
 * Needs the producer's output (and the reshape's) read only by the activation. An Add may
 * broadcast (LowerBinary applies the post-op after the binary operation either way). Activations:
 * Relu, LeakyRelu, Sigmoid, Tanh, Elu, Gelu, Silu; and {@code Clip(Conv)} with constant bounds
 * {@code [0, max]} (ReLU6: MobileNets), as {@link dev.panamadnn.internal.dnnl.Ops#clampKeepingNaN}'s
 * post-ops, where a Clip of its own costs two passes over memory to keep NaN. A SiLU after a pointwise convolution stays
 * apart on CPUs without AVX-512, where that post-op is the slower form ({@link #keepsSiluApart}).
 */
final class FuseActivation implements Rewrite {
    static final Set<String> ACTIVATIONS = Set.of("Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Gelu", "Silu", "HardSwish");
    private static final Set<String> HOSTS = Set.of("Conv", "Gemm", "Add", "MatMul", "BatchNormalization");
    /** Ops that only present their input's elements in another shape: an element-wise activation after one commutes with it. */
    private static final Set<String> VIEWS = Set.of("Reshape", "Flatten", "Squeeze", "Unsqueeze");

    @Override
    public String name() {
        return "fuse_activation";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.fusePostOps();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node act : new ArrayList<>(g.nodes)) {
            boolean clip = act.op().equals("Clip");
            if (!ACTIVATIONS.contains(act.op()) && !clip) continue;
            String x = act.input(0);
            Node p = g.producer(x), view = null;
            if (p != null && VIEWS.contains(p.op()) && g.uses(x) == 1) {   // Act(Reshape(host(...))) = Reshape(Act(host(...)))
                view = p;
                x = view.input(0);
                p = g.producer(x);
            }
            if (p == null || !HOSTS.contains(p.op()) || g.uses(x) != 1 || g.hasActivation(p)) continue;
            float hi = clip ? reluCeiling(g, act) : Float.NaN;
            if (clip && (!p.op().equals("Conv") || Float.isNaN(hi))) continue;
            if (act.op().equals("Silu") && keepsSiluApart(g, p)) continue;
            Attributes.Builder a = p.attributes().toBuilder().put(PlanGraph.ACTIVATION, act.op())
                    .put(PlanGraph.FUSED, PlanGraph.fused(p, act.name()));
            if (clip) a.put(PlanGraph.ACTIVATION + ".max", (double) hi);
            else for (String k : act.attributes().names()) a.put(PlanGraph.ACTIVATION + "." + k, value(act.attributes(), k));
            if (view == null) {
                g.replace(p, PlanGraph.rebuilt(p, p.inputs(), a.build(), act.output()));
            } else {   // the host writes the activated values into its own output, which the view now presents as the activation's
                g.replace(p, PlanGraph.rebuilt(p, p.inputs(), a.build(), x));
                g.replace(view, PlanGraph.rebuilt(view, view.inputs(), view.attributes(), act.output()));
            }
            g.remove(act);
            g.fired.add(name() + ": " + act.name() + " into " + p.name() + (view == null ? "" : " (before " + view.name() + ")"));
        }
    }

    /**
     * Whether a SiLU after {@code host} stays a step of its own: after a pointwise convolution (every kernel dim 1, group 1)
     * where oneDNN runs AVX2 kernels (a channel block of 8: no AVX-512). There {@code brgconv_1x1:avx2} with a {@code swish}
     * post-op is slower than the convolution and oneDNN's separate swish together: alone in C at batch 16, 16 -> 96
     * channels at 64x64, 6.76 ms against 1.92 + 2.41 (session 50); whole EfficientNet-B0 plans alternating in one JVM
     * (session 54, AMD EPYC, AVX2): batch 16 53.0 -> 47.6 ms, faster in 14 of 15 rounds, batch 1 4.30 -> 4.21, 11 of 15;
     * the same bits. Other convolutions keep it fused (leaving the depthwise and 3x3 ones apart too gained nothing more),
     * and so does a HardSwish after a pointwise one (MobileNetV3-Large slower apart, 5 of 15 rounds).
     */
    static boolean keepsSiluApart(PlanGraph g, Node host) {
        if (!host.op().equals("Conv") || host.attributes().integer("group", 1) != 1) return false;
        dev.panamadnn.graph.Shape w = g.shape(host.input(1));
        if (w == null || w.rank() < 3) return false;
        for (int i = 2; i < w.rank(); i++) if (!w.dim(i).isFixed() || w.dim(i).size() != 1) return false;
        return dev.panamadnn.internal.dnnl.ConvOps.channelBlock() == 8;
    }

    /** A Clip's upper bound when it is {@code clamp(x, 0, max)} with a positive finite max known when compiling, else NaN. */
    static float reluCeiling(PlanGraph g, Node clip) {
        Float lo, hi;
        try {
            lo = LowerMath.clipBound(g, clip, 1, "min", Float.NEGATIVE_INFINITY);
            hi = LowerMath.clipBound(g, clip, 2, "max", Float.POSITIVE_INFINITY);
        } catch (UnsupportedOperationException notF32) {
            return Float.NaN;   // left to LowerMath's Clip, which says why
        }
        return lo != null && hi != null && lo == 0f && hi > 0f && !Float.isInfinite(hi) ? hi : Float.NaN;
    }

    private static Object value(Attributes a, String k) {
        try {
            return a.real(k);
        } catch (IllegalArgumentException e) {
            return a.string(k);
        }
    }
}
