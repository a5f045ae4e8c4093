package dev.panamadnn.demo;

import dev.panamadnn.DataType;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * A model trained for real: a small residual CNN that PyTorch trained on scikit-learn's 8x8
 * hand-written digits ({@code scripts/train/train_digits.py}), run here on our layers. The
 * weights and the held-out test split (360 images, with PyTorch's logits and predictions) are
 * resources next to this class, under {@code digits/} (see the README there for the data's
 * licence). The demo classifies the whole split natively and with the plain-Java reference,
 * compares both with PyTorch (accuracy, disagreeing predictions, largest logit difference) and
 * times batch 1 and batch 64, best-of-N wall clock: orientation, not a benchmark.
 */
public final class Digits {
    /**
     * Largest |logit - PyTorch's logit| accepted. The logits reach about 11 in magnitude and the two
     * sides sum in fp32 in different orders (oneDNN's and PyTorch's kernels, the reference in
     * double), which measured at about 5e-6 here; 1e-4 leaves room for other CPUs' kernels while
     * staying below half of PyTorch's smallest top-2 margin on the split (6.8e-4), so logits within
     * it cannot flip a prediction.
     */
    public static final double LOGIT_TOLERANCE = 1e-4;

    private static final String WEIGHTS = "digits/digits_resnet.safetensors", TEST_SPLIT = "digits/digits_test.safetensors";
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private Digits() {}

    /**
     * The trained architecture with fresh (untrained) parameters; its state_dict keys equal the
     * PyTorch model's: {@code 0.weight, 1.*, 3.conv1.weight, 3.bn1.*, ..., 4.downsample.0.weight,
     * 4.downsample.1.*, 7.weight, 7.bias}. Input {@code [N, 1, 8, 8]} (pixel / 16), output logits {@code [N, 10]}.
     */
    public static Sequential model() {
        return new Sequential(
                Conv2d.builder(1, 16, 3).padding(1).bias(false).build(), new BatchNorm2d(16), new ReLU(),
                new BasicBlock(16, 16),
                new BasicBlock(16, 32, 2, BasicBlock.downsample(16, 32, 2)),
                new AdaptiveAvgPool2d(1), new Flatten(), new Linear(32, 10, true));
    }

    /** {@link #model()} with the trained weights, loaded strictly from the bundled safetensors file. */
    public static Sequential trainedModel() throws IOException {
        Sequential m = model();
        try {
            withResource(WEIGHTS, file -> {
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
     * The held-out test split and PyTorch's answers on it.
     *
     * @param images        {@code [count, 1, 8, 8]} row-major, pixel / 16
     * @param labels        the true digits
     * @param torchLogits   PyTorch's eval-mode logits, {@code [count, 10]} row-major
     * @param torchPredictions argmax of {@code torchLogits}
     * @param torchCorrect  how many of PyTorch's predictions are right (from the file's metadata)
     */
    public record TestSplit(int count, float[] images, int[] labels, float[] torchLogits, int[] torchPredictions, int torchCorrect) {
        public double torchAccuracy() {
            return (double) torchCorrect / count;
        }

        /** Images {@code [from, to)} as an owned {@code [to - from, 1, 8, 8]} tensor. */
        public Tensor batch(int from, int to) {
            float[] v = java.util.Arrays.copyOfRange(images, from * 64, to * 64);
            return Tensor.of(v, to - from, 1, 8, 8);
        }
    }

    /** Reads the bundled test split. */
    public static TestSplit testSplit() throws IOException {
        return withResource(TEST_SPLIT, file -> {
            try (SafeTensors st = SafeTensors.open(file)) {
                float[] images = floats(st.get("images"));
                int[] labels = ints(st.get("labels")), predictions = ints(st.get("predictions"));
                float[] logits = floats(st.get("logits"));
                int count = labels.length;
                int correct = Integer.parseInt(st.metadata().get("correct"));
                if (images.length != count * 64 || logits.length != count * 10 || predictions.length != count) {
                    throw new IllegalStateException("digits test split: inconsistent sizes in " + TEST_SPLIT);
                }
                return new TestSplit(count, images, labels, logits, predictions, correct);
            }
        });
    }

    /** Logits {@code [count * 10]} for the whole split, in one batch, on {@code backend}. */
    public static float[] logits(Sequential model, TestSplit split, Backend backend) {
        try (Tensor x = split.batch(0, split.count()); Tensor y = model.forward(x, backend)) {
            return y.toFloatArray();
        }
    }

    /** Row-wise argmax of {@code [n, 10]} logits (the first maximum on a tie, like PyTorch). */
    public static int[] argmax(float[] logits) {
        int[] p = new int[logits.length / 10];
        for (int i = 0; i < p.length; i++) {
            int best = 0;
            for (int c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
            p[i] = best;
        }
        return p;
    }

    /** The smallest difference between the largest and second-largest logit of a row. */
    static double smallestMargin(float[] logits) {
        double m = Double.MAX_VALUE;
        for (int i = 0; i < logits.length / 10; i++) {
            float[] row = java.util.Arrays.copyOfRange(logits, i * 10, i * 10 + 10);
            java.util.Arrays.sort(row);
            m = Math.min(m, row[9] - row[8]);
        }
        return m;
    }

    static int correct(int[] predictions, int[] labels) {
        int n = 0;
        for (int i = 0; i < labels.length; i++) if (predictions[i] == labels[i]) n++;
        return n;
    }

    static int disagreements(int[] a, int[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) n++;
        return n;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    /** Runs only this section of the demo; exit status 1 if a check fails. */
    public static void main(String[] args) {
        if (run(System.out) > 0) System.exit(1);
    }

    /** Prints the section; returns the number of failed checks (accuracy or predictions differing from PyTorch's, logits out of tolerance). */
    public static int run(PrintStream out) {
        out.println("== Digits: a residual CNN trained with PyTorch on the 8x8 hand-written digits (UCI, via scikit-learn)");
        try (Sequential model = trainedModel()) {
            TestSplit split = testSplit();
            int failures = 0;
            out.printf(Locale.ROOT, " test split: %d images [N,1,8,8], model: %d parameter tensors, loaded strictly from %s%n",
                    split.count(), model.parameters().size(), WEIGHTS);
            out.println(" backend     correct  accuracy  differing from PyTorch  max |logit - PyTorch|");
            out.printf(Locale.ROOT, " PyTorch     %3d/%d  %.4f  (smallest top-2 logit margin %.1e)%n", split.torchCorrect(), split.count(),
                    split.torchAccuracy(), smallestMargin(split.torchLogits()));
            for (Backend b : new Backend[] {Backend.AUTO, Backend.REFERENCE}) {
                float[] logits = logits(model, split, b);
                int[] pred = argmax(logits);
                int correct = correct(pred, split.labels());
                int differing = disagreements(pred, split.torchPredictions());
                double diff = maxAbsDiff(logits, split.torchLogits());
                boolean ok = correct == split.torchCorrect() && differing == 0 && diff <= LOGIT_TOLERANCE;
                failures += ok ? 0 : 1;
                out.printf(Locale.ROOT, " %-10s  %3d/%d  %.4f  %22d  %.1e %s%n", b == Backend.AUTO ? "native" : "reference",
                        correct, split.count(), (double) correct / split.count(), differing, diff,
                        ok ? "(ok: equal to PyTorch)" : "(MISMATCH, tolerance " + LOGIT_TOLERANCE + ")");
            }
            out.println(" timing (best of N, wall clock)    native        reference     speed-up");
            try (Tensor one = split.batch(0, 1); Tensor batch = split.batch(0, 64)) {
                double n1 = Timing.bestMs(200, () -> model.forward(one).close());
                double r1 = Timing.bestMs(10, () -> model.forward(one, Backend.REFERENCE).close());
                double n64 = Timing.bestMs(50, () -> model.forward(batch).close());
                double r64 = Timing.bestMs(3, () -> model.forward(batch, Backend.REFERENCE).close());
                out.printf(Locale.ROOT, " latency, batch 1 (ms/image)     %9.3f    %9.3f     %7.1fx%n", n1, r1, r1 / n1);
                out.printf(Locale.ROOT, " throughput, batch 64 (images/s) %9.0f    %9.0f     %7.1fx%n",
                        64_000 / n64, 64_000 / r64, r64 / n64);
            }
            out.println();
            return failures;
        } catch (IOException e) {
            throw new UncheckedIOException("digits demo: cannot read the bundled model or test split", e);
        }
    }

    interface FileAction<T> {
        T apply(Path file) throws IOException;
    }

    /** Copies a resource next to this class to a temporary file (SafeTensors maps files), runs {@code action}, deletes it. */
    static <T> T withResource(String name, FileAction<T> action) throws IOException {
        Path tmp = Files.createTempFile("panamadnn-digits-", ".safetensors");
        try {
            try (InputStream in = Digits.class.getResourceAsStream(name)) {
                if (in == null) throw new IOException("resource dev/panamadnn/demo/" + name + " is missing from the demo module");
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            return action.apply(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static float[] floats(Tensor t) {
        if (t.dtype() != DataType.F32) throw new IllegalStateException("digits test split: expected F32, got " + t.dtype());
        return t.toFloatArray();
    }

    static int[] ints(Tensor t) {
        if (t.dtype() != DataType.I64) throw new IllegalStateException("digits test split: expected I64, got " + t.dtype());
        MemorySegment s = t.segment();
        int[] v = new int[Math.toIntExact(t.numel())];
        for (int i = 0; i < v.length; i++) v[i] = Math.toIntExact(s.getAtIndex(I64, i));
        return v;
    }
}
