package dev.panamadnn.internal.lowering;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;

/**
 * A padded batch of sequences split by length, as the recurrent layers run it (oneDNN's RNN
 * primitives have no per-sequence lengths): one group per distinct length, longest first. Used by
 * the eager layers and the compiled {@code LSTM}/{@code GRU} nodes alike.
 */
public final class LengthGroups {
    private LengthGroups() {}

    /** Each {@code int[]} is {@code {length, index, index, ...}}: a length and the batch indices having it, in order. */
    public static List<int[]> of(int[] lengths) {
        TreeMap<Integer, List<Integer>> byLength = new TreeMap<>(Collections.reverseOrder());
        for (int b = 0; b < lengths.length; b++) byLength.computeIfAbsent(lengths[b], k -> new ArrayList<>()).add(b);
        List<int[]> groups = new ArrayList<>();
        byLength.forEach((len, members) -> {
            int[] g = new int[members.size() + 1];
            g[0] = len;
            for (int i = 0; i < members.size(); i++) g[i + 1] = members.get(i);
            groups.add(g);
        });
        return groups;
    }
}
