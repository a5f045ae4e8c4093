package dev.panamadnn.benchmarks;

import dev.panamadnn.benchmarks.BenchMain.Job;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The oneDNN C harness ({@code benchmarks/src/main/c/dnnl_layer_bench.c}, compiled by
 * scripts/bench): which of its specs is the C twin of a JMH job, running it on one spec right
 * before that job (so both are timed in neighbouring windows), and reading its TSV lines.
 */
final class CHarness {
    /** One TSV line: {@code spec kernel iterations calls mean_us best_us worst_us check}. */
    record Row(String spec, String kernel, int iterations, long calls, double meanUs, double bestUs, double worstUs,
               boolean checked) {}

    private final Path binary;
    private final int threads;
    private final boolean full;
    private final Path tsv;

    /** Writes every line the harness prints to {@code tsv} (appended), for results/. */
    CHarness(Path binary, int threads, boolean full, Path tsv) {
        this.binary = binary;
        this.threads = threads;
        this.full = full;
        this.tsv = tsv;
    }

    /**
     * The harness spec that mirrors {@code job}, or null if it has none: a layer shape for
     * {@code LayerBenchmark.nativeForward} (the eager path; not BasicBlock, a composite),
     * {@code bare:SHAPE} for DnnlBindingBenchmark, {@code relu:16} for the oneDNN ReLU overhead pair.
     */
    static String specFor(Job job) {
        String b = job.benchmark();
        if (b.equals(LayerBenchmark.class.getName() + ".nativeForward")) {
            return LayerSpec.parse(job.shape()).kind().equals("basicblock") ? null : job.shape();
        }
        if (b.startsWith(DnnlBindingBenchmark.class.getName() + ".")) return "bare:" + job.shape();
        if (b.equals(OverheadBenchmark.class.getName() + ".ffmDnnlRelu16") || b.equals(OverheadBenchmark.class.getName() + ".jniDnnlRelu16")) {
            return "relu:" + OverheadBenchmark.N;
        }
        return null;
    }

    /**
     * Runs the harness on one spec with the profile's timing (JMH's: quick 1 warm-up + 3 x 1 s,
     * full 3 warm-ups + 5 x 2 s) and returns its row.
     *
     * @throws IOException if the harness fails, its check fails or it prints no row for the spec
     */
    Row run(String spec) throws IOException, InterruptedException {
        List<String> command = List.of(binary.toString(), Integer.toString(threads), full ? "3" : "1", full ? "5" : "3",
                full ? "2" : "1", spec);
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        Files.writeString(tsv, out, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Row row = parse(out.lines().toList()).get(spec);
        if (rc != 0 || row == null) {
            throw new IOException(String.join(" ", command) + " exited with " + rc + (row == null ? " and printed no row" : ""));
        }
        return row;
    }

    /** Rows by spec; "#" lines (header, skipped specs) and blank lines are ignored. */
    static Map<String, Row> parse(List<String> lines) {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t");
            if (f.length != 8) throw new IllegalArgumentException("C harness line: expected 8 tab-separated fields, got " + f.length + ": " + line);
            rows.put(f[0], new Row(f[0], f[1], Integer.parseInt(f[2]), Long.parseLong(f[3]), Double.parseDouble(f[4]),
                    Double.parseDouble(f[5]), Double.parseDouble(f[6]), f[7].equals("ok")));
        }
        return rows;
    }

    static Map<String, Row> read(Path file) throws IOException {
        return Files.exists(file) ? parse(Files.readAllLines(file)) : new LinkedHashMap<>();
    }

    /** Distinct specs for {@code jobs}, in job order. */
    static List<String> specsFor(List<Job> jobs) {
        List<String> specs = new ArrayList<>();
        for (Job j : jobs) {
            String s = specFor(j);
            if (s != null && !specs.contains(s)) specs.add(s);
        }
        return specs;
    }
}
