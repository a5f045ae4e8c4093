package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What issue 14's layers do in a graph today: Identity and Dropout lower to the graph's
 * {@code Identity} (so a Sequential with Dropout compiles, and gives PyTorch's output);
 * GroupNorm and Upsample lower to a {@code Layer} node running the eager layer (compiled output
 * = PyTorch's); Embedding refuses with a message naming it.
 */
class Layers14LoweringTest {
    private static GoldenFile.Case golden(GoldenFile file, String name) {
        return file.cases().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void sequentialWithDropoutLowersToIdentitiesAndCompilesToPyTorchsOutput() {
        try (GoldenFile file = GoldenFile.open(Layers14Goldens.FILE);
             Sequential s = new Sequential(new Linear(4, 5, true), new Dropout(0.3), new ReLU(), new Identity(), new Linear(5, 3, true))) {
            GoldenFile.Case c = golden(file, "sequential_dropout");
            Layers14Goldens.load(s.parameters(), c);
            Graph g = Graph.lower(s, Shape.batched("N", 4));
            List<String> ops = g.nodes().stream().map(Node::op).toList();
            assertEquals(2, ops.stream().filter("Identity"::equals).count(), "ops: " + ops);
            assertTrue(g.nodes().stream().anyMatch(n -> n.op().equals("Identity") && n.name().equals("1")), "Dropout's node is named by its index: " + g.nodes());
            try (CompiledModel m = CompiledModel.compile(s, c.input().shape()); Tensor y = m.run(c.input())) {
                Layers14Goldens.compare("compiled Sequential with Dropout", y.toFloatArray(), c.output().toFloatArray(), 1e-6, 1e-6);
            }
        }
    }

    @Test
    void groupNormAndUpsampleCompileAsEagerLayerNodes() {
        try (GoldenFile file = GoldenFile.open(Layers14Goldens.FILE);
             GroupNorm gn = new GroupNorm(2, 6, 1e-5, true);
             Upsample up = Upsample.scale("bilinear", true, 2)) {
            GoldenFile.Case c = golden(file, "groupnorm2");
            Layers14Goldens.load(gn.parameters(), c);
            try (CompiledModel m = CompiledModel.compile(gn, c.input().shape()); Tensor y = m.run(c.input())) {
                Layers14Goldens.compare("compiled GroupNorm", y.toFloatArray(), c.output().toFloatArray(), 1e-5, 1e-5);
            }
            GoldenFile.Case u = golden(file, "upsample5");
            try (CompiledModel m = CompiledModel.compile(up, u.input().shape()); Tensor y = m.run(u.input())) {
                Layers14Goldens.compare("compiled Upsample", y.toFloatArray(), u.output().toFloatArray(), 1e-6, 1e-6);
            }
        }
    }

    @Test
    void embeddingRefusesToLowerNamingItself() {
        try (Embedding e = new Embedding(10, 4)) {
            UnsupportedOperationException x = assertThrows(UnsupportedOperationException.class, () -> Graph.lower(e, Shape.batched("N", 3)));
            assertTrue(x.getMessage().contains("Embedding(10, 4)"), x.getMessage());
        }
    }
}
