package dev.panamadnn.graph;

import static dev.panamadnn.graph.GraphTesting.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Sequential;
import dev.panamadnn.nn.ReLU;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Graph#toString}: the torch.fx-style table a graph prints itself as. */
class GraphDumpTest {
    /**
     * bn (no scale/B) -> relu (its output named apart from the node) -> a Flatten Layer node and a
     * global pool, both returned: absent inputs, parameters named under their node, a renamed
     * output, a module attribute, two outputs.
     */
    @Test
    void tableOfASmallGraph() {
        try (Tensor mean = Tensor.zeros(4); Tensor var = Tensor.zeros(4); Flatten flatten = new Flatten()) {
            Map<String, Tensor> init = new LinkedHashMap<>();
            init.put("bn.running_mean", mean);
            init.put("bn.running_var", var);
            List<Node> nodes = List.of(
                    new Node("bn", "BatchNormalization", List.of("x", "", "", "bn.running_mean", "bn.running_var"), List.of("bn"),
                            Attributes.of("epsilon", 0.001)),
                    new Node("act", "Relu", List.of("bn"), List.of("act.out"), Attributes.empty()),
                    new Node("flat", "Layer", List.of("act.out"), List.of("flat"), Attributes.of("module", flatten)),
                    new Node("pool", "GlobalAveragePool", List.of("act.out"), List.of("pool"), null));
            Graph g = Graph.of("small", List.of(f32("x", "[N, 4, 6, 6]")), nodes, init, List.of("flat", "pool"));
            assertEquals("""
                    graph small(x: f32[N, 4, 6, 6])
                      initializers: 2 tensors, 8 elements
                      name  op                  inputs                                  output                    attributes
                      ----  ------------------  --------------------------------------  ------------------------  ---------------------------------------
                      bn    BatchNormalization  x, "", "", .running_mean, .running_var  f32[N, 4, 6, 6]           epsilon=0.001
                      act   Relu                bn                                      act.out: f32[N, 4, 6, 6]
                      flat  Layer               act.out                                 f32[N, 144]               module=Flatten(start_dim=1, end_dim=-1)
                      pool  GlobalAveragePool   act.out                                 f32[N, 4, 1, 1]
                      return flat: f32[N, 144], pool: f32[N, 4, 1, 1]
                    """, g.toString());
        }
    }

    @Test
    void columnsLineUpAndNoLineEndsInSpaces() {
        GraphBuilder b = Graph.builder("wide");
        String x = b.input("a_rather_long_input_name", Shape.batched("N", 3));
        String y = b.node("Relu", "r", Attributes.empty(), x);
        String z = b.node("Softmax", "a.much.longer.node.name", Attributes.of("axis", 1), y);
        String[] lines = b.output(z).build().toString().split("\n");
        int op = lines[2].indexOf("op"), inputs = lines[2].indexOf("inputs"), output = lines[2].indexOf("output");
        for (int i = 3; i < lines.length - 1; i++) {
            String row = lines[i];
            assertTrue(row.charAt(op - 1) == ' ' && row.charAt(op) != ' ', "op column at " + op + ": " + row);
            assertTrue(row.charAt(inputs - 1) == ' ' && row.charAt(inputs) != ' ', "inputs column at " + inputs + ": " + row);
            assertTrue(row.charAt(output - 1) == ' ' && row.charAt(output) != ' ', "output column at " + output + ": " + row);
        }
        for (String line : lines) assertEquals(line.stripTrailing(), line, "trailing spaces");
    }

    @Test
    void aMultiLineModuleReprIsShownOnOneLine() {
        try (Sequential s = new Sequential(new ReLU(), new Flatten())) {
            // A Layer node made by hand: how Sequential itself lowers is the lowering's business.
            GraphBuilder b = Graph.builder("seq");
            String y = b.node("Layer", "seq", Attributes.of("module", s), b.input("x", Shape.batched("N", 2, 3)));
            String row = b.output(y).build().toString().lines().filter(l -> l.startsWith("  seq ")).findFirst().orElseThrow();
            assertTrue(row.endsWith("module=Sequential( (0): ReLU() (1): Flatten(start_dim=1, end_dim=-1) )"), row);
        }
    }

    @Test
    void graphWithoutNodes() {
        // An input returned as is (Graph.lower of an identity-like model adds an Identity node; Graph.of needs none)
        Graph g = Graph.of("empty", List.of(f32("x", "[N, 3]")), List.of(), Map.of(), List.of("x"));
        assertEquals("""
                graph empty(x: f32[N, 3])
                  initializers: 0 tensors, 0 elements
                  name  op  inputs  output  attributes
                  ----  --  ------  ------  ----------
                  return x: f32[N, 3]
                """, g.toString());
    }
}
