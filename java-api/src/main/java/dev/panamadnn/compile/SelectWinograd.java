package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.util.ArrayList;

/**
 * Winograd selection: marks each {@code Conv} that {@link Winograd} F(4x4, 3x3) should run (see
 * {@link CompileOptions#winograd()}): 2-D, 3x3, stride 1, padding 1, no dilation or groups,
 * channels a multiple of the Vector API lanes and at least {@link Winograd#minChannels()} in and out (64 by
 * default), no fused activation but a plain ReLU, and at least {@link Winograd#MIN_TILES} output tiles, reading and writing {@code nhwc} as {@link AssignLayouts}
 * decided (so {@code CHANNELS_LAST} with that rule on); only with the option on and
 * {@code jdk.incubator.vector} present. Runs after the fusions, which decide the activation, and
 * the layout assignment. The lowering still runs the direct convolution where the layouts it gets
 * are not {@code nhwc} or the input is the caller's own (read without a reorder by the direct kernel).
 */
final class SelectWinograd implements Rewrite {
    @Override
    public String name() {
        return "select_winograd";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.winograd() && Winograd.available();
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node n : new ArrayList<>(g.nodes)) {
            if (!fits(g, n)) continue;
            if (!AssignLayouts.output(n).equals(AssignLayouts.NHWC) || !AssignLayouts.source(n).equals(AssignLayouts.NHWC)) continue;
            g.replace(n, PlanGraph.rebuilt(n, n.inputs(), n.attributes().toBuilder().put(PlanGraph.WINOGRAD, 1L).build(), n.output()));
            g.fired.add(name() + ": " + n.name());
        }
    }

    /** Whether {@code n} is a convolution Winograd F(4x4, 3x3) would run, layouts aside (the rule's conditions above). */
    static boolean fits(PlanGraph g, Node n) {
        if (!n.op().equals("Conv") || g.shape(n.input(0)).rank() != 4) return false;
        int lanes = Winograd.lanes(), minChannels = Winograd.minChannels();
        Attributes a = n.attributes();
        long[] w = g.shape(n.input(1)).sizes(), out = g.value(n.output()).shape().sizes();
        boolean fits = a.integer("group", 1) == 1 && w[2] == 3 && w[3] == 3 && w[0] % lanes == 0 && w[1] % lanes == 0;
        fits &= all(a.integers("strides", null), 1) && all(a.integers("dilations", null), 1)
            && a.integers("pads", null) != null && all(a.integers("pads", null), 1);
        String act = a.string(PlanGraph.ACTIVATION, null);
        fits &= act == null || act.equals("Relu");
        fits &= out[0] * Winograd.tiles(out[2]) * Winograd.tiles(out[3]) >= Winograd.MIN_TILES;
        return fits && w[0] >= minChannels && w[1] >= minChannels;
    }

    /** Whether every entry is {@code v}; an absent attribute (strides, dilations: all 1) counts as all 1. */
    private static boolean all(long[] values, long v) {
        if (values == null) return v == 1;
        for (long x : values) if (x != v) return false;
        return true;
    }
}
