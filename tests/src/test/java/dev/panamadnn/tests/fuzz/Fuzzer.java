package dev.panamadnn.tests.fuzz;

import dev.panamadnn.tests.fuzz.FuzzFamilies.Family;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The configuration fuzzer (run it in a child JVM: {@link FuzzDriver} does, so that a crash is a
 * result, not the end of the run). Case {@code i} of the run belongs to the family at
 * {@code i mod} the weighted schedule and is that family's {@code k}-th case; its random source
 * depends only on (seed, family, k), so {@code --seed S --family F --case k} replays it alone.
 *
 * <p>Prints, flushed, {@code RUN i=<i> <family>#<k> <config>} before a case and
 * {@code <family>#<k> i=<i> <OK|FINDING|KNOWN[id]> <config> :: <details>} after it, then
 * {@code FAMILY} lines and one {@code SUMMARY} line. Exit status 0 without findings, 1 with.
 *
 * <pre>
 * --seed N        the run's seed (default 11)
 * --count N       how many cases in all, spread over the families by weight (default 3000)
 * --family A,B    only these families (names as in {@link FuzzFamilies#ALL}, case-insensitive)
 * --case K        only case K of the (single) --family: the replay of one line
 * --from I        skip the cases before index I (the driver resumes after a crash with it)
 * --nonfinite     compare NaN/Inf positions too when inputs hold non-finite or huge values (value differences in a
 *                 case with a finite input of 1e30 or more count as known: overflow order, docs/numerics.md #5)
 * --strict        report known findings as findings
 * --huge-wrap     also pass 2^62-element tensors wrapped over 0 bytes (Tensor.wrap refuses them since issue 11 #5; off in CI, which keeps its seed's draws)
 * --case-timeout S  a case running longer is a hang: print it and halt (default 60)
 * </pre>
 */
public final class Fuzzer {
    record Options(long seed, int count, List<Family> families, int onlyCase, int from, boolean nonFinite, boolean strict, int caseTimeoutS,
                   boolean hugeWrap) {}

    private Fuzzer() {}

    public static void main(String[] args) {
        Options o = parse(args);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, java.nio.charset.StandardCharsets.UTF_8);
        System.exit(run(o, out) ? 0 : 1);
    }

    static Options parse(String[] args) {
        long seed = 11;
        int count = 3000, onlyCase = -1, from = 0, timeout = 60;
        boolean nonFinite = false, strict = false, hugeWrap = false;
        List<Family> families = FuzzFamilies.ALL;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--count" -> count = Integer.parseInt(args[++i]);
                case "--case" -> onlyCase = Integer.parseInt(args[++i]);
                case "--from" -> from = Integer.parseInt(args[++i]);
                case "--case-timeout" -> timeout = Integer.parseInt(args[++i]);
                case "--nonfinite" -> nonFinite = true;
                case "--strict" -> strict = true;
                case "--huge-wrap" -> hugeWrap = true;
                case "--family" -> {
                    List<Family> chosen = new ArrayList<>();
                    for (String name : args[++i].split(",")) {
                        Family f = FuzzFamilies.ALL.stream().filter(x -> x.name().equalsIgnoreCase(name.trim())).findFirst()
                                .orElseThrow(() -> new IllegalArgumentException("unknown family '" + name + "'; families: "
                                        + FuzzFamilies.ALL.stream().map(Family::name).toList()));
                        chosen.add(f);
                    }
                    families = chosen;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (onlyCase >= 0 && families.size() != 1) throw new IllegalArgumentException("--case needs exactly one --family");
        return new Options(seed, count, families, onlyCase, from, nonFinite, strict, timeout, hugeWrap);
    }

    /** The random source of case k of family f: a function of (seed, family, k) only. */
    static SplittableRandom random(long seed, String family, int k) {
        long h = seed * 0x9E3779B97F4A7C15L + family.hashCode();
        return new SplittableRandom(new SplittableRandom(h).split().nextLong() ^ (k * 0xBF58476D1CE4E5B9L));
    }

    static boolean run(Options o, PrintStream out) {
        List<Family> schedule = new ArrayList<>();
        for (Family f : o.families()) for (int w = 0; w < f.weight(); w++) schedule.add(f);
        Map<String, int[]> perFamily = new LinkedHashMap<>();   // name -> {cases, ok, refused-only, known, findings}
        for (Family f : o.families()) perFamily.put(f.name(), new int[5]);
        Map<String, Integer> next = new LinkedHashMap<>();
        AtomicLong started = new AtomicLong(0);
        String[] current = {""};
        Thread main = Thread.currentThread();
        Thread watchdog = Thread.ofPlatform().daemon().start(() -> watch(o, out, started, current, main));
        long t0 = System.nanoTime();
        int total = o.onlyCase() >= 0 ? 1 : o.count();
        int findings = 0, nonFiniteNotes = 0;
        for (int i = 0; i < total; i++) {
            Family f = schedule.get(i % schedule.size());
            int k = o.onlyCase() >= 0 ? o.onlyCase() : next.merge(f.name(), 1, Integer::sum) - 1;
            if (i < o.from()) continue;
            String id = f.name() + "#" + k;
            FuzzCheck c = new FuzzCheck(random(o.seed(), f.name(), k), o.nonFinite());
            c.hugeWrap = o.hugeWrap();
            c.onConfig = () -> out.println("RUN i=" + c.index + " " + id + " " + c.config);
            c.index = i;
            current[0] = id;
            started.set(System.nanoTime());
            try {
                f.run().accept(c);
            } catch (Throwable t) {
                c.finding("uncaught " + FuzzCheck.describe(t));
            } finally {
                c.close();
            }
            started.set(0);
            if (!c.announced) c.onConfig.run();
            String verdict;
            int[] counts = perFamily.get(f.name());
            counts[0]++;
            if (c.findings.isEmpty()) {
                verdict = "OK";
                counts[c.compared > 0 ? 1 : 2]++;
            } else {
                String known = o.strict() ? null : KnownFindings.match(f.name(), c.findings);
                if (known == null && !o.strict() && c.overflowRange && c.findings.stream().allMatch(FuzzCheck::isValueDifference)) {
                    known = "overflow-order: inputs within 1e30 of the float range, docs/numerics.md exception 5";
                }
                if (known != null) {
                    verdict = "KNOWN[" + known + "]";
                    counts[3]++;
                } else {
                    verdict = "FINDING";
                    counts[4]++;
                    findings++;
                }
            }
            for (String n : c.notes) if (n.startsWith("values not compared")) nonFiniteNotes++;
            List<String> details = c.findings;
            if (details.isEmpty()) details = c.notes;
            else for (String n : c.notes) if (n.startsWith("input ")) details = concat(details, n);
            out.println(id + " i=" + i + " " + verdict + " " + c.config + " :: " + String.join("; ", details)
                    + " [replay: --seed " + o.seed() + " --family " + f.name() + " --case " + k + (o.nonFinite() ? " --nonfinite" : "") + (o.hugeWrap() ? " --huge-wrap" : "") + "]");
        }
        watchdog.interrupt();
        double secs = (System.nanoTime() - t0) / 1e9;
        int known = 0, ok = 0, cases = 0;
        for (var e : perFamily.entrySet()) {
            int[] n = e.getValue();
            cases += n[0];
            ok += n[1] + n[2];
            known += n[3];
            out.println("FAMILY " + e.getKey() + " cases=" + n[0] + " ok-compared=" + n[1] + " ok-refused=" + n[2] + " known=" + n[3]
                    + " findings=" + n[4]);
        }
        out.println(String.format(Locale.ROOT, "SUMMARY seed=%d cases=%d ok=%d known=%d findings=%d special-values-uncompared=%d%s time=%.1fs",
                o.seed(), cases, ok, known, findings, nonFiniteNotes, o.nonFinite() ? " (--nonfinite: compared)" : "", secs));
        return findings == 0;
    }

    private static List<String> concat(List<String> a, String b) {
        List<String> l = new ArrayList<>(a);
        l.add(b);
        return l;
    }

    /** Halts the JVM when one case runs past the timeout: a hang is a finding, and only halting ends one stuck in native code. */
    private static void watch(Options o, PrintStream out, AtomicLong started, String[] current, Thread main) {
        try {
            while (true) {
                Thread.sleep(500);
                long s = started.get();
                if (s != 0 && System.nanoTime() - s > o.caseTimeoutS() * 1_000_000_000L) {
                    StringBuilder st = new StringBuilder();
                    for (StackTraceElement e : main.getStackTrace()) st.append(" at ").append(e);
                    out.println("HANG " + current[0] + " ran more than " + o.caseTimeoutS() + " s:" + st);
                    out.flush();
                    Runtime.getRuntime().halt(3);
                }
            }
        } catch (InterruptedException e) {
            // the run finished
        }
    }
}
