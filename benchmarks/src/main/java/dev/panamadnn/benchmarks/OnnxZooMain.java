package dev.panamadnn.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * scripts/onnx-zoo: torchvision models beyond the ten of the ONNX benchmark (scripts/goldens/export_torchvision_zoo.py,
 * opset 13, batch 1), each loaded through our import and compiled, its output checked against PyTorch's
 * ({@code 1e-4 * max|y| + 1e-4}, the tolerance of the real-model tests), then timed against ONNX Runtime Java on the
 * same file with the same intra-op threads: both warmed up (ours through {@code PlanSet.warmup}, which also prepares
 * Winograd weights that would otherwise be prepared in the background during the first rounds), then {@code --rounds} alternating rounds of about
 * {@code --seconds} per side; per side the median of the rounds' mean call times. A model we cannot load or compile
 * is reported with the refusal. Writes {@code zoo.md} and {@code zoo.tsv} into {@code --out}. With {@code --profile
 * losers|all} the models ONNX Runtime beats (or all) also get the per-op table of {@code scripts/bench --onnx}: ours
 * from the plan's steps, ORT's from its profiler, grouped into one vocabulary ({@link OnnxOpTimes}).
 *
 * <p>Usage: {@code OnnxZooMain --dir DIR --models a,b --out DIR [--threads N] [--rounds N] [--seconds S]
 * [--profile losers|all|none] [--profile-runs N]}.
 */
