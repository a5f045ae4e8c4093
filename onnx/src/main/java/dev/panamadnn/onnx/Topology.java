package dev.panamadnn.onnx;

import dev.panamadnn.onnx.proto.NodeProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The nodes of an ONNX graph in topological order (ONNX requires it; some exporters do not keep
 * it), with the structural problems recorded: a value defined twice, an input nothing defines,
 * a cycle (naming the nodes on it).
 */
final class Topology {
    private Topology() {}

    /**
     * {@code nodes} sorted so that each follows the producers of its inputs (stable: a sorted graph
     * keeps its order). {@code defined} holds the graph inputs and initializers; node outputs are
     * added. Problems go to {@code problems}; the nodes on a cycle are left out of the result.
     */
    static List<NodeProto> sort(List<NodeProto> nodes, Set<String> defined, List<String> problems) {
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String o : nodes.get(i).getOutputList()) {
                if (o.isEmpty()) continue;
                if (defined.contains(o) && !producer.containsKey(o)) {
                    problems.add(label(nodes.get(i)) + ": output '" + o + "' is already a graph input or initializer");
                } else if (producer.putIfAbsent(o, i) != null) {
                    problems.add(label(nodes.get(i)) + ": output '" + o + "' is also defined by " + label(nodes.get(producer.get(o))));
                }
            }
        }
        int[] waiting = new int[nodes.size()];
        List<List<Integer>> readers = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) readers.add(new ArrayList<>());
        for (int i = 0; i < nodes.size(); i++) {
            for (String in : new TreeSet<>(nodes.get(i).getInputList())) {
                if (in.isEmpty() || defined.contains(in)) continue;
                Integer p = producer.get(in);
                if (p == null) {
                    problems.add(label(nodes.get(i)) + ": input '" + in + "' is not defined (not a graph input, initializer or node output)");
                } else {
                    waiting[i]++;
                    readers.get(p).add(i);
                }
            }
        }
        // Kahn's algorithm, taking ready nodes in their original order.
        java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>();
        for (int i = 0; i < nodes.size(); i++) if (waiting[i] == 0) ready.add(i);
        List<NodeProto> sorted = new ArrayList<>(nodes.size());
        boolean[] done = new boolean[nodes.size()];
        while (!ready.isEmpty()) {
            int i = ready.poll();
            done[i] = true;
            sorted.add(nodes.get(i));
            for (int r : readers.get(i)) if (--waiting[r] == 0) ready.add(r);
        }
        if (sorted.size() < nodes.size()) {
            List<String> stuck = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) if (!done[i]) stuck.add(label(nodes.get(i)));
            problems.add("the graph has a cycle through " + String.join(", ", stuck));
        }
        return sorted;
    }

    private static String label(NodeProto n) {
        return "node " + (n.getName().isEmpty() ? "(unnamed, op " + n.getOpType() + ")" : "'" + n.getName() + "' (" + n.getOpType() + ")");
    }

}
