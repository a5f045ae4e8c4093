package dev.panamadnn.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code scripts/bench --onnx}: the torchvision models of scripts/goldens/export_onnx_models.py
 * through our ONNX import vs ONNX Runtime Java on the same {@code .onnx} file (opset 13 by default),
 * same threads, alternating rounds in one JVM ({@link OnnxPair}); the per-op times of both for the
 * pairs we lose (or all, {@code --profile all}). Writes {@code onnx.md} and {@code onnx.tsv}.
 *
 * <pre>
 * OnnxBenchMain --out DIR [--models m,m] [--batches 1,16] [--rounds 5] [--seconds 1.5] [--threads 2]
 *               [--opset 13] [--profile losers|all|none] [--profile-runs 10] [--machine FILE]
 * </pre>
 */
public final class OnnxBenchMain {
    static final List<String> MODELS = List.of("resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "densenet121", "efficientnet_b0",
            "shufflenet_v2_x1_0", "vgg11_bn", "regnet_y_400mf", "googlenet");

    private OnnxBenchMain() {}

    public static void main(String[] args) throws Exception {
        Path out = null, machine = null;
        List<String> models = MODELS;
        List<Integer> batches = List.of(1, 16);
        int rounds = 5, threads = 2, opset = 13, profileRuns = 10;
        double seconds = 1.5;
        String profile = "losers";
        for (int i = 0; i < args.length; i += 2) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) throw new IllegalArgumentException(args[i] + " needs a value");
            switch (args[i]) {
                case "--out" -> out = Path.of(v);
                case "--machine" -> machine = Path.of(v);
                case "--models" -> models = Arrays.asList(v.split(","));
                case "--batches" -> batches = Arrays.stream(v.split(",")).map(Integer::parseInt).toList();
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--seconds" -> seconds = Double.parseDouble(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--opset" -> opset = Integer.parseInt(v);
                case "--profile" -> profile = v;
                case "--profile-runs" -> profileRuns = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        for (String m : models) if (!MODELS.contains(m)) throw new IllegalArgumentException("unknown model " + m + " (models: " + MODELS + ")");
        if (!List.of("losers", "all", "none").contains(profile)) throw new IllegalArgumentException("--profile takes losers, all or none");
        if (out == null) throw new IllegalArgumentException("--out DIR is required");
        Files.createDirectories(out);
        Path dir = locateModels();

        StringBuilder md = new StringBuilder("# ONNX models: our import vs ONNX Runtime Java\n\n");
        if (machine != null && Files.isRegularFile(machine)) md.append("```\n").append(Files.readString(machine)).append("```\n\n");
        md.append(String.format("Opset %d files from %s; %d intra-op threads each; %d rounds, ~%.1f s per side and round, "
                + "alternating which side goes first; per round the median call of each; ratio = ORT time / ours (> 1: we are faster).%n%n",
                opset, dir, threads, rounds, seconds));
        md.append("| model | batch | ours, ms per round | ORT, ms per round | ratio per round | **median ratio** | max abs diff (max logit) | load before |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        StringBuilder tsv = new StringBuilder("model\tbatch\tround\tours_ms\tort_ms\tratio\n");
        StringBuilder ops = new StringBuilder();
        List<Double> ratios = new ArrayList<>();
        int total = models.size() * batches.size(), done = 0;
        for (int batch : batches) {   // every model at the first batch size first: a cut-short run still has a whole column
            for (String model : models) {
                done++;
                Path file = dir.resolve(model + ".opset" + opset + ".onnx");
                String load = loadAverage();
                System.out.printf(Locale.ROOT, "[%d/%d] %s batch %d (load %s)%n", done, total, model, batch, load);
                try (OnnxPair pair = new OnnxPair(file, model, batch, threads)) {
                    int calls = pair.callsFor(seconds);
                    List<OnnxPair.Round> rs = new ArrayList<>();
                    for (int r = 0; r < rounds; r++) {
                        OnnxPair.Round round = pair.round(calls, r % 2 == 0);
                        rs.add(round);
                        tsv.append(String.format(Locale.ROOT, "%s\t%d\t%d\t%.3f\t%.3f\t%.3f%n", model, batch, r, round.ours(), round.ort(), round.ratio()));
                        System.out.printf(Locale.ROOT, "    round %d: ours %.2f ms, ORT %.2f ms, ratio %.2f (%d calls each)%n", r + 1, round.ours(),
                                round.ort(), round.ratio(), calls);
                    }
                    double ratio = median(rs.stream().mapToDouble(OnnxPair.Round::ratio).toArray());
                    ratios.add(ratio);
                    md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | **%.2f** | %.2g (%.3g) | %s |%n", model, batch,
                            join(rs, OnnxPair.Round::ours, "%.1f"), join(rs, OnnxPair.Round::ort, "%.1f"), join(rs, OnnxPair.Round::ratio, "%.2f"),
                            ratio, pair.maxDiff, pair.maxLogit, load));
                    if (profile.equals("all") || profile.equals("losers") && ratio < 1.0) {
                        ops.append(opSection(pair, ratio, profileRuns, out));
                    }
                }
                Files.writeString(out.resolve("onnx.partial.md"), md + (ops.isEmpty() ? "" : "\n## Per-op times\n" + ops));   // so far
                Files.writeString(out.resolve("onnx.tsv"), tsv);
            }
        }
        double[] all = ratios.stream().mapToDouble(Double::doubleValue).toArray();
        md.append(String.format(Locale.ROOT, "%nMedian over every model and batch: **%.2f**; lowest %.2f; load after: %s.%n", median(all),
                Arrays.stream(all).min().orElse(Double.NaN), loadAverage()));
        if (!ops.isEmpty()) md.append("\n## Per-op times (ms per run: each step's or node's median over the profiled runs, summed per op; ours: plan steps waited for one by one; ORT: its profiler)\n").append(ops);
        Files.writeString(out.resolve("onnx.md"), md);
        Files.writeString(out.resolve("onnx.tsv"), tsv);
        System.out.println();
        System.out.print(md);
    }

    static String opSection(OnnxPair pair, double ratio, int runs, Path out) throws Exception {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%n### %s, batch %d (median ratio %.2f)%n%n", pair.model, pair.batch, ratio));
        s.append("| op | ours | ORT | ours - ORT |\n|---|---|---|---|\n");
        double so = 0, st = 0;
        for (Map.Entry<String, double[]> e : pair.opTimes(runs, out).entrySet()) {
            double[] v = e.getValue();
            so += v[0];
            st += v[1];
            s.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %+.3f |%n", e.getKey(), v[0], v[1], v[0] - v[1]));
        }
        s.append(String.format(Locale.ROOT, "| **sum** | %.3f | %.3f | %+.3f |%n%nOur slowest steps:%n%n", so, st, so - st));
        for (String line : pair.slowestSteps(runs, 8)) s.append("    ").append(line).append('\n');
        return s.toString();
    }

    private static String join(List<OnnxPair.Round> rs, java.util.function.ToDoubleFunction<OnnxPair.Round> f, String fmt) {
        return String.join(", ", rs.stream().map(r -> String.format(Locale.ROOT, fmt, f.applyAsDouble(r))).toList());
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /**
     * The directory of export_onnx_models.py's files, as OnnxModelsTest finds it: the cache root's
     * {@code onnx-models-<hash of the scripts>}, else the newest {@code onnx-models-*} holding them;
     * if none, the script is run once with Debian's /usr/bin/python3 (about 5 minutes on two cores).
     */
    static Path locateModels() throws IOException, InterruptedException {
        Path root = OnnxRuntimeResNetBenchmark.cacheRoot(), repo = OnnxRuntimeResNetBenchmark.repoRoot();
        String marker = "googlenet.opset17.onnx";
        Path hashed = null, script = null;
        if (repo != null) {
            script = repo.resolve("scripts/goldens/export_onnx_models.py");
            hashed = root.resolve("onnx-models-" + OnnxRuntimeResNetBenchmark.hash(script, repo.resolve("scripts/goldens/goldens_io.py")));
            if (Files.isRegularFile(hashed.resolve(marker))) return hashed;
        }
        if (Files.isDirectory(root)) {
            try (var dirs = Files.list(root)) {
                var newest = dirs.filter(d -> d.getFileName().toString().startsWith("onnx-models-") && Files.isRegularFile(d.resolve(marker)))
                        .max(java.util.Comparator.comparingLong(d -> d.toFile().lastModified()));
                if (newest.isPresent()) return newest.get();
            }
        }
        if (script == null) throw new IllegalStateException("no onnx-models-* under " + root + " and scripts/goldens not found: run from the repository");
        System.out.println("exporting the ONNX models once: /usr/bin/python3 " + script + " " + hashed + " (about 5 minutes)");
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), hashed.toString()).directory(repo.toFile()).redirectErrorStream(true).start();
        String log;
        try (InputStream in = p.getInputStream()) {
            log = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(1800, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isRegularFile(hashed.resolve(marker))) {
            throw new IllegalStateException(script + " failed (it needs Debian's python3-torch and python3-torchvision):\n" + log);
        }
        return hashed;
    }
}
