package dev.panamadnn.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.benchmarks.ColdStartMain.Row;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ColdStartMainTest {
    private static final List<String> THREE = List.of("ours", "ours-direct", "ort");

    private static String ours(String runtime, double total, double checksum) {
        return "COLD runtime=" + runtime + " model=resnet18 batch=1 init=200.0 build=150.0 weights=40.0 compile=" + (total - 450)
                + " first=60.0 second=40.0 total=" + total + " jvm=" + (total + 80) + " resultEpochUs=1000000 checksum=" + checksum;
    }

    private static String ours(double total, double checksum) {
        return ours("ours", total, checksum);
    }

    private static String ort(double total, double checksum) {
        return ort("ort", total, checksum);
    }

    private static String ort(String runtime, double total, double checksum) {
        return "COLD runtime=" + runtime + " model=resnet18 batch=1 init=200.0 session=" + (total - 230) + " first=30.0 second=20.0 total=" + total
                + " jvm=" + (total + 80) + " resultEpochUs=1000000 checksum=" + checksum;
    }

    @Test
    void parsesPhasesAndLaunchTime() {
        Row r = ColdStartMain.parse(3, ours(2000, -12.0916), 400_000);
        assertEquals("ours", r.runtime());
        assertEquals("resnet18", r.model());
        assertEquals(1, r.batch());
        assertEquals(1550.0, r.get("compile"));
        assertEquals(2080.0, r.get("jvm"));
        assertEquals(600.0, r.launchToResult(), 1e-9, "result at 1.0 s, launched at 0.4 s");
        assertEquals(List.of("init", "build", "weights", "compile", "first", "second", "total", "jvm"), List.copyOf(r.ms().keySet()));
        assertEquals(List.of("init", "session", "first", "second", "total", "jvm"),
                List.copyOf(ColdStartMain.parse(1, ort(400, 1), 0).ms().keySet()));
        assertThrows(IllegalArgumentException.class, () -> ColdStartMain.parse(1, "COLD runtime=ours model=resnet18 batch=1", 0));
    }

    @Test
    void eachRuntimeTakesEachPlaceInTurn() {
        for (List<String> runtimes : List.of(ColdStartMain.RUNTIMES, List.of("ours", "ours-direct", "ort"))) {
            int k = runtimes.size();
            java.util.Set<Integer> all = new java.util.HashSet<>();
            for (int i = 0; i < k; i++) all.add(i);
            for (int cell = 0; cell < 4; cell++) {
                for (String runtime : runtimes) {
                    java.util.Set<Integer> places = new java.util.HashSet<>();
                    for (int rep = 1; rep <= k; rep++) places.add(ColdStartMain.order(runtimes, rep, cell).indexOf(runtime));
                    assertEquals(all, places, runtime + " in cell " + cell + " over " + k + " repetitions");
                }
            }
            assertNotEquals(ColdStartMain.order(runtimes, 1, 0), ColdStartMain.order(runtimes, 1, 1), "neighbouring cells start differently");
        }
    }

    @Test
    void reportGivesMedianRangeAndPerRepetitionRatios() {
        List<Row> rows = new ArrayList<>();
        double[] o = {2000, 2400, 2200}, d = {800, 900, 1100}, t = {400, 400, 550};
        for (int rep = 1; rep <= 3; rep++) {
            rows.add(ColdStartMain.parse(rep, ours(o[rep - 1], -12.0916), 0));
            rows.add(ColdStartMain.parse(rep, ours("ours-direct", d[rep - 1], -12.0915), 0));
            rows.add(ColdStartMain.parse(rep, ort(t[rep - 1], -12.0917), 0));
        }
        String md = ColdStartMain.report(rows, THREE, new String[] {"resnet18"}, new int[] {1}, 3, List.of("-Dpanamadnn.threads=2"), "");
        assertTrue(md.contains("| resnet18 | 1 | ours | 200 [200–200] | 150 [150–150] | 40.0 [40.0–40.0] | 1750 [1550–1950] | 60.0 [60.0–60.0] "
                + "| **2200 [2000–2400]** |"), md);
        assertTrue(md.contains("| resnet18 | 1 | ours, Winograd off | "), md);
        assertTrue(md.contains("| resnet18 | 1 | ONNX Runtime | 200 [200–200] | – | – | 170 [170–320] |"), md);
        assertTrue(md.contains("| resnet18 | 1 | 5.00, 6.00, 4.00 | **5.00** | 2.00, 2.25, 2.00 | **2.00** | 4.33 |"), md);
        assertTrue(md.contains("Outputs agree"), md);

        rows.set(2, ColdStartMain.parse(1, ort(400, 3.5), 0));
        String bad = ColdStartMain.report(rows, THREE, new String[] {"resnet18"}, new int[] {1}, 3, List.of(), "");
        assertTrue(bad.contains("**Outputs differ** (sum of logits): resnet18 b1 rep 1: ours -12.0916, ORT 3.50000"), bad);
    }

    @Test
    void reportGivesTheCpuAtTheFirstResultAndItsRatio() {
        List<Row> rows = List.of(
                ColdStartMain.parse(1, ours(2000, 1).replace(" resultEpochUs", " cpu=1500 resultEpochUs"), 0),
                ColdStartMain.parse(1, ours("ours-direct", 1000, 1).replace(" resultEpochUs", " cpu=1400 resultEpochUs"), 0),
                ColdStartMain.parse(1, ort(400, 1).replace(" resultEpochUs", " cpu=600 resultEpochUs"), 0));
        String md = ColdStartMain.report(rows, THREE, new String[] {"resnet18"}, new int[] {1}, 1, List.of(), "");
        assertTrue(md.contains("| resnet18 | 1 | 1500 | 1400 | 600 | **2.50** |"), md);
        String none = ColdStartMain.report(List.of(ColdStartMain.parse(1, ort(400, 1), 0)), THREE, new String[] {"resnet18"}, new int[] {1}, 1,
                List.of(), "");
        assertTrue(none.contains("| resnet18 | 1 | – | – | – | **–** |"), "no cpu figures: dashes, not NaN\n" + none);
    }

    @Test
    void reportHasAColumnPairPerRuntimeAgainstOrt() {
        List<Row> rows = List.of(ColdStartMain.parse(1, ours(1000, 1), 0), ColdStartMain.parse(1, ours("ours-aot", 600, 1), 0),
                ColdStartMain.parse(1, ours("ours-onnx", 1200, 1.5), 0), ColdStartMain.parse(1, ort(500, 1), 0));
        String md = ColdStartMain.report(rows, List.of("ours", "ours-aot", "ours-onnx", "ort"), new String[] {"resnet18"}, new int[] {1}, 1,
                List.of(), "");
        assertTrue(md.contains("| ours / ORT, main → first result, per repetition | **median** | ours, AOT cache / ORT, main → first result, "
                + "per repetition | **median** | ours, ONNX import / ORT,"), md);
        assertTrue(md.contains("| resnet18 | 1 | 2.00 | **2.00** | 1.20 | **1.20** | 2.40 | **2.40** | 1.86 |"), md);
        assertTrue(md.contains("| resnet18 | 1 | ours, ONNX import | 200 | – | 40.0 | 750 |"), "no build for an import\n" + md);
        assertTrue(md.contains("**Outputs differ** (sum of logits): resnet18 b1 rep 1: ours-onnx 1.50000, ORT 1.00000"), md);
        // as ColdStart reports it now: no init of ours' own (the natives load beside the build or import): a dash, not 0
        String loadedBeside = ColdStartMain.report(List.of(ColdStartMain.parse(1, ours(1000, 1).replace("init=200.0", "init=0.0"), 0),
                ColdStartMain.parse(1, ort(500, 1), 0)), List.of("ours", "ort"), new String[] {"resnet18"}, new int[] {1}, 1, List.of(), "");
        assertTrue(loadedBeside.contains("| resnet18 | 1 | ours | – | 150 | 40.0 |"), loadedBeside);
    }

    @Test
    void aRuntimeFromAnAotCacheIsComparedWithOrtFromOne() {
        List<Row> rows = List.of(ColdStartMain.parse(1, ours(1000, 1), 0), ColdStartMain.parse(1, ours("ours-aot", 600, 1), 0),
                ColdStartMain.parse(1, ours("ours-onnx-aot", 450, 1), 0), ColdStartMain.parse(1, ort(500, 1), 0),
                ColdStartMain.parse(1, ort("ort-aot", 400, 2), 0));
        List<String> all = List.of("ours", "ours-aot", "ours-onnx-aot", "ort", "ort-aot");
        assertEquals(List.of("init", "session", "first", "second", "total", "jvm"), List.copyOf(rows.get(4).ms().keySet()), "ORT's phases");
        String md = ColdStartMain.report(rows, all, new String[] {"resnet18"}, new int[] {1}, 1, List.of(), "");
        assertTrue(md.contains("| ours / ORT, main → first result, per repetition | **median** | ours, AOT cache / ORT, AOT cache, main → first "
                + "result, per repetition | **median** | ours, ONNX import, AOT cache / ORT, AOT cache,"), md);
        assertTrue(md.contains("| resnet18 | 1 | 2.00 | **2.00** | 1.50 | **1.50** | 1.13 | **1.13** |"), md);
        assertTrue(md.contains("| resnet18 | 1 | ONNX Runtime, AOT cache | 200 | – | – | 170 |"), md);
        assertTrue(md.contains("ours-aot 1.00000, ORT, AOT cache 2.00000"), md);
        // without ort-aot, a runtime from an AOT cache is compared with plain ORT, as before
        String plain = ColdStartMain.report(rows.subList(0, 4), all.subList(0, 4), new String[] {"resnet18"}, new int[] {1}, 1, List.of(), "");
        assertTrue(plain.contains("| resnet18 | 1 | 2.00 | **2.00** | 1.20 | **1.20** | 0.90 | **0.90** |"), plain);
        assertEquals("ort-aot", ColdStartMain.baseline("ours-onnx-aot", all));
        assertEquals("ort", ColdStartMain.baseline("ours-onnx", all));
        assertEquals(null, ColdStartMain.baseline("ours", List.of("ours", "ort-aot")), "ours from no cache against ORT from one: no pair");
    }

    @Test
    void aotCommandDropsTheIncubatorModuleAndAddsFlagsBeforeTheClassPath() {
        List<String> cmd = List.of("java", "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Dx=1", "-cp", "a.jar",
                "Main");
        assertEquals(List.of("java", "--enable-native-access=ALL-UNNAMED", "-Dx=1", "-XX:AOTCache=c.aot", "-XX:AOTMode=on", "-cp", "a.jar", "Main"),
                ColdStartMain.aotCommand(cmd, "-XX:AOTCache=c.aot", "-XX:AOTMode=on"));
        assertEquals(List.of("java", "--add-modules", "java.sql", "-cp", "a.jar", "Main"),
                ColdStartMain.aotCommand(List.of("java", "--add-modules", "java.sql", "-cp", "a.jar", "Main")), "other modules stay");
    }

    @Test
    void aotNeedsJarsOnly(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path jar = java.nio.file.Files.createFile(tmp.resolve("a.jar"));
        assertEquals(null, ColdStartMain.aotUnavailable(jar.toString()));
        String why = ColdStartMain.aotUnavailable(jar + java.io.File.pathSeparator + tmp);
        assertTrue(why != null && why.contains(tmp.toString()), String.valueOf(why));
        assertTrue(ColdStartMain.aotUnavailable(tmp.resolve("missing.jar").toString()) != null, "a jar that is not there");
    }
}
