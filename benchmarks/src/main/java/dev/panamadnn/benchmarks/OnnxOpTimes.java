package dev.panamadnn.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Per-op times of one run, for naming the op a model loses on: ours from the plan's per-step
 * medians ({@code CompiledModel.profileSteps}, grouped by what each step is), ONNX Runtime's from its
 * profiler's JSON (Chrome trace events, one per node and run: {@code "dur"} in µs, {@code
 * "args": {"op_name": ...}}), each node's median over the runs, summed per op. Both grouped into one vocabulary
 * ({@link #category}) so the two columns line up: a fused Conv+Relu is "conv" on both sides, our
 * layout reorders and ORT's NCHWc ReorderInput/ReorderOutput are "reorder".
 */
final class OnnxOpTimes {
    private OnnxOpTimes() {}

    /** Our steps: the category of each step's description, its median ms summed per category. */
    static Map<String, Double> ours(List<String> steps, double[] ms) {
        Map<String, Double> by = new TreeMap<>();
        for (int i = 0; i < steps.size(); i++) by.merge(oursCategory(steps.get(i)), ms[i], Double::sum);
        return by;
    }

    /** The category of one of our step descriptions ("conv /features.0/Conv+... [brg...]", "java concat ...", "reorder into ..."). */
    static String oursCategory(String description) {
        String d = description.toLowerCase(Locale.ROOT);
        if (d.startsWith("reorder")) return "reorder";
        if (d.startsWith("conv ")) return "conv";
        if (d.contains("pool")) return d.contains("global") || d.contains("adaptive") ? "global pool" : "pool";
        String[] words = d.split(" ");
        if (words[0].equals("java") && words.length > 1) return category(words[1]) + " (java)";
        if (words[0].equals("eltwise") && words.length > 1) return category(words[1]);
        return category(words[0]);
    }

    /** One vocabulary for both runtimes' op names. */
    static String category(String op) {
        String o = op.toLowerCase(Locale.ROOT);
        return switch (o) {
            case "fusedconv", "conv", "nchwcconv" -> "conv";
            case "reorderinput", "reorderoutput" -> "reorder";
            case "fusedgemm", "gemm", "matmul", "fusedmatmul", "linear" -> "gemm";
            case "maxpool", "averagepool", "nchwcmaxpool", "nchwcaveragepool" -> "pool";
            case "globalaveragepool", "globalmaxpool", "nchwcglobalaveragepool" -> "global pool";
            case "swish", "silu", "quickgelu" -> "silu";
            case "gelu_erf", "gelu_tanh", "gelu", "fastgelu", "biasgelu" -> "gelu";
            default -> o;
        };
    }

    private static final Pattern EVENT = Pattern.compile("\"cat\"\\s*:\\s*\"Node\".*?\"dur\"\\s*:\\s*(\\d+).*?\"name\"\\s*:\\s*\"([^\"]*)\""
            + ".*?\"op_name\"\\s*:\\s*\"([^\"]*)\"");

    /**
     * ONNX Runtime's profile (the file {@code endProfiling()} returns): per category, the sum over its
     * nodes of each node's median kernel time over the runs after the first (whose {@code model_run}
     * event ends it), in ms: the same statistic as ours, so a run preempted on a busy machine does
     * not weigh on one side only. Only the {@code *_kernel_time} events count (not the fence_before/
     * after pairs around them). Each event is one line of the file; a format change that matches
     * nothing fails rather than reporting zero.
     */
    static Map<String, Double> ort(Path profile) throws IOException {
        Map<String, List<Long>> byNode = new LinkedHashMap<>();
        Map<String, String> opOf = new HashMap<>();
        boolean firstRunDone = false;
        for (String line : Files.readAllLines(profile)) {
            if (line.contains("\"model_run\"")) {   // the end of a run: what follows belongs to the timed runs
                firstRunDone = true;
                continue;
            }
            Matcher m = EVENT.matcher(line);
            if (!firstRunDone || !m.find() || !m.group(2).endsWith("_kernel_time")) continue;
            byNode.computeIfAbsent(m.group(2), k -> new java.util.ArrayList<>()).add(Long.parseLong(m.group(1)));
            opOf.put(m.group(2), m.group(3));
        }
        if (byNode.isEmpty()) throw new IllegalStateException(profile + ": no node kernel events (ONNX Runtime's profile format changed?)");
        Map<String, Double> by = new TreeMap<>();
        byNode.forEach((node, us) -> by.merge(category(opOf.get(node)),
                OnnxBenchMain.median(us.stream().mapToDouble(Long::doubleValue).toArray()) / 1e3, Double::sum));
        return by;
    }

    /** Both sides in one table: category, ours ms, ORT ms, ours - ORT, sorted by how much more we take. */
    static Map<String, double[]> sideBySide(Map<String, Double> ours, Map<String, Double> ort) {
        Map<String, double[]> rows = new HashMap<>();
        ours.forEach((k, v) -> rows.computeIfAbsent(k, x -> new double[2])[0] += v);
        ort.forEach((k, v) -> rows.computeIfAbsent(k, x -> new double[2])[1] += v);
        Map<String, double[]> sorted = new LinkedHashMap<>();
        rows.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0] - b.getValue()[1], a.getValue()[0] - a.getValue()[1]))
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }
}
