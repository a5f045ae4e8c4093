package dev.panamadnn.benchmarks;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Memory of a served model, ours against ONNX Runtime Java: per model, {@code --reps} fresh JVMs of each runtime in
 * alternating order ({@link MemoryProbe}: load the {@code .onnx} file of {@code scripts/bench --onnx}, run every batch
 * size of {@code --batches} once), the resident set (VmRSS) at the start of {@code main}, after the load and after
 * serving; medians. Writes {@code memory.md} and {@code memory.tsv} under {@code --out}.
 *
 * <pre>MemoryMain --out DIR [--models m,m] [--batches 1,2,4,8,16] [--reps 3] [--threads 2] [--machine FILE] [--direct yes]</pre>
 * ({@code --direct yes}: ours with Winograd off as a third runtime)
 */
public final class MemoryMain {
    private MemoryMain() {}

    record Row(String model, String runtime, int rep, Map<String, Double> mb) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i], args[i + 1]);
        Path out = Path.of(opt.getOrDefault("--out", "results/memory"));
        List<String> models = Arrays.asList(opt.getOrDefault("--models", String.join(",", OnnxBenchMain.MODELS)).split(","));
        for (String m : models) if (!OnnxBenchMain.MODELS.contains(m)) throw new IllegalArgumentException("unknown model " + m + " (models: " + OnnxBenchMain.MODELS + ")");
        String batches = opt.getOrDefault("--batches", "1,2,4,8,16");
        int reps = Integer.parseInt(opt.getOrDefault("--reps", "3"));
        String threads = opt.getOrDefault("--threads", "2");
        String machine = opt.containsKey("--machine") ? Files.readString(Path.of(opt.get("--machine"))) : "";
        Files.createDirectories(out);
        Path dir = OnnxBenchMain.locateModels();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(MemoryProbe.class.getName());
        List<Row> rows = new ArrayList<>();
        List<String> runtimes = opt.containsKey("--direct") ? List.of("ours", "ours-direct", "ort") : List.of("ours", "ort");
        int n = 0, total = models.size() * reps * runtimes.size();
        for (String model : models) {
            Path file = dir.resolve(model + ".opset13.onnx");
            for (int rep = 1; rep <= reps; rep++) {
                for (String runtime : order(rep, runtimes)) {
                    List<String> cmd = new ArrayList<>(command);
                    cmd.addAll(List.of(runtime, file.toString(), threads, batches));
                    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(runtime + " " + model + " failed:\n" + log);
                    String line = log.lines().filter(l -> l.startsWith("runtime=")).reduce((a, b) -> b).orElseThrow(() -> new IllegalStateException(log));
                    Map<String, Double> mb = new LinkedHashMap<>();
                    for (String kv : line.split(" ")) {
                        String[] p2 = kv.split("=");
                        if (!p2[0].equals("runtime")) mb.put(p2[0], Double.parseDouble(p2[1]));
                    }
                    rows.add(new Row(model, runtime, rep, mb));
                    System.out.printf(Locale.ROOT, "[%d/%d] %s %s rep %d: %s%n", ++n, total, model, runtime, rep, line);
                }
            }
        }
        StringBuilder tsv = new StringBuilder("model\truntime\trep\tphase\tmb\n");
        for (Row r : rows) r.mb().forEach((k, v) -> tsv.append(String.format(Locale.ROOT, "%s\t%s\t%d\t%s\t%.0f%n", r.model(), r.runtime(), r.rep(), k, v)));
        Files.writeString(out.resolve("memory.tsv"), tsv);
        StringBuilder md = new StringBuilder("# Memory of a served model: ours vs ONNX Runtime Java\n\n");
        if (!machine.isEmpty()) md.append("```\n").append(machine).append("```\n\n");
        md.append(String.format(Locale.ROOT, "Each cell: the median over %d fresh JVMs per runtime (alternating order) of the resident set (VmRSS, MB). "
                + "A JVM loads the model's opset-13 file from `scripts/bench --onnx` (ours: `Onnx.load`; ORT: `createSession`, `ALL_OPT`) and runs "
                + "it once at each batch size %s (ours: one `PlanSet`, every plan warmed up; ORT: one session), %s intra-op threads. "
                + "*JVM*: at the start of `main`; *loaded*: after the load; *served*: after every batch size ran; *settled*: then after a GC "
                + "and a second (the JVM gives back the heap the compiles grew). Ours also: the plan set's constants "
                + "(`PlanSet.constantBytes()`, MB: weights in the primitives' layouts and Winograd's transformed weights) and the Java heap "
                + "in use after a GC.%n%n", reps, batches, threads));
        md.append("| model | ours: JVM / loaded / served / settled | ORT: JVM / loaded / served / settled | served, ours / ORT | "
                + "**settled, ours / ORT** | ours: constants, heap |\n|---|---|---|---|---|---|\n");
        for (String model : models) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f | **%.2f** | %.0f, %.0f |%n", model, cells(rows, model, "ours"),
                    cells(rows, model, "ort"), median(rows, model, "ours", "served") / median(rows, model, "ort", "served"),
                    median(rows, model, "ours", "settled") / median(rows, model, "ort", "settled"), median(rows, model, "ours", "constants"),
                    median(rows, model, "ours", "heap")));
        }
        if (runtimes.contains("ours-direct")) {
            md.append("\nWith Winograd off (`CompileOptions.withWinograd(false)`: no transformed weights, slower 3x3 convolutions):\n\n"
                    + "| model | ours, Winograd off: JVM / loaded / served / settled | **settled, ours Winograd off / ORT** | constants |\n|---|---|---|---|\n");
            for (String model : models) {
                md.append(String.format(Locale.ROOT, "| %s | %s | **%.2f** | %.0f |%n", model, cells(rows, model, "ours-direct"),
                        median(rows, model, "ours-direct", "settled") / median(rows, model, "ort", "settled"), median(rows, model, "ours-direct", "constants")));
            }
        }
        Files.writeString(out.resolve("memory.md"), md);
        System.out.println();
        System.out.println(md);
    }

    /** The runtimes in the order of repetition {@code rep}: rotated by one each time, so each goes first alike. */
    static List<String> order(int rep, List<String> runtimes) {
        List<String> r = new ArrayList<>(runtimes);
        java.util.Collections.rotate(r, rep - 1);
        return r;
    }

    private static String cells(List<Row> rows, String model, String runtime) {
        return String.format(Locale.ROOT, "%.0f / %.0f / %.0f / %.0f", median(rows, model, runtime, "start"), median(rows, model, runtime, "load"),
                median(rows, model, runtime, "served"), median(rows, model, runtime, "settled"));
    }

    private static double median(List<Row> rows, String model, String runtime, String phase) {
        double[] v = rows.stream().filter(r -> r.model().equals(model) && r.runtime().equals(runtime) && r.mb().containsKey(phase))
                .mapToDouble(r -> r.mb().get(phase)).toArray();
        return v.length == 0 ? Double.NaN : OnnxBenchMain.median(v);
    }
}
