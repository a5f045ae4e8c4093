package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A zero {@code Pad} of the spatial dims only, read only by a {@code Conv} or an {@code AveragePool}, becomes that
 * node's own padding: for a convolution the padded zeros are what its padding reads; for an average pooling they
 * are elements of every window, so the pooling counts its padding ({@code count_include_pad = 1}; one that pads
 * itself without counting it, rounds its output size up, or would pad asymmetrically, is left alone). torch 1.13 writes such a Pad before {@code F.avg_pool2d(x, 3, 1, 1)}
 * (Inception-v3's pool branches: 9 Java pad steps, 24 of its 92 ms), and TensorFlow exports before convolutions.
 * Exact: the same windows over the same values.
 */
final class FoldPad implements Rewrite {
    @Override
    public String name() {
        return "fold_pad";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node pad : new ArrayList<>(g.nodes)) {
            if (!pad.op().equals("Pad") || !pad.attributes().string("mode", "constant").equals("constant")) continue;
            if (pad.inputs().size() < 2 || pad.inputs().size() > 3 || !g.isConstant(pad.input(1)) || g.tensor(pad.input(1)) == null) continue;
            if (pad.inputs().size() == 3 && pad.input(2) != null && !pad.input(2).isEmpty()
                    && (!g.isConstant(pad.input(2)) || g.floats(pad.input(2))[0] != 0f)) continue;
            List<Node> readers = g.consumers(pad.output());
            if (readers.size() != 1 || g.uses(pad.output()) != 1) continue;
            Node user = readers.get(0);
            boolean conv = user.op().equals("Conv"), avg = user.op().equals("AveragePool");
            if (!(conv || avg) || !user.input(0).equals(pad.output())) continue;
            if (!user.attributes().string("auto_pad", "NOTSET").equals("NOTSET")) continue;
            long[] p = g.tensor(pad.input(1)).segment().toArray(ValueLayout.JAVA_LONG);
            int rank = p.length / 2, nd = rank - 2;
            if (nd < 1 || p[0] != 0 || p[1] != 0 || p[rank] != 0 || p[rank + 1] != 0) continue;   // batch or channels padded
            if (Arrays.stream(p).anyMatch(v -> v < 0)) continue;   // a crop
            long[] own = user.attributes().integers("pads", null);
            if (own == null) own = new long[2 * nd];
            if (own.length != 2 * nd) continue;
            if (avg && user.attributes().integer("count_include_pad", 0) == 0 && Arrays.stream(own).anyMatch(v -> v != 0)) continue;
            // ceil_mode: a last window past the padded input divides by the elements it covers, counting the Pad's zeros
            // but not the overhang; a pooling that counts its padding would count the overhang too
            if (avg && user.attributes().integer("ceil_mode", 0) != 0) continue;
            long[] pads = own.clone();
            for (int d = 0; d < nd; d++) {
                pads[d] += p[2 + d];
                pads[nd + d] += p[rank + 2 + d];
            }
            boolean symmetric = true;   // compiled pooling takes PyTorch's symmetric padding only (an asymmetric one stays a Pad step)
            for (int d = 0; d < nd; d++) symmetric &= pads[d] == pads[nd + d];
            if (avg && !symmetric) continue;
            var a = user.attributes().toBuilder().put("pads", pads);
            if (avg) a.put("count_include_pad", 1L);
            List<String> inputs = new ArrayList<>(user.inputs());
            inputs.set(0, pad.input(0));
            g.replace(user, PlanGraph.rebuilt(user, inputs, a.build(), user.output()));
            g.remove(pad);
            g.fired.add(name() + ": " + pad.name() + " into " + user.name() + " (pads " + Arrays.toString(pads) + ")");
        }
    }
}
