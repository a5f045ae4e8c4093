package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.ConvOps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Concatenation without copies: a channel {@code Concat} in the channel-blocked layout becomes the owner
 * (the root) of one buffer, its inputs' places in it are decided before they are computed, and each
 * convolution producing one writes its result straight into its channels (a oneDNN sub-memory: in
 * {@code nChw16c}, channels {@code [c0, c0 + C)} with {@code c0} and {@code C} multiples of the block are
 * one dense run per image, which oneDNN's blocked convolution kernels read and write at full speed; its
 * channels-last kernels fall back to the reference one on such a view, so the rule is off for {@code nhwc}).
 * Every other concat whose inputs are a contiguous run of a root's inputs is a view of those channels and
 * costs nothing: DenseNet's layer {@code k} concatenates the block's first {@code k} feature maps, all of
 * them prefixes of the block's last concat, so its quadratic copying disappears. Its readers take the view
 * directly (a convolution, or a batch norm run as a depthwise 1x1 convolution, when oneDNN has a fast
 * kernel for it) or as a dense copy. An input whose producer cannot write in place (a pooling at batch > 1,
 * a reader elsewhere) is copied into its place once, which is what the concat cost per input before.
 *
 * <p>Eligible: a 4-D Concat on axis 1 that {@link AssignLayouts} put in the blocked layout, of distinct
 * activations (no constant, no graph input, no graph output), every one's channels a multiple of the block,
 * and not itself a graph output. Roots are chosen from the last concat backwards; an input belongs to one
 * root at most (a concat that shares an input with a family without being a run of its root stays a
 * oneDNN concat), and a concat that is an input of a later root is neither a root nor a view (it is
 * computed, then copied into its place: one value has one place). Records its decisions in
 * {@link PlanGraph#concatRegions} and {@link PlanGraph#concatsInPlace}; the lowering reads them.
 * {@code ConcatInPlaceFuzzTest} checks random concatenating graphs against the plans without the rule.
 */
final class ConcatInPlace implements Rewrite {
    @Override
    public String name() {
        return "concat_in_place";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.layout() != CompileOptions.Layout.PLAIN;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        int block = ConvOps.channelBlock();
        List<Node> eligible = new ArrayList<>();
        for (Node n : g.nodes) if (eligible(g, n, block)) eligible.add(n);
        Map<String, List<String>> roots = new HashMap<>();   // root output -> its inputs
        Set<String> claimed = new HashSet<>();
        Map<String, List<String>> views = new HashMap<>();   // root -> the concats viewing it
        for (int i = eligible.size() - 1; i >= 0; i--) {
            Node c = eligible.get(i);
            if (claimed.contains(c.output())) continue;   // an input of a later root: computed, then copied into its place there
            String family = null;
            long offset = 0;
            for (Map.Entry<String, List<String>> r : roots.entrySet()) {
                int at = runAt(r.getValue(), c.inputs());
                if (at < 0) continue;
                family = r.getKey();
                for (int k = 0; k < at; k++) offset += g.shape(r.getValue().get(k)).sizes()[1];
                break;
            }
            if (family != null) {
                g.concatRegions.put(c.output(), new PlanGraph.Region(family, offset));
                g.concatsInPlace.add(c.output());
                views.get(family).add(c.name());
                continue;
            }
            if (c.inputs().stream().anyMatch(claimed::contains)) continue;
            roots.put(c.output(), c.inputs());
            views.put(c.output(), new ArrayList<>());
            g.concatRegions.put(c.output(), new PlanGraph.Region(c.output(), 0));
            g.concatsInPlace.add(c.output());
            long at = 0;
            for (String x : c.inputs()) {
                claimed.add(x);
                g.concatRegions.put(x, new PlanGraph.Region(c.output(), at));
                at += g.shape(x).sizes()[1];
            }
        }
        for (Node n : g.nodes) {
            List<String> v = views.get(n.output());
            if (v == null || !n.op().equals("Concat")) continue;
            g.fired.add(name() + ": " + n.name() + " (" + n.inputs().size() + " inputs written into its buffer)"
                    + (v.isEmpty() ? "" : "; " + v.size() + " concats read views of it: " + String.join(", ", v.reversed())));
        }
    }

    private static boolean eligible(PlanGraph g, Node n, int block) {
        if (!channelConcat(g, n, block) || !AssignLayouts.output(n).equals(AssignLayouts.BLOCKED) || g.source.isOutput(n.output())) return false;
        if (new HashSet<>(n.inputs()).size() != n.inputs().size()) return false;
        for (String x : n.inputs()) if (g.source.isOutput(x) || g.producer(x) == null) return false;
        return true;
    }

    /**
     * Whether {@code n} concatenates 4-D activations (no constant) on the channel axis, every one's channels a multiple of
     * {@code block}: what the rule can build in place in the blocked layout (and what makes {@link AssignLayouts} weigh
     * that layout).
     */
    static boolean channelConcat(PlanGraph g, Node n, int block) {
        if (!n.op().equals("Concat") || n.outputs().size() != 1 || !g.shape(n.output()).isFixed() || g.shape(n.output()).sizes().length != 4) {
            return false;
        }
        long axis = n.attributes().integer("axis", 0);
        if (axis != 1 && axis != -3) return false;
        for (String x : n.inputs()) {
            if (x == null || g.isConstant(x)) return false;
            long[] s = g.shape(x).sizes();
            if (s.length != 4 || s[1] % block != 0) return false;
        }
        return true;
    }

    /** Where {@code run} occurs as a contiguous run of {@code all}, or -1. */
    private static int runAt(List<String> all, List<String> run) {
        for (int at = 0; at + run.size() <= all.size(); at++) {
            if (all.subList(at, at + run.size()).equals(run)) return at;
        }
        return -1;
    }
}
