package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.nn.Layer;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Lowers a {@link Graph} into a {@link Compiler}'s plan: a straight list of oneDNN primitives (and Java steps) over
 * numbered buffers. Binds the graph to the input shapes, applies the {@link Rewrite} rules (constant folding,
 * batch-norm folding, residual sum and activation fusion, dead values, layout assignment, Winograd selection), then
 * lowers each remaining node by its op (the {@code Lower*} classes) in the layouts the {@code assign_layouts} rule
 * decided, and writes the outputs. Knows ops, never model or module names. Reads the graph's initializers and never
 * writes them: folding works on copies.
 */
final class LowerGraph {
    private static final AtomicBoolean WINOGRAD_OFF_LOGGED = new AtomicBoolean();

    private LowerGraph() {}

    /** Builds {@code plan}'s steps for {@code source} on inputs of {@code inputShapes} (one per graph input, in order). */
    static void compile(Compiler plan, Graph source, long[]... inputShapes) {
        CompileOptions options = plan.options;
        if (options.winograd() && options.layout() == CompileOptions.Layout.CHANNELS_LAST && !Winograd.available()
                && WINOGRAD_OFF_LOGGED.compareAndSet(false, true)) {
            System.getLogger("dev.panamadnn.compile").log(System.Logger.Level.INFO, "Winograd convolutions are off: the JVM runs without "
                    + "jdk.incubator.vector; start it with --add-modules jdk.incubator.vector to run 3x3 convolutions as Winograd F(4x4, 3x3)");
        }
        Graph bound = source.bind(inputShapes);
        refuseOversizedDims(bound);
        plan.inputs = bound.inputs();
        List<dev.panamadnn.graph.Value> outputs = new java.util.ArrayList<>();
        for (String o : bound.outputs()) outputs.add(bound.value(o));
        plan.outputs = List.copyOf(outputs);
        plan.graph = new PlanGraph(bound);
        for (Rewrite r : Rewrite.all()) {
            if (r.enabled(options) && !options.disabledRules().contains(r.name())) r.apply(plan.graph, options);
        }
        plan.fired.addAll(plan.graph.fired);
        for (int k = 0; k < plan.inputs.size(); k++) {
            dev.panamadnn.graph.Value v = plan.inputs.get(k);
            if (v.dtype() != DataType.F32) {   // read by shape computations (folded) or an embedding lookup, else refused by in()
                if (v.dtype() == DataType.I64 || v.dtype() == DataType.I32) plan.integerInputs.put(v.name(), k);
                if (LowerCarried.CONVERTED_INPUTS.contains(v.dtype()) && plan.graph.uses(v.name()) > 0) plan.values.put(v.name(), LowerCarried.convertInput(plan, k, v));
                continue;
            }
            long[] shape = v.shape().sizes();
            plan.values.put(v.name(), new Compiler.Value(plan.own(MemoryDescriptor.f32(Ops.plain(shape.length), shape)), PlanArg.inputId(k), shape));
        }
        for (plan.nodeIndex = 0; plan.nodeIndex < plan.graph.nodes.size(); plan.nodeIndex++) {
            Node n = plan.graph.nodes.get(plan.nodeIndex);
            PlanIO.refuseEmpty(plan.graph, n);
            List<Compiler.Value> out;
            try {
                out = LowerRecurrent.handles(n) ? LowerRecurrent.lower(plan, n)
                        : n.outputs().size() == 1 ? List.of(lower(plan, n)) : LowerIndex.lowerMulti(plan, n);
            } catch (ArithmeticException overflow) {   // a count past what a step indexes (a Java step's element map, an int size)
                throw new IllegalArgumentException("graph " + bound.name() + ", node " + n.name() + " (" + n.op() + "): sizes too large to compile"
                        + " (outputs " + n.outputs().stream().filter(o -> o != null && !o.isEmpty()).map(o -> o + " " + plan.graph.shape(o)).toList()
                        + "): " + overflow.getMessage(), overflow);
            }
            for (int i = 0; i < out.size(); i++) plan.values.put(n.outputs().get(i), out.get(i));
            for (int i = 0; i < out.size(); i++) plan.concats.placeInRegion(n.outputs().get(i), out.get(i));
        }
        for (int k = 0; k < plan.outputs.size(); k++) PlanOutputs.write(plan, k);
        plan.constants.endCompile();
        if (!plan.pendingFasts.isEmpty()) plan.proof = new DeferredProof(plan, plan.graph);   // it keeps the graph until it is done
        // The plan keeps this object (its steps, buffers, native objects) for its life; the rewritten graph - its folded
        // constants are heap arrays, 74 MB for VGG-11-BN - and the lowering's maps were needed only to build the steps.
        plan.graph = null;
        plan.values.clear();
        plan.reordered.clear();
    }

