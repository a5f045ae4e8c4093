package dev.panamadnn.graph;

import java.util.List;

/**
 * One operation of a {@link Graph}: {@code outputs = op(inputs; attributes)}. Ops and their
 * attributes follow ONNX where ONNX has the op ({@code Conv}, {@code Relu}, {@code MaxPool},
 * {@code Gemm}...); {@link Ops} lists every op with its inputs and attributes. An empty input
 * name is an absent optional input (as in ONNX).
 *
 * @param name       unique in its graph, e.g. the module path {@code layer1.0.conv1}
 * @param op         the op type, e.g. {@code "Conv"}
 * @param inputs     input value names, in the op's order ("" for an absent optional input)
 * @param outputs    output value names (at least one)
 * @param attributes the op's attributes; null means none
 */
public record Node(String name, String op, List<String> inputs, List<String> outputs, Attributes attributes) {
    /**
     * A node; the lists are copied.
     *
     * @throws IllegalArgumentException if the name or op is empty, an input name null, an output
     *                                  name null or empty, or there is no output
     */
    public Node {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("Node: a name is required (op " + op + ")");
        if (op == null || op.isEmpty()) throw new IllegalArgumentException("Node " + name + ": an op is required");
        if (inputs == null || outputs == null) throw new IllegalArgumentException("Node " + name + " (" + op + "): inputs and outputs must not be null");
        for (String s : inputs) if (s == null) throw new IllegalArgumentException("Node " + name + " (" + op + "): an input name is null");
        for (String s : outputs) {
            if (s == null || s.isEmpty()) throw new IllegalArgumentException("Node " + name + " (" + op + "): an output name is empty");
        }
        if (outputs.isEmpty()) throw new IllegalArgumentException("Node " + name + " (" + op + "): expected at least one output");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        if (attributes == null) attributes = Attributes.empty();
    }

    /**
     * {@return the {@code i}-th input's name, or null if absent (beyond the list or empty)}
     *
     * @param i the input index
     */
    public String input(int i) {
        return i < inputs.size() && !inputs.get(i).isEmpty() ? inputs.get(i) : null;
    }

    /** {@return the first output's name (the only one but for ops of several outputs, such as {@code Split})} */
    public String output() {
        return outputs.get(0);
    }

    /**
     * {@return the same node reading {@code in} instead (for rewrite rules)}
     *
     * @param in the new input value names
     */
    public Node withInputs(List<String> in) {
        return new Node(name, op, in, outputs, attributes);
    }

    /**
     * "name (op)", for messages.
     *
     * @return a one-line label for printing
     */
    public String label() {
        return name + " (" + op + ")";
    }
}
