package dev.panamadnn.onnx;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Ops;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.graph.Value;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.OperatorSetIdProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code ModelProto} as our {@link Graph}: checks the opset, the structure (every value defined
 * once, no dangling input, no cycle: nodes are sorted topologically) and every node against
 * {@link OpTable}, collecting every problem before refusing, then translates node by node through
 * a {@link GraphBuilder} (which infers each shape as it goes). Single use.
 */
final class Importer {
    /** The imported model: the graph, ONNX names of its inputs and outputs with our values, opsets, producer. */
    record Result(Graph graph, List<Value> inputs, List<Value> outputs, Map<String, String> outputValues, Map<String, Long> opsets,
                  String producer) {}

    private final ModelProto model;
    /** Per initializer, its raw_data moved out of the proto ({@link Detached}), or null (in the proto, or none). */
    private final java.lang.foreign.MemorySegment[] raw;
    private final Arena arena;   // where the model's tensors live (constants made when importing too)
    private final Path baseDir;
    private final List<String> problems = new ArrayList<>();
    private final Map<String, String> symbols = new HashMap<>();   // ONNX dim_param -> our symbol
    private final Map<String, Tensor> bound;   // graph inputs taken as constants (BoundInputs), by ONNX name
    private final Map<String, Sequences.Seq> sequences = new HashMap<>();   // sequence values, by ONNX name

    private Importer(Detached model, Arena arena, Path baseDir, Map<String, Tensor> bound) {
        this.model = model.proto();
        this.raw = model.raw();
        this.bound = bound;
        this.arena = arena;
        this.baseDir = baseDir;
    }

    /**
     * Imports {@code model}; its tensors live in {@code arena}; external data is read beside
     * {@code baseDir} (null: refused); raw_data is taken in place where it is a view of the model's
     * mapped file ({@link Detached}).
     */
    static Result run(Detached model, Arena arena, Path baseDir) {
        return run(model, arena, baseDir, Map.of());
    }

    /** As {@link #run(Detached, Arena, Path)}, the graph inputs named in {@code bound} taken as these constants. */
    static Result run(Detached model, Arena arena, Path baseDir, Map<String, Tensor> bound) {
        return new Importer(model, arena, baseDir, bound).build();
    }

    /**
     * The graph inputs (not initializers) and outputs as declared in a model: dtypes and shapes, dynamic dims as symbols.
     * ONNX makes an output's shape optional: an output declared without one is listed in {@code shapeless} (by index),
     * its entry in {@code outputs} a placeholder of rank 0 that the caller replaces.
     */
    record Declared(List<Value> inputs, List<Value> outputs, Set<Integer> shapeless) {}

    /** {@return the graph inputs and outputs as declared in {@code model}} @throws OnnxException if one is not a tensor of a known type, or an input has no shape */
    static Declared declared(ModelProto model) {
        Importer im = new Importer(Detached.of(model), null, null, Map.of());
        GraphProto g = model.getGraph();
        Set<String> inits = new HashSet<>();
        for (var t : g.getInitializerList()) inits.add(t.getName());
        List<Value> ins = new ArrayList<>(), outs = new ArrayList<>();
        Set<Integer> shapeless = new java.util.TreeSet<>();
        for (ValueInfoProto v : g.getInputList()) if (!inits.contains(v.getName())) ins.add(im.value(v, "graph input '" + v.getName() + "'"));
        for (ValueInfoProto v : g.getOutputList()) {
            TypeProto t = v.getType();
            DataType dtype = t.hasTensorType() ? TensorProtos.dtype(t.getTensorType().getElemType()) : null;
            if (dtype != null && !t.getTensorType().hasShape() && !v.getName().isEmpty()) {
                shapeless.add(outs.size());
                outs.add(new Value(v.getName(), dtype, new Shape(List.of())));
            } else {
                outs.add(im.value(v, "graph output '" + v.getName() + "'"));
            }
        }
        if (!im.problems.isEmpty() || ins.contains(null) || outs.contains(null)) throw new OnnxException("graph inputs or outputs", im.problems);
        return new Declared(List.copyOf(ins), List.copyOf(outs), java.util.Collections.unmodifiableSet(shapeless));
    }