    /**
     * Refuses a graph (bound to its shapes) with a dimension past {@link Sizes#MAX_DNNL_DIM}, or a rank past
     * {@link Sizes#MAX_DNNL_RANK}, in an input or a node's output, naming it: oneDNN's kernels keep sizes in
     * {@code int}, and a convolution's creation divides by a batch of 2^32 truncated to 0 (SIGFPE, measured).
     */
    static void refuseOversizedDims(Graph bound) {
        for (dev.panamadnn.graph.Value v : bound.inputs()) {
            if (v.shape().isFixed()) Sizes.dnnlDims("graph " + bound.name() + ", input " + v.name(), "shape", v.shape().sizes());
        }
        for (Node n : bound.nodes()) {
            for (String o : n.outputs()) {
                if (o == null || o.isEmpty()) continue;
                dev.panamadnn.graph.Shape shape = bound.value(o).shape();
                if (shape.isFixed()) Sizes.dnnlDims("graph " + bound.name() + ", node " + n.name() + " (" + n.op() + ")", "output " + o, shape.sizes());
            }
        }
    }

    private static Compiler.Value lower(Compiler plan, Node n) {
        String op = n.op();
        Act act = Act.of(op, n.attributes(), "", n.name());
        if (act != null) return LowerOps.eltwise(plan, n, act, plan.in(n, 0), n.name());
        if (op.equals("ConvTranspose")) {
            Compiler.Value deconv = LowerConvTranspose.lower(plan, n);   // else (a geometry oneDNN mishandles) the eager layer below
            if (deconv != null) return deconv;
            Layer eager = EagerNodes.layerFor(n, plan.graph);
            if (eager == null) {
                throw Compiler.unsupported(n, "this ConvTranspose (pads " + java.util.Arrays.toString(n.attributes().integers("pads", new long[0]))
                        + ", weights " + plan.graph.shape(n.input(1)) + ") is not compiled: oneDNN's deconvolution would leave some outputs"
                        + " unwritten or read a window wholly in the padding, and the Java fallback (PyTorch's ConvTranspose1d/2d) takes"
                        + " only symmetric pads of 1-D and 2-D convolutions");
            }
            return LowerOps.javaStep(plan, n, plan.own(eager));
        }
        return switch (op) {
            case "Conv" -> LowerConv.conv(plan, n);
            case "BatchNormalization" -> LowerOps.batchNorm(plan, n);
            case "MaxPool" -> LowerPool.maxPool(plan, n);
            case "AveragePool" -> LowerPool.avgPool(plan, n);
            case "GlobalAveragePool" -> LowerPool.adaptiveAvgPool(plan, n, new long[] {1, 1});
            case "AdaptiveAvgPool" -> LowerPool.adaptiveAvgPool(plan, n, n.attributes().integers("output_size"));
            case "Flatten" -> LowerOps.flatten(plan, n);
            case "Gemm" -> LowerOps.gemm(plan, n);
            case "Add" -> {
                Compiler.Value integer = LowerCarried.lower(plan, n);   // integer values computed at run time
                yield integer != null ? integer : LowerMath.lower(plan, n);
            }
            case "Identity" -> plan.in(n, 0);
            case "Pad" -> LowerOps.pad(plan, n);
            case "Reshape" -> plan.asShape(plan.in(n, 0), plan.graph.value(n.output()).shape().sizes(), n.name());
            case "ChannelShuffle" -> LowerMatMul.channelShuffle(plan, n);
            case "Layer" -> {
                if (!(n.attributes().module("module") instanceof Layer layer)) throw Compiler.unsupported(n, "its module is not a Layer");
                yield LowerOps.javaStep(plan, n, layer);
            }
            default -> {
                Compiler.Value index = LowerIndex.lower(plan, n);   // the index/shape ops (Concat, Split, Slice, Gather, Expand, Where...)
                if (index != null) yield index;
                Compiler.Value math = LowerMath.lower(plan, n);   // the math ops (LowerMath.OPS)
                if (math != null) yield math;
                Layer eager = EagerNodes.layerFor(n, plan.graph);
                if (eager == null) {
                    throw Compiler.unsupported(n, "op " + op + " is not compiled yet (compiled: Conv, BatchNormalization, MaxPool, AveragePool, "
                            + "GlobalAveragePool, AdaptiveAvgPool, Flatten, Reshape, Squeeze, Unsqueeze, Pad, Gemm, Add, LSTM, GRU, Identity, Relu, LeakyRelu, "
                            + "Sigmoid, Tanh, Elu, Gelu, Silu, " + String.join(", ", new TreeSet<>(LowerMath.OPS))
                            + "; Concat, Split, Slice, Gather, Expand, Where, AdaptiveMaxPool, ConvTranspose and Layer nodes as Java steps)");
                }
                yield LowerOps.javaStep(plan, n, plan.own(eager));
            }
        };
    }
}
