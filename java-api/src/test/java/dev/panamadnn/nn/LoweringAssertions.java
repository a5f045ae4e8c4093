package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What every lowering test checks: the graph's output shape, bound to several batch sizes, equals
 * the module's own outputShape; every initializer that is not a graph-made I64 constant (a
 * Reshape's shape, a Pad's pads) is the module's own tensor under its parameters() key (the same
 * object and memory, not a copy); every f32 parameter is used.
 */
public final class LoweringAssertions {
    /** The batch sizes each symbolic graph is bound to. */
    private static final long[] BATCHES = {1, 3, 8};

    private LoweringAssertions() {}

    /** {@link Graph#lower} of a {@link Layer} or a ResNet-like module, checked as the class comment says. */
    public static Graph lower(Module model, Shape input) {
        Graph g = Graph.lower(model, input);
        String out = g.outputs().get(0);
        for (long n : BATCHES) {
            long[] concrete = bind(input, n);
            long[] expected = outputShape(model, concrete);
            assertArrayEquals(expected, g.bind(concrete).value(out).shape().sizes(),
                    model + " on " + Arrays.toString(concrete) + ": graph shape vs the module's outputShape\n" + g);
        }
        assertInitializersAreParameters(model, g);
        return g;
    }

    /** {@code module} lowered under {@code path} on an input named "input" of {@code shape}. */
    public static Graph lowerAt(Module module, Shape shape, String path) {
        GraphBuilder b = Graph.builder("test");
        String out = module.lower(b, b.input("input", shape), path);
        return b.output(out).build();
    }

    private static long[] outputShape(Module model, long[] in) {
        if (model instanceof Layer layer) return layer.outputShape(in);
        try {
            return (long[]) model.getClass().getMethod("outputShape", long[].class).invoke(model, (Object) in);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(model.getClass() + " has no outputShape(long...)", e);
        }
    }

    /** {@code shape} with every symbol bound to {@code n}. */
    public static long[] bind(Shape shape, long n) {
        long[] s = new long[shape.rank()];
        for (int i = 0; i < s.length; i++) {
            Dim d = shape.dim(i);
            s[i] = d.isFixed() ? d.factor() : d.factor() * n;
        }
        return s;
    }

    /** Initializers are the module's parameters (same tensors, same memory), or graph-made I64 constants; every f32 parameter is used. */
    public static void assertInitializersAreParameters(Module model, Graph g) {
        Map<String, Tensor> params = model.parameters();
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            Tensor p = params.get(e.getKey());
            if (p == null && e.getValue().dtype() == DataType.I64) continue;   // a shape or pads constant the graph owns
            assertNotNull(p, "initializer " + e.getKey() + " is not a parameters() key of " + model + ": " + params.keySet());
            assertSame(p, e.getValue(), "initializer " + e.getKey() + " is not the module's own tensor");
            assertEquals(p.segment().address(), e.getValue().segment().address(), "initializer " + e.getKey() + " was copied");
        }
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            if (e.getValue().dtype() == DataType.F32) {
                assertTrue(g.initializers().containsKey(e.getKey()), "parameter " + e.getKey() + " is not an initializer of\n" + g);
            }
        }
    }

    public static List<String> ops(Graph g) {
        return g.nodes().stream().map(Node::op).toList();
    }

    public static List<String> names(Graph g) {
        return g.nodes().stream().map(Node::name).toList();
    }

    /** The node named {@code name}. */
    public static Node node(Graph g, String name) {
        return g.nodes().stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no node " + name + " in\n" + g));
    }

    /** The only node with op {@code op}. */
    public static Node only(Graph g, String op) {
        List<Node> found = g.nodes().stream().filter(n -> n.op().equals(op)).toList();
        assertEquals(1, found.size(), "nodes with op " + op + " in\n" + g);
        return found.get(0);
    }

    /** The values of an I64 constant (a Reshape's shape, a Pad's pads). */
    public static long[] constant(Graph g, String name) {
        Tensor t = g.initializers().get(name);
        assertNotNull(t, "no constant " + name);
        assertEquals(DataType.I64, t.dtype());
        return t.segment().toArray(ValueLayout.JAVA_LONG);
    }
}
