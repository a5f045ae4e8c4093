package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.compile.LowerRecurrent.Rnn;
import dev.panamadnn.compile.LowerRecurrent.State;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.RnnOps;
import dev.panamadnn.internal.lowering.LengthGroups;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@code LSTM}/{@code GRU} node with constant, unequal {@code sequence_lens}, run as the eager
 * layers run padded batches (oneDNN has no per-sequence lengths): the batch split into groups of
 * equal length, longest first; one Java step gathers each group's steps of X (and its initial states)
 * into {@code tnc} buffers, one primitive per group runs exactly its length (so the reverse direction
 * starts at each sequence's own last step), and one Java step scatters the results back: Y past a
 * sequence's end is 0, Y_h/Y_c the state at its last step (PyTorch's pack_padded_sequence, ONNX
 * Runtime's output). Index maps fixed at compile time; no allocation per run.
 */
final class LowerRecurrentGroups {
    private LowerRecurrentGroups() {}

    /** Returns the buffers of Y (oneDNN's layout for the node: {@code [T, N, D*H]} or {@code [N, T, D*H]}), Y_h and Y_c. */
    static int[] lower(Compiler plan, Node n, Rnn g, LowerRecurrent.Params weights, int[] lengths, Value x, State h0, State c0) {
        List<int[]> groups = LengthGroups.of(lengths);
        int dirs = g.dirs(), h = g.hidden(), features = g.features();
        long batch = g.batch(), steps = g.steps();
        boolean bf = g.batchFirst();
        // gather: X rows, and the runtime initial states' rows, per group
        List<Value> ins = new ArrayList<>(List.of(PlanOutputs.javaInput(plan, x, "X of " + n.name())));
        int[] stateIn = addStates(ins, h0, c0);
        int h0In = stateIn[0], c0In = stateIn[1];
        int perGroup = 1 + (h0In >= 0 ? 1 : 0) + (c0In >= 0 ? 1 : 0);
        List<long[]> gathered = new ArrayList<>();
        for (int[] grp : groups) {
            long ng = grp.length - 1;
            gathered.add(new long[] {grp[0], ng, features});
            for (int k = 1; k < perGroup; k++) gathered.add(new long[] {dirs, ng, h});
        }
        int finalH0In = h0In, finalC0In = c0In;
        List<Value> parts = PlanOutputs.javaStep(plan, ins, gathered, (src, dst) -> {
            for (int q = 0; q < groups.size(); q++) {
                int[] grp = groups.get(q);
                int o = q * perGroup, ng = grp.length - 1;
                for (int t = 0; t < grp[0]; t++)
                    for (int j = 0; j < ng; j++) copy(src[0], row(bf, t, grp[j + 1], steps, batch), dst[o], (long) t * ng + j, features);
                if (finalH0In >= 0) gatherState(src[finalH0In], dst[o + 1], grp, dirs, batch, h);
                if (finalC0In >= 0) gatherState(src[finalC0In], dst[o + (finalH0In >= 0 ? 2 : 1)], grp, dirs, batch, h);
            }
        }, "java gather " + n.name() + " into " + groups.size() + " length groups").stream().toList();
        // one primitive per group
        List<Value> results = new ArrayList<>();
        List<long[]> resultShapes = new ArrayList<>();
        for (int q = 0; q < groups.size(); q++) {
            int[] grp = groups.get(q);
            int ng = grp.length - 1, o = q * perGroup, k = 1;
            State gh = h0 == null ? null : h0.constant() != null ? new State(gather(h0.constant(), grp, dirs, batch, h), null) : new State(null, parts.get(o + k++));
            State gc = c0 == null ? null : c0.constant() != null ? new State(gather(c0.constant(), grp, dirs, batch, h), null) : new State(null, parts.get(o + k));
            long[][] shapes = {{grp[0], ng, (long) dirs * h}, {dirs, ng, h}, {dirs, ng, h}};
            int[] out = {plan.newBuffer(4 * shapes[0][0] * ng * dirs * h), plan.newBuffer(LowerRecurrent.stateBytes(g, ng)),
                    g.lstm() ? plan.newBuffer(LowerRecurrent.stateBytes(g, ng)) : -1};
            LowerRecurrent.emitLayer(plan, n, g, weights, grp[0], ng, RnnOps.tnc(), parts.get(o).buffer(), gh, gc, out, " group " + q);
            for (int i = 0; i < (g.lstm() ? 3 : 2); i++) {
                results.add(new Value(plan.own(dev.panamadnn.internal.dnnl.MemoryDescriptor.f32(dev.panamadnn.internal.dnnl.Ops.plain(3), shapes[i])),
                        out[i], shapes[i]));
                resultShapes.add(shapes[i]);
            }
        }
        // scatter into the full Y (zeros past each end) and the final states
        int per = g.lstm() ? 3 : 2;
        List<long[]> full = new ArrayList<>(List.of(bf ? new long[] {batch, steps, (long) dirs * h} : new long[] {steps, batch, (long) dirs * h},
                new long[] {dirs, batch, h}));
        if (g.lstm()) full.add(new long[] {dirs, batch, h});
        int width = dirs * h;
        List<Value> outs = PlanOutputs.javaStep(plan, results, full, (src, dst) -> {
            dst[0].fill((byte) 0);
            for (int q = 0; q < groups.size(); q++) {
                int[] grp = groups.get(q);
                int ng = grp.length - 1;
                for (int t = 0; t < grp[0]; t++)
                    for (int j = 0; j < ng; j++) copy(src[q * per], (long) t * ng + j, dst[0], row(bf, t, grp[j + 1], steps, batch), width);
                for (int s = 1; s < per; s++) scatterState(src[q * per + s], dst[s], grp, dirs, batch, h);
            }
        }, "java scatter " + n.name() + " from " + groups.size() + " length groups");
        return new int[] {outs.get(0).buffer(), outs.get(1).buffer(), g.lstm() ? outs.get(2).buffer() : -1};
    }

    /** Appends the run-time initial states to a Java step's inputs; returns their indices there (-1: none or constant). */
    static int[] addStates(List<Value> ins, State h0, State c0) {
        int[] at = {-1, -1};
        if (h0 != null && h0.value() != null) {
            at[0] = ins.size();
            ins.add(h0.value());
        }
        if (c0 != null && c0.value() != null) {
            at[1] = ins.size();
            ins.add(c0.value());
        }
        return at;
    }

    /** The row (of features) holding step {@code t} of sequence {@code b}: {@code [T, N, *]}, or {@code [N, T, *]} batch first. */
    static long row(boolean batchFirst, long t, long b, long steps, long batch) {
        return batchFirst ? b * steps + t : t * batch + b;
    }

    static void copy(MemorySegment from, long fromRow, MemorySegment to, long toRow, long width) {
        MemorySegment.copy(from, fromRow * width * 4, to, toRow * width * 4, width * 4);
    }

    /** A state's rows for a group at run time: {@code [D, n, H]} from {@code [D, N, H]}. */
    static void gatherState(MemorySegment from, MemorySegment to, int[] grp, int dirs, long batch, int h) {
        int ng = grp.length - 1;
        for (int d = 0; d < dirs; d++)
            for (int j = 0; j < ng; j++) copy(from, d * batch + grp[j + 1], to, (long) d * ng + j, h);
    }

    /** A group's final states {@code [D, n, H]} into their rows of {@code [D, N, H]}. */
    static void scatterState(MemorySegment from, MemorySegment to, int[] grp, int dirs, long batch, int h) {
        int ng = grp.length - 1;
        for (int d = 0; d < dirs; d++)
            for (int j = 0; j < ng; j++) copy(from, (long) d * ng + j, to, d * batch + grp[j + 1], h);
    }

    /** A constant state's rows for a group: {@code [D, n, H]} from {@code [D, N, H]}. */
    private static float[] gather(float[] state, int[] grp, int dirs, long batch, int h) {
        int ng = grp.length - 1;
        float[] out = new float[dirs * ng * h];
        for (int d = 0; d < dirs; d++)
            for (int j = 0; j < ng; j++) System.arraycopy(state, (int) ((d * batch + grp[j + 1]) * h), out, (d * ng + j) * h, h);
        return out;
    }
}
