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
 * = PyTorch's); Embedding lowers to the graph op {@code Embedding} (a compiled lookup by an integer graph
 * input, PyTorch's index rule) and FiLM / FiLMBlock through {@code lower(graph, x, z, path)}: every
 * golden of theirs compiled against PyTorch.
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

    /**
     * AdaptiveMaxPool1d compiles (a Java step running the eager layer); before, its graph op was refused ("not compiled
     * yet"), so a model holding one did not compile. Every golden (a NaN in each input), against PyTorch, NaN positions
     * included.
     */
    @Test
    void adaptiveMaxPool1dGoldensCompileToPyTorchsOutput() {
        try (GoldenFile file = GoldenFile.open(Layers14Goldens.FILE)) {
            List<GoldenFile.Case> all = cases(file, "AdaptiveMaxPool1d");
            assertTrue(all.size() >= 4, "AdaptiveMaxPool1d goldens: " + all.size());
            for (GoldenFile.Case c : all) {
                try (AdaptiveMaxPool1d p = new AdaptiveMaxPool1d(Integer.parseInt(c.fields().get("out")));
                     CompiledModel m = CompiledModel.compile(p, c.input().shape()); Tensor y = m.run(c.input())) {
                    Layers14Goldens.compare("compiled " + c.name(), y.toFloatArray(), c.output().toFloatArray(), 0, 0);
                }
            }
        }
    }

    private static List<GoldenFile.Case> cases(GoldenFile file, String... layers) {
        List<String> want = List.of(layers);
        return file.cases().stream().filter(c -> want.contains(c.fields().get("layer"))).toList();
    }

    private static Embedding embedding(GoldenFile.Case c) {
        java.util.Map<String, String> f = c.fields();
        Long pad = f.get("padding_idx").equals("none") ? null : Long.parseLong(f.get("padding_idx"));
        return f.get("layer").equals("Embedding") ? new Embedding(Long.parseLong(f.get("num")), Long.parseLong(f.get("dim")), pad)
                : Embedding.fromPretrained(c.params().get("weight"), pad);
    }

    /** Every Embedding golden through Graph.lower(module, I64, shape) and the compiler: the rows PyTorch looked up, exactly. */
    @Test
    void embeddingGoldensCompileToPyTorchsRows() {
        try (GoldenFile file = GoldenFile.open(Layers14Goldens.FILE)) {
            List<GoldenFile.Case> all = cases(file, "Embedding", "EmbeddingPretrained");
            assertTrue(all.size() >= 3, "embedding goldens: " + all);
            for (GoldenFile.Case c : all) {
                try (Embedding e = embedding(c)) {
                    Layers14Goldens.load(e.parameters(), c);
                    Graph g = Graph.lower(e, c.input().dtype(), Shape.of(c.input().shape()));
                    assertTrue(g.nodes().stream().anyMatch(n -> n.op().equals("Embedding")), g.toString());
                    try (CompiledModel m = CompiledModel.compile(g, dev.panamadnn.compile.CompileOptions.defaults(),
                            java.util.Map.of("input", c.input().shape())); Tensor y = m.run(c.input())) {
                        org.junit.jupiter.api.Assertions.assertArrayEquals(c.output().shape(), y.shape(), c + ": shape");
                        org.junit.jupiter.api.Assertions.assertArrayEquals(c.output().toFloatArray(), y.toFloatArray(), c + ": compiled rows");
                    }
                }
            }
        }
    }

    /** Indices outside [0, rows) (negative ones too, as PyTorch) refused at run time naming the node; the plan runs on after. */
    @Test
    void compiledEmbeddingRefusesIndicesPyTorchRefuses() {
        try (Embedding e = new Embedding(10, 4)) {
            Graph g = Graph.lower(e, dev.panamadnn.DataType.I64, Shape.of(2, 3));
            try (CompiledModel m = CompiledModel.compile(g, dev.panamadnn.compile.CompileOptions.defaults(), java.util.Map.of("input", new long[] {2, 3}))) {
                for (long bad : new long[] {10, -1, Long.MIN_VALUE}) {
                    try (Tensor idx = Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1, 2, 3, bad, 5),
                            dev.panamadnn.DataType.I64, 2, 3)) {
                        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> m.run(idx));
                        assertTrue(x.getMessage().contains("index " + bad) && x.getMessage().contains("[0, 10)"), x.getMessage());
                    }
                }
                try (Tensor idx = Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1, 2, 3, 9, 5),
                        dev.panamadnn.DataType.I64, 2, 3); Tensor y = m.run(idx); Tensor want = e.forward(idx)) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(want.toFloatArray(), y.toFloatArray(), "a good run after the refused ones");
                }
            }
            dev.panamadnn.graph.GraphException x = assertThrows(dev.panamadnn.graph.GraphException.class, () -> Graph.lower(e, Shape.of(2, 3)));
            assertTrue(x.getMessage().contains("Embedding(10, 4)") && x.getMessage().contains("expected integer indices"), x.getMessage());
        }
    }

    /**
     * A token model, Sequential(Embedding, batch-first LSTM, Linear), compiled from I64 tokens: the eager layers' output one
     * after another (the eager Sequential of such a model: SequentialOfModulesTest).
     */
    @Test
    void aTokenModelCompiles() {
        Embedding emb = new Embedding(20, 8);
        LSTM lstm = new LSTM(8, 6, 1, true, true, 0, false, 0);
        Linear head = new Linear(6, 3, true);
        try (Sequential s = new Sequential(emb, lstm, head)) {
            long[] tokens = {3, 19, 0, 7, 7, 12, 1, 5, 18, 2};
            Graph g = Graph.lower(s, dev.panamadnn.DataType.I64, Shape.batched("N", 5));
            try (CompiledModel m = CompiledModel.compile(g, dev.panamadnn.compile.CompileOptions.defaults(), java.util.Map.of("input", new long[] {2, 5}));
                 Tensor idx = Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, tokens),
                         dev.panamadnn.DataType.I64, 2, 5);
                 Tensor y = m.run(idx); Tensor e = emb.forward(idx); Tensor h = lstm.forward(e); Tensor want = head.forward(h)) {
                Layers14Goldens.compare("compiled token model", y.toFloatArray(), want.toFloatArray(), 1e-5, 1e-4);
                assertTrue(m.steps().stream().anyMatch(st -> st.startsWith("lstm ")), m.describe());
            }
        }
    }

    /** Every FiLM and FiLMBlock golden (the non-finite one included) through lower(graph, x, z, path), compiled, against PyTorch. */
    @Test
    void filmGoldensCompileToPyTorchsOutput() {
        try (GoldenFile file = GoldenFile.open(Layers14Goldens.FILE)) {
            List<GoldenFile.Case> all = cases(file, "FiLM", "FiLMBlock");
            assertTrue(all.size() >= 4, "FiLM goldens: " + all);
            for (GoldenFile.Case c : all) {
                java.util.Map<String, String> f = c.fields();
                ConditionedModule m = f.get("layer").equals("FiLM") ? new FiLM(Integer.parseInt(f.get("cond")), Integer.parseInt(f.get("channels")))
                        : new FiLMBlock(Integer.parseInt(f.get("in")), Integer.parseInt(f.get("channels")), Integer.parseInt(f.get("cond")));
                try (m) {
                    Layers14Goldens.load(m.parameters(), c);
                    Tensor x = c.input(), z = c.extras().get("cond");
                    dev.panamadnn.graph.GraphBuilder b = Graph.builder(c.name());
                    String out = m.lower(b, b.input("x", Shape.of(x.shape())), b.input("z", Shape.of(z.shape())), "");
                    try (CompiledModel plan = CompiledModel.compile(b.output(out).build(), dev.panamadnn.compile.CompileOptions.defaults(),
                            java.util.Map.of("x", x.shape(), "z", z.shape()))) {
                        java.util.Map<String, Tensor> y = plan.run(java.util.Map.of("x", x, "z", z));
                        try (Tensor got = y.values().iterator().next()) {
                            Layers14Goldens.compare("compiled " + c, got.toFloatArray(), c.output().toFloatArray(), 1e-5, 1e-5);
                        }
                        assertTrue(plan.steps().stream().noneMatch(st -> st.startsWith("java ")), c + ": no Java step\n" + plan.describe());
                    }
                }
            }
        }
    }

    @Test
    void filmRefusesShapesNamingExpectedAndGiven() {
        try (FiLM f = new FiLM(3, 4)) {
            for (long[][] xz : new long[][][] {{{2, 5, 6}, {2, 3}}, {{2, 4, 6}, {3, 3}}, {{2, 4, 6}, {2, 2}}, {{4}, {2, 3}}}) {
                dev.panamadnn.graph.GraphBuilder b = Graph.builder("bad");
                String x = b.input("x", Shape.of(xz[0])), z = b.input("z", Shape.of(xz[1]));
                dev.panamadnn.graph.GraphException e = assertThrows(dev.panamadnn.graph.GraphException.class, () -> f.lower(b, x, z, "film"));
                assertTrue(e.getMessage().contains("FiLM") && e.getMessage().contains("expected") && e.getMessage().contains("got"), e.getMessage());
            }
            UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class, () -> Graph.lower(f, Shape.of(2, 4)));
            assertTrue(u.getMessage().contains("lower(graph, x, z, path)"), u.getMessage());
        }
    }
}
