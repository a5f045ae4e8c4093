package dev.panamadnn.compile;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.nn.AdaptiveAvgPool1d;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.AdaptiveMaxPool1d;
import dev.panamadnn.nn.AdaptiveMaxPool2d;
import dev.panamadnn.nn.ConvTranspose1d;
import dev.panamadnn.nn.ConvTranspose2d;
import dev.panamadnn.nn.Layer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The ops a plan runs through this library's eager layer for them, as a Java step, because the
 * layer does more than one oneDNN primitive would (Softmax and LayerNormalization are native now:
 * LowerMath); ConvTranspose works around oneDNN's deconvolution limits with its
 * reference; adaptive pooling with sizes that do not divide has windows of varying size. The
 * layer is built from the node's attributes and owns copies of its weights (the plan closes it).
 * The step allocates its output per run, unlike the rest of a plan.
 */
final class EagerNodes {
    private EagerNodes() {}

    /** The layer running {@code n}, or null when no eager layer covers the op. */
    static Layer layerFor(Node n, PlanGraph g) {
        Attributes a = n.attributes();
        Shape x = g.shape(n.input(0));
        return switch (n.op()) {
            case "AdaptiveMaxPool" -> {
                long[] s = a.integers("output_size");
                yield s.length == 2 ? new AdaptiveMaxPool2d(Math.toIntExact(s[0]), Math.toIntExact(s[1]))
                        : s.length == 1 ? new AdaptiveMaxPool1d(Math.toIntExact(s[0])) : null;
            }
            case "AdaptiveAvgPool" -> {
                long[] s = a.integers("output_size");
                yield s.length == 2 ? new AdaptiveAvgPool2d(Math.toIntExact(s[0]), Math.toIntExact(s[1]))
                        : s.length == 1 ? new AdaptiveAvgPool1d(Math.toIntExact(s[0])) : null;
            }
            case "ConvTranspose" -> convTranspose(n, g, x);
            case "AveragePool" -> avgPool(a, x);
            default -> null;
        };
    }

    /** PyTorch's average pooling (symmetric padding), whose ceil-mode divisor with count_include_pad oneDNN lacks. */
    private static Layer avgPool(Attributes a, Shape x) {
        int spatial = x.rank() - 2;
        long[] pads = a.integers("pads", new long[2 * spatial]);
        for (int i = 0; i < spatial; i++) if (pads[i] != pads[i + spatial]) return null;
        if (a.has("dilations") && java.util.Arrays.stream(a.integers("dilations")).anyMatch(d -> d != 1)) return null;
        int[] k = ints(a.integers("kernel_shape")), s = ints(a.integers("strides", ones(spatial))), p = ints(Arrays.copyOf(pads, spatial));
        boolean ceil = a.integer("ceil_mode", 0) != 0, include = a.integer("count_include_pad", 0) != 0;
        return switch (spatial) {
            case 2 -> new dev.panamadnn.nn.AvgPool2d(k, s, p, ceil, include);
            case 1 -> new dev.panamadnn.nn.AvgPool1d(k[0], s[0], p[0], ceil, include);
            default -> null;
        };
    }

    private static Layer convTranspose(Node n, PlanGraph g, Shape x) {
        Attributes a = n.attributes();
        long[] w = g.shape(n.input(1)).sizes();
        int spatial = w.length - 2;
        if (spatial != 1 && spatial != 2) return null;
        int groups = (int) a.integer("group", 1);
        int in = (int) w[0], out = (int) w[1] * groups;
        int[] k = ints(Arrays.copyOfRange(w, 2, w.length));
        long[] pads = a.integers("pads", new long[2 * spatial]);
        int[] before = ints(Arrays.copyOfRange(pads, 0, spatial)), after = ints(Arrays.copyOfRange(pads, spatial, 2 * spatial));
        if (!Arrays.equals(before, after)) return null;   // PyTorch's ConvTranspose pads symmetrically
        int[] stride = ints(a.integers("strides", ones(spatial))), dil = ints(a.integers("dilations", ones(spatial)));
        int[] outPad = ints(a.integers("output_padding", new long[spatial]));
        boolean bias = n.input(2) != null;
        Layer layer = spatial == 2
                ? ConvTranspose2d.builder(in, out, k).stride(stride).padding(before).dilation(dil).groups(groups).outputPadding(outPad)
                        .bias(bias).build()
                : ConvTranspose1d.builder(in, out, k[0]).stride(stride).padding(before).dilation(dil).groups(groups).outputPadding(outPad)
                        .bias(bias).build();
        copy(g.floats(n.input(1)), layer.parameters().get("weight"));
        if (bias) copy(g.floats(n.input(2)), layer.parameters().get("bias"));
        if (layer instanceof dev.panamadnn.nn.ConvNd c) c.weightsChanged();
        return layer;
    }

    private static void copy(float[] values, Tensor into) {
        MemorySegment.copy(values, 0, into.segment(), ValueLayout.JAVA_FLOAT, 0, values.length);
    }

    private static long[] ones(int n) {
        long[] o = new long[n];
        Arrays.fill(o, 1);
        return o;
    }

    private static int[] ints(long[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.toIntExact(v[i]);
        return r;
    }
}
