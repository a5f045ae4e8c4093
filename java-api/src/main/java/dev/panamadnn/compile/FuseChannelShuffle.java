package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.util.Arrays;
import java.util.List;

/**
 * ShuffleNet's channel shuffle as exporters write it, {@code Reshape [N, C, H, W] -> [N, g, C/g, H, W]},
 * {@code Transpose perm [0, 2, 1, 3, 4]}, {@code Reshape -> [N, C, H, W]}, into one {@code ChannelShuffle}
 * node (group g): output channel {@code j*g + i} is input channel {@code i*(C/g) + j}. It keeps the layout
 * its input arrives in (assign_layouts' {@code input}), so a channels-last activation is shuffled by one
 * reorder between two strided 5-D views of the same nhwc bytes ({@link LowerMatMul#channelShuffle}), where the
 * three nodes cost a reorder to plain (a 5-D reshape needs row-major memory), the transpose, and a reorder
 * back to nhwc for the next convolution. The two intermediate values must have no other reader, and the
 * activation must be at most {@link #MAX_BYTES}.
 */
final class FuseChannelShuffle implements Rewrite {
    /**
     * The largest activation shuffled by the one strided reorder. oneDNN 3.13 runs that 5-D reorder with a generic
     * kernel; the nhwc-to-plain reorders and the plain transpose are faster per byte, so past the caches the three
     * passes win. ShuffleNetV2 x1.0 at 128x128 (2-vCPU AMD EPYC Zen 4, both plans in one JVM alternating, medians
     * of 9 rounds), every shuffle fused against none: batch 1 (shuffles of 119 KB and less) 1.01 vs 1.29 ms, batch 2
     * 2.45 vs 2.78, batch 4 (up to 475 KB) 3.59 vs 3.64, batch 8 8.40 vs 8.00, batch 16 13.24 vs 12.63.
     */
    static final long MAX_BYTES = 256L << 10;

    @Override
    public String name() {
        return "fuse_channel_shuffle";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node t : List.copyOf(g.nodes)) {
            if (!t.op().equals("Transpose") || !Arrays.equals(t.attributes().integers("perm", null), new long[] {0, 2, 1, 3, 4})) continue;
            Node first = g.producer(t.input(0));
            if (first == null || !first.op().equals("Reshape") || g.uses(first.output()) != 1 || g.uses(t.output()) != 1) continue;
            List<Node> after = g.consumers(t.output());
            if (after.size() != 1 || !after.get(0).op().equals("Reshape")) continue;
            Node second = after.get(0);
            String x = first.input(0);
            if (!g.shape(x).isFixed() || !g.shape(first.output()).isFixed() || !g.shape(second.output()).isFixed()) continue;
            long[] in = g.shape(x).sizes(), split = g.shape(first.output()).sizes(), out = g.shape(second.output()).sizes();
            if (in.length != 4 || split.length != 5 || !Arrays.equals(in, out)) continue;
            if (split[0] != in[0] || split[1] * split[2] != in[1] || split[3] != in[2] || split[4] != in[3]) continue;
            if (4L * in[0] * in[1] * in[2] * in[3] > MAX_BYTES) continue;
            g.replace(second, new Node(second.name(), "ChannelShuffle", List.of(x), List.of(second.output()), Attributes.of("group", split[1])));
            g.remove(t);
            g.remove(first);
            g.fired.add(name() + ": " + first.name() + ", " + t.name() + " and " + second.name() + " into one ChannelShuffle (group " + split[1] + ")");
        }
    }
}
