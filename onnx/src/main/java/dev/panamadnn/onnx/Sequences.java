package dev.panamadnn.onnx;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Value;
import dev.panamadnn.onnx.proto.NodeProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ONNX sequences (opset 11 on), resolved when importing: a sequence value is the list of our tensor values it holds, its
 * length and every position known then, so the graph has no sequence in it. What torch writes for an uneven
 * {@code torch.chunk} or a {@code torch.split} by computed sizes ({@code SplitToSequence}, then one {@code SequenceAt} per
 * piece) becomes one {@code Split}; {@code SequenceConstruct}, {@code SequenceEmpty}, {@code SequenceInsert},
 * {@code SequenceErase}, {@code SequenceAt}, {@code SequenceLength} and {@code ConcatFromSequence} are list operations
 * over our values (the last one a {@code Concat}). A position or split computed at run time, or from a symbolic dim, is
 * refused as any value shape inference needs ({@link NodeContext#needsConstant}: {@code run(Map)} binds the call's
 * shapes and integer inputs); a sequence as a graph input or output, or read by any other op, is refused at load.
 */
final class Sequences {
    private Sequences() {}

    /** A sequence value: the element type and its tensors, in order. */
    record Seq(DataType dtype, List<Item> items) {
        Seq {
            items = List.copyOf(items);
        }
    }

    /**
     * A tensor of a sequence: our value, or, for a piece of size 0 of a split ({@code emptyAxis >= 0}), the value split,
     * sliced to nothing along that axis only where the piece is read (a plan computes on no empty tensor, so none is made
     * that nothing reads).
     */
    record Item(String value, int emptyAxis) {
        static Item of(String value) {
            return new Item(value, -1);
        }

        boolean isEmpty() {
            return emptyAxis >= 0;
        }

        /** Our value of this tensor: for an empty piece, a Slice made now. */
        String materialize(NodeContext n) {
            if (!isEmpty()) return value;
            String zero = n.longs("empty", new long[] {0}, 1);
            return n.emit("Slice", Attributes.empty(), value, zero, zero, n.longs("axis", new long[] {emptyAxis}, 1));
        }
    }

    /** The sequence ops and the attributes each takes. */
    private static final Map<String, Set<String>> ATTRIBUTES = Map.of("SequenceEmpty", Set.of("dtype"), "SequenceConstruct", Set.of(),
            "SequenceInsert", Set.of(), "SequenceErase", Set.of(), "SequenceAt", Set.of(), "SequenceLength", Set.of(),
            "SplitToSequence", Set.of("axis", "keepdims"), "ConcatFromSequence", Set.of("axis", "new_axis"));

    /** The opset the sequence ops came in (none has changed since). */
    static final int FIRST_OPSET = 11;

    /** The sequence ops, sorted (for the docs). */
    static final List<String> OPS = ATTRIBUTES.keySet().stream().sorted().toList();

    /** {@return whether {@code n} is a sequence op of the default domain} */
    static boolean handles(NodeProto n) {
        return (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx")) && ATTRIBUTES.containsKey(n.getOpType());
    }

    /** Records the problems of a sequence node: opset, attributes, inputs and outputs. */
    static void check(NodeProto n, String label, int opset, Attributes a, List<String> problems) {
        String op = n.getOpType();
        if (opset < FIRST_OPSET) {
            problems.add(label + ": not supported at this opset (sequence ops came in opset " + FIRST_OPSET + ")");
            return;
        }
        for (String name : a == null ? List.<String>of() : a.names()) {
            if (!ATTRIBUTES.get(op).contains(name)) problems.add(label + ": attribute '" + name + "' is not supported");
        }
        int min = switch (op) {
            case "SequenceEmpty" -> 0;
            case "SequenceInsert" -> 2;
            default -> 1;
        };
        int max = switch (op) {
            case "SequenceEmpty" -> 0;
            case "SequenceConstruct" -> Integer.MAX_VALUE;
            case "SequenceInsert" -> 3;
            case "SequenceErase", "SequenceAt", "SplitToSequence" -> 2;
            default -> 1;
        };
        int given = n.getInputCount();
        if (given < min || given > max || (given > 0 && n.getInput(0).isEmpty() && !op.equals("SequenceConstruct"))) {
            problems.add(label + ": takes " + (min == max ? min : min + " to " + (max == Integer.MAX_VALUE ? "any number of" : max))
                    + " inputs" + (min > 0 ? " (the first one given)" : "") + ", got " + given + " " + n.getInputList());
        }
        if (n.getOutputCount() != 1) problems.add(label + ": has one output, got " + n.getOutputCount());
    }

    /** What a sequence node gives: a sequence, or one tensor of ours. */
    record Out(Seq seq, String tensor) {}

    /**
     * Translates sequence node {@code node} (checked), whose sequence inputs are in {@code sequences} by ONNX name and
     * whose tensor inputs are {@code n}'s (our names; "" where the input is a sequence or absent).
     */
    static Out translate(NodeProto node, NodeContext n, Map<String, Seq> sequences) {
        String op = node.getOpType();
        switch (op) {
            case "SequenceEmpty" -> {
                long code = n.attributes.integer("dtype", 1L);   // FLOAT by default
                DataType dtype = TensorProtos.dtype((int) code);
                if (dtype == null || code != (int) code) throw n.refuse("dtype " + code + " (" + TensorProtos.elemTypeName((int) code) + ") is not supported");
                return new Out(new Seq(dtype, List.of()), null);
            }
            case "SequenceConstruct" -> {
                if (node.getInputCount() == 0) throw n.refuse("SequenceConstruct takes at least one tensor, got none");
                List<Item> items = new ArrayList<>();
                DataType dtype = null;
                for (int i = 0; i < node.getInputCount(); i++) {
                    Value v = tensor(node, n, sequences, i);
                    if (dtype != null && v.dtype() != dtype) {
                        throw n.refuse("every tensor of a sequence has one element type: input 0 is " + dtype + ", input " + i + " ('"
                                + node.getInput(i) + "') " + v.dtype());
                    }
                    dtype = v.dtype();
                    items.add(Item.of(n.input(i)));
                }
                return new Out(new Seq(dtype, items), null);
            }
            case "SequenceInsert" -> {
                Seq s = sequence(node, n, sequences, 0);
                Value v = tensor(node, n, sequences, 1);
                if (v.dtype() != s.dtype()) {
                    throw n.refuse("the sequence holds " + s.dtype() + " tensors, the tensor inserted ('" + node.getInput(1) + "') is " + v.dtype());
                }
                int size = s.items().size();
                int at = present(node, 2) ? position(n, 2, -size, size, "the position to insert at", size) : size;
                List<Item> items = new ArrayList<>(s.items());
                items.add(at, Item.of(n.input(1)));
                return new Out(new Seq(s.dtype(), items), null);
            }
            case "SequenceErase" -> {
                Seq s = sequence(node, n, sequences, 0);
                int size = s.items().size();
                if (size == 0) throw n.refuse("cannot erase from an empty sequence");
                int at = present(node, 1) ? position(n, 1, -size, size - 1, "the position to erase", size) : size - 1;
                List<Item> items = new ArrayList<>(s.items());
                items.remove(at);
                return new Out(new Seq(s.dtype(), items), null);
            }
            case "SequenceAt" -> {
                Seq s = sequence(node, n, sequences, 0);
                int size = s.items().size();
                if (!present(node, 1)) throw n.refuse("SequenceAt needs a position (input 1)");
                if (size == 0) throw n.refuse("SequenceAt on an empty sequence");
                return new Out(null, s.items().get(position(n, 1, -size, size - 1, "the position", size)).materialize(n));
            }
            case "SequenceLength" -> {
                Seq s = sequence(node, n, sequences, 0);
                return new Out(null, n.longs("length", new long[] {s.items().size()}));
            }
            case "SplitToSequence" -> {
                return new Out(split(node, n), null);
            }
            case "ConcatFromSequence" -> {
                return new Out(null, concat(node, n, sequences));
            }
            default -> throw new IllegalStateException("not a sequence op: " + op);
        }
    }

    /** SplitToSequence: a Split into the pieces (keepdims 0 without a split: each squeezed), as a sequence. */
    private static Seq split(NodeProto node, NodeContext n) {
        Value x = n.value(0);
        int rank = x.shape().rank();
        long axisAttr = n.attributes.integer("axis", 0L);
        if (rank == 0 || axisAttr < -rank || axisAttr >= rank) {
            throw n.refuse("axis " + axisAttr + " is out of range for input '" + node.getInput(0) + "' " + x.shape() + " (expected " + (rank == 0
                    ? "a tensor of rank 1 or more)" : "-" + rank + " to " + (rank - 1) + ")"));
        }
        int axis = (int) (axisAttr < 0 ? axisAttr + rank : axisAttr);
        Dim dim = x.shape().dim(axis);
        long[] sizes;
        if (present(node, 1)) {
            Value split = n.value(1);
            if (split.dtype() != DataType.I64 && split.dtype() != DataType.I32) throw n.refuse("split must be INT64 or INT32, got " + split);
            if (split.shape().rank() > 1) throw n.refuse("split must be a scalar (the size of each piece) or a vector of sizes, got " + split);
            if (split.shape().rank() == 1) {
                Tensor t = n.known(n.input(1));
                if (t == null) throw n.needsConstant("split (input 1, " + split + ") must be known when importing (a constant, computed from fixed shapes, or a bound input)");
                sizes = new long[Math.toIntExact(t.numel())];
                for (int k = 0; k < sizes.length; k++) sizes[k] = TensorProtos.integer(t, k);
                if (sizes.length == 0) throw n.refuse("split is empty: a SplitToSequence needs at least one piece");
                long total = 0;
                for (long v : sizes) {
                    if (v < 0) {
                        throw n.refuse("split " + java.util.Arrays.toString(sizes) + " has a negative size (every size must be 0 or more; torch 1.13 writes"
                                + " such a split for a torch.chunk that makes fewer pieces than asked, e.g. 4 chunks of a dim of 5: chunk into a"
                                + " number of pieces that the dim gives, or torch.split(x, size, dim))");
                    }
                    total += v;
                }
                long size = fixed(n, dim, axis, x);
                if (total != size) throw n.refuse("split " + java.util.Arrays.toString(sizes) + " adds up to " + total + ", dim " + axis + " of " + x + " is " + size);
            } else {
                long chunk = scalar(n, 1, "split (the size of each piece)");
                if (chunk <= 0) throw n.refuse("split (the size of each piece) must be positive, got " + chunk);
                long size = fixed(n, dim, axis, x);
                int count = Math.toIntExact(Math.max(1, (size + chunk - 1) / chunk));
                sizes = new long[count];
                for (int k = 0; k < count; k++) sizes[k] = Math.max(0, Math.min(chunk, size - k * chunk));
            }
            return new Seq(x.dtype(), pieces(n, x, axis, sizes));
        }
        long size = fixed(n, dim, axis, x);
        sizes = new long[Math.toIntExact(size)];
        java.util.Arrays.fill(sizes, 1L);
        List<Item> pieces = pieces(n, x, axis, sizes);
        if (n.attributes.integer("keepdims", 1L) == 0) {
            String axes = n.longs("axes", new long[] {axis}, 1);
            List<Item> squeezed = new ArrayList<>();
            for (Item p : pieces) squeezed.add(Item.of(n.emit("Squeeze", Attributes.empty(), p.value(), axes)));
            pieces = squeezed;
        }
        return new Seq(x.dtype(), pieces);
    }

    /**
     * The pieces of {@code x} along {@code axis} by {@code sizes} (adding up to its dim): one Split over those not empty, or
     * {@code x} itself when it is one piece; each empty one an {@link Item} sliced where read.
     */
    private static List<Item> pieces(NodeContext n, Value x, int axis, long[] sizes) {
        long[] kept = java.util.Arrays.stream(sizes).filter(v -> v > 0).toArray();
        List<String> made = kept.length == 0 ? List.of() : kept.length == 1 ? List.of(n.input(0))
                : n.emit("Split", Attributes.of("axis", (long) axis), List.of(n.input(0), n.longs("split", kept, kept.length)), kept.length);
        List<Item> items = new ArrayList<>();
        int next = 0;
        for (long v : sizes) items.add(v > 0 ? Item.of(made.get(next++)) : new Item(n.input(0), axis));
        return items;
    }

    /** ConcatFromSequence: a Concat of the items (with new_axis 1, each unsqueezed at the axis first). */
    private static String concat(NodeProto node, NodeContext n, Map<String, Seq> sequences) {
        Seq s = sequence(node, n, sequences, 0);
        if (s.items().isEmpty()) throw n.refuse("ConcatFromSequence of an empty sequence (no tensor to concatenate)");
        if (!n.attributes.has("axis")) throw n.refuse("ConcatFromSequence needs the attribute 'axis'");
        long axisAttr = n.attributes.integer("axis");
        boolean newAxis = n.attributes.integer("new_axis", 0L) != 0;
        int rank = n.builderValue(s.items().get(0).value()).shape().rank();
        int outRank = newAxis ? rank + 1 : rank;
        if (axisAttr < -outRank || axisAttr >= outRank || outRank == 0) {
            throw n.refuse("axis " + axisAttr + " is out of range for tensors of rank " + rank + (newAxis ? " with new_axis 1" : "") + " (expected -"
                    + outRank + " to " + (outRank - 1) + ")");
        }
        long axis = axisAttr < 0 ? axisAttr + outRank : axisAttr;
        // Empty pieces add nothing to a concatenation along their own axis; along a new one each is a slice of its own
        List<String> items = new ArrayList<>();
        for (Item item : s.items()) if (!item.isEmpty() || newAxis || item.emptyAxis() != axis) items.add(item.materialize(n));
        if (items.isEmpty()) items.add(s.items().get(0).materialize(n));
        if (newAxis) {
            String axes = n.longs("axes", new long[] {axis}, 1);
            List<String> unsqueezed = new ArrayList<>();
            for (String item : items) unsqueezed.add(n.emit("Unsqueeze", Attributes.empty(), item, axes));
            items = unsqueezed;
        }
        return items.size() == 1 ? (newAxis ? items.get(0) : n.emit("Identity", Attributes.empty(), items.get(0)))
                : n.emit("Concat", Attributes.of("axis", axis), items.toArray(new String[0]));
    }

    /** {@return whether input {@code i} of {@code node} is given} */
    static boolean present(NodeProto node, int i) {
        return i < node.getInputCount() && !node.getInput(i).isEmpty();
    }

    /** Input {@code i} as a sequence; refused if it is a tensor. */
    private static Seq sequence(NodeProto node, NodeContext n, Map<String, Seq> sequences, int i) {
        Seq s = sequences.get(node.getInput(i));
        if (s == null) throw n.refuse("input " + i + " ('" + node.getInput(i) + "') must be a sequence, got a tensor " + n.value(i));
        return s;
    }

    /** Input {@code i} as a tensor; refused if it is a sequence. */
    private static Value tensor(NodeProto node, NodeContext n, Map<String, Seq> sequences, int i) {
        if (sequences.containsKey(node.getInput(i)) || n.input(i).isEmpty()) {
            throw n.refuse("input " + i + " ('" + node.getInput(i) + "') must be a tensor, got a sequence");
        }
        return n.value(i);
    }

    /** A position, input {@code i}: one known integer in {@code [min, max]}, negative ones counted from the end. */
    private static int position(NodeContext n, int i, long min, long max, String what, int size) {
        long p = scalar(n, i, what);
        if (p < min || p > max) {
            throw n.refuse(what + " is " + p + ", out of range for a sequence of " + size + " tensor" + (size == 1 ? "" : "s")
                    + " (expected " + min + " to " + max + ")");
        }
        return (int) (p < 0 ? p + size : p);
    }

    /** Input {@code i}'s one integer value, known when importing. */
    private static long scalar(NodeContext n, int i, String what) {
        Value v = n.value(i);
        if (v.dtype() != DataType.I64 && v.dtype() != DataType.I32) throw n.refuse(what + " must be INT64 or INT32, got " + v);
        if (v.shape().isFixed() && v.shape().elements().size() != 1) throw n.refuse(what + " must be one value, got " + v);
        Tensor t = n.known(n.input(i));
        if (t == null) throw n.needsConstant(what + " (input " + i + ", " + v + ") must be known when importing (a constant, computed from fixed shapes, or a bound input)");
        return TensorProtos.integer(t, 0);
    }

    /** The size of {@code dim}, which a split without sizes (or by a chunk size) needs known. */
    private static long fixed(NodeContext n, Dim dim, int axis, Value x) {
        if (!dim.isFixed()) throw n.needsConstant("dim " + axis + " of " + x + " is symbolic (" + dim + "): the number of pieces depends on it");
        return dim.size();
    }
}