    private Result build() {
        Map<String, Long> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto o : model.getOpsetImportList()) opsets.put(o.getDomain().equals("ai.onnx") ? "" : o.getDomain(), o.getVersion());
        Long v = opsets.get("");
        if (v == null) throw new OnnxException("model imports no opset of the default ONNX domain (opset_import: " + opsets + ")");
        if (v < OpTable.MIN_OPSET || v > OpTable.MAX_OPSET) {
            throw new OnnxException("model opset " + v + " is out of range: supported are opsets " + OpTable.MIN_OPSET + " to " + OpTable.MAX_OPSET);
        }
        int opset = (int) (long) v;
        if (!model.hasGraph()) throw new OnnxException("model has no graph");
        GraphProto g = model.getGraph();
        if (g.getSparseInitializerCount() > 0) problems.add("sparse initializers are not supported");

        // Names: graph inputs, initializers (old models also list them as inputs), node outputs; each defined once.
        Map<String, Integer> initIndex = new LinkedHashMap<>();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            String n = g.getInitializer(i).getName();
            if (n.isEmpty()) problems.add("initializer " + i + " has no name");
            else if (initIndex.put(n, i) != null) problems.add("initializer '" + n + "' is defined twice");
        }
        List<ValueInfoProto> inputs = new ArrayList<>();
        Set<String> defined = new HashSet<>(initIndex.keySet());
        for (ValueInfoProto in : g.getInputList()) {
            if (initIndex.containsKey(in.getName())) continue;
            if (in.getName().isEmpty()) problems.add("a graph input has no name");
            else if (!defined.add(in.getName())) problems.add("graph input '" + in.getName() + "' is defined twice");
            inputs.add(in);
        }
        List<NodeProto> withScopes = new ArrayList<>();   // an If reads outer values inside its branches: inputs too, for the order
        Map<NodeProto, Integer> ownInputs = new java.util.IdentityHashMap<>();   // such a node's inputs before those reads
        for (NodeProto n : DoubleConstants.fold(Functions.inline(model, g.getNodeList(), opset, problems), g)) {
            NodeProto scoped = hasGraphs(n) ? n.toBuilder().addAllInput(outerReads(n)).build() : n;
            ownInputs.put(scoped, n.getInputCount());
            withScopes.add(scoped);
        }
        List<NodeProto> nodes = Topology.sort(withScopes, defined, problems);
        Set<String> read = new HashSet<>();
        for (NodeProto n : nodes) read.addAll(n.getInputList());
        for (ValueInfoProto o : g.getOutputList()) read.add(o.getName());

        List<OpRule> rules = new ArrayList<>();
        List<Attributes> attributes = new ArrayList<>();
        for (NodeProto n : nodes) {
            String label = label(n, opset);
            if (hasGraphs(n)) {
                if (isIf(n)) checkIf(n, label, opset, read);
                else Loops.check(this, n, ownInputs.get(n), label, opset, read, problems);
                attributes.add(Attributes.empty());
                rules.add(null);
                continue;
            }
            Attributes a = attributes(n, label);
            attributes.add(a);
            if (Sequences.handles(n)) {
                Sequences.check(n, label, opset, a, problems);
                rules.add(null);
                continue;
            }
            rules.add(check(n, label, opset, a, read));
        }
        for (ValueInfoProto o : g.getOutputList()) {
            if (o.getType().hasSequenceType()) problems.add("graph output '" + o.getName() + "': a sequence; only tensor outputs are supported");
        }
        List<Value> inputValues = new ArrayList<>();
        for (ValueInfoProto in : inputs) if (!in.getName().isEmpty()) inputValues.add(value(in, "graph input '" + in.getName() + "'"));
        if (!problems.isEmpty()) {
            throw new OnnxException("cannot import the model (" + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + ")", problems);
        }

        GraphBuilder b = Graph.builder(g.getName().isEmpty() ? "onnx" : g.getName());
        Map<String, String> ours = new HashMap<>();   // ONNX value name -> ours
        Map<String, Tensor> constants = new HashMap<>();
        for (Value in : List.copyOf(inputValues)) {
            Tensor t = bound.get(in.name());
            if (t == null) {
                ours.put(in.name(), b.input(in.name(), in.dtype(), in.shape()));
                continue;
            }
            ours.put(in.name(), b.initializer(in.name(), t));
            constants.put(in.name(), t);
            inputValues.remove(in);
        }
        for (Map.Entry<String, Integer> e : initIndex.entrySet()) {
            if (!read.contains(e.getKey())) continue;   // unused weights are not converted (nor refused)
            Tensor t = TensorProtos.toTensor(g.getInitializer(e.getValue()), "initializer '" + e.getKey() + "'", arena, baseDir,
                    raw == null ? null : raw[e.getValue()]);
            ours.put(e.getKey(), b.initializer(e.getKey(), t));
            constants.put(e.getKey(), t);
        }
        for (int i = 0; i < nodes.size(); i++) translate(nodes.get(i), label(nodes.get(i), opset), opset, attributes.get(i), rules.get(i), b, ours, constants, read);
        List<Value> outputValues = new ArrayList<>();
        Map<String, String> outputNames = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        List<String> all = new ArrayList<>(), computed = new ArrayList<>();
        for (ValueInfoProto o : g.getOutputList()) {
            String mine = ours.get(o.getName());
            if (mine == null && sequences.containsKey(o.getName())) {
                throw new OnnxException("graph output '" + o.getName() + "' is a sequence; only tensor outputs are supported");
            }
            if (mine == null) throw new OnnxException("graph output '" + o.getName() + "' is not computed by any node");
            String m = mine;
            boolean isInput = false;   // loops, not lambdas, on the import path: each lambda costs a cold JVM a spun class
            for (Value x : inputValues) isInput |= x.name().equals(m);
            // An output that is an input, a weight, or listed twice gets an Identity of its own; so does one computed under
            // another name (an output after the first of an LSTM, GRU, Split or TopK is 'node:k', and an op composed of
            // several of ours ends in 'y_2' where its first node took 'y'), which gives it the model's name, the key of
            // plans' and plan sets' results (the compiler drops the Identity). An intermediate holding that name is renamed
            // first, unless the model names it too or it is a weight (then the output keeps a name of its own).
            if (isInput || constants.containsKey(mine) || !used.add(mine) || !mine.equals(o.getName())) {
                if (!mine.equals(o.getName()) && b.hasValue(o.getName()) && !ours.containsValue(o.getName())) {
                    try {
                        b.rename(o.getName(), b.uniqueName(o.getName()));
                    } catch (dev.panamadnn.graph.GraphException e) {
                        // a weight holds the name: identity() makes one of its own
                    }
                }
                mine = b.identity(o.getName(), mine);
            }
            Value inferred = b.value(mine);
            Value value = new Value(o.getName(), inferred.dtype(), inferred.shape());
            all.add(mine);
            if (!BoundInputs.isEmpty(value)) computed.add(mine);
            outputValues.add(value);
            outputNames.put(o.getName(), mine);
        }
        // An output empty by its fixed shape has nothing to compute: it is no output of our graph (so a plan does not
        // compute it, and its producer is dead if nothing else reads it), and run(Map) returns it as an empty tensor.
        // When every output is empty the graph keeps them all (a graph has outputs), and no plan is made.
        b.output((computed.isEmpty() ? all : computed).toArray(new String[0]));
        try {
            return new Result(b.build(), List.copyOf(inputValues), List.copyOf(outputValues), outputNames, opsets, model.getProducerName()
                    + (model.getProducerVersion().isEmpty() ? "" : " " + model.getProducerVersion()));
        } catch (GraphException e) {
            throw new OnnxException(e.getMessage(), e);
        }
    }

    /** Translates one node (checked) into ours, recording its outputs' names in {@code ours}. */
    void translate(NodeProto n, String label, int opset, Attributes a, OpRule rule, GraphBuilder b, Map<String, String> ours,
                           Map<String, Tensor> constants, Set<String> read) {
        if (isIf(n)) {
            translateIf(n, label, opset, b, ours, constants, read);
            return;
        }
        if (hasGraphs(n)) {
            Loops.unroll(this, n, label, opset, b, ours, constants, read);
            return;
        }
        boolean sequenceOp = Sequences.handles(n);
        List<String> ins = new ArrayList<>();
        for (int i = 0; i < n.getInputCount(); i++) {
            String s = n.getInput(i);
            if (sequences.containsKey(s) && !sequenceOp) {
                if (n.getOpType().equals("Identity") && n.getOutputCount() == 1) {   // a sequence's Identity (opset 14 on): the same sequence
                    sequences.put(n.getOutput(0), sequences.get(s));
                    return;
                }
                throw new OnnxException(label + ": input " + i + " ('" + s + "') is a sequence; " + n.getOpType() + " takes tensors (a sequence is read"
                        + " by the sequence ops only: " + String.join(", ", Sequences.OPS) + ")");
            }
            ins.add(s.isEmpty() || sequences.containsKey(s) ? "" : ours.get(s));
        }
        String base = n.getOutputCount() > 0 && !n.getOutput(0).isEmpty() ? n.getOutput(0) : n.getName().isEmpty() ? n.getOpType() : n.getName();
        int outputs = n.getOutputCount();
        if (sequenceOp) {
            NodeContext ctx = new NodeContext(label, n.getOpType(), opset, a, ins, outputs, base, b, arena, constants);
            Sequences.Out out;
            try {
                out = Sequences.translate(n, ctx, sequences);
            } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
                throw new OnnxException(label + ": " + e.getMessage(), e);
            }
            if (out.seq() != null) sequences.put(n.getOutput(0), out.seq());
            else ours.put(n.getOutput(0), out.tensor());
            return;
        }
        if (n.getOpType().equals("MaxPool") && outputs > 1 && (n.getOutput(1).isEmpty() || !read.contains(n.getOutput(1)))) outputs = 1;   // Indices unread: oneDNN's pooling
        NodeContext ctx = new NodeContext(label, n.getOpType(), opset, a, ins, outputs, base, b, arena, constants);
        List<String> outs;
        try {
            outs = rule.translate().apply(ctx);
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
            throw new OnnxException(label + ": " + e.getMessage(), e);
        }
        for (int k = 0; k < n.getOutputCount() && k < outs.size(); k++) if (!n.getOutput(k).isEmpty()) ours.put(n.getOutput(k), outs.get(k));
    }

    private static boolean isIf(NodeProto n) {
        return n.getOpType().equals("If") && (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"));
    }

    /** A Loop or a Scan of the default domain: unrolled when importing ({@link Loops}). */
    static boolean isLoopOrScan(NodeProto n) {
        return (n.getOpType().equals("Loop") || n.getOpType().equals("Scan")) && (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"));
    }

    /** An op whose attributes hold graphs we translate: If, Loop, Scan. */
    static boolean hasGraphs(NodeProto n) {
        return isIf(n) || isLoopOrScan(n);
    }

    /** The then_branch or else_branch of an If (checked by {@link #checkIf}). */
    static GraphProto branch(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getG();
        throw new IllegalStateException("If without " + name);
    }

    /** The names an If's branches read from outside them (nested Ifs included), in first-read order. */
    static List<String> outerReads(NodeProto n) {
        Set<String> out = new java.util.LinkedHashSet<>();
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getType() != AttributeProto.AttributeType.GRAPH) continue;
            Set<String> local = new HashSet<>();
            for (ValueInfoProto in : a.getG().getInputList()) local.add(in.getName());
            for (dev.panamadnn.onnx.proto.TensorProto t : a.getG().getInitializerList()) local.add(t.getName());
            for (NodeProto m : a.getG().getNodeList()) {
                List<String> reads = new ArrayList<>(m.getInputList());
                if (hasGraphs(m)) reads.addAll(outerReads(m));
                for (String r : reads) if (!r.isEmpty() && !local.contains(r)) out.add(r);
                local.addAll(m.getOutputList());
            }
            for (ValueInfoProto o : a.getG().getOutputList()) if (!local.contains(o.getName())) out.add(o.getName());
        }
        return new ArrayList<>(out);
    }

    /**
     * An If is imported where its condition is known when importing (a constant, or computed from fixed shapes: the
     * Ifs torch writes for shape-dependent code), as the nodes of the branch it takes; here both branches are checked
     * as any nodes (their problems listed), with no inputs or initializers of their own.
     */
    private void checkIf(NodeProto n, String label, int opset, Set<String> read) {
        int before = problems.size();
        Set<String> names = new HashSet<>();
        for (AttributeProto a : n.getAttributeList()) {
            names.add(a.getName());
            if (!Set.of("then_branch", "else_branch").contains(a.getName()) || a.getType() != AttributeProto.AttributeType.GRAPH) {
                problems.add(label + ": attribute '" + a.getName() + "' is not supported (then_branch and else_branch graphs)");
            }
        }
        if (!names.containsAll(Set.of("then_branch", "else_branch"))) problems.add(label + ": needs then_branch and else_branch");
        if (n.getInputCount() < 1 || n.getInput(0).isEmpty()) problems.add(label + ": needs a condition (input 0)");
        if (problems.size() > before) return;
        for (String which : List.of("then_branch", "else_branch")) {
            GraphProto g = branch(n, which);
            if (g.getInputCount() > 0 || g.getInitializerCount() > 0 || g.getSparseInitializerCount() > 0) {
                problems.add(label + ": " + which + " has inputs or initializers of its own (not supported)");
            }
            if (g.getOutputCount() != n.getOutputCount()) {
                problems.add(label + ": " + which + " has " + g.getOutputCount() + " outputs, the If " + n.getOutputCount());
            }
            for (NodeProto m : g.getNodeList()) read.addAll(m.getInputList());
            for (ValueInfoProto o : g.getOutputList()) read.add(o.getName());
            for (NodeProto m : g.getNodeList()) {
                checkInner(m, label + " > " + which + " > " + label(m, opset), opset, read);
            }
        }
    }

    /** Checks a node of an If's branch or a Loop's or Scan's body, as any node of the graph. */
    void checkInner(NodeProto m, String inner, int opset, Set<String> read) {
        if (isIf(m)) checkIf(m, inner, opset, read);
        else if (isLoopOrScan(m)) Loops.check(this, m, m.getInputCount(), inner, opset, read, problems);
        else if (Sequences.handles(m)) Sequences.check(m, inner, opset, attributes(m, inner), problems);
        else check(m, inner, opset, attributes(m, inner), read);
    }

    /** The nodes of the branch an If takes (its condition known), then its outputs named as the branch's. */
    private void translateIf(NodeProto n, String label, int opset, GraphBuilder b, Map<String, String> ours, Map<String, Tensor> constants,
                             Set<String> read) {
        String cond = ours.get(n.getInput(0));
        Tensor c = constants.containsKey(cond) ? constants.get(cond) : b.knownValue(cond);
        if (c == null) {
            // a GraphException cause, as shape inference's own: a condition that a graph input gives (a bool flag) or that
            // depends on a symbolic dim is then known per call, run(Map) binding the call's inputs and shapes
            String why = "its condition '" + n.getInput(0) + "' is computed at run time: an If is imported only where its condition is known"
                    + " when importing (a constant, computed from fixed shapes, or an integer or bool input, which run(Map) binds per call)";
            throw new OnnxException(label + ": " + why, new GraphException(why));
        }
        if (c.numel() != 1 || c.dtype() != DataType.BOOL) {
            throw new OnnxException(label + ": the condition '" + n.getInput(0) + "' must be one BOOL value, got " + c.dtype() + java.util.Arrays.toString(c.shape()));
        }
        boolean then = c.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) != 0;
        GraphProto g = branch(n, then ? "then_branch" : "else_branch");
        List<String> local = new ArrayList<>();
        Set<String> defined = new HashSet<>(ours.keySet());
        defined.addAll(sequences.keySet());
        List<NodeProto> sorted = new ArrayList<>();
        for (NodeProto m : g.getNodeList()) sorted.add(hasGraphs(m) ? m.toBuilder().addAllInput(outerReads(m)).build() : m);
        sorted = Topology.sort(sorted, defined, local);
        if (!local.isEmpty()) throw new OnnxException(label + ": " + (then ? "then_branch" : "else_branch") + ": " + String.join("; ", local));
        for (NodeProto m : sorted) {
            String inner = label + " > " + (then ? "then_branch" : "else_branch") + " > " + label(m, opset);
            translate(m, inner, opset, innerAttributes(m, inner), innerRule(m, opset), b, ours, constants, read);
        }
        for (int k = 0; k < n.getOutputCount(); k++) {
            if (n.getOutput(k).isEmpty()) continue;
            Sequences.Seq seq = sequences.get(g.getOutput(k).getName());
            if (seq != null) {
                sequences.put(n.getOutput(k), seq);
                continue;
            }
            String from = ours.get(g.getOutput(k).getName());
            if (from == null) throw new OnnxException(label + ": output " + k + " ('" + g.getOutput(k).getName() + "') of the branch is not computed");
            ours.put(n.getOutput(k), from);
        }
    }

    /** A node's attributes inside a branch or body (checked before): none of its own for an If, Loop or Scan. */
    Attributes innerAttributes(NodeProto m, String inner) {
        Attributes a = hasGraphs(m) ? Attributes.empty() : attributes(m, inner);
        if (!problems.isEmpty()) throw new OnnxException("cannot import the model", problems);   // checked before: not expected
        return a;
    }

    static OpRule innerRule(NodeProto m, int opset) {
        return hasGraphs(m) || Sequences.handles(m) ? null : OpTable.find(m.getOpType(), opset);
    }

    Arena arena() {
        return arena;
    }

    Path baseDir() {
        return baseDir;
    }

    /** The ONNX names holding sequences so far. */
    Set<String> sequenceNames() {
        return sequences.keySet();
    }

    /** A value by ONNX name: our tensor's name, or a sequence. */
    Object valueOf(String name, String label, Map<String, String> ours) {
        Sequences.Seq seq = sequences.get(name);
        if (seq != null) return seq;
        String mine = ours.get(name);
        if (mine == null) throw new OnnxException(label + ": '" + name + "' is not computed");
        return mine;
    }

    /** Gives ONNX name {@code name} the value {@code v} (our tensor's name, or a sequence). */
    void bind(String name, Object v, Map<String, String> ours) {
        if (v instanceof Sequences.Seq seq) {
            sequences.put(name, seq);
            ours.remove(name);
        } else {
            ours.put(name, (String) v);
            sequences.remove(name);
        }
    }

    /** The ops with several outputs of their own and a string-list attribute (activations) we read. */
    private static final Set<String> RECURRENT = Set.of("LSTM", "GRU", "RNN");

    /** The ops whose outputs after the first are translated (every other op's are refused where read). */
    private static final Set<String> SEVERAL_OUTPUTS = Set.of("Split", "LayerNormalization", "SoftmaxCrossEntropyLoss", "Dropout", "TopK",
            "DynamicQuantizeLinear", "Attention");

    /** The rule for {@code n}, or null with its problems recorded. */
    private OpRule check(NodeProto n, String label, int opset, Attributes a, Set<String> read) {
        String domain = n.getDomain().equals("ai.onnx") ? "" : n.getDomain();
        if (!domain.isEmpty()) {
            problems.add(label + ": domain '" + domain + "' is not supported");
            return null;
        }
        OpRule rule = OpTable.find(n.getOpType(), opset);
        if (rule == null) {
            problems.add(label + ": " + (OpTable.knows(n.getOpType()) ? "not supported at this opset" : "unknown op"));
            return null;
        }
        int before = problems.size();
        for (String name : a == null ? List.<String>of() : a.names()) {
            if (!rule.attributes().contains(name)) problems.add(label + ": attribute '" + name + "' is not supported");
        }
        for (String t : rule.targets()) if (!Ops.names().contains(t)) problems.add(label + ": our op set has no " + t + " yet");
        for (int k = 1; k < n.getOutputCount(); k++) {
            if (!n.getOutput(k).isEmpty() && read.contains(n.getOutput(k)) && !SEVERAL_OUTPUTS.contains(n.getOpType())
                    && !(n.getOpType().equals("BatchNormalization") && opset >= 14)   // its running statistics (training_mode=1, else refused)
                    && !n.getOpType().equals("MaxPool") && !RECURRENT.contains(n.getOpType())) {
                problems.add(label + ": output " + k + " ('" + n.getOutput(k) + "') is not supported");
            }
        }
        if (a != null && problems.size() == before && rule.check() != null) {
            String p = rule.check().problem(a, opset);
            if (p != null) problems.add(label + ": " + p);
        }
        return rule;
    }

    /** The node's attributes as ours; null, with problems recorded, if one has a type we do not read. */
    private Attributes attributes(NodeProto n, String label) {
        Attributes.Builder b = Attributes.builder();
        boolean ok = true;
        for (AttributeProto a : n.getAttributeList()) {
            String what = label + ": attribute '" + a.getName() + "'";
            if (a.getName().isEmpty() || !a.getRefAttrName().isEmpty()) {
                problems.add(what + ": unnamed or a function reference");
                ok = false;
                continue;
            }
            AttributeProto.AttributeType type = a.getType();
            if (type == AttributeProto.AttributeType.UNDEFINED) {   // IR < 2: the field that is set says it
                type = a.hasF() ? AttributeProto.AttributeType.FLOAT : a.hasI() ? AttributeProto.AttributeType.INT : a.hasS() ? AttributeProto.AttributeType.STRING
                        : a.hasT() ? AttributeProto.AttributeType.TENSOR : a.getIntsCount() > 0 ? AttributeProto.AttributeType.INTS
                        : a.getFloatsCount() > 0 ? AttributeProto.AttributeType.FLOATS : AttributeProto.AttributeType.UNDEFINED;
            }
            try {
                switch (type) {
                    case FLOAT -> b.put(a.getName(), (double) a.getF());
                    case INT -> b.put(a.getName(), a.getI());
                    case STRING -> b.put(a.getName(), a.getS().toStringUtf8());
                    case INTS -> {
                        long[] ints = new long[a.getIntsCount()];
                        for (int k = 0; k < ints.length; k++) ints[k] = a.getInts(k);
                        b.put(a.getName(), ints);
                    }
                    case FLOATS -> {
                        double[] d = new double[a.getFloatsCount()];
                        for (int i = 0; i < d.length; i++) d[i] = a.getFloats(i);
                        b.put(a.getName(), d);
                    }
                    case TENSOR -> b.put(a.getName(), TensorProtos.toTensor(a.getT(), what, arena, baseDir));
                    // Our attributes have no string lists: LSTM's, GRU's and RNN's activations become one comma-separated string.
                    case STRINGS -> {
                        if (!a.getName().equals("activations") || !RECURRENT.contains(n.getOpType())) {
                            problems.add(what + ": attributes of type " + type + " are not supported");
                            ok = false;
                        } else {
                            b.put(a.getName(), String.join(",", a.getStringsList().stream().map(x -> x.toStringUtf8()).toList()));
                        }
                    }
                    default -> {
                        problems.add(what + ": attributes of type " + type + " are not supported");
                        ok = false;
                    }
                }
            } catch (OnnxException e) {
                problems.add(e.getMessage());
                ok = false;
            }
        }
        return ok ? b.build() : null;
    }

    /** A graph input as our value: dtype and shape, symbolic dims as symbols. */
    private Value value(ValueInfoProto v, String what) {
        TypeProto t = v.getType();
        if (!t.hasTensorType()) {
            problems.add(what + ": only tensor inputs are supported, got " + t.getValueCase());
            return null;
        }
        DataType dtype = TensorProtos.dtype(t.getTensorType().getElemType());
        if (dtype == null) problems.add(what + ": element type " + TensorProtos.elemTypeName(t.getTensorType().getElemType()) + " is not supported");
        if (!t.getTensorType().hasShape()) problems.add(what + ": has no shape" + (what.startsWith("graph input '")
                ? " (give it at load: Onnx.load(file, OnnxOptions.defaults().withInputShape(\"" + v.getName() + "\", shape)))" : ""));
        if (dtype == null || !t.getTensorType().hasShape()) return null;
        List<Dim> dims = new ArrayList<>();
        List<TensorShapeProto.Dimension> ds = t.getTensorType().getShape().getDimList();
        for (int d = 0; d < ds.size(); d++) {
            TensorShapeProto.Dimension dim = ds.get(d);
            if (dim.hasDimValue()) {
                if (dim.getDimValue() < 0) {
                    problems.add(what + ": dim " + d + " is negative (" + dim.getDimValue() + ")");
                    return null;
                }
                dims.add(Dim.of(dim.getDimValue()));
            } else {
                String param = dim.hasDimParam() && !dim.getDimParam().isEmpty() ? dim.getDimParam() : null;
                String key = param == null ? "?" + v.getName() + "#" + d : param;
                String symbol = symbols.get(key);
                if (symbol == null) symbols.put(key, symbol = freshSymbol(key));
                dims.add(Dim.symbol(symbol));
            }
        }
        return new Value(v.getName(), dtype, new Shape(dims));
    }

    /** {@code name} as a symbol of ours: characters other than letters, digits and '_' become '_', and it starts with a letter or '_'. */
    static String symbolName(String name) {
        String base = name.replaceAll("[^A-Za-z0-9_]", "_");
        return Character.isLetter(base.charAt(0)) || base.charAt(0) == '_' ? base : "_" + base;
    }

    /** Our symbol for an ONNX dim_param ("batch_size" stays; other characters become '_'; unnamed dims get "unk_k"). */
    private String freshSymbol(String param) {
        String base = param.startsWith("?") ? "unk" : symbolName(param);
        String s = base.equals("unk") ? "unk_" + symbols.size() : base;
        while (symbols.containsValue(s)) s = s + "_";
        return s;
    }

    static String label(NodeProto n, int opset) {
        String name = n.getName().isEmpty() ? "(unnamed, output '" + (n.getOutputCount() > 0 ? n.getOutput(0) : "") + "')" : "'" + n.getName() + "'";
        return "node " + name + " (" + n.getOpType() + ", domain '" + n.getDomain() + "', opset " + opset + ")";
    }
}
