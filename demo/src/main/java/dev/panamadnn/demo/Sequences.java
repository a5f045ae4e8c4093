package dev.panamadnn.demo;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Init;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Sequence models trained for real: the 8x8 digits read row by row (8 steps of 8 features) by an
 * LSTM, a GRU, a small transformer encoder, the DCNN of Kalchbrenner et al. (wide convolutions,
 * dynamic k-max pooling, folding) and a FiLM-conditioned convolution that answers one of two tasks
 * chosen by a one-hot input ("which digit", "even or odd"). PyTorch trained them
 * ({@code scripts/train/train_sequences.py}, same split as {@link Digits}); the weights and
 * PyTorch's logits on the held-out split are resources under {@code sequences/}. The demo runs
 * every model natively, with the plain-Java reference and as a compiled plan, and compares with PyTorch.
 */
public final class Sequences {
    /**
     * Largest |logit - PyTorch's logit| accepted. The logits reach about 28 in magnitude and both
     * sides sum in fp32 in different orders (the reference in double); measured at most 5.7e-6
     * (docs/demo.md). 1e-4 leaves room for other CPUs' kernels; the test also checks it stays
     * below half of each model's smallest top-2 margin, so logits within it cannot flip a prediction.
     */
    public static final double LOGIT_TOLERANCE = 1e-4;

    private static final String TEST_SPLIT = "sequences/sequences_test.safetensors";

    private Sequences() {}

