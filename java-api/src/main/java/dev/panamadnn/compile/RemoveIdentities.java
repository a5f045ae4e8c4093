package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * Dead-value elimination and identity removal: a {@code Concat} operand with no elements (a fixed size of 0 along the
 * axis: an empty KV cache's past, say) is dropped, and a Concat left with one operand becomes an Identity of it (a
 * plan computes on no empty tensors, and the empty operand adds nothing); an {@code Identity} whose input is computed
 * by a node (not the graph input) is dropped and that node writes its output directly; a node none of whose outputs is
 * read (nor a graph output) is dropped, repeatedly.
 */
final class RemoveIdentities implements Rewrite {
    @Override
    public String name() {
        return "remove_dead_values";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node c : new ArrayList<>(g.nodes)) {
            if (!c.op().equals("Concat") || c.inputs().size() < 2 || PlanIO.isEmpty(g, c.output())) continue;
            List<String> kept = c.inputs().stream().filter(i -> !PlanIO.isEmpty(g, i)).toList();
            if (kept.size() == c.inputs().size() || kept.isEmpty()) continue;
            g.replace(c, kept.size() == 1 ? new Node(c.name(), "Identity", kept, c.outputs(), dev.panamadnn.graph.Attributes.of())
                    : PlanGraph.rebuilt(c, kept, c.attributes(), c.output()));
            g.fired.add(name() + ": " + (c.inputs().size() - kept.size()) + " empty operand(s) of concat " + c.name());
        }
        for (Node id : new ArrayList<>(g.nodes)) {
            if (!id.op().equals("Identity")) continue;
            Node p = g.producer(id.input(0));
            if (p == null || p.outputs().size() != 1 || g.uses(id.input(0)) != 1) continue;
            g.replace(p, PlanGraph.rebuilt(p, p.inputs(), p.attributes(), id.output()));
            g.remove(id);
            g.fired.add(name() + ": identity " + id.name());
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Node n : new ArrayList<>(g.nodes)) {
                boolean read = false;
                for (String o : n.outputs()) read |= g.uses(o) > 0;
                if (!read) {
                    g.remove(n);
                    g.fired.add(name() + ": unused " + n.name());
                    changed = true;
                }
            }
        }
    }
}
