package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gemms of the same constant weights and bias, each reading one step {@code X[t]} ({@code Gather} on axis 0 by a
 * constant index) of the same {@code [T, N, K]} value, become one Gemm over all of {@code X}'s rows (a {@code Flatten}
 * to {@code [T*N, K]}) whose rows each step then takes ({@code Gather} of rows {@code t*N .. t*N+N-1}). This is an
 * unrolled recurrent cell's input projection, {@code x[t] W_ih^T + b_ih} at every step of a {@code torch.jit.script}
 * loop (ONNX {@code Loop}, unrolled when importing): one product of {@code T*N} rows instead of {@code T} of {@code N}
 * rows, each of which at one row cost about as much in oneDNN's fixed overhead as in arithmetic (5 us of an iteration's
 * 18 for a 64 -> 256 projection, 2-vCPU Intel VM). Every row is computed as before (the same inner product over the
 * same K), so the values are the same; only steps that use at least half of {@code X}'s steps are gathered, so no more
 * rows are computed than the steps use but twice. Runs before {@link FuseResidualSum}, which then folds the step's add
 * into the recurrent product. Needs X defined before the first of the Gemms.
 */
final class BatchGatheredGemms implements Rewrite {
    static final String NAME = "batch_gathered_gemms";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.fusePostOps();
    }

    private record Member(Node gemm, Node gather, long step) {}

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        Map<String, List<Member>> groups = new LinkedHashMap<>();
        for (Node m : g.nodes) {
            if (!m.op().equals("Gemm") || m.inputs().size() > 3) continue;
            Attributes a = m.attributes();
            if (a.integer("transA", 0) != 0 || a.real("alpha", 1) != 1 || a.real("beta", 1) != 1 || g.hasActivation(m) || a.has(PlanGraph.SUM)) continue;
            String x = m.input(0), w = m.input(1), c = m.input(2);
            if (w == null || !g.isConstant(w) || g.shape(w).rank() != 2 || c != null && !g.isConstant(c)) continue;
            long outF = g.shape(m.output()).rank() == 2 ? g.shape(m.output()).sizes()[1] : -1;
            long[] cs = c == null ? null : g.shape(c).sizes();
            if (c != null && LowerIndex.prod(cs, 0, cs.length) != outF) continue;   // a bias per output column only (the lowering's too)
            Node gather = x == null ? null : g.producer(x);
            if (gather == null || !gather.op().equals("Gather") || g.uses(x) != 1) continue;   // read by this Gemm alone (not an output)
            String data = gather.input(0);
            Tensor idx = gather.input(1) == null ? null : g.tensor(gather.input(1));
            if (data == null || g.isConstant(data) || g.value(data).dtype() != DataType.F32 || idx == null || idx.numel() != 1 || g.shape(gather.input(1)).rank() != 0) continue;
            long[] xs = g.shape(data).sizes();
            long axis = gather.attributes().integer("axis", 0);
            if (xs.length != 3 || axis != 0 && axis != -3) continue;
            long t = LowerIndex.longs(idx)[0];
            if (t < 0) t += xs[0];
            if (t < 0 || t >= xs[0]) continue;
            String key = data + '\0' + w + '\0' + (c == null ? "" : c) + '\0' + a.integer("transB", 0);
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(new Member(m, gather, t));
        }
        for (List<Member> group : groups.values()) {
            Node first = group.get(0).gemm;
            String data = group.get(0).gather.input(0);
            long[] xs = g.shape(data).sizes();
            long steps = group.stream().mapToLong(Member::step).distinct().count();
            if (group.size() < 2 || steps * 2 < xs[0]) continue;
            int at = g.indexOf(first);   // where the first step's Gather is: X is defined before it (the graph's order)
            for (Member mb : group) at = Math.min(at, g.indexOf(mb.gather));
            long rows = xs[0] * xs[1], k = xs[2], outF = g.shape(first.output()).sizes()[1];
            String flat = g.addValue(data + "/rows", DataType.F32, Shape.of(rows, k));
            String product = g.addValue(first.output() + "/all_steps", DataType.F32, Shape.of(rows, outF));
            List<String> gemmInputs = new ArrayList<>(first.inputs());
            gemmInputs.set(0, flat);
            List<Node> added = List.of(new Node(first.name() + "/rows", "Flatten", List.of(data), List.of(flat), Attributes.of("axis", 2L)),
                    new Node(first.name() + "/all_steps", "Gemm", gemmInputs, List.of(product), first.attributes()));
            for (Member mb : group) {
                String ids = g.addValue(mb.gemm.output() + "/rows_of_step", DataType.I64, Shape.of(xs[1]));
                g.constantNodes.put(ids, rowsOf(mb.step * xs[1], xs[1]));
                g.replace(mb.gemm, new Node(mb.gemm.name(), "Gather", List.of(product, ids), List.of(mb.gemm.output()), Attributes.of("axis", 0L)));
                g.remove(mb.gather);
            }
            g.nodes.addAll(Math.min(at, g.nodes.size()), added);
            g.fired.add(NAME + ": " + group.size() + " Gemms on the steps of " + data + " (" + first.name() + ", ...) as one of " + rows + " rows");
        }
    }

    /** An I64 vector {@code from, from + 1, ..., from + count - 1} (memory freed by the garbage collector). */
    private static Tensor rowsOf(long from, long count) {
        MemorySegment s = Arena.ofAuto().allocate(count * 8, 8);
        for (long i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_LONG, i, from + i);
        return Tensor.wrap(s, DataType.I64, count);
    }
}
