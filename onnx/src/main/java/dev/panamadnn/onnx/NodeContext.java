package dev.panamadnn.onnx;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Value;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;

/**
 * What a translation ({@link OpRule.Translate}) sees of one ONNX node: its label for messages,
 * opset, converted attributes, inputs already renamed to our values ("" for an absent optional
 * one), and the means to emit our nodes and small constants. One per node, used once.
 */
final class NodeContext {
    final String label;
    final String op;
    final int opset;
    final Attributes attributes;
    final List<String> inputs;
    final int outputCount;
    private final String baseName;
    private final GraphBuilder builder;
    private final Arena arena;
    private final Map<String, Tensor> constants;

    NodeContext(String label, String op, int opset, Attributes attributes, List<String> inputs, int outputCount, String baseName,
                GraphBuilder builder, Arena arena, Map<String, Tensor> constants) {
        this.label = label;
        this.op = op;
        this.opset = opset;
        this.attributes = attributes;
        this.inputs = inputs;
        this.outputCount = outputCount;
        this.baseName = baseName;
        this.builder = builder;
        this.arena = arena;
        this.constants = constants;
    }

    /** This node seen with other attributes and inputs (a later opset's form handed to an earlier one's translation). */
    NodeContext with(Attributes attributes, List<String> inputs) {
        return new NodeContext(label, op, opset, attributes, inputs, outputCount, baseName, builder, arena, constants);
    }

    /** Our name of input {@code i}, or "" if absent. */
    String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    /** Our value of input {@code i} (dtype and inferred shape). */
    Value value(int i) {
        return builder.value(input(i));
    }

    /** Our value named {@code name} (a value this translation emitted, or an input). */
    Value builderValue(String name) {
        return builder.value(name);
    }

    /** The constant value of input {@code i} (an initializer or a Constant's output), or null. */
    Tensor constant(int i) {
        return input(i).isEmpty() ? null : constants.get(input(i));
    }

    /** The value of our value {@code name} where it is known when importing (a constant, or computed from fixed shapes), or null. */
    Tensor known(String name) {
        Tensor t = constants.get(name);
        return t != null ? t : builder.knownValue(name);
    }

    /** Emits one node of ours with one output, named after the ONNX node's first output; returns that output. */
    String emit(String op, Attributes attrs, String... ins) {
        String out = builder.node(op, baseName, attrs, ins);
        if (op.equals("Constant")) constants.put(out, attrs.tensor("value"));
        return out;
    }

    /** Emits one node of ours with {@code count} outputs. */
    List<String> emit(String op, Attributes attrs, List<String> ins, int count) {
        return builder.node(op, baseName, attrs, ins, count);
    }

    /** A small I64 constant owned by the model (old opsets' attributes become the inputs newer ones take). */
    String longs(String what, long[] values, long... shape) {
        return initializer(what, TensorProtos.longs(arena, values, shape));
    }

    /** An F32 constant of {@code shape} owned by the model. */
    String floats(String what, float[] values, long... shape) {
        return initializer(what, TensorProtos.floats(arena, values, shape));
    }

    /** A scalar F32 constant owned by the model. */
    String scalar(String what, float value) {
        return initializer(what, TensorProtos.floats(arena, new float[] {value}));
    }

    /** A scalar zero (0, 0.0 or false) of an integer or BOOL {@code dtype}, owned by the model. */
    String zero(String what, dev.panamadnn.DataType dtype) {
        return initializer(what, Tensor.allocate(arena, dtype));   // zero-filled
    }

    /** {@code t} (the model's) as an initializer named after this node and {@code what}, known to later translations. */
    private String initializer(String what, Tensor t) {
        String name = builder.initializer(builder.uniqueName(baseName + "." + what), t);
        constants.put(name, t);
        return name;
    }

    /** The model's arena: constants made by a translation live as long as the model. */
    Arena arena() {
        return arena;
    }

    /**
     * A refusal because input values or concrete dims are not known when importing (a symbolic dim where a fixed one is
     * needed; a {@link dev.panamadnn.graph.GraphException} cause, as shape inference's own): {@link OnnxModel} then
     * binds the call's shapes, and integer inputs where needed, per run.
     */
    OnnxException needsConstant(String why) {
        return new OnnxException(label + ": " + why, new dev.panamadnn.graph.GraphException(why));
    }

    /** A refusal naming this node. */
    OnnxException refuse(String why) {
        return new OnnxException(label + ": " + why);
    }
}
