package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.graph.Value;
import dev.panamadnn.internal.lifetime.NativeAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The graph a plan is built from, while the {@link Rewrite} rules change it: a mutable copy of a
 * concrete {@link Graph}'s nodes plus the constants the rules compute (folded weights), which
 * never touch the model's own tensors. Fusions are recorded on the surviving node as attributes
 * ({@link #ACTIVATION} and its parameters, {@link #SUM}), and so are decisions ({@link #WINOGRAD},
 * {@link #LAYOUT}); only the lowering reads them.
 */
final class PlanGraph {
    /** The fused activation's op ({@code "Relu"}, ...), with its own attributes prefixed {@code "activation."}. */
    static final String ACTIVATION = "activation";
    /** 1 when the node's last input is added to its result (the residual sum), before the activation. */
    static final String SUM = "sum";
    /** 1 on a {@code Conv} that {@link SelectWinograd} chose for Winograd F(4x4, 3x3). */
    static final String WINOGRAD = "winograd";
    /**
     * The layout the node writes, decided by {@link AssignLayouts}: {@code plain}, {@code nhwc}, {@code blocked},
     * {@code any} (oneDNN's choice) or {@code input} (its first input's); absent: {@code plain}.
     */
    static final String LAYOUT = "layout.dst";   // not "layout": ONNX's LSTM and GRU have an attribute of that name
    /** The layout a {@code Conv} reads, decided by {@link AssignLayouts} (as {@link #LAYOUT}, never {@code input}). */
    static final String SRC_LAYOUT = "layout.src";
    /** What was fused into the node, for step descriptions: e.g. {@code "+bn1+sum(identity)+relu"}. */
    static final String FUSED = "fused";
    /**
     * On a {@code MatMul} ({@link FuseMatMulScale}): {@code "Mul"} or {@code "Div"}, the op by which its fourth input, a
     * constant scalar, applies to the product (after the bias, before a fused activation).
     */
    static final String SCALE_OP = "scale.op";
    /**
     * On a {@code MatMul} ({@link FoldTransposeMatMul}): the permutation a {@code Transpose} applied to its first
     * ({@code perm.a}) or second ({@code perm.b}) input, which is now that transpose's input, read through a strided view.
     */
    static final String PERM_A = "perm.a", PERM_B = "perm.b";
    /** On a {@code MatMul} ({@link FoldTransposeMatMul}): the permutation a {@code Transpose} of its result applied; its output is now that transpose's. */
    static final String PERM_DST = "perm.dst";

    final Graph source;
    final List<Node> nodes;
    final Map<String, float[]> computed = new HashMap<>();
    private final Map<String, Shape> computedShapes = new HashMap<>();
    /**
     * Constants a rule defined as an F32 initializer scaled per slice of its first dim ({@link FoldBatchNorm}: a batch
     * norm folded into a convolution's weights), by name. Nothing is copied when the rule fires: a weight reorder applies
     * the scales as it copies the initializer into the primitive's layout ({@link #source}), and a step that reads the
     * values as an array makes them then ({@link #floatsToRead}), with the same float multiplications.
     */
    private final Map<String, Scaled> scaled = new HashMap<>();

    /** {@code tensor}'s slice {@code o} of its first dim times {@code scales[o]}, in F32. */
    record Scaled(Tensor tensor, float[] scales) {
        float[] values() {
            float[] w = tensor.toFloatArray();
            FoldBatchNorm.scale(w, scales);
            return w;
        }
    }
    /**
     * Per node (by name), what {@link FiniteBounds} proved: the largest input magnitude (as float bits) up
     * to which its activation may run in oneDNN's NaN-dropping form.
     */
    final Map<String, Integer> fastInputBits = new HashMap<>();
    /**
     * The nodes whose proof {@link FiniteBounds} left for later ({@link DeferredProof}), by name: their steps get a pending
     * fast variant; and those candidates, in order.
     */
    final java.util.Set<String> fastPending = new java.util.HashSet<>();
    final List<Node> fastCandidates = new java.util.ArrayList<>();
    /** {@link #nonNegative()}, once asked for. */
    private java.util.Set<String> nonNegative;

    /** {@return the values never below 0 ({@link FiniteBounds#nonNegativeResult}), by name, of the graph as it is when first asked} */
    java.util.Set<String> nonNegative() {
        if (nonNegative == null) nonNegative = FiniteBounds.nonNegativeValues(this);
        return nonNegative;
    }
    /**
     * Where {@link ConcatInPlace} placed values, by value name: channels {@code [offset, offset + C)} of the buffer
     * of the concat {@code root} (a Concat's own output when it is that root or a run of its inputs).
     */
    final Map<String, Region> concatRegions = new HashMap<>();

    /**
     * The Concat nodes (by output) that {@link ConcatInPlace} turned into a root or a view: they emit no step. (A concat
     * that is merely an input of a root has a region too, but is computed, then copied into it.)
     */
    final java.util.Set<String> concatsInPlace = new java.util.HashSet<>();

    /** A value's place in a concat's buffer: its channels start at {@code offset} of the 4-D output of {@code root}. */
    record Region(String root, long offset) {}

    /** One line per rule firing: {@code rule: what, where}. */
    final List<String> fired = new ArrayList<>();

    PlanGraph(Graph concrete) {
        this.source = concrete;
        this.nodes = new NodeList(concrete.nodes());
    }

    /**
     * {@link #nodes}: a list that keeps {@link #producer} and {@link #uses} answered from an index, so rules asking them of
     * every node are not quadratic in the graph (an unrolled Loop of 4,096 steps has 16,000 nodes: the scans were most of
     * its 12-20 s compile). Additions, removals and replacements by index or element update the index; any other change
     * (an iterator's, a sort) is seen by {@code modCount} and rebuilds it at the next question.
     */
    private final class NodeList extends ArrayList<Node> {
        private int seen;

        NodeList(List<Node> initial) {
            super(initial);
            seen = modCount;
        }

        private void synced() {
            seen = modCount;
        }

        boolean unchangedElsewhere() {
            return seen == modCount;
        }

        @Override
        public boolean add(Node n) {
            super.add(n);
            synced();
            indexAdd(n);
            return true;
        }

        @Override
        public void add(int i, Node n) {
            super.add(i, n);
            synced();
            indexAdd(n);
        }

        @Override
        public boolean addAll(java.util.Collection<? extends Node> c) {
            boolean changed = super.addAll(c);
            synced();
            for (Node n : c) indexAdd(n);
            return changed;
        }

        @Override
        public boolean addAll(int i, java.util.Collection<? extends Node> c) {
            boolean changed = super.addAll(i, c);
            synced();
            for (Node n : c) indexAdd(n);
            return changed;
        }

        @Override
        public Node remove(int i) {
            Node n = super.remove(i);
            synced();
            indexRemove(n);
            return n;
        }

        @Override
        public boolean remove(Object o) {
            int i = indexOf(o);
            if (i < 0) return false;
            remove(i);
            return true;
        }

        @Override
        public Node set(int i, Node n) {
            Node old = super.set(i, n);
            indexRemove(old);
            indexAdd(n);
            return old;
        }

        @Override
        public void replaceAll(java.util.function.UnaryOperator<Node> op) {
            super.replaceAll(op);
            indexed = false;
        }

        @Override
        public void sort(java.util.Comparator<? super Node> c) {
            super.sort(c);
            indexed = false;
        }

        @Override
        public List<Node> subList(int from, int to) {
            return java.util.Collections.unmodifiableList(super.subList(from, to));   // its writes would pass the index by
        }
    }

    /**
     * The nodes producing each value (one, but for a moment inside a rule that replaces a node before it removes another),
     * and how many nodes read it; valid while {@link #indexed}.
     */
    private final Map<String, List<Node>> producers = new HashMap<>();
    private final Map<String, Integer> readers = new HashMap<>();
    private boolean indexed;

    private void indexAdd(Node n) {
        if (indexed) index(n);
    }

    private void index(Node n) {
        for (String o : n.outputs()) if (!o.isEmpty()) producers.computeIfAbsent(o, k -> new ArrayList<>(1)).add(n);
        for (String in : distinctInputs(n)) readers.merge(in, 1, Integer::sum);
    }

    private void indexRemove(Node n) {
        if (!indexed) return;
        for (String o : n.outputs()) {
            if (o.isEmpty()) continue;
            List<Node> ps = producers.get(o);
            boolean found = false;
            for (int i = 0; ps != null && i < ps.size() && !found; i++) {
                if (ps.get(i) == n) {
                    ps.remove(i);
                    found = true;
                }
            }
            if (!found) indexed = false;   // (not expected: rebuild at the next question)
            else if (ps.isEmpty()) producers.remove(o);
        }
        for (String in : distinctInputs(n)) readers.merge(in, -1, Integer::sum);
    }

    private static java.util.Collection<String> distinctInputs(Node n) {
        List<String> ins = n.inputs();
        if (ins.size() <= 1) return ins.isEmpty() || !ins.get(0).isEmpty() ? ins : List.of();
        java.util.Set<String> d = new java.util.LinkedHashSet<>(ins);
        d.remove("");
        return d;
    }

    /** The index, rebuilt from the nodes where it is not valid or the list changed by a path that does not update it. */
    private void ensureIndexed() {
        if (indexed && ((NodeList) nodes).unchangedElsewhere()) return;
        producers.clear();
        readers.clear();
        indexed = true;
        for (Node n : nodes) index(n);
        ((NodeList) nodes).synced();
    }

    Value value(String name) {
        Value v = addedValues.get(name);
        return v != null ? v : source.value(name);
    }

    /** Activations a rule introduced (not in the source graph: e.g. a pooled input the reordering of a pooling made), by name. */
    private final Map<String, Value> addedValues = new HashMap<>();

    /** A new activation of {@code dtype} and {@code shape} named after {@code base} (unique); a node of the plan must produce it. */
    String addValue(String base, dev.panamadnn.DataType dtype, Shape shape) {
        String name = base;
        for (int k = 1; has(name); k++) name = base + "_" + k;
        addedValues.put(name, new Value(name, dtype, shape));
        return name;
    }

    Node producer(String value) {
        ensureIndexed();
        List<Node> ps = producers.get(value);
        if (ps == null || ps.isEmpty()) return null;
        if (ps.size() == 1) return ps.get(0);
        Node first = null;   // several for a moment: the first in order, as a scan finds it
        for (Node n : ps) if (first == null || indexOf(n) < indexOf(first)) first = n;
        return first;
    }

    /**
     * The producer of {@code value} when it has one output, is of {@code op} (null: any op), and {@code value} has exactly
     * {@code uses} readers ({@link #uses}); else null. What pattern rules ask of each inner value they take in.
     */
    Node soleProducer(String value, String op, int uses) {
        Node p = producer(value);
        if (p == null || p.outputs().size() != 1 || uses(value) != uses) return null;
        return op == null || p.op().equals(op) ? p : null;
    }

    List<Node> consumers(String value) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) if (n.inputs().contains(value)) out.add(n);
        return out;
    }

    /** Readers of {@code value}: consuming nodes, plus one if it is a graph output. */
    int uses(String value) {
        ensureIndexed();
        return readers.getOrDefault(value, 0) + (source.isOutput(value) ? 1 : 0);
    }

    boolean isConstant(String value) {
        return computed.containsKey(value) || scaled.containsKey(value) || source.initializers().containsKey(value) || constantNodes.containsKey(value);
    }

    /** Tensors of {@code Constant} nodes the folding rule removed, by output name. */
    final Map<String, Tensor> constantNodes = new HashMap<>();

    /**
     * A constant's tensor (an initializer or a folded Constant node), or null if it was computed by a rule. A strided
     * view (a slice of a larger tensor) comes as a dense copy of its elements, made once: the rules and lowerings read
     * constants' memory as dense data (an index tensor, a weight's rows).
     */
    Tensor tensor(String value) {
        Tensor t = source.initializers().get(value);
        if (t == null) t = constantNodes.get(value);
        if (t == null || !t.isAlive()) return t;   // (a freed one: its reader's exception names it)
        if (!t.segment().isAccessibleBy(Thread.currentThread())) {   // was the JDK's bare WrongThreadException from a first read
            throw new IllegalStateException("constant '" + value + "' (" + t + "): its memory is in a confined arena of another thread, which"
                    + " only that thread may read; compile on that thread, or allocate it in Arena.ofShared()");
        }
        if (t.isContiguous()) return t;
        Tensor strided = t;
        return dense.computeIfAbsent(value, k -> denseCopy(strided));
    }

    /** Dense copies of strided constants ({@link #tensor}), freed with this graph (an automatic arena). */
    private final Map<String, Tensor> dense = new HashMap<>();

    /** {@code t}'s elements in row-major order, in new memory, copied by Java ({@link NativeAccess#copy}). */
    static Tensor denseCopy(Tensor t) {
        long[] shape = t.shape(), strides = t.strides();
        long size = t.dtype().byteSize(), n = t.numel();
        Tensor out = Tensor.allocate(java.lang.foreign.Arena.ofAuto(), t.dtype(), shape);
        MemorySegment dst = out.segment();
        int last = shape.length - 1;
        long run = strides[last] == 1 ? shape[last] : 1;   // elements copied at once: a dense innermost row, else one
        long[] idx = new long[shape.length];
        MemorySegment src = t.segment();
        String what = "Tensor" + Arrays.toString(shape);
        for (long i = 0; i < n; i += run) {
            long at = 0;
            for (int d = 0; d < shape.length; d++) at += idx[d] * strides[d];
            NativeAccess.copy(src.asSlice(at * size, run * size), dst.asSlice(i * size, run * size), what);
            for (int d = run > 1 ? last - 1 : last; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
        }
        return out;
    }

    /** Sets the values of {@code name} (an existing node output a rule folded), of {@code shape}. */
    void setConstant(String name, float[] values, Shape shape) {
        scaled.remove(name);
        computed.put(name, values);
        computedShapes.put(name, shape);
    }

    /**
     * A constant's values (a rule's result, or a copy of the initializer). An I64 or I32 constant (the bound of a
     * Clip, a branch of a Where over integer values held as exact F32 values, {@link LowerCarried}) is converted when
     * every value is exact in F32 (within 2^24), else refused naming the first that is not.
     */
    float[] floats(String value) {
        float[] c = computed.get(value);
        if (c != null) return c.clone();
        Scaled sc = scaled.get(value);
        if (sc != null) return sc.values();
        Tensor t = tensor(value);
        // A refusal to compile (an operand computed at run time where the lowering needs its values), not a broken plan.
        if (t == null) throw new UnsupportedOperationException("'" + value + "' must be a constant here (it is computed at run time)");
        if (t.dtype() == dev.panamadnn.DataType.F32) return t.toFloatArray();
        if (t.dtype() != dev.panamadnn.DataType.I64 && t.dtype() != dev.panamadnn.DataType.I32) {
            throw new UnsupportedOperationException("'" + value + "' is " + t.dtype() + ", not F32, I64 or I32");
        }
        long[] longs = LowerIndex.longs(t);
        float[] f = new float[longs.length];
        for (int i = 0; i < longs.length; i++) {
            if (Math.abs(longs[i]) > 1 << 24) {
                throw new UnsupportedOperationException("'" + value + "' (" + t.dtype() + ") holds " + longs[i] + " at element " + i
                        + ", beyond 2^24: not exact in the F32 values a plan computes on");
            }
            f[i] = longs[i];
        }
        return f;
    }

    /**
     * A constant's values to read, never to write: a rule's result itself (a folded convolution's weights:
     * tens of MB for a ResNet, which {@link #floats} would copy once more), else a copy of the initializer.
     */
    float[] floatsToRead(String value) {
        float[] c = computed.get(value);
        if (c != null) return c;
        Scaled sc = scaled.remove(value);
        if (sc == null) return floats(value);
        c = sc.values();   // made once: later readers share it
        computed.put(value, c);
        return c;
    }

    /** A new constant of {@code shape} named after {@code base} (unique): F32 initializer {@code tensor} scaled per slice of its first dim. */
    String addScaled(String base, Tensor tensor, float[] scales, Shape shape) {
        if (tensor.dtype() != DataType.F32 || tensor.dim(0) != scales.length) {
            throw new IllegalArgumentException(base + ": expected an F32 tensor with " + scales.length + " slices, got " + tensor);
        }
        String name = unique(base);
        scaled.put(name, new Scaled(tensor, scales));
        computedShapes.put(name, shape);
        return name;
    }

    /** {@code name}'s {@link Scaled} definition, or null (not one, or its values were made by {@link #floatsToRead}). */
    Scaled scaled(String name) {
        return scaled.get(name);
    }

    /**
     * Where constant {@code value}'s F32 values come from for a copy into native memory: an F32 initializer's own
     * memory ({@link #tensor}; {@link FoldBatchNorm}'s per-slice scales with it), copied by Java,
     * not by native code (a mapped file may be truncated, an arena closed: {@link ConstantSource#copyInto}), so that no
     * heap copy of the weights is made; else its values as an array.
     */
    ConstantSource source(String value) {
        Scaled sc = scaled.get(value);
        Tensor t = sc != null ? sc.tensor() : computed.containsKey(value) ? null : tensor(value);
        if (t != null && t.dtype() == DataType.F32 && t.isAlive()) {   // (tensor(): dense, readable by this thread)
            return new ConstantSource(null, t, sc == null ? null : sc.scales());
        }
        return ConstantSource.of(floatsToRead(value));
    }

    /** {@link #source}, its values made ({@link #floatsToRead}) where it has scales: for a copy that does not apply them. */
    ConstantSource unscaledSource(String value) {
        ConstantSource s = source(value);
        return s.scales() == null ? s : ConstantSource.of(floatsToRead(value));
    }

    /**
     * A constant's values for a native copy: an array, or a tensor's memory; {@code scales} (or null) are factors per
     * slice of the first dim that whoever copies must apply ({@link Compiler#reorderedConstant}).
     */
    record ConstantSource(float[] values, Tensor tensor, float[] scales) {
        static ConstantSource of(float[] values) {
            return new ConstantSource(values, null, null);
        }

        /** {@return the number of F32 elements} */
        long count() {
            return values != null ? values.length : tensor.numel();
        }

        /** Copies the values (unscaled) into {@code dst}, by Java. */
        void copyInto(MemorySegment dst) {
            if (values != null) {
                MemorySegment.copy(values, 0, dst, ValueLayout.JAVA_FLOAT, 0, values.length);
                return;
            }
            NativeAccess.copy(tensor.segment(), dst, "Tensor" + Arrays.toString(tensor.shape()));
        }
    }

    /** A new constant of {@code shape} named after {@code base} (unique). */
    String addConstant(String base, float[] values, Shape shape) {
        String name = unique(base);
        computed.put(name, values);
        computedShapes.put(name, shape);
        return name;
    }

    private String unique(String base) {
        String name = base;
        for (int k = 1; computed.containsKey(name) || scaled.containsKey(name) || source.values().containsKey(name); k++) name = base + "_" + k;
        return name;
    }

    /** Whether {@code name} is a value of the source graph or a constant a rule made (rules name new values too). */
    boolean has(String name) {
        return computedShapes.containsKey(name) || addedValues.containsKey(name) || source.values().containsKey(name);
    }

    /** The shape of a value of the source graph or of a constant a rule made. */
    Shape shape(String name) {
        Shape s = computedShapes.get(name);
        return s != null ? s : value(name).shape();
    }

    void replace(Node old, Node replacement) {
        nodes.set(indexOf(old), replacement);
    }

    void remove(Node n) {
        int i = indexOf(n);
        if (i >= 0) nodes.remove(i);
    }

    /**
     * {@code n}'s position in {@link #nodes}, -1 if absent: found by identity first (the rules hold the graph's own nodes),
     * by value only if that fails. A record's {@code equals} compares every name, input and attribute; rules asking this of
     * every node made a compile quadratic in deep comparisons, run by the interpreter in a cold JVM.
     */
    int indexOf(Node n) {
        for (int i = 0; i < nodes.size(); i++) if (nodes.get(i) == n) return i;
        return nodes.indexOf(n);
    }

    /** Whether {@code n} is (still) one of {@link #nodes}: by identity, then by value ({@link #indexOf}). */
    boolean contains(Node n) {
        return indexOf(n) >= 0;
    }

    /** {@code node} with {@code output} as its first output (its others kept: a Split's), its inputs and attributes changed as given. */
    static Node rebuilt(Node node, List<String> inputs, Attributes attributes, String output) {
        List<String> outs = new ArrayList<>(node.outputs());
        outs.set(0, output);
        return new Node(node.name(), node.op(), inputs, outs, attributes);
    }

    /** The node's fused-description attribute with {@code what} appended. */
    static String fused(Node n, String what) {
        return n.attributes().string(FUSED, "") + "+" + what;
    }

    /**
     * {@code {axis, start, length}} of a {@code Slice} of {@code input} along one axis in unit steps, its parameters
     * constants (the start clamped as ONNX does, the length the slice's inferred size); null for any other Slice.
     */
    long[] unitSlice(Node s, String input) {
        if (!s.op().equals("Slice") || !input.equals(s.input(0)) || s.input(1) == null || s.input(2) == null || s.input(3) == null) return null;
        for (int i = 1; i < s.inputs().size(); i++) if (s.input(i) != null && tensor(s.input(i)) == null) return null;
        long[] starts = LowerIndex.longs(tensor(s.input(1))), axes = LowerIndex.longs(tensor(s.input(3)));
        long[] steps = s.input(4) == null ? new long[] {1} : LowerIndex.longs(tensor(s.input(4)));
        long[] shape = shape(input).sizes();
        if (starts.length != 1 || axes.length != 1 || steps.length != 1 || steps[0] != 1 || axes[0] < -shape.length || axes[0] >= shape.length) return null;
        int axis = (int) (axes[0] < 0 ? axes[0] + shape.length : axes[0]);
        return new long[] {axis, dev.panamadnn.graph.Ops.sliceStart(starts[0], shape[axis], 1), shape(s.output()).sizes()[axis]};
    }

    boolean hasActivation(Node n) {
        return n.attributes().has(ACTIVATION);
    }
}
