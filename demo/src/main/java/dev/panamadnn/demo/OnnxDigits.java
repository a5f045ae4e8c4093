package dev.panamadnn.demo;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * The demo's ONNX step: the same trained digits CNN, exported by PyTorch to ONNX
 * (scripts/train/export_digits_onnx.py, bundled as digits/digits_resnet.onnx), imported with
 * {@link Onnx#load}, compiled to a plan set and run on the held-out split; its predictions must
 * equal PyTorch's and its logits lie within {@link Digits#LOGIT_TOLERANCE} of them.
 */
public final class OnnxDigits {
    private static final String MODEL = "digits/digits_resnet.onnx";

    private OnnxDigits() {}

    /** The bundled ONNX model, loaded. */
    public static OnnxModel load() throws IOException {
        try (InputStream in = OnnxDigits.class.getResourceAsStream(MODEL)) {
            if (in == null) throw new IOException("resource dev/panamadnn/demo/" + MODEL + " is missing from the demo module");
            return Onnx.load(in);
        }
    }

    /** Prints the section; returns the number of failed checks. */
    public static int run(PrintStream out) {
        out.println("== ONNX import: the digits CNN exported by PyTorch (torch.onnx.export, opset 13), loaded and compiled");
        try (OnnxModel model = load(); PlanSet plans = model.compile(CompileOptions.defaults())) {
            Digits.TestSplit split = Digits.testSplit();
            out.printf(Locale.ROOT, " %s: %s -> %s, producer %s, opset %d%n", MODEL, model.inputs(), model.outputs(), model.producer(),
                    model.opsetImports().get(""));
            float[] logits;
            try (Tensor x = split.batch(0, split.count()); Tensor y = plans.run(x)) {
                logits = y.toFloatArray();
            }
            int[] pred = Digits.argmax(logits);
            int correct = Digits.correct(pred, split.labels());
            int differing = Digits.disagreements(pred, split.torchPredictions());
            double diff = Digits.maxAbsDiff(logits, split.torchLogits());
            boolean ok = correct == split.torchCorrect() && differing == 0 && diff <= Digits.LOGIT_TOLERANCE;
            out.printf(Locale.ROOT, " imported    %3d/%d  %.4f  %d differing from PyTorch, max |logit - PyTorch| %.1e %s%n", correct, split.count(),
                    (double) correct / split.count(), differing, diff, ok ? "(ok: equal to PyTorch)" : "(MISMATCH, tolerance " + Digits.LOGIT_TOLERANCE + ")");
            out.println();
            return ok ? 0 : 1;
        } catch (IOException e) {
            throw new UncheckedIOException("ONNX digits demo: cannot read the bundled model or test split", e);
        }
    }
}
