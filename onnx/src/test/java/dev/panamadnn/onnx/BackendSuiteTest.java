package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * ONNX's own backend test suite (Debian's libonnx-testdata, ONNX 1.12: {@code node/},
 * {@code pytorch-converted/}, {@code pytorch-operator/}, {@code simple/}), every case through
 * {@link BackendCase}: PASS, FAIL or UNSUPPORTED (with the reason). Each case's outcome must be
 * the one in {@code src/test/resources/backend-expectations.txt} (a case not listed must PASS), so
 * any change fails. Rewrite the file after a change that is meant
 * ({@code -Dpanamadnn.onnx.updateExpectations=true}). A summary (counts by outcome and op) is
 * printed and written to {@code target/backend-summary.txt}. The test data's location can be set
 * with {@code -Dpanamadnn.onnx.testdata=DIR}; the suite is skipped only if it is absent (scripts/test installs it).
 */
class BackendSuiteTest {
    static final Path DATA = Path.of(System.getProperty("panamadnn.onnx.testdata", "/usr/lib/python3/dist-packages/onnx/backend/test/data"));
    static final List<String> SUITES = List.of("node", "pytorch-converted", "pytorch-operator", "simple");
    static final Path EXPECTATIONS = Path.of("src/test/resources/backend-expectations.txt");
    static final boolean UPDATE = Boolean.getBoolean("panamadnn.onnx.updateExpectations");

    /** Every case's outcome, by "suite/case", filled as the tests run. */
    static final Map<String, BackendCase.Outcome> OUTCOMES = new TreeMap<>();
    static final Map<String, Set<String>> OPS = new TreeMap<>();

    @TestFactory
    Stream<DynamicTest> backendSuite() throws IOException {
        assumeTrue(Files.isDirectory(DATA.resolve("node")), "ONNX backend test data not installed at " + DATA + " (apt-get install libonnx-testdata)");
        Map<String, String> expected = readExpectations();
        List<DynamicTest> tests = new ArrayList<>();
        for (String suite : SUITES) {
            List<Path> cases;
            try (Stream<Path> s = Files.list(DATA.resolve(suite))) {
                cases = s.filter(p -> Files.exists(p.resolve("model.onnx"))).sorted().toList();
            }
            for (Path dir : cases) {
                String id = suite + "/" + dir.getFileName();
                tests.add(DynamicTest.dynamicTest(id, () -> {
                    BackendCase.Outcome result;
                    try {
                        result = BackendCase.run(dir);
                    } catch (IOException e) {
                        result = new BackendCase.Outcome(BackendCase.Kind.FAIL, "test data unreadable: " + e);
                    } catch (RuntimeException e) {   // anything the import or plan let escape is a failure of ours
                        result = new BackendCase.Outcome(BackendCase.Kind.FAIL, "unexpected " + BackendCase.oneLine(e));
                    }
                    BackendCase.Outcome o = result;
                    synchronized (OUTCOMES) {
                        OUTCOMES.put(id, o);
                        OPS.put(id, BackendCase.ops(dir));
                    }
                    if (UPDATE) return;
                    String want = expected.getOrDefault(id, "PASS");
                    assertEquals(want, o.kind().name(), () -> id + ": expected " + want + ", got " + o.kind() + (o.reason().isEmpty() ? "" : " (" + o.reason() + ")")
                            + "; if the change is meant, rerun with -Dpanamadnn.onnx.updateExpectations=true");
                }));
            }
        }
        return tests.stream();
    }

    @AfterAll
    static void summary() throws IOException {
        if (OUTCOMES.isEmpty()) return;
        Map<String, int[]> byOutcome = new TreeMap<>(), byOp = new TreeMap<>();
        for (Map.Entry<String, BackendCase.Outcome> e : OUTCOMES.entrySet()) {
            int k = e.getValue().kind().ordinal();
            byOutcome.computeIfAbsent(e.getKey().substring(0, e.getKey().indexOf('/')), x -> new int[3])[k]++;
            byOutcome.computeIfAbsent("all", x -> new int[3])[k]++;
            for (String op : OPS.getOrDefault(e.getKey(), Set.of())) byOp.computeIfAbsent(op, x -> new int[3])[k]++;
        }
        StringBuilder sb = new StringBuilder("ONNX backend suite (" + DATA + "): PASS / FAIL / UNSUPPORTED\n");
        byOutcome.forEach((s, c) -> sb.append(String.format("  %-18s %4d %4d %4d%n", s, c[0], c[1], c[2])));
        sb.append("by op (cases whose model uses the op):\n");
        byOp.forEach((s, c) -> sb.append(String.format("  %-28s %4d %4d %4d%n", s, c[0], c[1], c[2])));
        System.out.print(sb);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/backend-summary.txt"), sb);
        if (UPDATE) {
            StringBuilder f = new StringBuilder("# ONNX backend suite: every case expected not to PASS, with its outcome and reason (tab-separated).\n"
                    + "# Written by BackendSuiteTest with -Dpanamadnn.onnx.updateExpectations=true; a case not listed must PASS.\n");
            OUTCOMES.forEach((id, o) -> {
                if (o.kind() != BackendCase.Kind.PASS) f.append(id).append('\t').append(o.kind()).append('\t').append(o.reason()).append('\n');
            });
            Files.writeString(EXPECTATIONS, f);
        }
    }

    private static Map<String, String> readExpectations() throws IOException {
        Map<String, String> m = new TreeMap<>();
        if (!Files.exists(EXPECTATIONS)) return m;
        for (String line : Files.readAllLines(EXPECTATIONS)) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t", 3);
            m.put(f[0], f.length > 1 ? f[1] : "UNSUPPORTED");
        }
        return m;
    }
}
