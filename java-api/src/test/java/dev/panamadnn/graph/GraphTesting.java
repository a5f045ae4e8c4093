package dev.panamadnn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.function.Executable;

/** Helpers shared by the graph tests: one-node graphs, shapes written as the golden script prints them. */
final class GraphTesting {
    private GraphTesting() {}

    /**
     * A shape written like {@code scripts/goldens/generate_graph_shapes.py} prints it:
     * {@code "[N, 8, 16, 16]"}, {@code "[3*N, 20]"}, {@code "[]"}.
     */
    static Shape shape(String text) {
        String body = text.strip();
        if (!body.startsWith("[") || !body.endsWith("]")) throw new IllegalArgumentException("not a shape: " + text);
        body = body.substring(1, body.length() - 1).strip();
        List<Dim> dims = new ArrayList<>();
        if (body.isEmpty()) return new Shape(dims);
        for (String d : body.split(",")) {
            String s = d.strip();
            int star = s.indexOf('*');
            if (star >= 0) dims.add(new Dim(Long.parseLong(s.substring(0, star)), s.substring(star + 1)));
            else if (Character.isDigit(s.charAt(0))) dims.add(Dim.of(Long.parseLong(s)));
            else dims.add(Dim.symbol(s));
        }
        return new Shape(dims);
    }

    /**
     * The output shape of one {@code op} node reading graph inputs {@code x0, x1...} of the given
     * shapes ({@link #shape} syntax); {@code constants} (name, I64 values) are appended as
     * initializer inputs, e.g. a Reshape's shape. When the graph is symbolic in {@code N}, also
     * checks that binding N to 2 and 3 re-infers the same shape with N replaced: symbolic
     * inference must agree with concrete inference.
     */
    static Shape infer(String op, Attributes attributes, List<String> inputShapes, long[]... constants) {
        Graph g = oneNode(op, attributes, inputShapes, constants);
        Shape out = g.value("y").shape();
        if (g.symbols().contains("N")) {
            for (long n : new long[] {2, 3}) {
                Shape bound = g.bind(Map.of("N", n)).value("y").shape();
                assertEquals(out.bind(Map.of("N", n)), bound, op + ": symbolic " + out + " with N = " + n + " vs inferred on the bound graph");
            }
        }
        return out;
    }

    /** {@link #infer} with one input and no constants. */
    static Shape infer(String op, Attributes attributes, String inputShape) {
        return infer(op, attributes, List.of(inputShape));
    }

    /** A graph of one node {@code y = op(x0, x1..., constants...)}. */
    static Graph oneNode(String op, Attributes attributes, List<String> inputShapes, long[]... constants) {
        GraphBuilder b = Graph.builder(op.toLowerCase(java.util.Locale.ROOT));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < inputShapes.size(); i++) names.add(b.input("x" + i, shape(inputShapes.get(i))));
        for (int i = 0; i < constants.length; i++) names.add(b.constant("c" + i, constants[i]));
        b.node(op, "y", attributes, names.toArray(String[]::new));
        return b.output("y").build();
    }

    /**
     * Asserts that {@code build} throws a GraphException whose message contains every fragment
     * (the node's name, its op, the mismatch...); returns the message.
     */
    static String assertGraphError(Executable build, String... fragments) {
        GraphException e = assertThrows(GraphException.class, build);
        String m = e.getMessage();
        for (String f : fragments) assertTrue(m.contains(f), "expected '" + f + "' in the message: " + m);
        return m;
    }

    /** An F32 value. */
    static Value f32(String name, String shape) {
        return new Value(name, dev.panamadnn.DataType.F32, shape(shape));
    }

    /** A node without attributes. */
    static Node node(String name, String op, List<String> inputs, String output) {
        return new Node(name, op, inputs, List.of(output), Attributes.empty());
    }

    /** A graph from hand-made parts, without initializers. */
    static Graph graph(List<Value> inputs, List<Node> nodes, String... outputs) {
        return Graph.of("g", inputs, nodes, new LinkedHashMap<>(), List.of(outputs));
    }
}
