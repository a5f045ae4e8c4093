package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Graph} node by node, inferring each node's output shapes as it is added, so a
 * mismatch is reported at the node that causes it. Node names are made unique by a suffix
 * ({@code relu}, {@code relu_1}: a module applied twice, like a ResNet block's ReLU). A node with
 * one output names it after the node. Not thread-safe; single use.
 */
public final class GraphBuilder {
    private final String name;
    private final List<Value> inputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Tensor> initializers = new LinkedHashMap<>();
    private final Map<String, Tensor> constants = new HashMap<>();   // initializers and Constant outputs: what Reshape/Pad may read
    private final Known known = new Known(constants);                 // and the values shape-computing nodes computed from them
    private final List<String> outputs = new ArrayList<>();
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Integer> nodeNames = new HashMap<>();

    GraphBuilder(String name) {
        this.name = name == null ? "graph" : name;
    }

    /**
     * Declares an F32 graph input; returns its name. @throws GraphException if the name is taken
     *
     * @param name the name (made unique if taken)
     * @param shape the shape, possibly symbolic
     * @return the input's value name
     */
    public String input(String name, Shape shape) {
        return input(name, DataType.F32, shape);
    }

    /**
     * Declares a graph input of {@code dtype}; returns its name. @throws GraphException if the name is taken
     *
     * @param name the name (made unique if taken)
     * @param dtype the element type
     * @param shape the shape, possibly symbolic
     * @return the input's value name
     */
    public String input(String name, DataType dtype, Shape shape) {
        define(new Value(name, dtype, shape));
        inputs.add(values.get(name));
        return name;
    }

    /**
     * Declares a weight (not copied: the graph shares the tensor); returns its name.
     *
     * @param name the name (made unique if taken)
     * @param tensor the tensor (referenced, not copied)
     * @return the initializer's value name
     */
    public String initializer(String name, Tensor tensor) {
        if (tensor == null) throw new GraphException("graph " + this.name + ": initializer '" + name + "' is null");
        define(new Value(name, tensor.dtype(), Shape.of(tensor.shape())));
        initializers.put(name, tensor);
        constants.put(name, tensor);
        return name;
    }

    /**
     * {@return an optional initializer: its name, or "" (an absent input) when {@code tensor} is null}
     *
     * @param name the name (made unique if taken)
     * @param tensor the tensor (referenced, not copied)
     */
    public String optionalInitializer(String name, Tensor tensor) {
        return tensor == null ? "" : initializer(name, tensor);
    }

    /**
     * A small I64 constant (a Reshape's shape, a Pad's pads) as an initializer; its memory belongs
     * to the graph (freed by the garbage collector once the graph is unreachable). Returns its name.
     *
     * @param name the name (made unique if taken)
     * @param values the values
     * @return the constant's value name
     */
    public String constant(String name, long... values) {
        java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, values);
        return initializer(name, Tensor.wrap(seg, DataType.I64, values.length));
    }

    /**
     * {@return a name for a new value or node, {@code base} or {@code base_1}, {@code base_2}... if taken}
     *
     * @param base the name wanted
     */
    public String uniqueName(String base) {
        // The smallest free suffix, searched from the one the last call for this base returned (names are only removed by a
        // rename, which forgets those): an unrolled Loop asks for the same base thousands of times.
        Integer from = nextSuffix.get(base);
        if (from == null) {
            if (!nodeNames.containsKey(base) && !values.containsKey(base)) return base;
            from = 1;
        }
        String candidate = base + "_" + from;
        int k = from;
        while (nodeNames.containsKey(candidate) || values.containsKey(candidate)) candidate = base + "_" + ++k;
        nextSuffix.put(base, k);   // taken by the caller next, so the next search starts here and moves on
        return candidate;
    }

    /** Per base name, the suffix {@link #uniqueName} last returned (cleared when a rename frees a name). */
    private final Map<String, Integer> nextSuffix = new HashMap<>();

    /**
     * Adds a one-output node; returns the output's name (the node's, made unique).
     *
     * @param op the op, e.g. {@code Conv}
     * @param name the name (made unique if taken)
     * @param attributes the op's attributes
     * @param inputs the input value names
     * @throws GraphException if an input is undefined or the shapes do not fit the op
     * @return the name of the node's output value
     */
    public String node(String op, String name, Attributes attributes, String... inputs) {
        return node(op, name, attributes, List.of(inputs), 1).get(0);
    }

    /**
     * Adds a node with {@code outputCount} outputs ({@code name:0}, {@code name:1}... for more than one).
     *
     * @param op the op, e.g. {@code Conv}
     * @param name the name (made unique if taken)
     * @param attributes the op's attributes
     * @param inputs the input value names
     * @param outputCount the number of outputs
     * @return the names of the node's output values
     */
    public List<String> node(String op, String name, Attributes attributes, List<String> inputs, int outputCount) {
        String unique = uniqueName(name == null || name.isEmpty() ? op.toLowerCase(java.util.Locale.ROOT) : name);
        List<String> outs = new ArrayList<>(outputCount);
        for (int i = 0; i < outputCount; i++) outs.add(outputCount == 1 ? unique : unique + ":" + i);
        add(new Node(unique, op, inputs, outs, attributes));
        return outs;
    }

    /**
     * Adds an {@code Identity} of {@code input} whose output value is named {@code output} where no value has that name
     * yet, even if a node does (an importer gives a graph output its model's name where a node of several outputs,
     * {@code name:0}, {@code name:1}..., holds it as the node's name); else {@code output_1}... The node's own name is
     * made unique apart.
     *
     * @param output the name wanted for the output value
     * @param input the value copied
     * @return the output value's name
     */
    public String identity(String output, String input) {
        String out = values.containsKey(output) ? uniqueName(output) : output;
        String node = uniqueName(output);
        add(new Node(node, "Identity", List.of(input), List.of(out), Attributes.empty()));
        return out;
    }

    /**
     * Renames the value {@code from}, computed by a node added so far (a Constant's included; not an input or
     * initializer), to {@code to}, a name no value has, in the node computing it and every node reading it: an importer
     * frees a graph output's name that an intermediate value of its own composition took first.
     *
     * @param from the value's name
     * @param to its new name
     * @throws GraphException if {@code from} is no node's output or a graph output, or {@code to} is taken
     */
    public void rename(String from, String to) {
        Value v = values.get(from);
        boolean computed = false;
        for (Node n : nodes) computed |= n.outputs().contains(from);
        if (v == null || !computed || initializers.containsKey(from) || outputs.contains(from)) {
            throw new GraphException("graph " + name + ": cannot rename '" + from + "': not a computed intermediate value");
        }
        if (values.containsKey(to)) throw new GraphException("graph " + name + ": cannot rename '" + from + "' to '" + to + "': taken");
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (!n.inputs().contains(from) && !n.outputs().contains(from)) continue;
            List<String> ins = n.inputs().stream().map(x -> x.equals(from) ? to : x).toList();
            List<String> outs = n.outputs().stream().map(x -> x.equals(from) ? to : x).toList();
            nodes.set(i, new Node(n.name(), n.op(), ins, outs, n.attributes()));
        }
        values.remove(from);
        nextSuffix.clear();
        values.put(to, new Value(to, v.dtype(), v.shape()));
        Known.Data d = known.computed().remove(from);
        if (d != null) known.put(to, d);
        Tensor c = constants.remove(from);
        if (c != null) constants.put(to, c);
    }

    private void add(Node node) {
        List<Value> ins = new ArrayList<>();
        for (String s : node.inputs()) {
            if (s.isEmpty()) {
                ins.add(null);
                continue;
            }
            Value v = values.get(s);
            if (v == null) throw new GraphException("graph " + this.name + ": node " + node.label() + " reads '" + s + "', which nothing defines yet");
            ins.add(v);
        }
        for (Value v : Graph.inferNode("graph " + this.name, node, ins, known)) define(v);
        if (node.op().equals("Constant")) constants.put(node.output(), node.attributes().tensor("value"));
        nodes.add(node);
        nodeNames.put(node.name(), 0);
    }

    /**
     * {@return whether a value named {@code name} is defined so far}
     *
     * @param name the name
     */
    public boolean hasValue(String name) {
        return values.containsKey(name);
    }

    /**
     * {@return the value (with its inferred shape) named {@code name}}
     *
     * @param name the name (made unique if taken)
     */
    public Value value(String name) {
        Value v = values.get(name);
        if (v == null) throw new GraphException("graph " + this.name + ": no value named '" + name + "' yet");
        return v;
    }

    /**
     * The value of {@code name} when shape inference computed it from constants and fixed shapes (what
     * {@link Graph#knownValue} gives for the built graph), or null: e.g. an importer's condition of an ONNX
     * {@code If} over a shape.
     *
     * @param name a value defined so far
     * @return a new tensor holding the value (freed by the garbage collector), or null if it is not known
     */
    public dev.panamadnn.Tensor knownValue(String name) {
        Value v = values.get(name);
        if (v == null) return null;
        Known.Data d = known.get(v);
        return d == null || !d.isFixed() || !v.shape().isFixed() || d.size() == 0 ? null : d.toTensor();
    }

    /**
     * Marks values as graph outputs.
     *
     * @param names the output value names
     * @return this builder
     */
    public GraphBuilder output(String... names) {
        for (String n : names) outputs.add(n);
        return this;
    }

    /** {@return the checked graph. @throws GraphException if it is malformed} */
    public Graph build() {
        return Graph.of(name, inputs, nodes, initializers, outputs);
    }

    private void define(Value v) {
        if (values.putIfAbsent(v.name(), v) != null) throw new GraphException("graph " + name + ": value '" + v.name() + "' is defined twice");
    }
}
