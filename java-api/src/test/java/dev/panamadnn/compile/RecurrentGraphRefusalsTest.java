package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * LSTM, GRU and RNN nodes the graph or the compiler refuses, each with a message naming the node, the
 * input or attribute, what was expected and what was given; and the sequence_lens a plan accepts
 * (constant, every sequence full length: the same result as without).
 */
class RecurrentGraphRefusalsTest {
    private final List<Tensor> owned = new ArrayList<>();

    @AfterEach
    void free() {
        owned.forEach(Tensor::close);
    }

    private Tensor zeros(long... shape) {
        Tensor t = Tensor.zeros(shape);
        owned.add(t);
        return t;
    }

    /** An LSTM (hidden 4, one direction, layout 0) on X [5, 2, 3] with the given W shape, attributes and extra inputs. */
    private GraphBuilder lstm(long[] wShape, Attributes attrs, String... extra) {
        GraphBuilder g = Graph.builder("rnn");
        g.input("x", Shape.of(5, 2, 3));
        g.initializer("W", zeros(wShape));
        g.initializer("R", zeros(1, 16, 4));
        g.initializer("B", zeros(1, 32));
        List<String> in = new ArrayList<>(List.of("x", "W", "R", "B"));
        in.addAll(Arrays.asList(extra));
        g.output(g.node("LSTM", "enc.lstm", attrs, in, 2).toArray(new String[0]));
        return g;
    }

    private static Attributes hidden4(Object... more) {
        Object[] all = Arrays.copyOf(new Object[] {"hidden_size", 4L}, 2 + more.length);
        System.arraycopy(more, 0, all, 2, more.length);
        return Attributes.of(all);
    }