public final class OnnxZooMain {
    private OnnxZooMain() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) o.put(args[i], args[i + 1]);
        Path dir = Path.of(o.get("--dir")), out = Path.of(o.get("--out"));
        int threads = Integer.parseInt(o.getOrDefault("--threads", "2")), rounds = Integer.parseInt(o.getOrDefault("--rounds", "3"));
        double seconds = Double.parseDouble(o.getOrDefault("--seconds", "1"));
        String profile = o.getOrDefault("--profile", "none");
        int profileRuns = Integer.parseInt(o.getOrDefault("--profile-runs", "10"));
        if (!List.of("losers", "all", "none").contains(profile)) throw new IllegalArgumentException("--profile takes losers, all or none");
        StringBuilder ops = new StringBuilder();
        Files.createDirectories(out);
        StringBuilder md = new StringBuilder("# torchvision models beyond the ten: our import vs ONNX Runtime Java, batch 1\n\n")
                .append("| model | input | vs PyTorch (max abs err / max abs) | load + compile + first run, ms (ORT: session + first) | ours, ms | ORT, ms | **ORT / ours** |\n")
                .append("|---|---|---|---|---|---|---|\n");
        StringBuilder tsv = new StringBuilder("model\tstatus\tmax_err\tmax_abs\tfirst_ms_ours_(ort)\tours_ms\tort_ms\n");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (String name : o.get("--models").split(",")) {
            Path shapeFile = dir.resolve(name + ".shape");
            if (!Files.exists(shapeFile)) {
                line(md, tsv, name, "-", "not exported (see the export log)", "-", Double.NaN, Double.NaN, "EXPORTFAIL", 0, 0);
                continue;
            }
            List<String> lines = Files.readAllLines(shapeFile);
            long[] shape = Arrays.stream(lines.get(0).trim().split(" ")).mapToLong(Long::parseLong).toArray();
            float[] in = floats(dir.resolve(name + ".in")), want = floats(dir.resolve(name + ".out"));
            String inShape = Arrays.toString(shape);
            long t0 = System.nanoTime();
            double[] ours;
            double err = 0, maxAbs = 0;
            long oursFirst;
            try (OnnxModel model = Onnx.load(dir.resolve(name + ".onnx"));
                 PlanSet plans = model.compile(CompileOptions.defaults().withThreads(threads));
                 Tensor x = Tensor.of(in, shape)) {
                Tensor y = Tensor.zeros(plans.outputShape(shape[0]));
                plans.run(x, y);
                oursFirst = (System.nanoTime() - t0) / 1_000_000;
                plans.warmup((int) shape[0]);   // as a server would: Winograd weights prepared, not racing the timed rounds
                float[] got = y.toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    err = Math.max(err, Math.abs(got[i] - (double) want[i]));
                    maxAbs = Math.max(maxAbs, Math.abs(want[i]));
                }
                if (got.length != want.length || !(err <= 1e-4 * maxAbs + 1e-4)) {
                    line(md, tsv, name, inShape, String.format(Locale.ROOT, "**MISMATCH** %.3g / %.3g", err, maxAbs), oursFirst + "", Double.NaN,
                            Double.NaN, "MISMATCH", err, maxAbs);
                    y.close();
                    continue;
                }
                ours = new double[rounds];
                double[] ort = new double[rounds];
                long ortFirst;
                OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                so.setIntraOpNumThreads(threads);
                so.setInterOpNumThreads(1);
                so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                long s0 = System.nanoTime();
                try (OrtSession session = env.createSession(dir.resolve(name + ".onnx").toString(), so);
                     OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(in), shape)) {
                    String input = session.getInputNames().iterator().next();
                    session.run(Map.of(input, t)).close();
                    ortFirst = (System.nanoTime() - s0) / 1_000_000;
                    for (int i = 0; i < 3; i++) {   // warm-up of both
                        plans.run(x, y);
                        session.run(Map.of(input, t)).close();
                    }
                    for (int r = 0; r < rounds; r++) {
                        boolean oursFirstInRound = r % 2 == 0;
                        for (int side = 0; side < 2; side++) {
                            boolean isOurs = (side == 0) == oursFirstInRound;
                            long start = System.nanoTime(), calls = 0;
                            do {
                                if (isOurs) plans.run(x, y);
                                else session.run(Map.of(input, t)).close();
                                calls++;
                            } while (System.nanoTime() - start < seconds * 1e9);
                            double ms = (System.nanoTime() - start) / 1e6 / calls;
                            if (isOurs) ours[r] = ms;
                            else ort[r] = ms;
                        }
                    }
                }
                y.close();
                double mo = median(ours), mr = median(ort);
                line(md, tsv, name, inShape, String.format(Locale.ROOT, "%.2g / %.3g", err, maxAbs), oursFirst + " (" + ortFirst + ")", mo, mr, "PASS",
                        err, maxAbs);
                System.out.printf(Locale.ROOT, "%s: ours %.2f ms, ORT %.2f ms, ORT / ours %.2f (rounds ours %s, ORT %s)%n", name, mo, mr, mr / mo,
                        Arrays.toString(ours), Arrays.toString(ort));
                if (profile.equals("all") || profile.equals("losers") && mr / mo < 1.0) {
                    try (OnnxPair pair = new OnnxPair(dir.resolve(name + ".onnx"), name, (int) shape[0], threads)) {
                        ops.append(OnnxBenchMain.opSection(pair, mr / mo, profileRuns, out));
                    }
                }
            } catch (RuntimeException e) {
                String msg = String.valueOf(e.getMessage()).replace('\n', ' ').replace("|", "\\|");
                line(md, tsv, name, inShape, "refused: " + msg.substring(0, Math.min(300, msg.length())), "-", Double.NaN, Double.NaN, "REFUSED", 0, 0);
            }
        }
        if (!ops.isEmpty()) md.append("\n## Per-op times (ms per run: each step's or node's median over the profiled runs, summed per op; ours: plan steps waited for one by one; ORT: its profiler)\n").append(ops);
        Files.writeString(out.resolve("zoo.md"), md);
        Files.writeString(out.resolve("zoo.tsv"), tsv);
        System.out.println(md);
    }

    private static void line(StringBuilder md, StringBuilder tsv, String name, String in, String check, String first, double ours, double ort,
                             String status, double err, double maxAbs) {
        md.append("| ").append(name).append(" | ").append(in).append(" | ").append(check).append(" | ").append(first).append(" | ")
                .append(Double.isNaN(ours) ? "-" : String.format(Locale.ROOT, "%.2f", ours)).append(" | ")
                .append(Double.isNaN(ort) ? "-" : String.format(Locale.ROOT, "%.2f", ort)).append(" | ")
                .append(Double.isNaN(ours) ? "-" : String.format(Locale.ROOT, "**%.2f**", ort / ours)).append(" |\n");
        tsv.append(String.join("\t", name, status, Double.toString(err), Double.toString(maxAbs), first, Double.toString(ours),
                Double.toString(ort))).append('\n');
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static float[] floats(Path p) throws java.io.IOException {
        FloatBuffer fb = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] f = new float[fb.remaining()];
        fb.get(f);
        return f;
    }
}
