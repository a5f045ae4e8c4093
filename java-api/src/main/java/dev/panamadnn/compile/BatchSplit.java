package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Value;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code split_batch}: whether a plan of {@code T >= 2} intra-op threads runs as {@code T} single-threaded runs of a
 * plan for {@code N / T} samples, side by side on {@code T} threads, instead of one run of {@code N} samples whose
 * every primitive splits its work over the {@code T} threads. On a small network the second spends much of its time
 * in the OpenMP team's barriers (one per primitive) and on work items too small to share; the first keeps each core
 * on its own samples, in its own cache. On a large one the first reads every weight once per core instead of once:
 * measured on the ten torchvision models at 128x128, batch 16, 2 threads (2-vCPU AMD EPYC Zen 4, one JVM alternating):
 * SqueezeNet 1.20x, ShuffleNetV2 1.09-1.29x, MobileNetV2 0.96-1.06x, EfficientNet-B0 and RegNetY-400MF 1.02x,
 * DenseNet-121 1.02x, GoogLeNet 0.98x, ResNet-50 0.95x. At 224x224, batch 16, 2 threads on an AVX2-only AMD EPYC VM
 * (32 MiB of L3; session 54, one JVM alternating, medians of per-round ratios): RegNetY-400MF (16.5 MiB of weights) 1.06x
 * (faster in 14 of 15 rounds), EfficientNet-B0 (20.1 MiB) 1.11x (8 of 11), GoogLeNet (25.2 MiB) 1.10x (9 of 11),
 * DenseNet-121 (30.7 MiB) 1.075x (10 of 11), ResNet-18 (44.6 MiB) 0.94x (1 of 11). So only graphs whose weights fit
 * in {@link #MAX_WEIGHT_BYTES} split: 32 MiB, raised from 16 after those runs (no model between 16 and 32 MiB lost more
 * than GoogLeNet's 2% at 128x128 on Zen 4; every one above 32 lost).
 *
 * <p>A plan of 0 threads (OpenMP's default: whatever team the calling thread has when it runs) is never split.
 *
 * <p>Only where the split cannot change a result: every input F32 and batched along axis 0 with a batch divisible by
 * {@code T}, every output batched along axis 0, and every node one that computes each sample from that sample alone
 * (a whitelist with each op's condition: a convolution or pooling, an element-wise op whose other operands are
 * constants without the batch axis, a Softmax, Concat, Split, reduction, Gather or Transpose away from axis 0, a
 * Reshape or Flatten that keeps the batch as axis 0, a Gemm or MatMul with constant weights...). Shape computations
 * ({@code Shape} and what is computed from it) may steer a Reshape, Expand, Resize, Slice or Pad, never feed data.
 * Anything else, or any doubt, runs unsplit. Each sample's result is the same computation either way (the same
 * kernels for the same per-sample shapes; bit-identical on every model measured but GoogLeNet, where the half batch
 * picks another kernel for a few convolutions: within 3.7e-6 of logits up to 3.6).
 */
final class BatchSplit {
    static final String NAME = "split_batch";
    /** Graphs with more weight bytes than this run unsplit (each core would stream all of them). */
    static final long MAX_WEIGHT_BYTES = 32L << 20;

    private BatchSplit() {}

    private enum Kind { CONST, META, DATA }

    private static final Set<String> ELEMENTWISE = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Where", "Equal",
            "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu",
            "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Softsign", "Clip", "Exp", "Log", "Sqrt", "Reciprocal", "Neg", "Abs",
            "Erf", "Gelu", "Silu", "Mish", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Identity", "Dropout", "Cast", "IsNaN", "IsInf",
            "ThresholdedRelu", "Shrink");
    /** Ops that compute each sample (axis 0) from that sample only, whatever their attributes (for one output). */
    private static final Set<String> PER_SAMPLE = Set.of("Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
            "GlobalMaxPool", "LpPool", "GlobalLpPool", "BatchNormalization", "InstanceNormalization", "LRN", "DepthToSpace", "SpaceToDepth",
            "Resize", "Upsample");
    private static final Set<String> REDUCE = Set.of("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
            "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin");
    /** Inputs (by op) that are parameters, not data: they may come from shape computations. */
    private static final Map<String, Set<Integer>> PARAMETERS = Map.of("Reshape", Set.of(1), "Expand", Set.of(1), "Resize", Set.of(1, 2, 3),
            "Upsample", Set.of(1), "Slice", Set.of(1, 2, 3, 4), "Pad", Set.of(1, 2, 3), "Squeeze", Set.of(1), "Unsqueeze", Set.of(1),
            "Split", Set.of(1));

    /**
     * How many parts a plan of {@code threads} intra-op threads for {@code shapes} (by input, in the graph's order)
     * runs as: {@code threads} where every condition of the class comment holds, else 1.
     */
    static int parts(Graph graph, CompileOptions options, int threads, long[][] shapes) {
        if (graph.inputs().isEmpty() || graph.outputs().isEmpty()) return 1;
        long n = -1;
        for (int k = 0; k < shapes.length; k++) {
            if (graph.inputs().get(k).dtype() != DataType.F32 || shapes[k].length == 0) return 1;
            if (n < 0) n = shapes[k][0];
            if (shapes[k][0] != n) return 1;
        }
        if (!worthTrying(graph, options, threads, n)) return 1;
        long[][] partShapes = new long[shapes.length][];
        for (int k = 0; k < shapes.length; k++) {
            partShapes[k] = shapes[k].clone();
            partShapes[k][0] = n / threads;
        }
        try {
            // at both sizes, so that no value's axis 0 merely happens to equal the batch (a constant 4 in a Reshape at N = 4)
            return whyNot(graph.bind(shapes), n) == null && whyNot(graph.bind(partShapes), n / threads) == null ? threads : 1;
        } catch (RuntimeException e) {
            return 1;   // the unsplit compile reports it
        }
    }

    /** The cheap conditions: threads, the rule on, a batch {@code n} divisible by them, weights within {@link #MAX_WEIGHT_BYTES}. */
    static boolean worthTrying(Graph graph, CompileOptions options, int threads, long n) {
        if (threads < 2 || options.disabledRules().contains(NAME) || n < threads || n % threads != 0) return false;
        long weightBytes = 0;
        for (Tensor t : graph.initializers().values()) weightBytes += t.segment().byteSize();
        return weightBytes <= MAX_WEIGHT_BYTES;
    }

    /**
     * Null if every sample (index along axis 0, of {@code n}) of every output of {@code g} is computed from that sample of
     * the inputs alone, else why not (the first node or value found otherwise).
     */
    static String whyNot(Graph g, long n) {
        Map<String, Kind> kind = new HashMap<>();
        for (Value v : g.inputs()) {
            if (!batched(v, n)) return "input " + v.name() + " is not batched along axis 0";
            kind.put(v.name(), Kind.DATA);
        }
        for (Node node : g.nodes()) {
            boolean data = false, meta = false;
            for (String in : node.inputs()) {
                if (in == null || in.isEmpty()) continue;
                Kind k = kind.getOrDefault(in, Kind.CONST);   // an initializer
                data |= k == Kind.DATA;
                meta |= k == Kind.META;
            }
            Kind out;
            if (node.op().equals("Shape") || node.op().equals("Size")) out = data || meta ? Kind.META : Kind.CONST;
            else if (!data) out = meta ? Kind.META : Kind.CONST;
            else {
                if (!perSample(g, node, kind, n)) return "node " + node.name() + " (" + node.op() + ") may mix samples";
                out = Kind.DATA;
            }
            for (String o : node.outputs()) if (o != null && !o.isEmpty()) kind.put(o, out);
        }
        for (String o : g.outputs()) {
            if (kind.getOrDefault(o, Kind.CONST) != Kind.DATA || !batched(g.value(o), n)) return "output " + o + " is not computed per sample";
        }
        return null;
    }

    private static boolean batched(Value v, long n) {
        return v.shape().isFixed() && v.shape().rank() >= 1 && v.shape().dim(0).size() == n;
    }

    /** Whether {@code node} (reading data) computes each sample from that sample alone, its results batched along axis 0. */
    private static boolean perSample(Graph g, Node node, Map<String, Kind> kind, long n) {
        String op = node.op();
        Attributes a = node.attributes();
        int outputs = 0;
        for (String o : node.outputs()) if (o != null && !o.isEmpty()) outputs++;
        Value y = g.value(node.output());
        if (!batched(y, n)) return false;
        int rank = y.shape().rank();
        Set<Integer> parameters = PARAMETERS.getOrDefault(op, Set.of());
        for (int i = 0; i < node.inputs().size(); i++) {
            String in = node.input(i);
            if (in == null || in.isEmpty()) continue;
            Kind k = kind.getOrDefault(in, Kind.CONST);
            if (k == Kind.META && !parameters.contains(i)) return false;   // a shape computation feeding data
            if (k == Kind.DATA && (parameters.contains(i) || !batched(g.value(in), n))) return false;
        }
        if (ELEMENTWISE.contains(op)) {
            if (outputs != 1) return false;
            for (String in : node.inputs()) {
                if (in == null || in.isEmpty()) continue;
                Value v = g.value(in);
                boolean isData = kind.getOrDefault(in, Kind.CONST) == Kind.DATA;
                if (isData && v.shape().rank() != rank) return false;   // the batch axis would not line up
                if (!isData && v.shape().rank() == rank && v.shape().dim(0).size() != 1) return false;   // a constant along the batch
            }
            return true;
        }
        if (PER_SAMPLE.contains(op)) {
            if (outputs != 1) return false;   // MaxPool's Indices count across the whole batch
            if (op.equals("BatchNormalization") && a.integer("training_mode", 0) != 0) return false;
            return onlyData(node, kind, 0);
        }
        switch (op) {
            case "Softmax", "LogSoftmax", "Hardmax", "LayerNormalization" -> {
                return axis(a.integer("axis", -1), rank) != 0 && outputs == 1 && onlyData(node, kind, 0);
            }
            case "Flatten" -> {
                return axis(a.integer("axis", 1), g.value(node.input(0)).shape().rank()) != 0;
            }
            case "Reshape", "Expand" -> {
                return batched(g.value(node.input(0)), n) && kind.get(node.input(0)) == Kind.DATA;
            }
            case "Transpose" -> {
                long[] perm = a.integers("perm", null);
                return perm != null && perm.length > 0 && perm[0] == 0;
            }
            case "Concat" -> {
                return axis(a.integer("axis", 0), rank) != 0 && onlyData(node, kind, -1);
            }
            case "Split" -> {
                return axis(a.integer("axis", 0), rank) != 0;
            }
            case "Gather" -> {
                return axis(a.integer("axis", 0), g.value(node.input(0)).shape().rank()) != 0 && kind.get(node.input(0)) == Kind.DATA
                        && kind.getOrDefault(node.input(1), Kind.CONST) == Kind.CONST;
            }
            case "Gemm" -> {
                return a.integer("transA", 0) == 0 && kind.get(node.input(0)) == Kind.DATA && onlyData(node, kind, 0);
            }
            case "MatMul" -> {
                Kind ka = kind.getOrDefault(node.input(0), Kind.CONST), kb = kind.getOrDefault(node.input(1), Kind.CONST);
                int ra = g.value(node.input(0)).shape().rank(), rb = g.value(node.input(1)).shape().rank();
                if (ka == Kind.DATA && kb == Kind.CONST) return ra >= 2 && rb <= 2;
                return ka == Kind.DATA && kb == Kind.DATA && ra == rb && ra >= 3;
            }
            case "Squeeze", "Unsqueeze" -> {
                long[] axes = axes(g, node, kind, 1);
                if (axes == null) return false;
                int r = op.equals("Squeeze") ? g.value(node.input(0)).shape().rank() : rank;
                for (long ax : axes) if (axis(ax, r) == 0) return false;
                return true;
            }
            case "Slice" -> {
                long[] axes = axes(g, node, kind, 3);
                if (axes == null) return false;
                for (long ax : axes) if (axis(ax, rank) == 0) return false;
                return true;
            }
            case "Pad" -> {
                Tensor padsValue = node.inputs().size() > 1 ? known(g, node.input(1)) : null;
                long[] pads = padsValue == null ? a.integers("pads", null) : longs(padsValue);
                if (pads == null || node.inputs().size() > 3 && node.input(3) != null && !node.input(3).isEmpty()) return false;
                return pads.length == 2 * rank && pads[0] == 0 && pads[rank] == 0;
            }
            default -> {
                if (!REDUCE.contains(op)) return false;
                long[] axes = axes(g, node, kind, 1);
                if (axes == null) return false;   // every axis, the batch's too
                for (long ax : axes) if (axis(ax, g.value(node.input(0)).shape().rank()) == 0) return false;
                return true;
            }
        }
    }

    /** Whether every input but {@code except} (-1: none) is data (no constant operand along the batch, e.g. a Concat's). */
    private static boolean onlyData(Node node, Map<String, Kind> kind, int except) {
        for (int i = 0; i < node.inputs().size(); i++) {
            String in = node.input(i);
            if (i == except || in == null || in.isEmpty()) continue;
            if (except >= 0) {
                if (kind.getOrDefault(in, Kind.CONST) == Kind.DATA) return false;   // a second data operand (weights computed from data)
            } else if (kind.getOrDefault(in, Kind.CONST) != Kind.DATA) return false;
        }
        return true;
    }

    /** The node's axes: attribute {@code axes} or the constant input {@code index}; null if neither is known (all axes, or computed). */
    private static long[] axes(Graph g, Node node, Map<String, Kind> kind, int index) {
        if (node.attributes().has("axes")) return node.attributes().integers("axes");
        if (node.inputs().size() <= index || node.input(index) == null || node.input(index).isEmpty()) return null;
        Tensor t = known(g, node.input(index));
        return t == null ? null : longs(t);
    }

    /** The value of {@code name} where it is known when compiling (a constant, a Constant node's, a folded shape computation's), else null. */
    private static Tensor known(Graph g, String name) {
        Tensor t = g.knownValue(name);
        if (t != null) return t;
        t = g.initializers().get(name);
        if (t != null) return t;
        Node p = g.producer(name);
        return p != null && p.op().equals("Constant") && p.attributes().has("value") ? p.attributes().tensor("value") : null;
    }

    /** An I64 or I32 constant's values (LowerIndex's reading), else null. */
    private static long[] longs(Tensor t) {
        return t.dtype() == DataType.I64 || t.dtype() == DataType.I32 ? LowerIndex.longs(t) : null;
    }

    private static long axis(long axis, int rank) {
        return axis < 0 ? axis + rank : axis;
    }
}
