package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.RnnOps;
import dev.panamadnn.internal.lowering.RnnWeights;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX's {@code LSTM}, {@code GRU} and {@code RNN} nodes (see {@code graph.RecurrentShapes}) as one oneDNN RNN
 * primitive each (the eager layers' primitives, {@link RnnOps}; an RNN on oneDNN's vanilla RNN with its activation),
 * or, for a batch-1 GRU where that is faster, as convolution steps ({@link LowerRecurrentSteps}):
 * W, R and B are read once and translated from ONNX's gate order (LSTM i, o, f, c; GRU z, r, h; RNN one gate) into
 * oneDNN's plain {@code ldigo}/{@code ldgo} ({@link RnnWeights}, shared with the eager layers), then, for an LSTM or RNN, W and R
 * reordered once into the layout the primitive chooses (format {@code any}); a GRU keeps plain {@code ldigo}
 * where the CPU has AVX-512 (faster there, {@link #weightFormat}); either way plan constants; X is read
 * in place ({@code tnc}, or {@code ntc} for layout 1). Y is the primitive's output where ONNX's
 * layout has the same bytes (one direction, or layout 1); a bidirectional layout-0 Y
 * ({@code [T, D, N, H]} from oneDNN's {@code [T, N, D*H]}) and layout-1 states ({@code [N, D, H]}
 * from {@code [D, N, H]}) are permuted by a Java step. Initial states may be graph inputs, computed
 * values or constants (absent: zeros). sequence_lens: constant ({@link LowerRecurrentGroups}) or an I32
 * graph input ({@link LowerRecurrentRuntime}). W, R and B may be computed at run time (graph inputs, as ONNX's backend
 * tests feed them): a Java step translates them each run and the LSTM's and RNN's are reordered by a step ({@link Params}).
 * An LSTM's peepholes (P) go to oneDNN's peephole weights (ONNX's i, o, f order as oneDNN's i, f, o). Refused, naming
 * the node: sequence_lens computed at run time from other values, and per-run sequence_lens with per-run weights or
 * with peepholes.
 */
final class LowerRecurrent {
    private LowerRecurrent() {}

    private static final String[] NAMES = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};

    static boolean handles(Node n) {
        return n.op().equals("LSTM") || n.op().equals("GRU") || n.op().equals("RNN");
    }

    /** The geometry of one node; {@code activation} is a vanilla RNN's (null for an LSTM or GRU). */
    record Rnn(boolean lstm, boolean lbr, RnnOps.Activation activation, RnnOps.Direction direction, int dirs, boolean batchFirst,
               long steps, long batch, int features, int hidden) {
        boolean vanilla() {
            return activation != null;
        }

        int gates() {
            return lstm ? 4 : vanilla() ? 1 : 3;
        }

        RnnWeights.Bias biasKind() {
            return lstm ? RnnWeights.Bias.LSTM : vanilla() ? RnnWeights.Bias.RNN : lbr ? RnnWeights.Bias.LBR_GRU : RnnWeights.Bias.GRU;
        }

        int[] gateOf() {
            return lstm ? RnnWeights.LSTM_FROM_ONNX : vanilla() ? RnnWeights.RNN_FROM_ONNX : RnnWeights.GRU_FROM_ONNX;
        }

        /** The primitive descriptor of this node's kind over the given descriptors (ldnc states; c for an LSTM only). */
        PrimitiveDescriptor descriptor(MemoryDescriptor src, MemoryDescriptor state, MemoryDescriptor wLayer, MemoryDescriptor wIter,
                                       MemoryDescriptor peephole, MemoryDescriptor bias, MemoryDescriptor dst, PrimitiveAttributes attr,
                                       String what) {
            if (lstm) return RnnOps.lstm(direction, src, state, state, wLayer, wIter, peephole, null, bias, dst, state, state, attr, what);
            if (vanilla()) return RnnOps.vanilla(activation, direction, src, state, wLayer, wIter, bias, dst, state, attr, what);
            return RnnOps.gru(lbr, direction, src, state, wLayer, wIter, bias, dst, state, attr, what);
        }
    }

    static List<Value> lower(Compiler plan, Node n) {
        Rnn g = geometry(plan, n);
        boolean runtimeWeights = false;
        for (int i : new int[] {1, 2, 3, 7}) runtimeWeights |= input(n, i) != null && !plan.graph.isConstant(n.input(i));
        int[] lengths = lengths(plan, n, g);
        if (runtimeWeights && lengths == RUNTIME) {
            throw Compiler.unsupported(n, "W, R, B or P computed at run time together with sequence_lens given per run is not compiled (either "
                    + "alone is)");
        }
        if (peephole(n) != null && lengths == RUNTIME) throw Compiler.unsupported(n, "peepholes (P) with sequence_lens given per run are not compiled");
        Params weights = runtimeWeights ? translateEachRun(plan, n, g) : new Params(translate(plan, n, g), null);
        Value x = plan.plain(plan.in(n, 0), "reorder to plain for " + n.name());
        State h0 = initialState(plan, n, g, 5), c0 = g.lstm() ? initialState(plan, n, g, 6) : null;
        int[] out;   // the buffers of Y (oneDNN's [T, N, D*H], or [N, T, D*H] for layout 1), Y_h and Y_c ([D, N, H])
        if (LowerRecurrentSteps.eligible(plan, g, runtimeWeights, lengths, h0)) {
            float[][] c = weights.constants();
            out = LowerRecurrentSteps.lower(plan, n, g, c[0], c[1], c[2], x, h0);
        } else if (lengths == RUNTIME) {
            out = LowerRecurrentRuntime.lower(plan, n, g, weights.constants(), n.input(4), x, h0, c0, plan.threads());
        } else if (lengths == null) {
            out = new int[] {plan.newBuffer(4L * g.steps() * g.batch() * g.dirs() * g.hidden()), plan.newBuffer(stateBytes(g, g.batch())),
                    g.lstm() ? plan.newBuffer(stateBytes(g, g.batch())) : -1};
            emitLayer(plan, n, g, weights, g.steps(), g.batch(), g.batchFirst() ? RnnOps.ntc() : RnnOps.tnc(), x.buffer(), h0, c0, out, "");
        } else {
            out = LowerRecurrentGroups.lower(plan, n, g, weights, lengths, x, h0, c0);
        }
        List<Value> outs = new ArrayList<>();
        outs.add(output(plan, n, g, out[0]));
        if (n.outputs().size() > 1) outs.add(finalState(plan, n, g, out[1], "Y_h"));
        if (n.outputs().size() > 2) outs.add(finalState(plan, n, g, out[2], "Y_c"));
        return outs;
    }

    /**
     * W, R and B in oneDNN's plain {@code ldigo}, {@code ldigo}, {@code ldgo}: translated once into {@code constants}, or,
     * when any of them is computed at run time (ONNX's backend tests feed them as graph inputs), plain {@code values}
     * that a Java step fills each run ({@link #translateEachRun}).
     */
    record Params(float[][] constants, Value[] values) {
        /** Whether the node has peephole weights (entry 3, an LSTM's P). */
        boolean peephole() {
            return constants != null ? constants[3] != null : values[3] != null;
        }
    }

    /** Input {@code i} of {@code n}, or null where the node has fewer inputs or leaves it out. */
    private static String input(Node n, int i) {
        return i < n.inputs().size() ? n.input(i) : null;
    }

    /** An LSTM's peephole input P (7), or null. */
    static String peephole(Node n) {
        return n.op().equals("LSTM") ? input(n, 7) : null;
    }

    /** oneDNN's peephole gate order (i, f, o) from ONNX's P (i, o, f). */
    private static final int[] PEEPHOLE_FROM_ONNX = {0, 2, 1};

    /** An initial state in oneDNN's {@code [D, N, H]} order: constant values, or a value in a plan buffer; null: zeros. */
    record State(float[] constant, Value value) {}

    static long stateBytes(Rnn g, long batch) {
        return 4L * g.dirs() * batch * g.hidden();
    }

    /**
     * One primitive over {@code steps} and {@code batch} sequences: X in plan buffer {@code xBuf} in {@code fmt}
     * ({@code tnc}/{@code ntc}), writing {@code out} = {Y, Y_h, Y_c} buffers.
     */
    static void emitLayer(Compiler plan, Node n, Rnn g, Params weights, long steps, long batch, int fmt, int xBuf, State h0, State c0,
                          int[] out, String suffix) {
        String at = n.name() + suffix;
        MemoryDescriptor srcLayer = plan.own(MemoryDescriptor.f32(fmt, steps, batch, g.features()));
        MemoryDescriptor dstLayer = plan.own(MemoryDescriptor.f32(fmt, steps, batch, (long) g.dirs() * g.hidden()));
        MemoryDescriptor state = plan.own(MemoryDescriptor.f32(RnnOps.ldnc(), 1, g.dirs(), batch, g.hidden()));
        long[] wLayerDims = {1, g.dirs(), g.features(), g.gates(), g.hidden()}, wIterDims = {1, g.dirs(), g.hidden(), g.gates(), g.hidden()};
        // LSTM, RNN: weights in the layout the primitive chooses (format any), reordered once from the plain ldigo translation;
        // GRU: plain ldigo where oneDNN has AVX-512 kernels (its ref GRU is faster there), else any too (see weightFormat)
        int wf = weightFormat(g.lstm() || g.vanilla());
        MemoryDescriptor wLayerAny = plan.own(MemoryDescriptor.f32(wf, wLayerDims));
        MemoryDescriptor wIterAny = plan.own(MemoryDescriptor.f32(wf, wIterDims));
        MemoryDescriptor wLayer, wIter;
        MemoryDescriptor biasMd = plan.own(MemoryDescriptor.f32(RnnOps.ldgo(), 1, g.dirs(), RnnWeights.biasRows(g.biasKind()), g.hidden()));
        MemoryDescriptor peepMd = weights.peephole() ? plan.own(MemoryDescriptor.f32(RnnOps.ldgo(), 1, g.dirs(), 3, g.hidden())) : null;
        Primitive p;
        String impl;
        String what = "compiled " + n.op() + " " + at;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = g.descriptor(srcLayer, state, wLayerAny, wIterAny, peepMd, biasMd, dstLayer, attr, what)) {
            wLayer = plan.own(Chosen.weights(pd, 0));
            wIter = plan.own(Chosen.weights(pd, 1));
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
        }
        plan.flops += 2L * steps * batch * g.dirs() * g.gates() * g.hidden() * (g.features() + g.hidden());
        List<PlanArg> args = new ArrayList<>(List.of(PlanArg.of(Args.SRC, srcLayer, xBuf), stateArg(plan, Args.SRC_ITER, state, h0),
                weightArg(plan, Args.WEIGHTS, weights, 0, wLayerDims, wLayer, "W of " + at),
                weightArg(plan, Args.WEIGHTS_ITER, weights, 1, wIterDims, wIter, "R of " + at),
                plainArg(plan, Args.BIAS, biasMd, weights, 2), PlanArg.of(Args.DST, dstLayer, out[0]),
                PlanArg.of(Args.DST_ITER, state, out[1])));
        if (g.lstm()) {
            args.add(stateArg(plan, Args.SRC_ITER_C, state, c0));
            args.add(PlanArg.of(Args.DST_ITER_C, state, out[2]));
        }
        if (peepMd != null) args.add(plainArg(plan, Args.WEIGHTS_PEEPHOLE, peepMd, weights, 3));
        plan.emit(p, n.op().toLowerCase(java.util.Locale.ROOT) + " " + at + " (" + g.direction().name().toLowerCase(java.util.Locale.ROOT)
                + ", layout " + (g.batchFirst() ? 1 : 0) + (suffix.isEmpty() ? "" : ", " + steps + " steps x " + batch) + ") [" + impl + "]",
                args.toArray(new PlanArg[0]));
    }

    /**
     * System property, read at each compile: {@code auto} (the default: {@link #weightFormat} decides by the CPU),
     * {@code plain} or {@code any} (every GRU's weights in that layout): for tests and measurements.
     */
    static final String GRU_WEIGHTS_PROPERTY = "panamadnn.gru.weights";

    /**
     * The weight layout an RNN primitive is created with. The LSTM (and the vanilla RNN, not measured) get the layout
     * the primitive picks ({@code any}, oneDNN's brgemm kernels). The linear-before-reset GRU depends on the CPU's
     * kernels. With AVX-512, plain {@code ldigo} (oneDNN's {@code ref} GRU) beat the packed layout at every batch
     * (oneDNN 3.13, hidden 512, 128 steps, 1 thread, AMD EPYC Zen 4 with AVX-512, alternating in one JVM; 1: 9.7 vs
     * 14.4 ms; 8: 32.4 vs 33.7; 32: 129 vs 145; Intel Xeon with AVX-512: the same way, docs/benchmarks.md), while the
     * LSTM ran as fast or faster on {@code any}. With AVX2 only ({@code brgemm:avx2}) the packed layout wins instead:
     * an AMD EPYC VM without AVX-512 (session 50, dnnl_seq_bench, two alternations each, ms, plain vs any) hidden 512 at
     * batch 32 137 / 133 vs 95 / 105 on 2 threads, 235 / 237 vs 178 / 189 on 1; batch 8 38 / 47 vs 28 / 26; batch 1
     * 6.2-6.8 vs 5.7-9.4; smaller and larger sizes within about 10% either way. The C harness (dnnl_seq_bench.c)
     * makes the same choice.
     */
    static int weightFormat(boolean lstm) {
        if (lstm) return ConvOps.anyFormat();
        String mode = System.getProperty(GRU_WEIGHTS_PROPERTY, "auto").strip();
        return switch (mode) {
            case "plain" -> RnnOps.ldigo();
            case "any" -> ConvOps.anyFormat();
            case "auto" -> ConvOps.channelBlock() == 16 ? RnnOps.ldigo() : ConvOps.anyFormat();   // 16: AVX-512 kernels
            default -> throw new IllegalArgumentException(GRU_WEIGHTS_PROPERTY + ": expected auto, plain or any, got '" + mode + "'");
        };
    }

    private static PlanArg stateArg(Compiler plan, int id, MemoryDescriptor md, State s) {
        if (s == null) return PlanArg.constant(id, md, plan.constant(new float[Math.toIntExact(md.byteSize() / 4)]));
        return s.constant() != null ? PlanArg.constant(id, md, plan.constant(s.constant())) : PlanArg.of(id, md, s.value().buffer());
    }

    /** B ({@code which} 2) or P (3), read in its plain {@code ldgo} layout: a plan constant, or the run's translation. */
    private static PlanArg plainArg(Compiler plan, int id, MemoryDescriptor md, Params weights, int which) {
        return weights.values() == null ? PlanArg.constant(id, md, plan.constant(weights.constants()[which]))
                : PlanArg.of(id, md, weights.values()[which].buffer());
    }

    /**
     * W ({@code which} 0) or R (1) in the layout {@code chosen}: constants reordered once, or the run's plain {@code ldigo}
     * values reordered by a step each run (one step for every group of a node: {@link Compiler#reorder} reuses it), or read
     * as they are where the primitive takes plain {@code ldigo} (a GRU).
     */
    private static PlanArg weightArg(Compiler plan, int id, Params weights, int which, long[] dims, MemoryDescriptor chosen, String what) {
        if (weights.values() == null) return PlanArg.constant(id, chosen, reordered(plan, weights.constants()[which], dims, chosen, what));
        Value ldigo = weights.values()[which];
        Value in = ldigo.md().sameLayoutAs(chosen) ? ldigo : plan.reorder(ldigo, chosen, "reorder of the run's " + what);
        return PlanArg.of(id, chosen, in.buffer());
    }

    /**
     * W, R, B and P computed at run time (any of them; the rest constants) translated into plain {@code ldigo}/{@code ldgo}
     * by a Java step each run, with {@link #translate}'s index maps. The step copies its operands into arrays of this run
     * (runs of a plan may overlap): weights that change every run are translated every run, O(weights) either way.
     */
    private static Params translateEachRun(Compiler plan, Node n, Rnn g) {
        int h = g.hidden(), gh = g.gates() * h, features = g.features(), dirs = g.dirs(), rows = RnnWeights.biasRows(g.biasKind());
        boolean peep = peephole(n) != null;
        int[] inputs = peep ? new int[] {1, 2, 3, 7} : new int[] {1, 2, 3};
        List<Value> ins = new ArrayList<>();
        MemorySegment[] constant = new MemorySegment[inputs.length];
        int[] slot = new int[inputs.length];
        for (int k = 0; k < inputs.length; k++) {
            int i = inputs[k];
            slot[k] = -1;
            if (n.input(i) == null) {
                constant[k] = plan.constant(new float[dirs * 2 * gh]);   // B absent: zeros
            } else if (plan.graph.isConstant(n.input(i))) {
                constant[k] = plan.constant(plan.graph.floats(n.input(i)));
            } else {
                slot[k] = ins.size();
                ins.add(PlanOutputs.javaInput(plan, LowerMath.plainIn(plan, n, i), NAMES[i] + " of " + n.name()));
            }
        }
        List<long[]> shapes = new ArrayList<>(List.of(new long[] {1, dirs, features, g.gates(), h}, new long[] {1, dirs, h, g.gates(), h},
                new long[] {1, dirs, rows, h}));
        if (peep) shapes.add(new long[] {1, dirs, 3, h});
        List<Value> out = PlanOutputs.javaStep(plan, ins, shapes, (src, dst) -> {
            float[][] onnx = new float[4][];
            for (int k = 0; k < inputs.length; k++) onnx[k] = (slot[k] < 0 ? constant[k] : src[slot[k]]).toArray(ValueLayout.JAVA_FLOAT);
            float[][] t = translate(g, onnx[0], onnx[1], onnx[2], onnx[3]);
            for (int i = 0; i < dst.length; i++) MemorySegment.copy(t[i], 0, dst[i], ValueLayout.JAVA_FLOAT, 0, t[i].length);
        }, "java translate " + n.name() + "'s W, R, B" + (peep ? ", P" : "") + " (computed at run time) to oneDNN's gate order");
        Value[] values = new Value[4];
        for (int i = 0; i < shapes.size(); i++) {
            int format = i < 2 ? RnnOps.ldigo() : RnnOps.ldgo();
            values[i] = new Value(plan.own(MemoryDescriptor.f32(format, shapes.get(i))), out.get(i).buffer(), shapes.get(i));
        }
        return new Params(null, values);
    }

    /** Plain {@code ldigo} values in the plan's constants, in the layout {@code chosen}. */
    private static MemorySegment reordered(Compiler plan, float[] ldigo, long[] dims, MemoryDescriptor chosen, String what) {
        try (MemoryDescriptor plain = MemoryDescriptor.f32(RnnOps.ldigo(), dims)) {
            return plan.reorderedConstant(plain, ldigo, chosen, "reorder " + what);
        }
    }

    private static Rnn geometry(Compiler plan, Node n) {
        Attributes a = n.attributes();
        boolean lstm = n.op().equals("LSTM");
        RnnOps.Direction direction = switch (a.string("direction", "forward")) {
            case "reverse" -> RnnOps.Direction.REVERSE;
            case "bidirectional" -> RnnOps.Direction.BIDIRECTIONAL;
            default -> RnnOps.Direction.FORWARD;
        };
        boolean batchFirst = a.integer("layout", 0) == 1;
        long[] x = plan.graph.shape(n.input(0)).sizes();
        // An RNN's activation (the shape rule checked: Tanh, Relu or Sigmoid, the same in both directions)
        String f = a.string("activations", "Tanh").split(",")[0].trim().toLowerCase(java.util.Locale.ROOT);
        RnnOps.Activation activation = !n.op().equals("RNN") ? null
                : f.equals("relu") ? RnnOps.Activation.RELU : f.equals("sigmoid") ? RnnOps.Activation.SIGMOID : RnnOps.Activation.TANH;
        return new Rnn(lstm, !lstm && a.integer("linear_before_reset", 0) != 0, activation, direction,
                direction == RnnOps.Direction.BIDIRECTIONAL ? 2 : 1, batchFirst, x[batchFirst ? 1 : 0], x[batchFirst ? 0 : 1],
                Math.toIntExact(x[2]), Math.toIntExact(a.integer("hidden_size")));
    }

    /** Lengths that arrive with each run ({@link LowerRecurrentRuntime}). */
    private static final int[] RUNTIME = new int[0];

    /**
     * sequence_lens: null if absent or every length T; {@link #RUNTIME} when it is an integer graph input; else the
     * constant lengths, each in [1, T].
     */
    private static int[] lengths(Compiler plan, Node n, Rnn g) {
        String name = n.input(4);
        if (name == null) return null;
        Tensor t = plan.graph.tensor(name);
        if (t == null && plan.integerInputs.containsKey(name)) return RUNTIME;
        if (t == null) {
            throw Compiler.unsupported(n, "sequence_lens ('" + name + "') is computed at run time from other values; a plan takes the lengths "
                    + "as a constant (an initializer) or as an integer graph input (each run's own), or leave the input out for full-length sequences");
        }
        if (t.dtype() != DataType.I32) throw Compiler.unsupported(n, "sequence_lens must be I32, got " + t.dtype());
        int[] lengths = new int[Math.toIntExact(g.batch())];
        boolean full = true;
        for (int b = 0; b < lengths.length; b++) {
            lengths[b] = t.segment().getAtIndex(ValueLayout.JAVA_INT, b);
            if (lengths[b] < 1 || lengths[b] > g.steps()) {
                throw Compiler.unsupported(n, "sequence_lens[" + b + "] = " + lengths[b] + " is not in [1, " + g.steps() + "] (the steps of X)");
            }
            full &= lengths[b] == g.steps();
        }
        return full ? null : lengths;
    }

    /** W, R, B (and P) translated into oneDNN's ldigo, ldigo, ldgo (and ldgo), both directions each. */
    private static float[][] translate(Compiler plan, Node n, Rnn g) {
        float[] b = n.input(3) == null ? new float[g.dirs() * 2 * g.gates() * g.hidden()] : plan.graph.floats(n.input(3));
        return translate(g, plan.graph.floats(n.input(1)), plan.graph.floats(n.input(2)), b,
                peephole(n) == null ? null : plan.graph.floats(peephole(n)));
    }

    /** ONNX's W, R, B and P ({@code p} null when absent) in oneDNN's layouts and gate orders ({@link RnnWeights}). */
    private static float[][] translate(Rnn g, float[] w, float[] r, float[] b, float[] p) {
        int h = g.hidden(), gh = g.gates() * h, features = g.features(), dirs = g.dirs(), rows = RnnWeights.biasRows(g.biasKind());
        int[] gateOf = g.gateOf();
        float[] wl = new float[w.length], wi = new float[r.length], bias = new float[dirs * rows * h];
        float[] peep = p == null ? null : new float[dirs * 3 * h];
        for (int d = 0; d < dirs; d++) {
            RnnWeights.ldigo(w, d * gh * features, h, features, gateOf, wl, d * features * gh);
            RnnWeights.ldigo(r, d * gh * h, h, h, gateOf, wi, d * h * gh);
            RnnWeights.bias(b, d * 2 * gh, b, d * 2 * gh + gh, h, gateOf, g.biasKind(), bias, d * rows * h);
            for (int gt = 0; p != null && gt < 3; gt++) System.arraycopy(p, (d * 3 + PEEPHOLE_FROM_ONNX[gt]) * h, peep, (d * 3 + gt) * h, h);
        }
        return new float[][] {wl, wi, bias, peep};
    }

    /** Input {@code index} (initial_h or initial_c) in oneDNN's {@code [D, N, H]} order (null when absent: zeros). */
    private static State initialState(Compiler plan, Node n, Rnn g, int index) {
        String name = n.input(index);
        int dirs = g.dirs(), batch = Math.toIntExact(g.batch()), h = g.hidden();
        if (name == null) return null;
        if (plan.graph.isConstant(name)) {
            float[] v = plan.graph.floats(name);
            return new State(g.batchFirst() && dirs == 2 ? swapped(v, batch, dirs, h) : v, null);
        }
        Value v = plan.in(n, index);
        if (g.batchFirst() && dirs == 2) v = swap(plan, v, 1, g.batch(), dirs, h, new long[] {dirs, g.batch(), h}, NAMES[index] + " of " + n.name());
        else v = PlanOutputs.javaInput(plan, v, NAMES[index] + " of " + n.name());   // a plan buffer: a step binds at most two caller buffers, X and Y
        return new State(null, v);
    }

    /** Y from the primitive's {@code [T, N, D*H]} ({@code ntc}: {@code [N, T, D*H]}). */
    private static Value output(Compiler plan, Node n, Rnn g, int buffer) {
        long[] shape = plan.graph.value(n.output()).shape().sizes();
        if (g.batchFirst() || g.dirs() == 1) return view(plan, buffer, shape);
        Value tnc = view(plan, buffer, new long[] {g.steps(), g.batch(), g.dirs(), g.hidden()});
        return swap(plan, tnc, g.steps(), g.batch(), g.dirs(), g.hidden(), shape, "Y of " + n.name());
    }

    /** Y_h or Y_c from the primitive's {@code [D, N, H]}. */
    private static Value finalState(Compiler plan, Node n, Rnn g, int buffer, String what) {
        long[] shape = plan.graph.value(n.outputs().get(what.equals("Y_h") ? 1 : 2)).shape().sizes();
        if (!g.batchFirst() || g.dirs() == 1) return view(plan, buffer, shape);
        Value dnh = view(plan, buffer, new long[] {g.dirs(), g.batch(), g.hidden()});
        return swap(plan, dnh, 1, g.dirs(), g.batch(), g.hidden(), shape, what + " of " + n.name());
    }

    private static Value view(Compiler plan, int buffer, long[] shape) {
        return new Value(plan.own(MemoryDescriptor.f32(Ops.plain(shape.length), shape)), buffer, shape);
    }

    /** {@code x} as {@code [a, b, c, w]} into a new plain buffer {@code [a, c, b, w]} (of the dims {@code outShape}), a Java step. */
    private static Value swap(Compiler plan, Value x, long a, long b, long c, long w, long[] outShape, String what) {
        Value in = PlanOutputs.javaInput(plan, x, what);
        long row = w * Float.BYTES;
        return PlanOutputs.javaStep(plan, List.of(in), List.of(outShape), (src, dst) -> {
            for (long i = 0; i < a; i++)
                for (long j = 0; j < b; j++)
                    for (long k = 0; k < c; k++) MemorySegment.copy(src[0], ((i * b + j) * c + k) * row, dst[0], ((i * c + k) * b + j) * row, row);
        }, "java permute " + what + " [" + a + ", " + b + ", " + c + ", " + w + "] -> [" + a + ", " + c + ", " + b + ", " + w + "]").get(0);
    }

    /** {@link #swap} on constant values {@code [b, c, w]}. */
    private static float[] swapped(float[] v, int b, int c, int w) {
        float[] out = new float[v.length];
        for (int j = 0; j < b; j++)
            for (int k = 0; k < c; k++) System.arraycopy(v, (j * c + k) * w, out, (k * b + j) * w, w);
        return out;
    }
}
