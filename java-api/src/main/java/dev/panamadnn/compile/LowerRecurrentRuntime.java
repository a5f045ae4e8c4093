package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.compile.LowerRecurrent.Rnn;
import dev.panamadnn.compile.LowerRecurrent.State;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.RnnOps;
import dev.panamadnn.internal.lowering.LengthGroups;
import dev.panamadnn.internal.lowering.RnnWeights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An {@code LSTM}/{@code GRU} node whose {@code sequence_lens} is an integer graph input, so each run
 * brings its own lengths (a server batching requests of different lengths). One Java step per run:
 * reads and checks the lengths (each in [1, T], else an {@link IllegalArgumentException} naming the
 * node, the batch index, the length and T, before any native call), splits the batch into groups of
 * equal length as {@link LowerRecurrentGroups} does at compile time, and per group gathers its steps of
 * X and its initial states, runs a oneDNN RNN primitive of exactly that length and group size, and
 * scatters Y (0 past each sequence's end) and the final states (the state at each sequence's own last
 * step; the reverse direction starts there), PyTorch's {@code pack_padded_sequence} semantics.
 *
 * <p>The primitives are made on first use per (length, group size) and kept until the plan closes
 * (at most {@link #CACHED} of them; past that a call's primitive is made and freed within the call),
 * on the weights translated once into plain {@code ldigo}. Unlike the rest of a plan, such a run
 * allocates: the groups, and one set of gather buffers (sized for the whole batch, sliced per group) in a
 * confined arena freed before the step returns.
 */
final class LowerRecurrentRuntime {
    private LowerRecurrentRuntime() {}

    /** Primitives kept per node: distinct (length, group size) pairs seen. */
    static final int CACHED = 256;

    /** One primitive of {@code steps} x {@code batch} and its memory descriptors. */
    private record Entry(Primitive primitive, MemoryDescriptor src, MemoryDescriptor dst, MemoryDescriptor state, MemoryDescriptor wLayer,
                         MemoryDescriptor wIter, MemoryDescriptor bias) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            for (MemoryDescriptor m : new MemoryDescriptor[] {src, dst, state, wLayer, wIter, bias}) m.close();
        }
    }

    /** The node's primitives, closed with the plan. */
    private static final class Cache implements AutoCloseable {
        final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();

        @Override
        public void close() {
            entries.values().forEach(Entry::close);
            entries.clear();
        }
    }

    /** Returns the buffers of Y (oneDNN's layout for the node: {@code [T, N, D*H]} or {@code [N, T, D*H]}), Y_h and Y_c. */
    static int[] lower(Compiler plan, Node n, Rnn g, float[][] weights, String lengthsName, Value x, State h0, State c0, int threads) {
        int dirs = g.dirs(), h = g.hidden(), features = g.features();
        long batch = g.batch(), steps = g.steps();
        boolean bf = g.batchFirst(), lstm = g.lstm();
        long[] lensShape = plan.graph.shape(lengthsName).sizes();
        if (lensShape.length != 1 || lensShape[0] != batch) {
            throw Compiler.unsupported(n, "sequence_lens must be [" + batch + "] (one length per sequence), got " + java.util.Arrays.toString(lensShape));
        }
        List<Value> ins = new ArrayList<>(List.of(PlanOutputs.javaInput(plan, x, "X of " + n.name()),
                new Value(null, PlanArg.inputId(plan.integerInputs.get(lengthsName)), lensShape)));
        int[] stateIn = LowerRecurrentGroups.addStates(ins, h0, c0);
        int h0In = stateIn[0], c0In = stateIn[1];
        MemorySegment h0Constant = h0 == null || h0.constant() == null ? null : plan.constant(h0.constant());
        MemorySegment c0Constant = c0 == null || c0.constant() == null ? null : plan.constant(c0.constant());
        MemorySegment wl = plan.constant(weights[0]), wi = plan.constant(weights[1]), bias = plan.constant(weights[2]);
        Cache cache = plan.own(new Cache());
        String label = n.label(), lensLabel = lengthsName;
        List<long[]> full = new ArrayList<>(List.of(bf ? new long[] {batch, steps, (long) dirs * h} : new long[] {steps, batch, (long) dirs * h},
                new long[] {dirs, batch, h}));
        if (lstm) full.add(new long[] {dirs, batch, h});
        int width = dirs * h, fH0 = h0In, fC0 = c0In;
        plan.flops += 2L * steps * batch * dirs * g.gates() * h * (features + h);   // at most: every sequence at full length
        List<Value> outs = PlanOutputs.javaStep(plan, ins, full, (src, dst) -> {
            int[] lengths = new int[Math.toIntExact(batch)];
            for (int b = 0; b < lengths.length; b++) {
                long v = src[1].getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, b);   // I32, the graph op's check
                if (v < 1 || v > steps) {
                    throw new IllegalArgumentException("CompiledModel: node " + label + ": sequence_lens[" + b + "] (input '" + lensLabel
                            + "') is " + v + ", expected a length in [1, " + steps + "] (the steps of X)");
                }
                lengths[b] = (int) v;
            }
            dst[0].fill((byte) 0);
            try (Arena a = Arena.ofConfined()) {   // one scratch set per run, sized for the whole batch, sliced per group
                long stateBytes = 4L * dirs * batch * h;
                MemorySegment xAll = a.allocate(4L * steps * batch * features, 64), yAll = a.allocate(4L * steps * batch * width, 64);
                MemorySegment hAll = a.allocate(stateBytes, 64), hnAll = a.allocate(stateBytes, 64);
                MemorySegment cAll = lstm ? a.allocate(stateBytes, 64) : null, cnAll = lstm ? a.allocate(stateBytes, 64) : null;
                for (int[] grp : LengthGroups.of(lengths)) {
                    int len = grp[0], ng = grp.length - 1;
                    long key = (long) len * (batch + 1) + ng;
                    Entry e = cache.entries.get(key);
                    boolean temporary = false;
                    if (e == null) {
                        if (cache.entries.size() < CACHED) {
                            e = cache.entries.computeIfAbsent(key, k -> create(g, len, ng, label));
                        } else {
                            e = create(g, len, ng, label);
                            temporary = true;
                        }
                    }
                    try {
                        long groupState = 4L * dirs * ng * h;
                        MemorySegment xg = xAll.asSlice(0, 4L * len * ng * features), yg = yAll.asSlice(0, 4L * len * ng * width);
                        MemorySegment hg = hAll.asSlice(0, groupState), hn = hnAll.asSlice(0, groupState);
                        MemorySegment cg = lstm ? cAll.asSlice(0, groupState) : null, cn = lstm ? cnAll.asSlice(0, groupState) : null;
                        for (int t = 0; t < len; t++)
                            for (int j = 0; j < ng; j++) LowerRecurrentGroups.copy(src[0], LowerRecurrentGroups.row(bf, t, grp[j + 1], steps, batch), xg, (long) t * ng + j, features);
                        initialState(fH0 >= 0 ? src[fH0] : h0Constant, hg, grp, dirs, batch, h);
                        if (lstm) initialState(fC0 >= 0 ? src[fC0] : c0Constant, cg, grp, dirs, batch, h);
                        List<Arg> args = new ArrayList<>(List.of(new Arg(Args.SRC, e.src(), xg), new Arg(Args.SRC_ITER, e.state(), hg),
                                new Arg(Args.WEIGHTS, e.wLayer(), wl), new Arg(Args.WEIGHTS_ITER, e.wIter(), wi), new Arg(Args.BIAS, e.bias(), bias),
                                new Arg(Args.DST, e.dst(), yg), new Arg(Args.DST_ITER, e.state(), hn)));
                        if (lstm) {
                            args.add(new Arg(Args.SRC_ITER_C, e.state(), cg));
                            args.add(new Arg(Args.DST_ITER_C, e.state(), cn));
                        }
                        e.primitive().executeWithThreads(threads, args.toArray(new Arg[0]));
                        for (int t = 0; t < len; t++)
                            for (int j = 0; j < ng; j++) LowerRecurrentGroups.copy(yg, (long) t * ng + j, dst[0], LowerRecurrentGroups.row(bf, t, grp[j + 1], steps, batch), width);
                        LowerRecurrentGroups.scatterState(hn, dst[1], grp, dirs, batch, h);
                        if (lstm) LowerRecurrentGroups.scatterState(cn, dst[2], grp, dirs, batch, h);
                    } finally {
                        if (temporary) e.close();
                    }
                }
            }
        }, "java " + n.op().toLowerCase(java.util.Locale.ROOT) + " " + n.name() + " (" + g.direction().name().toLowerCase(java.util.Locale.ROOT)
                + ", layout " + (bf ? 1 : 0) + ", lengths from input " + lengthsName + ": one primitive per length group, made on first use)");
        return new int[] {outs.get(0).buffer(), outs.get(1).buffer(), lstm ? outs.get(2).buffer() : -1};
    }

    /** The primitive for {@code steps} x {@code batch} sequences, on plain ldigo weights. */
    private static Entry create(Rnn g, long steps, long batch, String label) {
        MemoryDescriptor src = MemoryDescriptor.f32(RnnOps.tnc(), steps, batch, g.features());
        MemoryDescriptor dst = MemoryDescriptor.f32(RnnOps.tnc(), steps, batch, (long) g.dirs() * g.hidden());
        MemoryDescriptor state = MemoryDescriptor.f32(RnnOps.ldnc(), 1, g.dirs(), batch, g.hidden());
        MemoryDescriptor wLayer = MemoryDescriptor.f32(RnnOps.ldigo(), 1, g.dirs(), g.features(), g.gates(), g.hidden());
        MemoryDescriptor wIter = MemoryDescriptor.f32(RnnOps.ldigo(), 1, g.dirs(), g.hidden(), g.gates(), g.hidden());
        MemoryDescriptor bias = MemoryDescriptor.f32(RnnOps.ldgo(), 1, g.dirs(), RnnWeights.biasRows(g.biasKind()), g.hidden());
        String what = "compiled " + (g.lstm() ? "LSTM " : g.vanilla() ? "RNN " : "GRU ") + label + " (" + steps + " steps x " + batch + ")";
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = g.descriptor(src, state, wLayer, wIter, null, bias, dst, attr, what)) {
            return new Entry(Primitive.create(pd), src, dst, state, wLayer, wIter, bias);
        } catch (RuntimeException | Error failure) {
            for (MemoryDescriptor m : new MemoryDescriptor[] {src, dst, state, wLayer, wIter, bias}) m.close();
            throw failure;
        }
    }

    /** A group's rows {@code [D, n, H]} of an initial state {@code [D, N, H]}, zeros for none. */
    private static void initialState(MemorySegment from, MemorySegment to, int[] grp, int dirs, long batch, int h) {
        if (from == null) to.fill((byte) 0);
        else LowerRecurrentGroups.gatherState(from, to, grp, dirs, batch, h);
    }
}
