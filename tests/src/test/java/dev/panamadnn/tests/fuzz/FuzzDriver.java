package dev.panamadnn.tests.fuzz;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@link Fuzzer} in child JVMs (same java, same class path) so that a JVM crash or a hang
 * is a reported finding instead of the end of the test suite: when a child dies without its
 * SUMMARY line, the case it was running (its last RUN line without a result) is recorded as a
 * CRASH with the exit status and the hs_err headline, and a new child resumes after it.
 *
 * <p>As a main (scripts/fuzz): {@code FuzzDriver [--log FILE] [--deadline-s S] [--threads N] FUZZER-ARGS...};
 * prints every non-OK line as it comes and the totals; exit status 1 on any finding or crash.
 */
public final class FuzzDriver {
    private static final Pattern RUN = Pattern.compile("^RUN i=(\\d+) (\\S+) (.*)$");
    private static final Pattern RESULT = Pattern.compile("^(\\S+)#(\\d+) i=(\\d+) (OK|FINDING|KNOWN\\[[^]]*\\]) .*$");

    /** What a whole run found. {@code problems} are FINDING, CRASH, HANG and TIMEOUT lines, each with its replay. */
    public record Report(int cases, int ok, int known, List<String> problems, List<String> knownLines, Map<String, int[]> perFamily,
                         int children, double seconds) {
        public boolean clean() {
            return problems.isEmpty();
        }

        public String summary() {
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                    "fuzz: %d cases in %.1f s (%d child JVMs): %d ok, %d known-open, %d findings/crashes%n", cases, seconds, children, ok,
                    known, problems.size()));
            perFamily.forEach((f, n) -> s.append(String.format(Locale.ROOT, "  %-16s %5d cases  %5d ok  %4d known  %4d findings%n", f,
                    n[0], n[1], n[2], n[3])));
            return s.toString();
        }
    }

    private FuzzDriver() {}

    /**
     * Runs the fuzzer with {@code fuzzerArgs}, restarting after each crash (at most 20), within
     * {@code deadlineS} seconds overall; every child line goes to {@code log} (if not null) and
     * each non-OK one to {@code echo}.
     */
    public static Report run(List<String> fuzzerArgs, List<String> jvmOptions, long deadlineS, Path log, Consumer<String> echo)
            throws IOException, InterruptedException {
        long t0 = System.nanoTime(), deadline = t0 + deadlineS * 1_000_000_000L;
        List<String> problems = new ArrayList<>(), knownLines = new ArrayList<>();
        Map<String, int[]> perFamily = new LinkedHashMap<>();   // {cases, ok, known, findings}
        int cases = 0, ok = 0, known = 0, children = 0, from = 0;
        Path errDir = log != null ? log.toAbsolutePath().getParent() : Files.createTempDirectory("fuzz");
        Files.createDirectories(errDir);
        try (PrintWriter logOut = log == null ? null : new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8))) {
            while (true) {
                children++;
                List<String> cmd = new ArrayList<>();
                cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                cmd.addAll(jvmOptions);
                cmd.add("-XX:ErrorFile=" + errDir.resolve("hs_err_fuzz_%p.log"));
                cmd.add("-cp");
                cmd.add(System.getProperty("java.class.path"));
                cmd.add(Fuzzer.class.getName());
                cmd.addAll(fuzzerArgs);
                cmd.add("--from");
                cmd.add(Integer.toString(from));
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String lastRun = null;
                boolean summary = false, hung = false;
                List<String> tail = new ArrayList<>();
                Thread killer = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        long left = deadline - System.nanoTime();
                        if (left > 0 && p.waitFor(left, TimeUnit.NANOSECONDS)) return;
                        p.destroyForcibly();
                    } catch (InterruptedException e) {
                        // finished
                    }
                });
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (logOut != null) logOut.println(line);
                        Matcher m;
                        if (line.startsWith("RUN ")) {
                            lastRun = line;
                        } else if ((m = RESULT.matcher(line)).matches()) {
                            lastRun = null;
                            String verdict = m.group(4);
                            int[] n = perFamily.computeIfAbsent(m.group(1), f -> new int[4]);
                            n[0]++;
                            cases++;
                            if (verdict.equals("OK")) {
                                n[1]++;
                                ok++;
                            } else if (verdict.startsWith("KNOWN")) {
                                n[2]++;
                                known++;
                                knownLines.add(line);
                            } else {
                                n[3]++;
                                problems.add(line);
                                echo.accept(line);
                            }
                        } else if (line.startsWith("SUMMARY ")) {
                            summary = true;
                        } else if (line.startsWith("HANG ")) {
                            hung = true;
                            problems.add(line);
                            echo.accept(line);
                        } else if (!line.startsWith("FAMILY ")) {
                            tail.add(line);   // JVM warnings, a crash's banner
                            if (tail.size() > 40) tail.remove(0);
                        }
                    }
                }
                p.waitFor();
                killer.interrupt();
                if (summary && p.exitValue() <= 1) break;
                boolean timedOut = System.nanoTime() >= deadline;
                String crash = (timedOut ? "TIMEOUT after " + deadlineS + " s" : "CRASH exit=" + p.exitValue() + signal(p.exitValue()))
                        + (lastRun != null ? " in " + lastRun.substring(4) : " outside any case") + " :: " + banner(tail, errDir);
                if (!hung) {
                    problems.add(crash);
                    echo.accept(crash);
                }
                if (timedOut || lastRun == null || children > 20) break;
                Matcher m = RUN.matcher(lastRun);
                if (!m.matches()) break;
                String[] idk = m.group(2).split("#");
                int[] n = perFamily.computeIfAbsent(idk[0], f -> new int[4]);
                n[0]++;
                n[3]++;
                cases++;
                from = Integer.parseInt(m.group(1)) + 1;
            }
        }
        return new Report(cases, ok, known, problems, knownLines, perFamily, children, (System.nanoTime() - t0) / 1e9);
    }

    private static String signal(int exit) {
        return exit > 128 ? " (signal " + (exit - 128) + ")" : "";
    }

    /** The crash's headline: the JVM's "fatal error" lines (signal, problematic frame), else the output's last lines. */
    private static String banner(List<String> tail, Path errDir) {
        List<String> keep = new ArrayList<>();
        for (String l : tail) {
            if (l.startsWith("# SIG") || l.startsWith("# C ") || l.startsWith("# J ") || l.startsWith("# V ") || l.contains("Problematic frame")
                    || l.startsWith("# Internal Error") || l.contains("Error:") || l.contains("Exception")) {
                keep.add(l.trim());
            }
        }
        if (keep.isEmpty()) keep = tail.subList(Math.max(0, tail.size() - 5), tail.size());
        return String.join(" | ", keep) + " (hs_err files in " + errDir + ")";
    }

    /** The default child JVM options: the project's test flags, bounded memory (huge sizes fail fast instead of paging), 1 thread. */
    public static List<String> jvmOptions(int threads) {
        List<String> o = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-Xmx512m", "-XX:MaxDirectMemorySize=256m", "-Dpanamadnn.threads=" + threads));
        String natives = System.getProperty("panamadnn.natives.dir");
        if (natives != null && !natives.isBlank()) o.add("-Dpanamadnn.natives.dir=" + natives);
        return o;
    }

    public static void main(String[] args) throws Exception {
        Path log = null;
        long deadline = 24 * 3600;
        int threads = 1;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--log" -> log = Path.of(args[++i]);
                case "--deadline-s" -> deadline = Long.parseLong(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> rest.add(args[i]);
            }
        }
        Fuzzer.parse(rest.toArray(String[]::new));   // fail early on a bad option
        Report r = run(rest, jvmOptions(threads), deadline, log, System.out::println);
        System.out.print(r.summary());
        if (log != null) System.out.println("full log: " + log.toAbsolutePath());
        System.exit(r.clean() ? 0 : 1);
    }
}
