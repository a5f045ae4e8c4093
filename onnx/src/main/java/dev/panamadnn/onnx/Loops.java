package dev.panamadnn.onnx;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ONNX Loop and Scan, unrolled when importing: where the number of iterations is known then (a Loop's trip count and
 * conditions constants, computed from fixed shapes, or integer and bool inputs that run(Map) binds per call; a Scan's
 * sequence length a fixed dim), the body's nodes are translated once per iteration through the {@link Importer}, the
 * iteration number a constant per copy, carried values tensors or sequences, scan outputs stacked. A trip count or
 * condition not known is refused as any value shape inference needs (a {@link GraphException} cause: run(Map) imports
 * per call where binding the call's inputs and shapes makes it known).
 */
final class Loops {
    private Loops() {}

    /** The most iterations a Loop or Scan is unrolled into (each one a copy of its body in the graph). */
    static final int MAX_ITERATIONS = 4096;

    /** Scan's attributes (besides its body). */
    private static final Set<String> SCAN_ATTRIBUTES = Set.of("num_scan_inputs", "scan_input_axes", "scan_input_directions", "scan_output_axes",
            "scan_output_directions");

    /**
     * A Loop or Scan is imported unrolled, where its number of iterations is known when importing (a Loop's trip count
     * and conditions constants, computed from fixed shapes, or integer and bool inputs that run(Map) binds per call; a
     * Scan's sequence length a fixed dim): its body's nodes once per iteration. Here its attributes, its body's
     * inputs and outputs against the node's ({@code inputs}: the node's own, before the outer values its body reads were
     * appended for ordering), and the body's nodes as any nodes.
     */
    static void check(Importer im, NodeProto n, int inputs, String label, int opset, Set<String> read, List<String> problems) {
        boolean loop = n.getOpType().equals("Loop");
        GraphProto body = null;
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals("body") && a.getType() == AttributeProto.AttributeType.GRAPH) body = a.getG();
            else if (loop || !SCAN_ATTRIBUTES.contains(a.getName())) problems.add(label + ": attribute '" + a.getName() + "' is not supported");
        }
        if (body == null) {
            problems.add(label + ": needs a body graph (attribute 'body')");
            return;
        }
        if (!loop && opset < 9) {
            problems.add(label + ": Scan before opset 9 (with a batch axis and sequence_lens) is not supported");
            return;
        }
        if (body.getSparseInitializerCount() > 0) problems.add(label + ": body: sparse initializers are not supported");
        int ins = body.getInputCount(), outs = body.getOutputCount();
        if (loop) {
            if (ins < 2 || outs < ins - 1 || inputs != ins || n.getOutputCount() != outs - 1) {
                problems.add(label + ": a Loop's body takes the iteration number, the condition and the " + (n.getOutputCount())
                        + " carried values, and gives the condition, the carried values and the scan outputs; got a body of " + ins
                        + " inputs and " + outs + " outputs for " + inputs + " inputs and " + n.getOutputCount() + " outputs");
            }
        } else {
            long scans = 0;
            for (AttributeProto a : n.getAttributeList()) if (a.getName().equals("num_scan_inputs")) scans = a.getI();
            if (scans < 1 || scans > ins || inputs != ins || n.getOutputCount() != outs || outs < ins - scans) {
                problems.add(label + ": a Scan's body takes its states and num_scan_inputs (" + scans + ", at least 1) slices, and gives the states"
                        + " and the scan outputs; got a body of " + ins + " inputs and " + outs + " outputs for " + inputs
                        + " inputs and " + n.getOutputCount() + " outputs");
            }
        }
        for (NodeProto m : body.getNodeList()) read.addAll(m.getInputList());
        for (ValueInfoProto o : body.getOutputList()) read.add(o.getName());
        for (NodeProto m : body.getNodeList()) im.checkInner(m, label + " > body > " + Importer.label(m, opset), opset, read);
    }

    /** Unrolls a Loop or a Scan (checked by {@link #check}): its body's nodes once per iteration, then its outputs. */
    static void unroll(Importer im, NodeProto n, String label, int opset, GraphBuilder b, Map<String, String> ours, Map<String, Tensor> constants,
                       Set<String> read) {
        boolean loop = n.getOpType().equals("Loop");
        GraphProto body = Importer.branch(n, "body");
        String base = n.getOutputCount() > 0 && !n.getOutput(0).isEmpty() ? n.getOutput(0) : n.getOpType();
        for (dev.panamadnn.onnx.proto.TensorProto t : body.getInitializerList()) {
            Tensor w = TensorProtos.toTensor(t, label + " > body > initializer '" + t.getName() + "'", im.arena(), im.baseDir());
            String mine = b.initializer(b.uniqueName(base + "." + t.getName()), w);
            constants.put(mine, w);
            ours.put(t.getName(), mine);
        }
        Set<String> defined = new HashSet<>(ours.keySet());
        defined.addAll(im.sequenceNames());
        for (ValueInfoProto in : body.getInputList()) defined.add(in.getName());
        List<String> local = new ArrayList<>();
        List<NodeProto> sorted = new ArrayList<>();
        for (NodeProto m : body.getNodeList()) sorted.add(Importer.hasGraphs(m) ? m.toBuilder().addAllInput(Importer.outerReads(m)).build() : m);
        sorted = Topology.sort(sorted, defined, local);
        if (!local.isEmpty()) throw new OnnxException(label + ": body: " + String.join("; ", local));
        List<String> inner = new ArrayList<>();
        List<Attributes> attrs = new ArrayList<>();
        List<OpRule> rules = new ArrayList<>();
        for (NodeProto m : sorted) {
            inner.add(label + " > body > " + Importer.label(m, opset));
            attrs.add(im.innerAttributes(m, inner.getLast()));
            rules.add(Importer.innerRule(m, opset));
        }
        int states = loop ? body.getInputCount() - 2 : body.getInputCount() - (int) intAttribute(n, "num_scan_inputs", 0);
        int scanOuts = body.getOutputCount() - (loop ? 1 : 0) - states;
        List<Object> state = new ArrayList<>();   // our tensor name or a sequence, per carried value
        for (int k = 0; k < states; k++) state.add(im.valueOf(n.getInput((loop ? 2 : 0) + k), label, ours));
        List<List<String>> scanned = new ArrayList<>();
        for (int j = 0; j < scanOuts; j++) scanned.add(new ArrayList<>());
        long iterations;
        boolean cond = true;
        List<String> scanInputs = new ArrayList<>();
        long[] inAxes = null, inReverse = null;
        if (loop) {
            iterations = Sequences.present(n, 0) ? knownLong(n.getInput(0), "its trip count", label, ours, constants, b) : Long.MAX_VALUE;
            if (Sequences.present(n, 1)) cond = knownLong(n.getInput(1), "its condition", label, ours, constants, b) != 0;
        } else {
            int m = body.getInputCount() - states;
            inAxes = ints(n, "scan_input_axes", m, 0);
            inReverse = ints(n, "scan_input_directions", m, 0);
            iterations = -1;
            for (int j = 0; j < m; j++) {
                String x = ours.get(n.getInput(states + j));
                if (x == null) throw new OnnxException(label + ": scan input " + j + " ('" + n.getInput(states + j) + "') must be a tensor");
                Shape shape = b.value(x).shape();
                long axis = inAxes[j] < 0 ? inAxes[j] + shape.rank() : inAxes[j];
                if (axis < 0 || axis >= shape.rank()) {
                    throw new OnnxException(label + ": scan_input_axes[" + j + "] = " + inAxes[j] + " is out of range for input '" + n.getInput(states + j)
                            + "' " + shape);
                }
                inAxes[j] = axis;
                Dim d = shape.dim((int) axis);
                if (!d.isFixed()) {
                    String why = "the sequence length (dim " + axis + " of scan input '" + n.getInput(states + j) + "' " + shape + ") is symbolic: a"
                            + " Scan is unrolled when importing";
                    throw new OnnxException(label + ": " + why, new GraphException(why));
                }
                if (iterations >= 0 && d.size() != iterations) {
                    throw new OnnxException(label + ": the scan inputs' sequence lengths differ: " + iterations + " and " + d.size() + " (input '"
                            + n.getInput(states + j) + "')");
                }
                iterations = d.size();
                scanInputs.add(x);
            }
        }
        String running = loop ? scalarConstant(im, b, constants, base + ".condition", DataType.BOOL, 1) : null;   // cond_in of every copy
        long done = 0;
        for (; done < iterations && cond; done++) {
            if (done >= MAX_ITERATIONS) {
                throw new OnnxException(label + ": runs more than " + MAX_ITERATIONS + " iterations" + (iterations == Long.MAX_VALUE ? " (no trip count,"
                        + " and its condition stays true)" : " (" + iterations + ")") + ": a " + n.getOpType() + " is imported unrolled, at most "
                        + MAX_ITERATIONS + " copies of its body");
            }
            int first;
            if (loop) {
                im.bind(body.getInput(0).getName(), scalarConstant(im, b, constants, base + ".iteration", DataType.I64, done), ours);
                im.bind(body.getInput(1).getName(), running, ours);
                first = 2;
            } else {
                for (int j = 0; j < scanInputs.size(); j++) {
                    long at = inReverse[j] != 0 ? iterations - 1 - done : done;
                    String index = scalarConstant(im, b, constants, base + ".step", DataType.I64, at);
                    im.bind(body.getInput(states + j).getName(), b.node("Gather", base, Attributes.of("axis", inAxes[j]), scanInputs.get(j), index), ours);
                }
                first = 0;
            }
            for (int k = 0; k < states; k++) im.bind(body.getInput(first + k).getName(), state.get(k), ours);
            for (int i = 0; i < sorted.size(); i++) im.translate(sorted.get(i), inner.get(i), opset, attrs.get(i), rules.get(i), b, ours, constants, read);
            int out = 0;
            if (loop) cond = knownLong(body.getOutput(out++).getName(), "its condition (body output 0)", label, ours, constants, b) != 0;
            for (int k = 0; k < states; k++) state.set(k, im.valueOf(body.getOutput(out++).getName(), label, ours));
            for (int j = 0; j < scanOuts; j++) {
                Object v = im.valueOf(body.getOutput(out++).getName(), label, ours);
                if (!(v instanceof String t)) throw new OnnxException(label + ": scan output " + j + " of the body is a sequence; only tensors are stacked");
                scanned.get(j).add(t);
            }
        }
        for (int k = 0; k < states; k++) if (!n.getOutput(k).isEmpty()) im.bind(n.getOutput(k), state.get(k), ours);
        long[] outAxes = loop ? new long[scanOuts] : ints(n, "scan_output_axes", scanOuts, 0);
        long[] outReverse = loop ? new long[scanOuts] : ints(n, "scan_output_directions", scanOuts, 0);
        for (int j = 0; j < scanOuts; j++) {
            if (n.getOutput(states + j).isEmpty()) continue;
            List<String> items = new ArrayList<>(scanned.get(j));
            if (items.isEmpty()) {   // no iteration: an empty tensor, of the shape the body declares for its slices
                ours.put(n.getOutput(states + j), emptyScanOutput(im, b, constants, body.getOutput((loop ? 1 : 0) + states + j), outAxes[j], label,
                        n.getOutput(states + j)));
                continue;
            }
            if (outReverse[j] != 0) java.util.Collections.reverse(items);
            int rank = b.value(items.get(0)).shape().rank() + 1;
            long axis = outAxes[j] < 0 ? outAxes[j] + rank : outAxes[j];
            if (axis < 0 || axis >= rank) throw new OnnxException(label + ": scan_output_axes[" + j + "] = " + outAxes[j] + " is out of range for rank " + rank);
            String axes = scalarConstant(im, b, constants, base + ".axes", DataType.I64, axis, 1);
            List<String> unsqueezed = new ArrayList<>();
            for (String item : items) unsqueezed.add(b.node("Unsqueeze", base, Attributes.empty(), item, axes));
            ours.put(n.getOutput(states + j), unsqueezed.size() == 1 ? unsqueezed.get(0)
                    : b.node("Concat", base, Attributes.of("axis", axis), unsqueezed.toArray(new String[0])));
        }
    }

    /**
     * The scan output of a Loop or Scan that runs no iteration: size 0 along the stacking axis, the other dims those the
     * body declares for its slices (all fixed); refused where the body declares no such shape.
     */
    private static String emptyScanOutput(Importer im, GraphBuilder b, Map<String, Tensor> constants, ValueInfoProto slice, long axis,
                                          String label, String name) {
        dev.panamadnn.onnx.proto.TypeProto.Tensor t = slice.getType().getTensorType();
        DataType dtype = slice.getType().hasTensorType() ? TensorProtos.dtype(t.getElemType()) : null;
        List<Long> dims = new ArrayList<>();
        boolean fixed = dtype != null && t.hasShape();
        for (var d : t.getShape().getDimList()) {
            fixed &= d.hasDimValue();
            dims.add(d.getDimValue());
        }
        int rank = dims.size() + 1;
        long at = axis < 0 ? axis + rank : axis;
        if (!fixed || at < 0 || at >= rank) {
            throw new OnnxException(label + ": runs no iteration, so its scan output '" + name + "' is empty, and its body declares no fixed"
                    + " shape for it (body output '" + slice.getName() + "'): not supported");
        }
        dims.add((int) at, 0L);
        Tensor empty = Tensor.allocate(im.arena(), dtype, dims.stream().mapToLong(Long::longValue).toArray());
        String mine = b.initializer(b.uniqueName(name), empty);
        constants.put(mine, empty);
        return mine;
    }

    /** One integer or bool value, {@code name}'s (ONNX), known when importing; else a refusal that run(Map)'s per-call binding may lift. */
    private static long knownLong(String name, String what, String label, Map<String, String> ours, Map<String, Tensor> constants, GraphBuilder b) {
        String mine = ours.get(name);
        if (mine == null) throw new OnnxException(label + ": " + what + " ('" + name + "') must be a tensor");
        Tensor t = constants.containsKey(mine) ? constants.get(mine) : b.knownValue(mine);
        if (t == null) {
            String why = what + " ('" + name + "') is computed at run time: a " + "Loop is imported unrolled, its iterations known when importing (a"
                    + " constant, computed from fixed shapes, or an integer or bool input, which run(Map) binds per call)";
            throw new OnnxException(label + ": " + why, new GraphException(why));
        }
        if (t.numel() != 1) throw new OnnxException(label + ": " + what + " ('" + name + "') must be one value, got " + t.dtype() + java.util.Arrays.toString(t.shape()));
        Long v = TensorProtos.integer(t, 0);
        if (v == null) throw new OnnxException(label + ": " + what + " ('" + name + "') must be INT64, INT32 or BOOL, got " + t.dtype());
        return v;
    }

    /** A constant of ours holding {@code value} (I64 or BOOL), a scalar or of {@code shape}. */
    private static String scalarConstant(Importer im, GraphBuilder b, Map<String, Tensor> constants, String name, DataType dtype, long value, long... shape) {
        Tensor t = dtype == DataType.I64 ? TensorProtos.longs(im.arena(), new long[] {value}, shape) : Tensor.allocate(im.arena(), dtype, shape);
        if (dtype == DataType.BOOL) t.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) (value != 0 ? 1 : 0));
        String mine = b.initializer(b.uniqueName(name), t);
        constants.put(mine, t);
        return mine;
    }

    private static long intAttribute(NodeProto n, String name, long otherwise) {
        for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getI();
        return otherwise;
    }

    /** An INTS attribute of {@code count} values, or {@code otherwise} for each where absent. */
    private static long[] ints(NodeProto n, String name, int count, long otherwise) {
        long[] v = new long[count];
        java.util.Arrays.fill(v, otherwise);
        for (AttributeProto a : n.getAttributeList()) {
            if (!a.getName().equals(name)) continue;
            if (a.getIntsCount() != count) throw new OnnxException("attribute '" + name + "' has " + a.getIntsCount() + " values, expected " + count);
            for (int i = 0; i < count; i++) v[i] = a.getInts(i);
        }
        return v;
    }
}