    private static void refused(Runnable build, String... parts) {
        GraphException e = assertThrows(GraphException.class, build::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
    }

    @Test
    void wrongWeightShapesNameTheInputAndBothShapes() {
        refused(() -> lstm(new long[] {1, 12, 3}, hidden4()), "enc.lstm (LSTM)", "input 1 (W) must be [1, 16, 3]", "hidden_size 4", "[1, 12, 3]");
        refused(() -> lstm(new long[] {1, 16, 2}, hidden4()), "input 1 (W) must be [1, 16, 3]");
        refused(() -> lstm(new long[] {2, 16, 3}, hidden4()), "input 1 (W) must be [1, 16, 3]", "direction forward");
        refused(() -> lstm(new long[] {1, 16, 3}, hidden4("direction", "bidirectional")), "input 1 (W) must be [2, 16, 3]");
    }

    @Test
    void unsupportedAttributesAreRefusedByName() {
        long[] w = {1, 16, 3};
        refused(() -> lstm(w, hidden4("activations", "Relu,Tanh,Tanh")), "activations 'Relu,Tanh,Tanh' are not supported", "Sigmoid,Tanh,Tanh");
        refused(() -> lstm(w, hidden4("clip", 3.0)), "clip is not supported");
        refused(() -> lstm(w, hidden4("input_forget", 1L)), "input_forget");
        refused(() -> lstm(w, hidden4("activation_alpha", new double[] {1, 1, 1})), "unknown attribute 'activation_alpha'");
        refused(() -> lstm(w, hidden4("direction", "sideways")), "direction must be forward, reverse or bidirectional", "sideways");
        refused(() -> lstm(w, hidden4("layout", 2L)), "layout must be 0 or 1, got 2");
        refused(() -> lstm(w, Attributes.empty()), "hidden_size is required");
        refused(() -> lstm(w, hidden4("hidden_size", 0L)), "hidden_size must be >= 1");
    }

    /** An RNN (hidden 4, layout 0) on X [5, 2, 3]: W [D, 4, 3], R [D, 4, 4]. */
    private GraphBuilder rnn(int dirs, Attributes attrs) {
        GraphBuilder g = Graph.builder("rnn");
        g.input("x", Shape.of(5, 2, 3));
        g.initializer("W", zeros(dirs, 4, 3));
        g.initializer("R", zeros(dirs, 4, 4));
        g.output(g.node("RNN", "enc.rnn", attrs, List.of("x", "W", "R"), 2).toArray(new String[0]));
        return g;
    }

    @Test
    void rnnActivationsOtherThanTanhReluSigmoidAreRefused() {
        refused(() -> rnn(1, hidden4("activations", "HardSigmoid")), "enc.rnn (RNN)", "activation 'HardSigmoid' is not supported",
                "Tanh, Relu, Sigmoid");
        refused(() -> rnn(2, hidden4("direction", "bidirectional", "activations", "Tanh,Relu")), "differ between the directions");
        refused(() -> rnn(2, hidden4("direction", "bidirectional", "activations", "Tanh")), "must name 2 activations", "got 1");
        refused(() -> rnn(1, hidden4("clip", 3.0)), "clip is not supported");
        refused(() -> rnn(1, hidden4("input_forget", 1L)), "unknown attribute 'input_forget'");
        refused(() -> rnn(1, Attributes.of("hidden_size", 3L)), "input 1 (W) must be [1, 3, 3]", "[1, 4, 3]");
        rnn(2, hidden4("direction", "bidirectional", "activations", "relu,Relu")).build();
    }

    @Test
    void defaultActivationsSpelledOutAreAccepted() {
        lstm(new long[] {1, 16, 3}, hidden4("activations", "Sigmoid,Tanh,Tanh")).build();
    }

    @Test
    void wrongStatesLengthsAndOutputCountsAreRefused() {
        long[] w = {1, 16, 3};
        refused(() -> {
            GraphBuilder g = lstm(w, hidden4());
            g.input("h0", Shape.of(1, 3, 4));
            g.node("LSTM", "second", hidden4(), List.of("x", "W", "R", "B", "", "h0"), 1);
        }, "second (LSTM)", "input 5 (initial_h) must be [1, 2, 4]", "[1, 3, 4]");
        refused(() -> {
            GraphBuilder g = lstm(w, hidden4());
            g.input("lens", DataType.I64, Shape.of(2));
            g.node("LSTM", "second", hidden4(), List.of("x", "W", "R", "B", "lens"), 1);
        }, "input 4 (sequence_lens)", "must be I32");
        refused(() -> {
            GraphBuilder g = Graph.builder("gru");
            g.input("x", Shape.of(5, 2, 3));
            g.initializer("W", zeros(1, 12, 3));
            g.initializer("R", zeros(1, 12, 4));
            g.node("GRU", "gru", hidden4(), List.of("x", "W", "R"), 3);
        }, "gru (GRU)", "expected 1 to 2 output(s), got 3");
        refused(() -> {
            GraphBuilder g = Graph.builder("x2");
            g.input("x", Shape.of(5, 3));
            g.initializer("W", zeros(1, 16, 3));
            g.initializer("R", zeros(1, 16, 4));
            g.node("LSTM", "l", hidden4(), List.of("x", "W", "R"), 1);
        }, "X must have rank 3");
    }

    private static void notCompiled(Graph g, Map<String, long[]> shapes, String... parts) {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> CompiledModel.compile(g, CompileOptions.defaults(), shapes).close());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
    }

