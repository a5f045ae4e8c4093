package dev.panamadnn.onnx;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Run in a child JVM by {@link OnnxFuzzTest} (so a crash fails the test instead of ending it):
 * loads seeded corruptions of a real model (bit flips, truncations, byte insertions; every fifth
 * from a memory-mapped file, the others from bytes) and runs the
 * ones that load on the case's input. Each must be refused with an {@link OnnxException} or
 * {@link GraphException}, or give the case's expected output, or, where the corrupted file parses
 * to a different model (a flipped weight or attribute), run to an end. Prints one line per outcome
 * and a summary; exits 0 unless an outcome was unexpected.
 * Arguments: the model ({@code DIR/model.onnx} of a backend case, with its test_data_set_0; or
 * the demo's {@code digits_resnet.onnx}, whose input and PyTorch logits are the first 32 images of
 * {@code digits_test.safetensors} beside it, compared within 1e-4), iterations, seed.
 */
public final class OnnxFuzz {
    private OnnxFuzz() {}

    public static void main(String[] args) throws Exception {
        Path modelFile = Path.of(args[0]);
        int iterations = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        byte[] original = Files.readAllBytes(modelFile);
        ModelProto originalProto = ModelProto.parseFrom(original);
        Map<String, Integer> counts = new TreeMap<>();
        int unexpected = 0;
        boolean digits = modelFile.getFileName().toString().equals("digits_resnet.onnx");
        try (Arena arena = Arena.ofConfined(); dev.panamadnn.SafeTensors split = digits
                ? dev.panamadnn.SafeTensors.open(modelFile.resolveSibling("digits_test.safetensors")) : null) {
            Path dir = modelFile.getParent();
            Tensor input = digits ? split.get("images").slice(0, 0, 32)
                    : TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(dir.resolve("test_data_set_0/input_0.pb"))), "input", arena, null);
            Tensor expected = digits ? split.get("logits").slice(0, 0, 32)
                    : TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(dir.resolve("test_data_set_0/output_0.pb"))), "output", arena, null);
            for (int i = 0; i < iterations; i++) {
                Random r = new Random(seed + i);
                byte[] bad = corrupt(original, r, i % 3);
                String outcome;
                Path file = i % 5 == 0 ? Files.write(Files.createTempFile("fuzz", ".onnx"), bad) : null;   // every fifth through a mapped file
                try (OnnxModel m = file != null ? Onnx.load(file) : Onnx.load(bad)) {
                    Map<String, Tensor> out = m.run(Map.of(m.inputs().get(0).name(), input));
                    try (Tensor got = out.values().iterator().next()) {
                        String diff = digits ? within(got, expected, 1e-4) : BackendCase.compare(got, expected);
                        if (diff == null) outcome = "correct";
                        else if (!sameModel(bad, originalProto)) outcome = "changed model, ran";
                        else outcome = "WRONG: the same model gave " + diff;
                    }
                } catch (OnnxException | GraphException e) {
                    outcome = "refused";
                } catch (RuntimeException e) {
                    outcome = "UNEXPECTED " + e;
                    e.printStackTrace(System.out);
                } finally {
                    if (file != null) Files.delete(file);
                }
                if (outcome.startsWith("WRONG") || outcome.startsWith("UNEXPECTED")) {
                    unexpected++;
                    System.out.println("case " + i + " (kind " + i % 3 + "): " + outcome);
                }
                counts.merge(outcome.startsWith("UNEXPECTED") ? "UNEXPECTED" : outcome.startsWith("WRONG") ? "WRONG" : outcome, 1, Integer::sum);
            }
        }
        System.out.println("fuzz summary: " + iterations + " corruptions of " + modelFile.getFileName() + ": " + counts + "; unexpected " + unexpected);
        System.exit(unexpected == 0 ? 0 : 1);
    }

    /** Null if every element of {@code got} is within {@code atol} of {@code want} (PyTorch's logits), else the worst. */
    private static String within(Tensor got, Tensor want, double atol) {
        if (!Arrays.equals(got.shape(), want.shape())) return "shape " + Arrays.toString(got.shape());
        float[] a = got.toFloatArray(), b = want.toFloatArray();
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Double.isNaN(a[i]) ? Double.POSITIVE_INFINITY : Math.abs(a[i] - b[i]));
        return worst <= atol ? null : "max |err| " + worst;
    }

    private static boolean sameModel(byte[] bad, ModelProto original) {
        try {
            return ModelProto.parseFrom(bad).equals(original);
        } catch (Exception e) {
            return false;
        }
    }

    /** kind 0: flip 1 to 4 bits; 1: truncate; 2: insert 1 to 8 random bytes. */
    static byte[] corrupt(byte[] b, Random r, int kind) {
        switch (kind) {
            case 0 -> {
                byte[] c = b.clone();
                for (int k = 1 + r.nextInt(4); k > 0; k--) c[r.nextInt(c.length)] ^= (byte) (1 << r.nextInt(8));
                return c;
            }
            case 1 -> {
                return Arrays.copyOf(b, r.nextInt(b.length));
            }
            default -> {
                int at = r.nextInt(b.length + 1), n = 1 + r.nextInt(8);
                byte[] c = new byte[b.length + n];
                System.arraycopy(b, 0, c, 0, at);
                for (int k = 0; k < n; k++) c[at + k] = (byte) r.nextInt(256);
                System.arraycopy(b, at, c, at + n, b.length - at);
                return c;
            }
        }
    }
}
