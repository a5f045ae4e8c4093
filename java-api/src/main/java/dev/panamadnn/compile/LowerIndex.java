package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Ops;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.BinaryOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The lowering of the index ops on F32 activations, what is left of them at run time once
 * {@link FoldConstants} has replaced every node whose value was known (shape computations):
 * Squeeze and Unsqueeze are views ({@link Compiler#asShape}); Concat, Split, Slice, Gather with
 * constant indices, Expand, and Where with a constant condition are Java steps copying rows of
 * plain buffers (their index maps computed here, once; no allocation per run); Cast to F32 of
 * an F32 value is the value. Anything else (an integer or bool value computed from the inputs'
 * data) is refused naming the node.
 */
final class LowerIndex {
    private LowerIndex() {}

    /** The one-output index ops, or null if {@code n} is not one. */
    static Value lower(Compiler plan, Node n) {
        Value carried = LowerCarried.lower(plan, n);   // integer and bool values computed at run time
        if (carried != null) return carried;
        return switch (n.op()) {
            case "Squeeze", "Unsqueeze" -> plan.asShape(plan.in(n, 0), out(plan, n, 0), n.name());
            case "Cast" -> {
                if (plan.graph.value(n.output()).dtype() != DataType.F32 || plan.graph.value(n.input(0)).dtype() != DataType.F32) {
                    throw Compiler.unsupported(n, "a Cast computed at run time must be F32 to F32; other dtypes only in shape computations "
                            + "known when compiling");
                }
                yield plan.in(n, 0);
            }
            case "Concat" -> concat(plan, n);
            case "Split" -> plan.in(n, 0);   // into one piece: the sizes sum to the axis, so the piece is the input
            case "Gather" -> gather(plan, n);
            case "Embedding" -> plan.integerInputs.containsKey(n.input(1)) && plan.graph.isConstant(n.input(0)) ? lookup(plan, n, true) : gather(plan, n);
            case "Slice" -> slice(plan, n);
            case "Expand" -> expand(plan, n);
            case "Where" -> where(plan, n);
            case "GatherElements", "GatherND", "Tile", "Resize", "ScatterND", "ScatterElements" -> LowerSelect.lower(plan, n);
            case "OneHot", "CumSum" -> LowerEncode.lower(plan, n);
            case "MaxUnpool" -> LowerPool.maxUnpool(plan, n);
            case "GridSample" -> LowerGridSample.lower(plan, n);
            case "RoiAlign" -> LowerRoiAlign.lower(plan, n);
            case "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss" -> LowerLoss.lower(plan, n).get(0);
            default -> null;
        };
    }

    /** The ops of several outputs (Split). */
    static List<Value> lowerMulti(Compiler plan, Node n) {
        if (n.op().equals("SoftmaxCrossEntropyLoss")) return LowerLoss.lower(plan, n);   // with its log-probabilities
        if (n.op().equals("MaxPool")) return LowerPool.maxPoolWithIndices(plan, n);
        if (n.op().equals("TopK")) return LowerCarriedSelect.topK(plan, n);   // values and indices
        if (n.op().equals("ChannelShuffle")) return LowerMatMul.shuffledHalves(plan, n);   // both halves of a shuffled concat
        if (!n.op().equals("Split")) throw Compiler.unsupported(n, "op " + n.op() + " with " + n.outputs().size() + " outputs is not compiled");
        long[] x = shape(plan, n.input(0));
        int axis = axis(n, x.length);
        long outer = prod(x, 0, axis), inner = prod(x, axis + 1, x.length);
        List<long[]> outs = new ArrayList<>();
        long[] rows = new long[n.outputs().size()];
        for (int o = 0; o < rows.length; o++) {
            outs.add(out(plan, n, o));
            rows[o] = outs.get(o)[axis] * inner;
        }
        long total = x[axis] * inner;
        return PlanOutputs.javaStep(plan, List.of(input(plan, n, 0)), outs, (src, dst) -> {
            for (long a = 0; a < outer; a++) {
                long at = a * total;
                for (int o = 0; o < rows.length; o++) {
                    MemorySegment.copy(src[0], (at) * 4, dst[o], a * rows[o] * 4, rows[o] * 4);
                    at += rows[o];
                }
            }
        }, "java split " + n.name() + " on axis " + axis);
    }

    /** Concat of activations and constants (a constant operand, e.g. a folded ConstantOfShape, is copied from the plan's memory). */
    private static Value concat(Compiler plan, Node n) {
        // concat_in_place: a root or a view, whose inputs were written into its channels already (a concat that is only
        // an input of a root is computed here and copied into its place after)
        if (plan.graph.concatsInPlace.contains(n.output())) return plan.concats.region(n.output());
        long[] y = out(plan, n, 0);
        int axis = axis(n, y.length);
        String layout = AssignLayouts.output(n);
        if (y.length == 4 && (layout.equals(AssignLayouts.NHWC) || layout.equals(AssignLayouts.BLOCKED))) {   // (decided only where no input is a constant)
            return oneDnnConcat(plan, n, y, axis, layout);
        }
        long outer = prod(y, 0, axis), inner = prod(y, axis + 1, y.length);
        List<Value> xs = new ArrayList<>();
        long[] rows = new long[n.inputs().size()];
        int[] slot = new int[rows.length];
        MemorySegment[] constant = new MemorySegment[rows.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = shape(plan, n.input(i))[axis] * inner;
            if (plan.graph.isConstant(n.input(i))) {
                constant[i] = plan.constant(plan.graph.floats(n.input(i)));
                slot[i] = -1;
            } else {
                slot[i] = xs.size();
                xs.add(input(plan, n, i));
            }
        }
        if (xs.isEmpty()) throw Compiler.unsupported(n, "every input is a constant (it should have been folded)");
        long total = y[axis] * inner;
        return PlanOutputs.javaStep(plan, xs, List.of(y), (src, dst) -> {
            for (long a = 0; a < outer; a++) {
                long at = a * total;
                for (int i = 0; i < rows.length; i++) {
                    MemorySegment from = slot[i] < 0 ? constant[i] : src[slot[i]];
                    MemorySegment.copy(from, a * rows[i] * 4, dst[0], at * 4, rows[i] * 4);
                    at += rows[i];
                }
            }
        }, "java concat " + n.name() + " on axis " + axis).get(0);
    }

    /**
     * A Concat of 4-D activations in {@code layout} ({@code nhwc}, or {@code blocked} where every input's channels divide
     * the block), assign_layouts' choice where the convolutions around it use that layout (SqueezeNet's fire modules,
     * Inception's branches, DenseNet's feature lists), as oneDNN's concat, so the activations stay in their layout: a
     * Java concat would need each input reordered to plain and its output reordered back for the next convolution.
     */
    private static Value oneDnnConcat(Compiler plan, Node n, long[] y, int axis, String layout) {
        int k = n.inputs().size();
        MemoryDescriptor[] mds = new MemoryDescriptor[k];
        PlanArg[] args = new PlanArg[k + 1];
        for (int i = 0; i < k; i++) {
            Value x = plan.asShape(plan.in(n, i), shape(plan, n.input(i)), n.input(i));   // the 4-D value, not a view of another rank
            MemoryDescriptor want = plan.own(MemoryDescriptor.f32(AssignLayouts.format4d(layout), x.shape()));
            Value v = x.md().sameLayoutAs(want) && x.buffer() >= 0 ? x : plan.reorder(x, want, "reorder into " + n.name());
            mds[i] = v.md();
            args[i] = PlanArg.of(Args.multipleSrc(i), v.md(), v.buffer());
        }
        MemoryDescriptor dst = plan.own(MemoryDescriptor.f32(AssignLayouts.format4d(layout), y));
        Primitive p;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = BinaryOps.concatOfAny(dst, axis, mds, attr, "compiled concat " + n.name())) {
            p = plan.own(Primitive.create(pd));
        }
        int out = plan.newBuffer(dst.byteSize());
        args[k] = PlanArg.of(Args.DST, dst, out);
        plan.emit(p, "concat " + n.name() + " on axis " + axis + " (" + layout + ", " + k + " inputs)", args);
        return new Value(dst, out, y);
    }

    private static Value gather(Compiler plan, Node n) {
        Tensor t = plan.graph.tensor(n.input(1));
        if (t == null && plan.graph.isConstant(n.input(0))) return lookup(plan, n, false);
        if (t == null) {
            throw Compiler.unsupported(n, "the indices must be a constant, or an integer graph input or integer values computed at run time indexing"
                    + " a constant table (an embedding); indices computed at run time into an activation are not compiled yet");
        }
        long[] x = shape(plan, n.input(0));
        int axis = axis(n, x.length);
        long[] idx = longs(t);
        for (int i = 0; i < idx.length; i++) idx[i] = idx[i] < 0 ? idx[i] + x[axis] : idx[i];
        long outer = prod(x, 0, axis), inner = prod(x, axis + 1, x.length);
        return PlanOutputs.javaStep(plan, List.of(input(plan, n, 0)), List.of(out(plan, n, 0)), (src, dst) -> {
            long o = 0;
            for (long a = 0; a < outer; a++) {
                for (long j : idx) {
                    MemorySegment.copy(src[0], (a * x[axis] + j) * inner * 4, dst[0], o * 4, inner * 4);
                    o += inner;
                }
            }
        }, "java gather " + n.name() + " on axis " + axis).get(0);
    }

    /**
     * An embedding lookup: rows of a constant F32 table (copied into the plan) picked by an integer graph
     * input, read by Java from the caller's tensor each run, or by integer values computed in the plan (position ids from an
     * attention mask's cumulative sum, held as exact F32 values: {@link RunTimeIntegers}); an id out of range is an
     * IllegalArgumentException naming the node, the id and the table's rows (nothing is read out of bounds).
     * {@code strict} (an {@code Embedding} node): indices in [0, rows) as PyTorch's embedding takes them; else
     * ONNX's Gather, where a negative index counts from the end.
     */
    private static Value lookup(Compiler plan, Node n, boolean strict) {
        long[] table = shape(plan, n.input(0)), ids = shape(plan, n.input(1));
        if (axis(n, table.length) != 0) throw Compiler.unsupported(n, "a lookup by run-time ids is compiled on axis 0 only");
        long rows = table[0], row = prod(table, 1, table.length), count = prod(ids, 0, ids.length);
        MemorySegment weights = plan.constant(plan.graph.floats(n.input(0)));
        String label = n.label();
        RunTimeIntegers idsValue = RunTimeIntegers.of(plan, n, 1);
        return PlanOutputs.javaStep(plan, List.of(idsValue.value()), List.of(out(plan, n, 0)), (src, dst) -> {
            for (long i = 0; i < count; i++) {
                long id = idsValue.get(src[0], i);
                long r = id < 0 && !strict ? id + rows : id;
                if (r < 0 || r >= rows) {
                    throw new IllegalArgumentException("CompiledModel: node " + label + ": index " + id + " (element " + i + " of input '"
                            + n.input(1) + "') is out of range for " + rows + " rows" + (strict ? " (an Embedding takes indices in [0, " + rows + "))" : ""));
                }
                MemorySegment.copy(weights, r * row * 4, dst[0], i * row * 4, row * 4);
            }
        }, "java embedding lookup " + n.name() + " (" + rows + " x " + row + ", ids from " + (plan.integerInputs.containsKey(n.input(1)) ? "input " : "")
                + n.input(1) + ")").get(0);
    }

    private static Value slice(Compiler plan, Node n) {
        long[] x = shape(plan, n.input(0)), y = out(plan, n, 0);
        long[][] r = new long[x.length][];
        long[] starts = constant(plan, n, 1), ends = constant(plan, n, 2);
        long[] axes = n.input(3) == null ? null : constant(plan, n, 3), steps = n.input(4) == null ? null : constant(plan, n, 4);
        for (int i = 0; i < starts.length; i++) {
            int ax = (int) (axes == null ? i : axes[i] < 0 ? axes[i] + x.length : axes[i]);
            long step = steps == null ? 1 : steps[i], size = x[ax];
            long s = Ops.sliceStart(starts[i], size, step);
            r[ax] = new long[] {s, y[ax] == 1 ? 1 : step};   // one element: no huge step reaches a view's strides
        }
        if (AssignLayouts.output(n).equals(AssignLayouts.INPUT)) {
            Value sliced = keepingLayout(plan, n, x, y, r);
            if (sliced != null) return sliced;
        }
        // Per output element: its source element (an index map over the output, computed once).
        long[] st = strides(x);
        long count = prod(y, 0, y.length);
        long[] from = new long[Math.toIntExact(count)];
        long[] at = new long[y.length];
        for (int o = 0; o < from.length; o++) {
            long off = 0;
            for (int d = 0; d < y.length; d++) off += (r[d] == null ? at[d] : r[d][0] + at[d] * r[d][1]) * st[d];
            from[o] = off;
            for (int d = y.length - 1; d >= 0; d--) {
                if (++at[d] < y[d]) break;
                at[d] = 0;
            }
        }
        return mapped(plan, n, input(plan, n, 0), y, from, "java slice " + n.name());
    }

    /**
     * A Slice with unit steps of an activation in {@code nhwc} or plain layout (ShuffleNet's channel split) as a
     * oneDNN reorder from a sub-memory view of the input into a dense buffer of the same layout: no reorders to
     * plain and back around a Java step. Null (the Java step instead) for other steps or layouts.
     */
    private static Value keepingLayout(Compiler plan, Node n, long[] x, long[] y, long[][] r) {
        if (x.length == 0 || x.length > 6 || Arrays.stream(y).anyMatch(d -> d <= 0)) return null;
        long[] offsets = new long[x.length];
        for (int d = 0; d < x.length; d++) {
            if (r[d] != null && r[d][1] != 1) return null;
            offsets[d] = r[d] == null ? 0 : r[d][0];
        }
        Value v = plan.asShape(plan.in(n, 0), x, n.input(0));
        boolean nhwc = x.length == 4 && Compiler.isChannelsLast(v.md(), x);
        if (!nhwc && !plan.isPlain(v)) return null;
        int format = nhwc ? AssignLayouts.format4d(AssignLayouts.NHWC) : dev.panamadnn.internal.dnnl.Ops.plain(x.length);
        Value part = new Value(plan.own(v.md().submemory(y, offsets)), v.buffer(), y);
        return plan.copy(part, plan.own(MemoryDescriptor.f32(format, y)), "slice " + n.name() + " (reorder of a view, " + (nhwc ? "nhwc" : "plain") + ")");
    }

    private static Value expand(Compiler plan, Node n) {
        long[] x = shape(plan, n.input(0)), y = out(plan, n, 0);
        return mapped(plan, n, input(plan, n, 0), y, broadcast(x, y), "java expand " + n.name());
    }

    /** A Java step writing output element o from input element {@code from[o]}. */
    static Value mapped(Compiler plan, Node n, Value x, long[] y, long[] from, String what) {
        return PlanOutputs.javaStep(plan, List.of(x), List.of(y), (src, dst) -> {
            for (int o = 0; o < from.length; o++) dst[0].setAtIndex(JAVA_FLOAT, o, src[0].getAtIndex(JAVA_FLOAT, from[o]));
        }, what).get(0);
    }

    private static Value where(Compiler plan, Node n) {
        Tensor c = plan.graph.tensor(n.input(0));
        if (c == null) throw Compiler.unsupported(n, "the condition must be a constant (a condition computed at run time is not compiled yet)");
        long[] y = out(plan, n, 0);
        int size = Math.toIntExact(prod(y, 0, y.length));
        long[] cond = broadcast(c.shape(), y);
        boolean[] take = new boolean[size];
        for (int o = 0; o < size; o++) take[o] = c.segment().get(ValueLayout.JAVA_BYTE, cond[o]) != 0;
        List<Value> xs = new ArrayList<>();
        float[][] constant = new float[2][];
        long[][] index = new long[2][];
        int[] slot = {-1, -1};
        for (int k = 0; k < 2; k++) {
            String name = n.input(k + 1);
            index[k] = broadcast(shape(plan, name), y);
            if (plan.graph.isConstant(name)) constant[k] = plan.graph.floats(name);
            else {
                slot[k] = xs.size();
                xs.add(input(plan, n, k + 1));
            }
        }
        if (xs.isEmpty()) throw Compiler.unsupported(n, "every input is a constant (it should have been folded)");
        return PlanOutputs.javaStep(plan, xs, List.of(y), (src, dst) -> {
            for (int o = 0; o < size; o++) {
                int k = take[o] ? 0 : 1;
                float v = slot[k] < 0 ? constant[k][(int) index[k][o]] : src[slot[k]].getAtIndex(JAVA_FLOAT, index[k][o]);
                dst[0].setAtIndex(JAVA_FLOAT, o, v);
            }
        }, "java where " + n.name() + " (constant condition)").get(0);
    }

    // ---- helpers ----

    static Value input(Compiler plan, Node n, int i) {
        return PlanOutputs.javaInput(plan, plan.asShape(plan.in(n, i), shape(plan, n.input(i)), n.input(i)), n.name());
    }

    static long[] shape(Compiler plan, String value) {
        return plan.graph.shape(value).sizes();
    }

    static long[] out(Compiler plan, Node n, int i) {
        return plan.graph.value(n.outputs().get(i)).shape().sizes();
    }

    private static int axis(Node n, int rank) {
        long a = n.attributes().integer("axis", 0);
        return (int) (a < 0 ? a + rank : a);
    }

    /** The integer values of node {@code n}'s constant input {@code i}; refused if it is computed. */
    static long[] constant(Compiler plan, Node n, int i) {
        Tensor t = plan.graph.tensor(n.input(i));
        if (t == null) throw Compiler.unsupported(n, "input " + i + " must be a constant");
        return longs(t);
    }

    static long[] longs(Tensor t) {
        if (!t.isContiguous()) t = PlanGraph.denseCopy(t);   // a strided view (BatchSplit reads a graph's own initializers)
        long[] v = new long[Math.toIntExact(t.numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.dtype() == DataType.I32 ? t.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i)
                    : t.segment().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
        }
        return v;
    }

    static long prod(long[] s, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) p = Math.multiplyExact(p, s[i]);
        return p;
    }

    static long[] strides(long[] s) {
        long[] st = new long[s.length];
        long k = 1;
        for (int d = s.length - 1; d >= 0; d--) {
            st[d] = k;
            k *= s[d];
        }
        return st;
    }

    /** For each element of {@code to}, the element of {@code from} NumPy broadcasting reads. */
    static long[] broadcast(long[] from, long[] to) {
        int r = to.length, off = r - from.length;
        long[] st = strides(from);
        long[] idx = new long[Math.toIntExact(prod(to, 0, r))];
        long[] at = new long[r];
        for (int o = 0; o < idx.length; o++) {
            long i = 0;
            for (int a = Math.max(0, off); a < r; a++) if (from[a - off] != 1) i += at[a] * st[a - off];
            idx[o] = i;
            for (int a = r - 1; a >= 0; a--) {
                if (++at[a] < to[a]) break;
                at[a] = 0;
            }
        }
        return idx;
    }
}