    private Tensor ints(int... v) {
        Tensor t = Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_INT, v), DataType.I32, v.length);
        return t;
    }

    @Test
    void whatAPlanCannotRunIsRefusedAtCompileTime() {
        Map<String, long[]> x = Map.of("x", new long[] {5, 2, 3});
        GraphBuilder lens = lstm(new long[] {1, 16, 3}, hidden4());
        lens.initializer("lens", ints(5, 6));
        lens.output(lens.node("LSTM", "padded", hidden4(), List.of("x", "W", "R", "B", "lens"), 1).get(0));
        notCompiled(lens.build(), x, "padded (LSTM)", "sequence_lens[1] = 6 is not in [1, 5]");

        // peepholes compile (CompiledOnnxRnnTest: lstm_peephole_bidir against the operator's definition), but not with per-run lengths
        GraphBuilder peep = lstm(new long[] {1, 16, 3}, hidden4());
        peep.input("lens", dev.panamadnn.DataType.I32, Shape.of(2));
        peep.initializer("P", zeros(1, 12));
        peep.output(peep.node("LSTM", "peep", hidden4(), List.of("x", "W", "R", "B", "lens", "", "", "P"), 1).get(0));
        Map<String, long[]> withLens = new java.util.HashMap<>(x);
        withLens.put("lens", new long[] {2});
        notCompiled(peep.build(), withLens, "peep (LSTM)", "peepholes (P) with sequence_lens given per run are not compiled");

        // weights computed at run time compile (CompiledOnnxRnnTest), and so do per-run lengths, but not both at once
        GraphBuilder fed = Graph.builder("fedW");
        fed.input("x", Shape.of(5, 2, 3));
        fed.input("w", Shape.of(1, 16, 3));
        fed.input("lens", dev.panamadnn.DataType.I32, Shape.of(2));
        fed.initializer("R", zeros(1, 16, 4));
        fed.output(fed.node("LSTM", "l", hidden4(), List.of("x", "w", "R", "", "lens"), 1).get(0));
        notCompiled(fed.build(), Map.of("x", new long[] {5, 2, 3}, "w", new long[] {1, 16, 3}, "lens", new long[] {2}), "l (LSTM)",
                "W, R, B or P computed at run time together with sequence_lens given per run is not compiled");
    }

    @Test
    void fullLengthSequenceLensCompileToTheSameResult() {
        GraphBuilder g = Graph.builder("lens");
        g.input("x", Shape.of(5, 2, 3));
        Tensor w = zeros(1, 12, 3), r = zeros(1, 12, 4), b = zeros(1, 24);
        float[] wv = new float[36], rv = new float[48], bv = new float[24];
        for (int i = 0; i < wv.length; i++) wv[i] = (float) Math.sin(i);
        for (int i = 0; i < rv.length; i++) rv[i] = (float) Math.cos(i) / 2;
        for (int i = 0; i < bv.length; i++) bv[i] = (float) Math.sin(3 * i) / 4;
        java.lang.foreign.MemorySegment.copy(wv, 0, w.segment(), ValueLayout.JAVA_FLOAT, 0, wv.length);
        java.lang.foreign.MemorySegment.copy(rv, 0, r.segment(), ValueLayout.JAVA_FLOAT, 0, rv.length);
        java.lang.foreign.MemorySegment.copy(bv, 0, b.segment(), ValueLayout.JAVA_FLOAT, 0, bv.length);
        g.initializer("W", w);
        g.initializer("R", r);
        g.initializer("B", b);
        g.initializer("lens", ints(5, 5));
        Attributes a = Attributes.of("hidden_size", 4L, "linear_before_reset", 1L);
        g.output(g.node("GRU", "with", a, List.of("x", "W", "R", "B", "lens"), 1).get(0), g.node("GRU", "without", a, "x", "W", "R", "B"));
        float[] xv = new float[30];
        for (int i = 0; i < xv.length; i++) xv[i] = (float) Math.cos(0.7 * i);
        try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {5, 2, 3}));
             Tensor x = Tensor.of(xv, 5, 2, 3)) {
            Map<String, Tensor> out = plan.run(Map.of("x", x));
            try {
                float[] with = out.get("with").toFloatArray(), without = out.get("without").toFloatArray();
                assertTrue(Arrays.equals(with, without), Arrays.toString(with) + " vs " + Arrays.toString(without));
                assertTrue(Arrays.stream(new double[] {with[0], with[7]}).anyMatch(v -> v != 0), "a non-trivial output");
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }
}
