package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model as a dataflow graph: named inputs (shapes may be symbolic, e.g. a batch {@code N}),
 * nodes in topological order, initializers (weights as {@link Tensor}s, shared with whoever made
 * them: a module's parameters or a memory-mapped file, never copied), named outputs. Immutable
 * and always valid: {@link #of} checks it ({@link #validate}) and infers every value's shape
 * ({@link Ops}); a malformed graph is a {@link GraphException} naming the node, its op and the
 * mismatch.
 *
 * <p>The graph does not own its initializers: they live as long as the module (or loaded file)
 * they came from; compile a plan, which copies what it needs, before closing those.
 */
public final class Graph {
    private final String name;
    private final List<Value> inputs;
    private final List<Node> nodes;
    private final Map<String, Tensor> initializers;
    private final List<String> outputs;
    private final Map<String, Value> values;
    private final Map<String, Node> producers;
    private final Map<String, List<Node>> consumers;
    /** Node outputs whose value shape inference computed (fixed), as tensors. */
    private final Map<String, Tensor> known;

    private Graph(String name, List<Value> inputs, List<Node> nodes, Map<String, Tensor> initializers, List<String> outputs,
                  Map<String, Value> values, Map<String, Tensor> known) {
        this.known = known;
        this.name = name;
        this.inputs = inputs;
        this.nodes = nodes;
        this.initializers = initializers;
        this.outputs = outputs;
        this.values = values;
        Map<String, Node> prod = new HashMap<>();
        Map<String, List<Node>> cons = new HashMap<>();
        for (Node n : nodes) {
            for (String o : n.outputs()) prod.put(o, n);
            for (String i : n.inputs()) {   // no lambdas: every graph is built on a cold JVM's path to its first result
                if (i.isEmpty()) continue;
                List<Node> readers = cons.get(i);
                if (readers == null) cons.put(i, readers = new ArrayList<>());
                readers.add(n);
            }
        }
        for (Map.Entry<String, List<Node>> e : cons.entrySet()) e.setValue(List.copyOf(e.getValue()));
        this.producers = prod;
        this.consumers = cons;
    }

    /**
     * A checked graph with every value's shape inferred.
     *
     * @param name the name
     * @param inputs the graph inputs
     * @param nodes the nodes, in topological order
     * @param initializers the weights by name (referenced, not copied or owned)
     * @param outputs the names of the graph outputs
     * @throws GraphException if it is malformed or its shapes are inconsistent
     * @throws IllegalStateException if an initializer was freed
     * @return the validated graph with every value's shape inferred
     */
    public static Graph of(String name, List<Value> inputs, List<Node> nodes, Map<String, Tensor> initializers, List<String> outputs) {
        String label = name == null || name.isEmpty() ? "graph" : "graph " + name;
        if (inputs == null || nodes == null || initializers == null || outputs == null) {
            throw new GraphException(label + ": inputs, nodes, initializers and outputs must not be null");
        }
        // Checked before copying: List.copyOf would throw a bare NullPointerException.
        for (Value v : inputs) if (v == null) throw new GraphException(label + ": a graph input is null");
        for (int i = 0; i < nodes.size(); i++) if (nodes.get(i) == null) throw new GraphException(label + ": node " + i + " is null");
        for (String o : outputs) if (o == null) throw new GraphException(label + ": output 'null' is not defined");
        List<Value> in = List.copyOf(inputs);
        List<Node> ns = List.copyOf(nodes);
        Map<String, Tensor> init = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        List<String> out = List.copyOf(outputs);
        Map<String, Tensor> known = new HashMap<>();
        Map<String, Value> values = validate(label, in, ns, init, out, known);
        return new Graph(name == null || name.isEmpty() ? "graph" : name, in, ns, init, out, values, Collections.unmodifiableMap(known));
    }

    /**
     * Checks a graph: every value defined exactly once (a graph input, an initializer or one node
     * output) before any node reads it, node names unique, ops known, input and attribute counts,
     * types and shapes consistent (inferred per op), outputs defined once. Returns the value of
     * every name, in definition order: inputs, initializers, then node outputs in node order, and
     * puts into {@code knownOut} the node outputs whose values were computed (fixed) while inferring.
     */
    static Map<String, Value> validate(String label, List<Value> inputs, List<Node> nodes, Map<String, Tensor> initializers,
                                       List<String> outputs, Map<String, Tensor> knownOut) {
        Map<String, Value> values = new LinkedHashMap<>();
        for (Value v : inputs) {
            if (v == null) throw new GraphException(label + ": a graph input is null");
            if (values.put(v.name(), v) != null) throw new GraphException(label + ": graph input '" + v.name() + "' is defined twice");
        }
        for (Map.Entry<String, Tensor> e : initializers.entrySet()) {
            String n = e.getKey();
            if (n == null || n.isEmpty()) throw new GraphException(label + ": an initializer has no name");
            Tensor t = e.getValue();
            if (t == null) throw new GraphException(label + ": initializer '" + n + "' is null");
            if (values.containsKey(n)) throw new GraphException(label + ": initializer '" + n + "' has the name of a graph input");
            // Closed memory is a lifetime state, not a malformed graph: the IllegalStateException every call on freed memory
            // gives (a compile that binds a graph whose initializer another thread just closed gets this one)
            if (!t.isAlive()) throw new IllegalStateException(label + ": initializer '" + n + "' was freed (closed)");
            values.put(n, new Value(n, t.dtype(), Shape.of(t.shape())));
        }
        Map<String, Integer> definedBy = new HashMap<>();   // node output -> node index
        Map<String, Integer> nodeNames = new HashMap<>();    // node name -> node index
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            if (node == null) throw new GraphException(label + ": node " + i + " is null");
            Integer sameName = nodeNames.putIfAbsent(node.name(), i);
            if (sameName != null) {
                throw new GraphException(label + ": two nodes are named '" + node.name() + "': " + nodes.get(sameName).label() + " (node "
                        + sameName + ") and " + node.label() + " (node " + i + ")");
            }
            for (String o : node.outputs()) {
                Integer before = definedBy.put(o, i);
                if (before != null) {
                    throw new GraphException(label + ": value '" + o + "' is defined twice, by nodes " + nodes.get(before).label()
                            + " and " + node.label());
                }
                if (values.containsKey(o)) {
                    throw new GraphException(label + ": node " + node.label() + " defines '" + o + "', already a graph "
                            + (initializers.containsKey(o) ? "initializer" : "input"));
                }
            }
        }
        // What Reshape, Pad and the shape-computing ops may read: initializers, Constant outputs, and values computed from them.
        Map<String, Tensor> constants = new HashMap<>(initializers);
        Known known = new Known(constants);
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            List<Value> ins = new ArrayList<>(node.inputs().size());
            for (String s : node.inputs()) {
                if (s.isEmpty()) {
                    ins.add(null);
                    continue;
                }
                Value v = values.get(s);
                if (v == null) {
                    Integer later = definedBy.get(s);
                    if (later == null) throw new GraphException(label + ": node " + node.label() + " reads '" + s + "', which nothing defines");
                    if (later == i) throw new GraphException(label + ": node " + node.label() + " reads its own output '" + s + "' (a cycle)");
                    throw new GraphException(label + ": node " + node.label() + " reads '" + s + "' before node " + nodes.get(later).label()
                            + " defines it (a cycle, or nodes out of topological order)");
                }
                ins.add(v);
            }
            for (Value v : inferNode(label, node, ins, known)) values.put(v.name(), v);
            if (node.op().equals("Constant")) constants.put(node.output(), node.attributes().tensor("value"));
        }
        for (Map.Entry<String, Known.Data> e : known.computed().entrySet()) {
            // (an empty value, e.g. a Slice of a shape that selects nothing, stays known to the shape rules but is no plan
            // constant: a plan holds no empty tensors, PlanIO.refuseEmpty)
            if (e.getValue().isFixed() && values.get(e.getKey()).shape().isFixed() && e.getValue().size() > 0) {
                knownOut.put(e.getKey(), e.getValue().toTensor());
            }
        }
        if (outputs.isEmpty()) throw new GraphException(label + ": expected at least one output, got none");
        Set<String> seen = new HashSet<>();
        for (String o : outputs) {
            if (o == null || !values.containsKey(o)) throw new GraphException(label + ": output '" + o + "' is not defined");
            if (!seen.add(o)) throw new GraphException(label + ": output '" + o + "' is listed twice");
        }
        return Collections.unmodifiableMap(values);
    }

    /**
     * {@link Ops#infer} with every refusal as a GraphException that names the graph, the node and
     * its op (shared with {@link GraphBuilder}, which checks each node as it is added).
     */
    static List<Value> inferNode(String label, Node node, List<Value> ins, Known known) {
        try {
            return Ops.infer(node, ins, known);
        } catch (IllegalArgumentException | ArithmeticException | IllegalStateException e) {
            throw new GraphException(label + ": node " + node.label() + ": " + e.getMessage(), e);
        }
    }

    /** {@return the graph's name (the model's class name for {@link #lower})} */
    public String name() {
        return name;
    }

    /** {@return the graph inputs, in order (read-only)} */
    public List<Value> inputs() {
        return inputs;
    }

    /** {@return the nodes, in topological order (read-only)} */
    public List<Node> nodes() {
        return nodes;
    }

    /** {@return the initializers by name, in declaration order (read-only; the tensors are shared, not copied)} */
    public Map<String, Tensor> initializers() {
        return initializers;
    }

    /** {@return the output value names, in order (read-only)} */
    public List<String> outputs() {
        return outputs;
    }

    /**
     * {@return the named value (input, initializer or node output) with its inferred shape. @throws GraphException if unknown}
     *
     * @param name the name
     */
    public Value value(String name) {
        Value v = values.get(name);
        if (v == null) throw new GraphException("graph " + this.name + ": no value named '" + name + "'");
        return v;
    }

    /**
     * The value of node output {@code name} when shape inference computed it: every input of its
     * node was known (constants, or a {@code Shape} of a value whose dims are fixed), e.g. the
     * {@code [2, 512]} of a {@code Shape -> Gather -> Concat} chain once the batch is bound.
     * Null if it is not known (it depends on a graph input's data, or a symbol is unbound). The
     * tensor belongs to the graph (freed by the garbage collector); do not close it.
     *
     * @param name the name
     * @return the tensor, or null if the value is not known at compile time
     */
    public Tensor knownValue(String name) {
        return known.get(name);
    }

    /** {@return every value by name, in definition order} */
    public Map<String, Value> values() {
        return values;
    }

    /**
     * {@return the node that computes {@code value}, or null for a graph input or initializer}
     *
     * @param value a value name
     */
    public Node producer(String value) {
        return producers.get(value);
    }

    /**
     * {@return the nodes that read {@code value}, in graph order (empty if none)}
     *
     * @param value a value name
     */
    public List<Node> consumers(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    /**
     * {@return whether {@code value} is an output of the graph}
     *
     * @param value a value name
     */
    public boolean isOutput(String value) {
        return outputs.contains(value);
    }

    /** {@return the symbols used by the inputs' shapes (e.g. {@code N}), in order of appearance} */
    public Set<String> symbols() {
        Set<String> s = new java.util.LinkedHashSet<>();
        for (Value v : inputs) for (Dim d : v.shape().dims()) if (d.symbol() != null) s.add(d.symbol());
        return s;
    }

    /**
     * This graph with its inputs of the given concrete shapes (one per input, in order): every
     * symbol bound by matching (a {@code 12*N} dim of size 24 binds N = 2), every shape
     * re-inferred, so all are fixed. The initializers are shared, not copied.
     *
     * @param shapes one concrete shape per graph input, in order
     * @throws IllegalArgumentException if a shape does not fit its input (rank, a fixed size, a
     *                                  size that is not a positive multiple of a symbolic dim's
     *                                  factor, or a symbol bound to two sizes), naming the input,
     *                                  the dim, the expected and the given size
     * @throws GraphException           if the bound graph is inconsistent
     * @return a graph whose input shapes are concrete
     */
    public Graph bind(long[]... shapes) {
        if (shapes == null || shapes.length != inputs.size()) {
            throw new IllegalArgumentException("graph " + name + ": expected " + inputs.size() + " input shape(s) for "
                    + inputs + ", got " + (shapes == null ? "none" : shapes.length));
        }
        Map<String, Long> bindings = new HashMap<>();
        Map<String, String> boundAt = new HashMap<>();   // symbol -> "input x dim 0", for messages
        for (int i = 0; i < shapes.length; i++) {
            Value in = inputs.get(i);
            long[] s = shapes[i];
            if (s == null || s.length != in.shape().rank()) {
                throw new IllegalArgumentException("graph " + name + ": input " + in + " expects rank " + in.shape().rank() + ", got "
                        + (s == null ? "null" : Arrays.toString(s)));
            }
            for (int d = 0; d < s.length; d++) {
                Dim dim = in.shape().dim(d);
                String wrong = null;
                if (dim.isFixed()) {
                    if (dim.factor() != s[d]) wrong = "expected " + dim;
                } else if (s[d] < dim.factor() || s[d] % dim.factor() != 0) {
                    wrong = "expected " + dim + (dim.factor() == 1 ? " >= 1" : ", a positive multiple of " + dim.factor());
                } else {
                    long v = s[d] / dim.factor();
                    Long before = bindings.putIfAbsent(dim.symbol(), v);
                    if (before == null) boundAt.put(dim.symbol(), "input " + in.name() + " dim " + d);
                    else if (before != v) {
                        wrong = "expected " + dim + " = " + before * dim.factor() + " (" + dim.symbol() + " = " + before + " from "
                                + boundAt.get(dim.symbol()) + ")";
                    }
                }
                if (wrong != null) {
                    throw new IllegalArgumentException("graph " + name + ": input " + in + " does not fit shape " + Arrays.toString(s)
                            + " (dim " + d + ": " + wrong + ", got " + s[d] + ")");
                }
            }
        }
        return bind(bindings);
    }

    /**
     * This graph with the given symbols replaced by sizes, every shape re-inferred (symbols this
     * graph does not use are ignored; those it uses but {@code bindings} lacks stay symbolic).
     *
     * @param bindings a size for each symbol to fix
     * @throws IllegalArgumentException if a size is null or below 1
     * @throws GraphException           if the bound graph is inconsistent
     * @return a graph with those symbols replaced by sizes
     */
    public Graph bind(Map<String, Long> bindings) {
        if (bindings == null) throw new IllegalArgumentException("graph " + name + ": bindings must not be null");
        for (Map.Entry<String, Long> e : bindings.entrySet()) {
            if (e.getValue() == null || e.getValue() < 1) {
                throw new IllegalArgumentException("graph " + name + ": symbol " + e.getKey() + " must be bound to a size >= 1, got " + e.getValue());
            }
        }
        List<Value> in = new ArrayList<>(inputs.size());
        for (Value v : inputs) in.add(new Value(v.name(), v.dtype(), v.shape().bind(bindings)));
        return of(name, in, nodes, initializers, outputs);
    }

    /**
     * Total elements of the initializers (the model's parameters and buffers).
     *
     * @return the number of elements over all initializers
     */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : initializers.values()) n += t.numel();
        return n;
    }

    /**
     * A readable table in the manner of torch.fx's {@code print_tabular}: a header line with the
     * inputs, the initializers' count and size, then one row per node (name, op, inputs, output
     * type and shape, attributes) under underlined column titles, and a {@code return} line with
     * the outputs. An input named under its node ({@code layer1.0.bn1.running_mean} read by
     * {@code layer1.0.bn1}) is shown as {@code .running_mean}: a ResNet's parameter names would
     * otherwise make the inputs column 150 characters wide. An output is shown by its type alone
     * when it has the node's name, an absent optional input as {@code ""}. Attributes come last, so
     * no cell is cut short. For example:
     * <pre>
     * graph tiny(input: f32[N, 3, 32, 32])
     *   initializers: 2 tensors, 224 elements
     *   name        op    inputs                 output             attributes
     *   ----------  ----  ---------------------  -----------------  ---------------------------------
     *   features.0  Conv  input, .weight, .bias  f32[N, 8, 16, 16]  strides=[2, 2], pads=[1, 1, 1, 1]
     *   features.1  Relu  features.0             f32[N, 8, 16, 16]
     *   return features.1: f32[N, 8, 16, 16]
     * </pre>
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("graph ").append(name).append('(');
        for (int i = 0; i < inputs.size(); i++) sb.append(i == 0 ? "" : ", ").append(inputs.get(i));
        sb.append(")\n  initializers: ").append(initializers.size()).append(initializers.size() == 1 ? " tensor, " : " tensors, ")
                .append(String.format(java.util.Locale.ROOT, "%,d", parameterCount())).append(" elements\n");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"name", "op", "inputs", "output", "attributes"});
        for (Node n : nodes) {
            List<String> ins = new ArrayList<>();
            for (String i : n.inputs()) ins.add(i.isEmpty() ? "\"\"" : i.startsWith(n.name() + ".") ? i.substring(n.name().length()) : i);
            List<String> outs = new ArrayList<>();
            for (String o : n.outputs()) {
                String type = values.get(o).type();
                outs.add(o.equals(n.name()) ? type : o + ": " + type);
            }
            rows.add(new String[] {n.name(), n.op(), String.join(", ", ins), String.join(", ", outs), n.attributes().toString()});
        }
        int columns = rows.get(0).length;
        int[] width = new int[columns];
        for (String[] r : rows) for (int c = 0; c < columns; c++) width[c] = Math.max(width[c], r[c].length());
        String[] rule = new String[columns];
        for (int c = 0; c < columns; c++) rule[c] = "-".repeat(width[c]);
        rows.add(1, rule);
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder("  ");
            for (int c = 0; c < columns; c++) {
                line.append(r[c]);
                if (c < columns - 1) line.append(" ".repeat(width[c] - r[c].length() + 2));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        sb.append("  return ");
        for (int i = 0; i < outputs.size(); i++) sb.append(i == 0 ? "" : ", ").append(values.get(outputs.get(i)));
        return sb.append('\n').toString();
    }

    /**
     * The graph of {@code model} on one input named {@code "input"} of {@code inputShape} (a
     * symbolic batch, e.g. {@code Shape.batched("N", 3, 224, 224)}, keeps the graph valid for every
     * batch size): each module lowers itself ({@link dev.panamadnn.Module#lower}). The graph shares
     * the model's parameters: keep the model open while the graph is used.
     *
     * @param model the module to lower
     * @param inputShape its input shape (may be symbolic)
     * @throws GraphException                if the shape does not fit the model (naming the node)
     * @throws UnsupportedOperationException if a module cannot be lowered
     * @return the graph (sharing the module's parameter tensors)
     */
    public static Graph lower(dev.panamadnn.Module model, Shape inputShape) {
        return lower(model, DataType.F32, inputShape);
    }

    /**
     * {@link #lower(dev.panamadnn.Module, Shape)} on an input of {@code inputType}: {@code I64} or {@code I32} for a model
     * reading token indices (an {@code Embedding} first).
     *
     * @param model the module to lower
     * @param inputType the input's dtype
     * @param inputShape its input shape (may be symbolic)
     * @throws GraphException                if the shape or dtype does not fit the model (naming the node)
     * @throws UnsupportedOperationException if a module cannot be lowered
     * @return the graph (sharing the module's parameter tensors)
     */
    public static Graph lower(dev.panamadnn.Module model, DataType inputType, Shape inputShape) {
        if (model == null) throw new IllegalArgumentException("Graph.lower: model must not be null");
        if (inputShape == null || inputType == null) throw new IllegalArgumentException("Graph.lower: inputType and inputShape must not be null");
        GraphBuilder b = builder(model.getClass().getSimpleName());
        String out = model.lower(b, b.input("input", inputType, inputShape), "");
        if (out.equals("input")) out = b.node("Identity", "output", Attributes.empty(), out);
        return b.output(out).build();
    }

    /**
     * {@return a builder for graphs made node by node (as modules lower themselves)}
     *
     * @param name the name
     */
    public static GraphBuilder builder(String name) {
        return new GraphBuilder(name);
    }
}