    /** {@link SequenceModels#create} with the trained weights, loaded strictly by name. */
    public static SequenceModels.Model trained(String name) throws IOException {
        SequenceModels.Model m = Init.skip(() -> SequenceModels.create(name));
        try {
            Digits.withResource("sequences/seq_" + name + ".safetensors", file -> {
                SafeTensors.load(m, file);
                return null;
            });
            return m;
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * The held-out split and PyTorch's answers per model. The FiLM model's questions are the
     * sequences twice, task 0 then task 1, with {@code filmLabels}.
     */
    public record TestSplit(int count, float[] sequences, int[] labels, int[] filmLabels,
                            Map<String, float[]> torchLogits, Map<String, int[]> torchPredictions) {
        /** The true answers to {@code model}'s questions. */
        public int[] labels(String model) {
            return "film".equals(model) ? filmLabels : labels;
        }

        public int torchCorrect(String model) {
            return Digits.correct(torchPredictions.get(model), labels(model));
        }

        /** {@code model}'s inputs: the sequences {@code [N, 8, 8]} (twice for the FiLM model). */
        Tensor sequences(boolean conditioned) {
            float[] v = conditioned ? concat(sequences, sequences) : sequences;
            return Tensor.of(v, v.length / 64, 8, 8);
        }

        /** The FiLM model's one-hot tasks {@code [2N, 2]}: task 0 for the first N rows, task 1 after. */
        Tensor tasks() {
            float[] z = new float[count * 4];
            for (int i = 0; i < 2 * count; i++) z[i * 2 + (i < count ? 0 : 1)] = 1;
            return Tensor.of(z, 2L * count, 2);
        }
    }

    /** Reads the bundled test split. */
    public static TestSplit testSplit() throws IOException {
        return Digits.withResource(TEST_SPLIT, file -> {
            try (SafeTensors st = SafeTensors.open(file)) {
                float[] seqs = Digits.floats(st.get("sequences"));
                int[] labels = Digits.ints(st.get("labels")), film = Digits.ints(st.get("film_labels"));
                int n = labels.length;
                Map<String, float[]> logits = new HashMap<>();
                Map<String, int[]> preds = new HashMap<>();
                for (String m : SequenceModels.NAMES) {
                    logits.put(m, Digits.floats(st.get("logits_" + m)));
                    preds.put(m, Digits.ints(st.get("predictions_" + m)));
                    int rows = "film".equals(m) ? 2 * n : n;
                    if (logits.get(m).length != rows * 10 || preds.get(m).length != rows) {
                        throw new IllegalStateException("sequence test split: inconsistent sizes for " + m + " in " + TEST_SPLIT);
                    }
                }
                if (seqs.length != n * 64 || film.length != 2 * n) {
                    throw new IllegalStateException("sequence test split: inconsistent sizes in " + TEST_SPLIT);
                }
                return new TestSplit(n, seqs, labels, film, Map.copyOf(logits), Map.copyOf(preds));
            }
        });
    }

    /** {@code model}'s logits on the whole split, in one batch, on {@code backend}. */
    public static float[] logits(SequenceModels.Model model, TestSplit split, Backend backend) {
        try (Tensor x = split.sequences(model.conditioned()); Tensor z = model.conditioned() ? split.tasks() : null;
             Tensor y = model.forward(x, z, backend)) {
            return y.toFloatArray();
        }
    }

    /**
     * {@code model}'s logits on the whole split from a compiled plan ({@link SequenceModels.Model#lower}: the sequences
     * and the task as graph inputs, compiled for the split's batch).
     */
    public static float[] compiledLogits(SequenceModels.Model model, TestSplit split) {
        boolean conditioned = model.conditioned();
        try (Tensor x = split.sequences(conditioned); Tensor z = conditioned ? split.tasks() : null) {
            dev.panamadnn.graph.GraphBuilder g = dev.panamadnn.graph.Graph.builder("sequence model");
            String xs = g.input("x", dev.panamadnn.graph.Shape.of(x.shape()));
            String zs = conditioned ? g.input("task", dev.panamadnn.graph.Shape.of(z.shape())) : null;
            Map<String, long[]> shapes = new HashMap<>(Map.of("x", x.shape()));
            Map<String, Tensor> in = new HashMap<>(Map.of("x", x));
            if (conditioned) {
                shapes.put("task", z.shape());
                in.put("task", z);
            }
            try (dev.panamadnn.compile.CompiledModel plan = dev.panamadnn.compile.CompiledModel.compile(g.output(model.lower(g, xs, zs)).build(),
                    dev.panamadnn.compile.CompileOptions.defaults(), shapes)) {
                Map<String, Tensor> out = plan.run(in);
                try (Tensor y = out.values().iterator().next()) {
                    return y.toFloatArray();
                }
            }
        }
    }

    /** The compiled plan's logits against PyTorch. */
    public static Result compareCompiled(String name, SequenceModels.Model model, TestSplit split) {
        return result(name, compiledLogits(model, split), split);
    }

    private static Result result(String name, float[] logits, TestSplit split) {
        int[] pred = Digits.argmax(logits);
        return new Result(Digits.correct(pred, split.labels(name)), pred.length,
                Digits.disagreements(pred, split.torchPredictions().get(name)), Digits.maxAbsDiff(logits, split.torchLogits().get(name)));
    }

    /** One model on one backend against PyTorch. */
    public record Result(int correct, int count, int differing, double maxLogitError) {
        public boolean matches(int torchCorrect) {
            return correct == torchCorrect && differing == 0 && maxLogitError <= LOGIT_TOLERANCE;
        }
    }

    /** Runs {@code model} (named {@code name}) on the split on {@code backend} and compares with PyTorch. */
    public static Result compare(String name, SequenceModels.Model model, TestSplit split, Backend backend) {
        return result(name, logits(model, split, backend), split);
    }

    /** Runs only this section of the demo; exit status 1 if a check fails. */
    public static void main(String[] args) {
        if (run(System.out) > 0) System.exit(1);
    }

    /** Prints the section; returns the number of failed checks (a model on a backend not equal to PyTorch). */
    public static int run(PrintStream out) {
        out.println("== Sequences: the digits read row by row (8 steps x 8 features) by sequence models trained with PyTorch");
        try {
            TestSplit split = testSplit();
            int failures = 0;
            out.printf(Locale.ROOT, " test split: %d sequences [N,8,8] (the FiLM model: each twice, task \"which digit\" and task \"even or odd\")%n",
                    split.count());
            out.println(" model         PyTorch   native    reference  compiled  differing (nat/ref/comp)  max |logit - PyTorch| (nat/ref/comp)");
            for (String name : SequenceModels.NAMES) {
                try (SequenceModels.Model model = trained(name)) {
                    int torch = split.torchCorrect(name);
                    Result nat = compare(name, model, split, Backend.AUTO), ref = compare(name, model, split, Backend.REFERENCE);
                    Result comp = compareCompiled(name, model, split);
                    boolean ok = nat.matches(torch) && ref.matches(torch) && comp.matches(torch);
                    failures += (nat.matches(torch) ? 0 : 1) + (ref.matches(torch) ? 0 : 1) + (comp.matches(torch) ? 0 : 1);
                    out.printf(Locale.ROOT, " %-12s  %.4f    %.4f    %.4f     %.4f    %3d / %3d / %-3d           %.1e / %.1e / %.1e  %s%n", name,
                            (double) torch / nat.count(), (double) nat.correct() / nat.count(), (double) ref.correct() / ref.count(),
                            (double) comp.correct() / comp.count(), nat.differing(), ref.differing(), comp.differing(), nat.maxLogitError(),
                            ref.maxLogitError(), comp.maxLogitError(), ok ? "(ok: equal to PyTorch)" : "(MISMATCH, tolerance " + LOGIT_TOLERANCE + ")");
                }
            }
            int[] fp = split.torchPredictions().get("film"), fl = split.filmLabels();
            int digit = 0, parity = 0;
            for (int i = 0; i < split.count(); i++) {
                digit += fp[i] == fl[i] ? 1 : 0;
                parity += fp[split.count() + i] == fl[split.count() + i] ? 1 : 0;
            }
            out.printf(Locale.ROOT, " film per task: \"which digit\" %d/%d, \"even or odd\" %d/%d (PyTorch's predictions; ours equal them)%n",
                    digit, split.count(), parity, split.count());
            out.println(" (accuracy on the held-out split, the residual CNN's above being on the same 360 images)");
            out.println();
            return failures;
        } catch (IOException e) {
            throw new UncheckedIOException("sequence demo: cannot read the bundled models or test split", e);
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] v = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, v, a.length, b.length);
        return v;
    }
}
