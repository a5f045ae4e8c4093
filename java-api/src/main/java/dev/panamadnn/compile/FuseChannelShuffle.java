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
 *
 * <p>When the shuffled value is a {@code Concat} on the channels of exactly {@code g} activations of {@code C/g}
 * channels each, read by nothing else (ShuffleNetV2's units: the kept half and the branch's output), the node
 * takes the concat's inputs instead: each is reordered once, from its own layout, into its channels
 * {@code i, i + g, ...} of the output, of any size ({@link #concatOfGroups}). ShuffleNetV2 x1.0 at 128x128,
 * one JVM alternating (2-vCPU AMD EPYC Zen 4): batch 1 0.965 -> 0.926 ms, batch 3 2.40 -> 2.13, batch 16
 * 11.2 -> 10.0 (split in two) and 12.2 -> 10.9 (whole); outputs bit-identical. When the two halves of such a
 * shuffle are all that reads it (the next unit's two Slices), the shuffle writes them itself ({@link #intoHalves}):
 * a further -7% at batch 1 (1.66 -> 1.55 ms in the VM's slow mode), -5% at batch 3, -2% at batch 16.
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
            Node concat = concatOfGroups(g, x, split[1], split[2]);
            if (concat == null && 4L * in[0] * in[1] * in[2] * in[3] > MAX_BYTES) continue;
            List<String> inputs = concat == null ? List.of(x) : concat.inputs();
            Node shuffle = new Node(second.name(), "ChannelShuffle", inputs, List.of(second.output()), Attributes.of("group", split[1]));
            g.replace(second, shuffle);
            g.remove(t);
            g.remove(first);
            if (concat != null) g.remove(concat);
            g.fired.add(name() + ": " + (concat == null ? "" : concat.name() + ", ") + first.name() + ", " + t.name() + " and " + second.name()
                    + " into one ChannelShuffle (group " + split[1] + (concat == null ? ")" : ", of the " + inputs.size() + " concatenated inputs)"));
            if (concat != null) intoHalves(g, shuffle);
        }
    }

    /**
     * A ChannelShuffle of two concatenated groups whose output is read only by two channel Slices, {@code [0, C/2)} and
     * {@code [C/2, C)} (ShuffleNetV2's next unit splitting it again), with C/2 even: one node writing both halves
     * (outputs: the two slices' values), each group's two runs of channels reordered straight into the halves:
     * four reorders that move every element once, where the shuffle's two and the slices' two moved it twice.
     */
    private void intoHalves(PlanGraph g, Node shuffle) {
        String z = shuffle.output();
        long[] zs = g.shape(z).sizes();
        long half = zs[1] / 2;
        if (shuffle.inputs().size() != 2 || half % 2 != 0 || g.source.isOutput(z)) return;
        List<Node> readers = g.consumers(z);
        if (readers.size() != 2 || g.uses(z) != 2) return;
        String[] outs = new String[2];
        for (Node r : readers) {
            long start = sliceOfChannels(g, r, z, half);
            if (start < 0 || outs[(int) (start / half)] != null) return;
            outs[(int) (start / half)] = r.output();
        }
        g.replace(shuffle, new Node(shuffle.name(), "ChannelShuffle", shuffle.inputs(), List.of(outs[0], outs[1]), shuffle.attributes()));
        for (Node r : readers) g.remove(r);
        g.fired.add(name() + ": " + shuffle.name() + " writes the halves " + outs[0] + " and " + outs[1] + " itself (their slices absorbed)");
    }

    /** The first channel of {@code slice} if it takes channels {@code [0, half)} or {@code [half, 2 half)} of a 4-D value in unit steps, else -1. */
    private static long sliceOfChannels(PlanGraph g, Node slice, String z, long half) {
        long[] r = g.unitSlice(slice, z);   // {axis, start, length}; the shuffle's channels are 2 half (two groups)
        return r != null && r[0] == 1 && (r[1] == 0 || r[1] == half) && r[2] == half ? r[1] : -1;
    }

    /**
     * The Concat producing {@code x} when it joins exactly {@code groups} 4-D activations of {@code k} channels each on
     * axis 1 and nothing else reads {@code x}: its inputs are then the shuffle's groups, and the shuffle writes input
     * {@code i}'s channel {@code j} to output channel {@code j*groups + i} directly, one 4-D reorder per input into a
     * channel-strided view of the output (from whatever layout the input has). ShuffleNetV2's concat + shuffle of two
     * halves as two such reorders instead of the concat and the 5-D one (2-vCPU AMD EPYC Zen 4, oneDNN 3.13, best of 7):
     * 9.1 -> 9.0 us at [1, 116, 16, 16], 11.9 -> 7.2 us at [1, 464, 4, 4], and at [8, 116, 16, 16] on one thread (a
     * split part of batch 16) 244 -> 68 us, where the 5-D reorder falls to a slow kernel (brgemm_matmul_copy_reorder).
     */
    private static Node concatOfGroups(PlanGraph g, String x, long groups, long k) {
        Node c = g.producer(x);
        if (c == null || !c.op().equals("Concat") || c.inputs().size() != groups || g.uses(x) != 1) return null;
        long[] out = g.shape(x).sizes();
        long axis = c.attributes().integer("axis", 1);
        if (axis != 1 && axis != 1 - out.length) return null;
        for (String i : c.inputs()) {
            if (i == null || i.isEmpty() || g.isConstant(i) || !g.shape(i).isFixed() || g.value(i).dtype() != dev.panamadnn.DataType.F32) return null;
            long[] s = g.shape(i).sizes();
            if (s.length != 4 || s[0] != out[0] || s[1] != k || s[2] != out[2] || s[3] != out[3]) return null;
        }
        return c;
    }
}
