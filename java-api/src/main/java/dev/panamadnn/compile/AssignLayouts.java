package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Layout assignment: decides, per node, the memory format of the activation it writes
 * ({@link PlanGraph#LAYOUT}) and, for a {@code Conv}, the one it reads ({@link PlanGraph#SRC_LAYOUT}),
 * from {@link CompileOptions#layout()} and the op, so that the lowerings only read the decision and a
 * reorder sits only where two decisions meet: the graph's plain input and output, a stem's
 * channel-blocked output into the next {@code nhwc} convolution, a Java step, a {@code Flatten}
 * before a {@code Gemm}. The layouts:
 * <ul>
 * <li>{@code plain}: row-major ({@code nchw} for 4-D), what the caller, Java steps and {@code Gemm} use;</li>
 * <li>{@code nhwc}: channels last;</li>
 * <li>{@code blocked}: {@code nChw16c} ({@code nChw8c} below AVX-512: {@link ConvOps#channelBlock()});</li>
 * <li>{@code any}: oneDNN chooses when it creates the primitive (a pooling writes its input's layout);</li>
 * <li>{@code input}: the layout the node's first input arrives in (batch norm, activations, add,
 *     which compute element by element).</li>
 * </ul>
 * The decisions, by {@link CompileOptions.Layout}:
 * <ul>
 * <li>{@code CHANNELS_LAST}: a convolution reads and writes {@code nhwc}; a stem (no groups, fewer input
 *     channels than a channel block, e.g. RGB) reads its input plain when that arrives plain ({@code any}
 *     else) and writes {@code blocked} when its output channels divide the block ({@code any} else): oneDNN's
 *     kernel for that beats an {@code nhwc} stem, which is slower and needs the input reordered (that
 *     reorder alone took 2% of a ResNet-18 run at batch 1, measured);</li>
 * <li>{@code CHANNEL_BLOCKED}: a convolution without groups reads (writes) {@code blocked} where its input
 *     (output) channels divide the block; a grouped or depthwise one, or channels that do not divide,
 *     {@code any};</li>
 * <li>both: pooling writes {@code any}; {@code Flatten}, {@code Reshape}, {@code Gemm}, {@code Pad} and
 *     Java steps (any other op) {@code plain}; element-wise ops {@code input}; with {@code CHANNELS_LAST}, a
 *     4-D {@code Concat} of activations {@code nhwc}, and with {@code CHANNEL_BLOCKED} one whose inputs' channels
 *     all divide the block {@code blocked} (oneDNN's concat; one with a constant input stays a Java step); a
 *     {@code Slice} with unit steps {@code input} (a reorder from a view of its input, in that layout).</li>
 * </ul>
 * {@code PLAIN} switches the rule off, as {@code withoutRule("assign_layouts")} does: a node without a
 * decision is lowered {@code plain} (the documented default; see {@link #output(Node)}), so every activation
 * is row-major and a plan has no reorders between layers. Runs after the fusions (a fused node's output
 * is what the decision is about) and before {@link SelectWinograd}, which needs {@code nhwc} on both sides.
 */
final class AssignLayouts implements Rewrite {
    static final String PLAIN = "plain", NHWC = "nhwc", BLOCKED = "blocked", ANY = "any", INPUT = "input";
    private static final Set<String> POOLING = Set.of("MaxPool", "AveragePool", "GlobalAveragePool", "AdaptiveAvgPool");
    /** Ops lowered in the layout their input arrives in (oneDNN eltwise/batch norm/binary on a same-shape operand). */
    private static final Set<String> ELEMENTWISE = Set.of("BatchNormalization", "Add", "Identity", "Exp", "Sqrt", "Abs", "Neg",
            "Reciprocal", "HardSwish", "Round", "HardSigmoid", "Clip");

    /** Whether a Slice's steps (input 4) are absent or all 1 and known when compiling. */
    private static boolean unitSteps(PlanGraph g, Node n) {
        if (n.inputs().size() < 5 || n.input(4) == null) return true;
        dev.panamadnn.Tensor t = g.tensor(n.input(4));
        if (t == null) return false;
        for (long v : LowerIndex.longs(t)) if (v != 1) return false;
        return true;
    }

    @Override
    public String name() {
        return "assign_layouts";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return options.layout() != CompileOptions.Layout.PLAIN;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        int block = ConvOps.channelBlock();
        boolean channelsLast = options.layout() == CompileOptions.Layout.CHANNELS_LAST;
        if (channelsLast && blockedConcats(g, options, block)) {
            channelsLast = false;
            g.fired.add(name() + ": nChw" + block + "c for the whole graph: it concatenates channels, which concat_in_place does without "
                    + "copies in that layout only, and those copies outweigh what Winograd (nhwc only) would save");
        }
        // The layout each value is known to arrive in (null: oneDNN's choice), for the stem's source.
        Map<String, String> known = new HashMap<>();
        for (var in : g.source.inputs()) known.put(in.name(), PLAIN);
        for (Node n : new ArrayList<>(g.nodes)) {
            String src = null, dst;
            String arriving = n.inputs().isEmpty() ? null : known.get(n.input(0));
            if (n.op().equals("Conv")) {
                long[] w = g.shape(n.input(1)).sizes();
                long groups = n.attributes().integer("group", 1), ic = w[1] * groups, oc = w[0];
                if (channelsLast && (groups != 1 || ic >= block)) {
                    src = dst = NHWC;
                } else if (channelsLast) {   // the stem
                    src = PLAIN.equals(arriving) ? PLAIN : ANY;
                    dst = oc % block == 0 ? BLOCKED : ANY;
                } else {
                    src = groups == 1 && ic % block == 0 ? BLOCKED : ANY;
                    dst = groups == 1 && oc % block == 0 ? BLOCKED : ANY;
                }
                known.put(n.output(), dst.equals(ANY) ? null : dst);
            } else if (POOLING.contains(n.op()) && n.outputs().size() == 1) {   // MaxPool with Indices: a Java step, plain
                dst = ANY;
                known.put(n.output(), arriving);   // oneDNN pooling keeps its source's layout for an `any` destination
            } else if (ELEMENTWISE.contains(n.op()) || FuseActivation.ACTIVATIONS.contains(n.op())) {
                dst = INPUT;
                known.put(n.output(), arriving);
            } else if (n.op().equals("ChannelShuffle")) {
                dst = INPUT;   // one reorder between two views of its input's layout (LowerMatMul.channelShuffle)
                // of a concat's groups: one reorder per group into channels-last when the first arrives so, else plain
                for (String o : n.outputs()) known.put(o, n.inputs().size() == 1 || NHWC.equals(arriving) ? arriving : PLAIN);
            } else if (n.op().equals("Slice") && unitSteps(g, n)) {
                dst = INPUT;   // a reorder from a view of the input, in its layout (LowerIndex), not a Java step on a plain copy
                known.put(n.output(), arriving);
            } else if (n.op().equals("Concat") && g.shape(n.output()).sizes().length == 4 && n.inputs().stream().noneMatch(g::isConstant)
                    && (channelsLast || n.inputs().stream().allMatch(i -> g.shape(i).sizes()[1] % block == 0))) {
                dst = channelsLast ? NHWC : BLOCKED;   // oneDNN's concat in the convolutions' layout (LowerIndex), not a Java step on plain copies
                known.put(n.output(), dst);
            } else {   // Flatten, Reshape, Gemm, Pad, Java steps: row-major only
                dst = PLAIN;
                known.put(n.output(), PLAIN);
            }
            var a = n.attributes().toBuilder().put(PlanGraph.LAYOUT, dst);
            if (src != null) a.put(PlanGraph.SRC_LAYOUT, src);
            g.replace(n, PlanGraph.rebuilt(n, n.inputs(), a.build(), n.output()));
            if (!dst.equals(INPUT)) {
                g.fired.add(name() + ": " + n.name() + " " + (src == null || src.equals(dst) ? show(dst, block) : show(src, block) + " -> "
                        + show(dst, block)));
            }
        }
    }

    /**
     * The bytes of concatenated activations worth one multiply-add x 2 of a Winograd convolution, for the choice below:
     * a concat copies each of its output bytes once (read and written) at about 16 GB/s here (SqueezeNet's fire
     * concats: 1.5 ms per 25 MB at batch 16), and Winograd saves about half of a direct 3x3 convolution's time at about
     * 230 GFLOP/s (GoogLeNet's: 15.3 -> 8.9 ms for 3.6 GFLOP), so one byte of copying costs what 30 such FLOPs save
     * (2-vCPU AMD EPYC Zen 4, AVX-512; both sides scale with the machine alike).
     */
    static final double FLOPS_PER_CONCAT_BYTE = 30;

    /**
     * Whether {@code CHANNELS_LAST} should lay this graph out channel-blocked instead: it has channel concats that
     * {@link ConcatInPlace} could build without copies (4-D, axis 1, activations whose channels divide the block), that
     * rule is on, and the copies they would save outweigh what Winograd F(4x4, 3x3) would save on the convolutions
     * {@link SelectWinograd} would take (it needs {@code nhwc}, the one thing that layout offers the blocked kernels lack):
     * concat output bytes x {@link #FLOPS_PER_CONCAT_BYTE} against those convolutions' FLOPs. oneDNN's blocked kernels
     * run DenseNet's and SqueezeNet's convolutions as fast as its channels-last ones, and there the concatenations cost
     * nothing: DenseNet-121 at batch 16 (128x128) 148 ms against 163, SqueezeNet 1.1 18 against 26 at batch 16 and 1.36
     * against 1.58 at batch 1 (2-vCPU AMD EPYC Zen 4, medians of 7 alternating rounds in one JVM); GoogLeNet, whose wide
     * 3x3 convolutions ran 2x faster as Winograd at batch 16, stays channels-last.
     */
    private static boolean blockedConcats(PlanGraph g, CompileOptions options, int block) {
        if (options.disabledRules().contains("concat_in_place")) return false;
        boolean winograd = options.winograd() && Winograd.available() && !options.disabledRules().contains("select_winograd");
        double concatBytes = 0, winogradFlops = 0;
        for (Node n : g.nodes) {
            if (winograd && SelectWinograd.fits(g, n)) {
                long[] w = g.shape(n.input(1)).sizes(), out = g.value(n.output()).shape().sizes();
                winogradFlops += 2.0 * out[0] * out[2] * out[3] * w[0] * w[1] * 9;
            }
            if (ConcatInPlace.channelConcat(g, n, block)) {
                double elements = 1;
                for (long d : g.shape(n.output()).sizes()) elements *= d;
                concatBytes += 4 * elements;
            }
        }
        return concatBytes > 0 && concatBytes * FLOPS_PER_CONCAT_BYTE > winogradFlops;
    }

    private static String show(String layout, int block) {
        return layout.equals(BLOCKED) ? "nChw" + block + "c" : layout;
    }

    /** The layout {@code n} writes: the rule's decision, or {@code plain} where it made none (the rule off). */
    static String output(Node n) {
        return n.attributes().string(PlanGraph.LAYOUT, PLAIN);
    }

    /** The layout a {@code Conv} reads: the rule's decision, or {@code plain} where it made none. */
    static String source(Node n) {
        return n.attributes().string(PlanGraph.SRC_LAYOUT, PLAIN);
    }

    /** The oneDNN format tag of a 4-D activation in {@code layout} ({@code plain}, {@code nhwc}, {@code blocked} or {@code any}). */
    static int format4d(String layout) {
        return switch (layout) {
            case PLAIN -> Ops.plain(4);
            case NHWC -> ConvOps.channelsLast4d();
            case BLOCKED -> ConvOps.channelBlocked4d();
            case ANY -> ConvOps.anyFormat();
            default -> throw new IllegalStateException("assign_layouts: no 4-D format for layout '" + layout + "'");
        };
    }

    /**
     * {@code x} in the layout an element-wise node {@code n} writes (it reads the same one): {@code x}
     * itself for {@code input} (the rule's decision for such nodes), else {@code x} reordered into the
     * decided layout ({@code plain} with the rule off, when {@code x} is plain already).
     */
    static Value elementwiseInput(Compiler plan, Node n, Value x) {
        String layout = output(n);
        if (layout.equals(INPUT)) return x;
        if (layout.equals(PLAIN) || x.shape().length != 4) return plan.plain(x, "reorder to plain for " + n.name());
        MemoryDescriptor to = plan.own(MemoryDescriptor.f32(format4d(layout), x.shape()));
        return x.md().sameLayoutAs(to) ? x : plan.reorder(x, to, "reorder into " + n.name());
    }
}
