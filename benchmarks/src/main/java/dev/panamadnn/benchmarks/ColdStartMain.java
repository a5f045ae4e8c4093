package dev.panamadnn.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * scripts/bench --cold: cold start of our compiled ResNets vs ONNX Runtime Java, one fresh JVM
 * per measurement ({@link ColdStart}). Seven runtimes per cell: ours with the default options,
 * ours with Winograd off ({@code ours-direct}: no Vector API kernels to JIT-compile, so the table
 * shows what they cost), ours in a JVM started from an AOT cache ({@code ours-aot}, below), ours
 * importing the same {@code .onnx} file ONNX Runtime reads ({@code ours-onnx}), that from an AOT
 * cache ({@code ours-onnx-aot}), ONNX Runtime, and ONNX Runtime from an AOT cache of its own ({@code ort-aot}): a
 * runtime of ours from an AOT cache is compared with that one where it ran, so both sides use the same JDK feature.
 * Each repetition runs every (model, batch) for all of them back to back, rotating which goes
 * first, so the machine's drift hits them alike; repetitions are the outer loop, so they spread
 * over the whole run. Every child JVM gets this JVM's own flags and class path. Writes
 * cold-start.tsv (one row per child and phase) and cold-start.md (median [min-max] per phase, the
 * per-repetition ratios to ORT).
 *
 * <p>{@code ours-aot}, {@code ours-onnx-aot}, {@code ort-aot}: JDK 25's AOT cache (JEP 483 classes loaded and linked ahead, JEP 515 method
 * profiles), the JVM's own answer to start-up cost. Before the repetitions, one training JVM per
 * (runtime, model, batch) runs the same path with {@code -XX:AOTCacheOutput} (JEP 514's one-step
 * workflow) into {@code OUT/aot/}; each measured JVM then starts with {@code -XX:AOTCache} and
 * {@code -XX:AOTMode=on} (it fails rather than run without the cache). Its JVMs leave out
 * {@code --add-modules jdk.incubator.vector}: with an incubator module in the boot layer the
 * JDK cannot use the archived module graph and the cache brings nothing (measured), so this
 * runtime runs without the Vector API kernels (Winograd off, as {@code ours-direct}). The cache
 * needs a class path of jar files only (scripts/bench passes one); with a directory on it the
 * runtime is left out, saying why.
 *
 * <p>Before the first child, the model files are read once, so every repetition finds them in
 * the page cache: the figures are a process's cold start on a machine that has the files cached
 * (a service restart), not a first read from disk.
 *
 * <p>usage: ColdStartMain --out DIR [--dir MODELDIR] [--reps N] [--models resnet18,resnet50]
 * [--batches 1,16] [--runtimes ours,ours-direct,ours-aot,ours-onnx,ours-onnx-aot,ort,ort-aot] [--machine FILE]; without {@code --dir}, the directory
 * {@link OnnxRuntimeResNetBenchmark#locateModel} finds (or fills with scripts/goldens/export_resnet.py).
 */
public final class ColdStartMain {
    private ColdStartMain() {}

    /** The runtimes {@link ColdStart} takes, in table order. */
    static final List<String> RUNTIMES = List.of("ours", "ours-direct", "ours-aot", "ours-onnx", "ours-onnx-aot", "ort", "ort-aot");
    /** Phases in table order, per runtime. */
    static final String[] OURS = {"init", "build", "weights", "compile", "first"};
    static final String[] ORT = {"init", "session", "first"};

    record Row(int rep, String runtime, String model, int batch, Map<String, Double> ms, double launchToResult, double checksum) {
        double get(String k) {
            return ms.getOrDefault(k, Double.NaN);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i], args[i + 1]);
        Path out = Path.of(opt.getOrDefault("--out", "results/cold"));
        int reps = Integer.parseInt(opt.getOrDefault("--reps", "5"));
        String[] models = opt.getOrDefault("--models", "resnet18,resnet50").split(",");
        // Without --dir: where OnnxRuntimeResNetBenchmark finds the exported models (running export_resnet.py once if none).
        Path dir = opt.containsKey("--dir") ? Path.of(opt.get("--dir")) : OnnxRuntimeResNetBenchmark.locateModel(models[0]).getParent();
        int[] batches = Arrays.stream(opt.getOrDefault("--batches", "1,16").split(",")).mapToInt(Integer::parseInt).toArray();
        String machine = opt.containsKey("--machine") ? Files.readString(Path.of(opt.get("--machine"))) : "";
        Files.createDirectories(out);
        for (String m : models) {
            for (String ext : new String[] {".safetensors", ".onnx"}) {
                Path f = dir.resolve(m + ext);
                if (!Files.isRegularFile(f)) {
                    throw new IllegalStateException("ColdStartMain: " + f + " is missing: run /usr/bin/python3 scripts/goldens/export_resnet.py "
                            + dir + " --models " + String.join(",", models));
                }
                try (InputStream in = Files.newInputStream(f)) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());   // into the page cache
                }
            }
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments();
        command.addAll(flags);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ColdStart.class.getName());
        List<String> runtimes = new ArrayList<>();
        for (String rt : opt.getOrDefault("--runtimes", String.join(",", RUNTIMES)).split(",")) {
            if (!RUNTIMES.contains(rt)) throw new IllegalArgumentException("ColdStartMain: --runtimes takes " + RUNTIMES + ", got '" + rt + "'");
            if (!runtimes.contains(rt)) runtimes.add(rt);
        }
        Map<String, Path> aotCaches = new LinkedHashMap<>();
        List<String> aot = runtimes.stream().filter(ColdStartMain::fromAotCache).toList();
        if (!aot.isEmpty()) {
            String why = aotUnavailable(System.getProperty("java.class.path"));
            if (why != null) {
                System.out.println("cold start: leaving " + aot + " out: " + why);
                runtimes.removeAll(aot);
            } else {
                for (String rt : aot) {
                    for (String m : models) {
                        for (int b : batches) aotCaches.put(rt + "-" + m + "-b" + b, train(command, out.resolve("aot"), rt, m, b, dir));
                    }
                }
            }
        }
        System.out.println("cold start: " + reps + " repetitions x " + models.length + " models x " + batches.length
                + " batches x " + runtimes + ", one JVM each; flags " + String.join(" ", flags));

        List<Row> rows = new ArrayList<>();
        int n = 0, total = reps * models.length * batches.length * runtimes.size();
        for (int rep = 1; rep <= reps; rep++) {
            int cell = 0;
            for (String m : models) {
                for (int b : batches) {
                    for (String rt : order(runtimes, rep, cell++)) {
                        n++;
                        Row r = launch(fromAotCache(rt) ? aotCommand(command, "-XX:AOTCache=" + aotCaches.get(rt + "-" + m + "-b" + b), "-XX:AOTMode=on")
                                : command, rep, rt, m, b, dir);
                        rows.add(r);
                        System.out.printf(Locale.ROOT, "[%d/%d] rep %d %-11s %s b%d: %s, launch to result %.0f ms%n", n, total, rep, rt, m, b,
                                describe(r), r.launchToResult());
                        System.out.flush();
                    }
                }
            }
        }
        StringBuilder tsv = new StringBuilder("rep\truntime\tmodel\tbatch\tphase\tms\n");
        for (Row r : rows) {
            r.ms().forEach((k, v) -> tsv.append(String.format(Locale.ROOT, "%d\t%s\t%s\t%d\t%s\t%.1f%n", r.rep(), r.runtime(), r.model(), r.batch(), k, v)));
            tsv.append(String.format(Locale.ROOT, "%d\t%s\t%s\t%d\tlaunch\t%.1f%n", r.rep(), r.runtime(), r.model(), r.batch(), r.launchToResult()));
        }
        Files.writeString(out.resolve("cold-start.tsv"), tsv);
        String md = report(rows, runtimes, models, batches, reps, flags, machine);
        Files.writeString(out.resolve("cold-start.md"), md);
        System.out.println();
        System.out.println(md);
    }

    /** The order of the runtimes in one cell: rotated by one per repetition and per cell, so each runtime takes each place alike. */
    static List<String> order(List<String> runtimes, int rep, int cell) {
        int k = runtimes.size(), shift = (rep + cell) % k;
        List<String> out = new ArrayList<>();
        for (int i = 0; i < k; i++) out.add(runtimes.get((i + shift) % k));
        return out;
    }

    /** Whether {@code runtime} is ONNX Runtime (from an AOT cache or not). */
    static boolean isOrt(String runtime) {
        return runtime.startsWith("ort");
    }

    /**
     * The ONNX Runtime row {@code runtime} is compared with: {@code ort-aot} for a runtime started from an AOT cache when
     * it ran (both JVMs then use the same JDK feature), else {@code ort}; null when neither ran.
     */
    static String baseline(String runtime, List<String> runtimes) {
        if (fromAotCache(runtime) && runtimes.contains("ort-aot")) return "ort-aot";
        return runtimes.contains("ort") ? "ort" : null;
    }

    /** Whether {@code runtime}'s JVMs start from an AOT cache (trained first). */
    static boolean fromAotCache(String runtime) {
        return runtime.endsWith("-aot");
    }

    /** Why this class path cannot go into an AOT cache (the JDK takes jar files only), or null. */
    static String aotUnavailable(String classPath) {
        for (String e : classPath.split(java.io.File.pathSeparator)) {
            if (!e.endsWith(".jar") || !Files.isRegularFile(Path.of(e))) {
                return "an AOT cache takes a class path of jar files only, and it has " + e;
            }
        }
        return null;
    }

    /**
     * The command for an {@code ours-aot} JVM: {@code command} without {@code --add-modules jdk.incubator.vector} (an
     * incubator module in the boot layer keeps the JDK from using the archived module graph, and then the cache brings
     * nothing), with {@code extra} before the class path.
     */
    static List<String> aotCommand(List<String> command, String... extra) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < command.size(); i++) {
            String a = command.get(i);
            if (a.equals("--add-modules") && i + 1 < command.size() && command.get(i + 1).equals("jdk.incubator.vector")) {
                i++;
                continue;
            }
            if (a.equals("--add-modules=jdk.incubator.vector")) continue;
            if (a.equals("-cp")) out.addAll(List.of(extra));
            out.add(a);
        }
        return out;
    }

    /** One training JVM (JEP 514's one-step workflow) writing the AOT cache of {@code runtime} for {@code model} at {@code batch}; returns its path. */
    private static Path train(List<String> command, Path dir, String runtime, String model, int batch, Path modelDir)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path cache = dir.resolve(runtime + "-" + model + "-b" + batch + ".aot");
        Files.deleteIfExists(cache);
        long t0 = System.nanoTime();
        launch(aotCommand(command, "-XX:AOTCacheOutput=" + cache), 0, runtime, model, batch, modelDir);
        if (!Files.isRegularFile(cache)) throw new IllegalStateException("ColdStartMain: the training JVM wrote no AOT cache " + cache);
        System.out.printf(Locale.ROOT, "AOT cache for %s %s b%d: %s, %.1f MB, trained in %.1f s%n", runtime, model, batch, cache, Files.size(cache) / 1e6,
                (System.nanoTime() - t0) / 1e9);
        return cache;
    }

    private static String describe(Row r) {
        StringBuilder sb = new StringBuilder();
        r.ms().forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append(' ').append(String.format(Locale.ROOT, "%.0f", v)));
        return sb.toString();
    }

    private static Row launch(List<String> command, int rep, String runtime, String model, int batch, Path dir)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of(runtime, model, String.valueOf(batch), dir.toString()));
        Instant start = Instant.now();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output;
        try (InputStream in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("ColdStart " + runtime + " " + model + " b" + batch + " did not finish in 600 s");
        }
        String line = output.lines().filter(l -> l.startsWith("COLD ")).findFirst().orElse(null);
        if (p.exitValue() != 0 || line == null) {
            throw new IllegalStateException("ColdStart " + String.join(" ", cmd.subList(cmd.size() - 4, cmd.size())) + " failed (exit "
                    + p.exitValue() + "):\n" + output);
        }
        return parse(rep, line, start.getEpochSecond() * 1_000_000L + start.getNano() / 1000);
    }

    /** A {@link ColdStart} result line; {@code launchEpochUs}: the wall clock just before that JVM was spawned. */
    static Row parse(int rep, String line, long launchEpochUs) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String f : line.substring("COLD ".length()).split(" ")) {
            int eq = f.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("ColdStartMain: expected key=value, got '" + f + "' in: " + line);
            kv.put(f.substring(0, eq), f.substring(eq + 1));
        }
        String runtime = kv.get("runtime");
        Map<String, Double> ms = new LinkedHashMap<>();
        for (String k : isOrt(runtime) ? ORT : OURS) ms.put(k, number(kv, k, line));
        for (String k : new String[] {"second", "total", "jvm"}) ms.put(k, number(kv, k, line));
        if (kv.containsKey("cpu")) ms.put("cpu", number(kv, "cpu", line));   // process CPU ms at the first result: the .tsv only
        double launch = (Long.parseLong(kv.get("resultEpochUs")) - launchEpochUs) / 1000.0;
        return new Row(rep, runtime, kv.get("model"), Integer.parseInt(kv.get("batch")), ms, launch, number(kv, "checksum", line));
    }

    private static double number(Map<String, String> kv, String key, String line) {
        String v = kv.get(key);
        if (v == null) throw new IllegalArgumentException("ColdStartMain: no " + key + " in: " + line);
        return Double.parseDouble(v);
    }

    /** The median, min and max of the non-NaN values as "median [min-max]". */
    static String stats(double[] v) {
        double[] s = Arrays.stream(v).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (s.length == 0) return "–";
        if (s.length == 1) return fmt(s[0]);
        return fmt(ResNetJobs.median(s)) + " [" + fmt(s[0]) + "–" + fmt(s[s.length - 1]) + "]";
    }

    private static String fmt(double x) {
        if (Double.isNaN(x)) return "–";
        return x >= 100 ? String.format(Locale.ROOT, "%.0f", x) : String.format(Locale.ROOT, "%.1f", x);
    }

    private static double[] values(List<Row> rows, String runtime, String model, int batch, String phase) {
        return rows.stream().filter(r -> r.runtime().equals(runtime) && r.model().equals(model) && r.batch() == batch)
                .mapToDouble(r -> phase.equals("launch") ? r.launchToResult() : r.get(phase)).toArray();
    }

    static String report(List<Row> rows, List<String> runtimes, String[] models, int[] batches, int reps, List<String> flags, String machine) {
        StringBuilder sb = new StringBuilder("## Cold start: compiled ResNet vs ONNX Runtime Java (fresh JVM each, ms)\n\n");
        if (!machine.isBlank()) sb.append("```\n").append(machine.strip()).append("\n```\n\n");
        sb.append("| model | batch | runtime | init | build | weights / import | compile / session | first run | main → first result "
                + "| JVM start → first result | launch → first result | second run |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (String m : models) {
            for (int b : batches) {
                for (String rt : runtimes) {
                    boolean ours = !isOrt(rt);
                    sb.append("| ").append(m).append(" | ").append(b).append(" | ").append(label(rt))
                      .append(" | ").append(ours && java.util.Arrays.stream(values(rows, rt, m, b, "init")).allMatch(x -> x == 0) ? "–"
                              : stats(values(rows, rt, m, b, "init")))   // ours: no init of its own (the natives load beside the build)
                      .append(" | ").append(ours && !rt.startsWith("ours-onnx") ? stats(values(rows, rt, m, b, "build")) : "–")
                      .append(" | ").append(ours ? stats(values(rows, rt, m, b, "weights")) : "–")
                      .append(" | ").append(stats(values(rows, rt, m, b, ours ? "compile" : "session")))
                      .append(" | ").append(stats(values(rows, rt, m, b, "first")))
                      .append(" | **").append(stats(values(rows, rt, m, b, "total"))).append("**")
                      .append(" | ").append(stats(values(rows, rt, m, b, "jvm")))
                      .append(" | ").append(stats(values(rows, rt, m, b, "launch")))
                      .append(" | ").append(stats(values(rows, rt, m, b, "second"))).append(" |\n");
                }
            }
        }
        List<String> compared = new ArrayList<>();   // ours, each against its baseline (ORT, or ORT from an AOT cache)
        for (String rt : runtimes) if (!isOrt(rt) && baseline(rt, runtimes) != null) compared.add(rt);
        List<String> mismatches = new ArrayList<>();
        if (!compared.isEmpty()) {
            sb.append("\n| model | batch |");
            for (String rt : compared) {
                sb.append(" ").append(label(rt)).append(" / ").append(ortName(baseline(rt, runtimes)))
                  .append(", main → first result, per repetition | **median** |");
            }
            sb.append(" ours / ORT, JVM start → first result (median) |\n|---|---|");
            sb.append("---|---|".repeat(compared.size())).append("---|\n");
            for (String m : models) {
                for (int b : batches) {
                    sb.append("| ").append(m).append(" | ").append(b).append(" |");
                    double[] jvmRatio = new double[reps];
                    Arrays.fill(jvmRatio, Double.NaN);
                    for (String rt : compared) {
                        double[] ratio = new double[reps];
                        Arrays.fill(ratio, Double.NaN);
                        for (int rep = 1; rep <= reps; rep++) {
                            Row t = find(rows, rep, baseline(rt, runtimes), m, b), o = find(rows, rep, rt, m, b);
                            if (t == null || o == null) continue;
                            ratio[rep - 1] = o.get("total") / t.get("total");
                            if (rt.equals("ours")) jvmRatio[rep - 1] = o.get("jvm") / t.get("jvm");
                            if (Math.abs(o.checksum() - t.checksum()) > 1e-3 * Math.max(1, Math.abs(t.checksum()))) {
                                mismatches.add(String.format(Locale.ROOT, "%s b%d rep %d: %s %.6g, %s %.6g", m, b, rep, o.runtime(), o.checksum(),
                                        ortName(t.runtime()), t.checksum()));
                            }
                        }
                        sb.append(" ").append(ratios(ratio)).append(" | **").append(ratio(ResNetJobs.median(ratio))).append("** |");
                    }
                    sb.append(" ").append(ratio(ResNetJobs.median(jvmRatio))).append(" |\n");
                }
            }
        }
        sb.append("\nmedian [min–max] over ").append(reps).append(" fresh JVMs per cell; each repetition runs the runtimes back to back "
                + "(rotating which goes first). Ours: no init (building the first layer starts loading the natives on a thread of its own, "
                + "as in any program: the load overlaps the build, and the compile waits for it if needed), build = the ResNet builder inside Init.skip (allocates "
                + "every parameter, leaves the random init out: the checkpoint overwrites it), weights = SafeTensors.load (map, check, copy), compile = CompiledModel.compile (default options; "
                + "Winograd off: CompileOptions.withWinograd(false)), first run = the first run without warmup(). Ours, ONNX import: "
                + "no init or build, import = Onnx.load of the .onnx file ONNX Runtime reads (it starts loading the natives on a thread "
                + "of its own, as in a program that imports a model), compile = CompiledModel.compile of its graph (waiting for the natives "
                + "if they are still loading). "
                + "AOT cache: the same path in a JVM started with -XX:AOTCache (JDK 25; trained by one JVM per runtime and cell beforehand) "
                + "and without --add-modules jdk.incubator.vector, so without Winograd (the cache is unusable with an incubator module); "
                + "compared with ONNX Runtime from an AOT cache of its own where that ran (same JDK feature on both sides). "
                + "ONNX Runtime: init = "
                + "OrtEnvironment.getEnvironment(), session = createSession from the .onnx file (ALL_OPT, same intra-op threads), first "
                + "run. main → first result sums the phases (plus making the input); JVM start → first result adds the JVM's own start "
                + "(RuntimeMXBean uptime); launch → first result is measured from before the process is spawned. Ratio > 1: ours is "
                + "slower. Model files in the page cache. JVM flags: `").append(String.join(" ", flags)).append("`.\n");
        sb.append("\n| model | batch | process CPU at the first result:");
        for (String rt : runtimes) sb.append(" ").append(label(rt)).append(" |");
        sb.append(" **ours / ORT** |\n|---|---|").append("---|".repeat(runtimes.size())).append("---|\n");
        for (String m : models) {
            for (int b : batches) {
                sb.append("| ").append(m).append(" | ").append(b).append(" |");
                for (String rt : runtimes) sb.append(" ").append(fmt(ResNetJobs.median(values(rows, rt, m, b, "cpu")))).append(" |");
                double o = ResNetJobs.median(values(rows, "ours", m, b, "cpu")), t = ResNetJobs.median(values(rows, "ort", m, b, "cpu"));
                sb.append(" **").append(ratio(o / t)).append("** |\n");
            }
        }
        sb.append("\nCPU: user + system time of the whole process (every thread: JIT, GC, OpenMP) when the first result is there, ms, "
                + "median; a busy machine stretches wall times far more than this.\n");
        sb.append(mismatches.isEmpty() ? "\nOutputs agree: the sum of the logits matches ONNX Runtime's in every repetition.\n"
                : "\n**Outputs differ** (sum of logits): " + String.join("; ", mismatches) + "\n");
        return sb.toString();
    }

    private static String label(String runtime) {
        return switch (runtime) {
            case "ours" -> "ours";
            case "ours-direct" -> "ours, Winograd off";
            case "ours-aot" -> "ours, AOT cache";
            case "ours-onnx" -> "ours, ONNX import";
            case "ours-onnx-aot" -> "ours, ONNX import, AOT cache";
            case "ort-aot" -> "ONNX Runtime, AOT cache";
            default -> "ONNX Runtime";
        };
    }

    /** ONNX Runtime's short name in the ratio columns: {@code ORT}, or {@code ORT, AOT cache} for {@code ort-aot}. */
    private static String ortName(String runtime) {
        return runtime.equals("ort-aot") ? "ORT, AOT cache" : "ORT";
    }

    private static String ratios(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (double x : v) sb.append(sb.length() == 0 ? "" : ", ").append(ratio(x));
        return sb.toString();
    }

    private static String ratio(double x) {
        return Double.isNaN(x) ? "–" : String.format(Locale.ROOT, "%.2f", x);
    }

    private static Row find(List<Row> rows, int rep, String runtime, String model, int batch) {
        return rows.stream().filter(r -> r.rep() == rep && r.runtime().equals(runtime) && r.model().equals(model) && r.batch() == batch)
                .findFirst().orElse(null);
    }
}
