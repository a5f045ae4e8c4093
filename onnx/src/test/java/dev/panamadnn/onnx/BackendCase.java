package dev.panamadnn.onnx;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * One case of ONNX's backend test suite ({@code model.onnx} and {@code test_data_set_*}, each
 * {@code input_k.pb} / {@code output_k.pb} a TensorProto computed by ONNX's reference or PyTorch):
 * loaded and run by {@link OnnxModel#run} (which compiles, binding integer inputs to their values where
 * shapes depend on them; its refusal is UNSUPPORTED, any other failure FAIL), compared with ONNX's backend tolerance (rtol 1e-3, atol 1e-7; dtype
 * and shape exactly; NaN equals NaN).
 *
 * Every input is fed by name and every output compared.
 */
final class BackendCase {
    /**
     * ATOL may be raised with {@code -Dpanamadnn.onnx.atol} (scripts/torch-probe does, to 1e-5, for whole torch-exported
     * models, whose outputs near 0 carry sums of many terms in torch's order); the suite itself runs at ONNX's 1e-7.
     */
    static final double RTOL = 1e-3, ATOL = Double.parseDouble(System.getProperty("panamadnn.onnx.atol", "1e-7"));

    enum Kind { PASS, FAIL, UNSUPPORTED }

    record Outcome(Kind kind, String reason) {
        static Outcome pass() {
            return new Outcome(Kind.PASS, "");
        }
    }

    private BackendCase() {}

    /** The op types of the case's model (for the summary), or "(unreadable)". */
    static Set<String> ops(Path dir) {
        try {
            Set<String> ops = new TreeSet<>();
            for (NodeProto n : ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model.onnx"))).getGraph().getNodeList()) ops.add(n.getOpType());
            return ops;
        } catch (IOException e) {
            return Set.of("(unreadable)");
        }
    }

    /**
     * Cases whose expected output ONNX itself got wrong, as ONNX Runtime's backend test filters also list them: compared
     * as usual, a difference is UNSUPPORTED with this reason (a match would PASS, and change the expectations file).
     */
    static final Map<String, String> KNOWN_WRONG = Map.of("node/test_maxunpool_export_with_output_shape",
            "ONNX's expected output is known wrong (onnx/onnx#2398: its indices are taken in the inferred 4x4 grid, not in "
            + "output_shape); ONNX Runtime (PR 2193) and PyTorch's max_unpool2d unpool into output_shape directly, as we do "
            + "(MaxUnpoolTest checks that against PyTorch)");

    static Outcome run(Path dir) throws IOException {
        return run(dir, VIA_PLANS);
    }

    /**
     * Every case directory in {@code dir} ({@code expected} of them, as {@code script} writes them) as two dynamic tests,
     * by {@code run(Map)} and through one compiled form, each required to PASS.
     */
    static Stream<org.junit.jupiter.api.DynamicTest> passingBothWays(Path dir, int expected, String script) throws IOException {
        List<Path> cases;
        try (Stream<Path> s = Files.list(dir)) {
            cases = s.filter(Files::isDirectory).sorted().toList();
        }
        org.junit.jupiter.api.Assertions.assertEquals(expected, cases.size(), "cases written by " + script + ": " + cases);
        return cases.stream().flatMap(c -> Stream.of(false, true).map(viaPlans -> org.junit.jupiter.api.DynamicTest.dynamicTest(
                c.getFileName() + (viaPlans ? " via plans" : " by run(Map)"), () -> {
                    Outcome o = run(c, viaPlans);
                    org.junit.jupiter.api.Assertions.assertEquals(Kind.PASS, o.kind(), c.getFileName() + ": " + o.reason());
                })));
    }

    /** As {@link #run(Path)}, through one compiled form of the model where {@code viaPlans} ({@link #VIA_PLANS}). */
    static Outcome run(Path dir, boolean viaPlans) throws IOException {
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model.onnx")));
        List<Path> sets;
        try (Stream<Path> s = Files.list(dir)) {
            sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
        }
        if (sets.isEmpty()) return new Outcome(Kind.UNSUPPORTED, "no test data");
        String known = KNOWN_WRONG.get(dir.getParent().getFileName() + "/" + dir.getFileName());
        try (OnnxModel m = Onnx.load(model.toByteArray())) {
            Runner runner = viaPlans ? compiled(m, model) : new Runner(m::run, () -> { }, "");
            try {
                for (Path set : sets) {
                    Outcome o = runSet(model, set, runner);
                    if (o.kind() == Kind.FAIL && known != null) return new Outcome(Kind.UNSUPPORTED, known + "; here: " + o.reason());
                    if (o.kind() != Kind.PASS) return o;
                }
                return Outcome.pass();
            } finally {
                runner.close().run();
            }
        } catch (OnnxException e) {
            return unsupported("import", e);
        }
    }

    /**
     * {@code -Dpanamadnn.onnx.viaPlans=true} (scripts/torch-probe): every data set through one compiled form of the model,
     * as a server runs it: a {@link dev.panamadnn.compile.PlanSet} where an input has a symbolic dim (the data sets may
     * hold several batch sizes), else one plan for the declared shapes; a model neither compiles is run by
     * {@link OnnxModel#run} as usual (printed). The backend suite itself runs {@code run(Map)}, the data sets of a case
     * through one loaded model.
     */
    static final boolean VIA_PLANS = Boolean.getBoolean("panamadnn.onnx.viaPlans");

    /** How a case's data sets run: the call, what closes it, and a label for failures. */
    private record Runner(java.util.function.Function<Map<String, Tensor>, Map<String, Tensor>> run, Runnable close, String label) {}

    private static Runner compiled(OnnxModel m, ModelProto model) {
        try {
            if (m.inputs().stream().anyMatch(v -> !v.shape().isFixed())) {
                dev.panamadnn.compile.PlanSet plans = m.compile(dev.panamadnn.compile.CompileOptions.defaults());
                return new Runner(plans::run, plans::close, " (via plans)");
            }
            dev.panamadnn.compile.CompiledModel plan = m.plan(dev.panamadnn.compile.CompileOptions.defaults());
            return new Runner(plan::run, plan::close, " (via a plan)");
        } catch (OnnxException e) {
            System.out.println("viaPlans: " + model.getGraph().getName() + ": not compiled (" + oneLine(e) + "), run(Map) instead");
            return new Runner(m::run, () -> { }, "");
        }
    }

    private static Outcome runSet(ModelProto model, Path set, Runner runner) throws IOException {
        Set<String> initializers = new HashSet<>();
        for (TensorProto t : model.getGraph().getInitializerList()) initializers.add(t.getName());
        List<ValueInfoProto> inputs = model.getGraph().getInputList().stream().filter(v -> !initializers.contains(v.getName())).toList();
        List<TensorProto> given = new ArrayList<>();
        for (int k = 0; Files.exists(set.resolve("input_" + k + ".pb")); k++) given.add(TensorProto.parseFrom(Files.readAllBytes(set.resolve("input_" + k + ".pb"))));
        if (given.size() != inputs.size()) {
            return new Outcome(Kind.UNSUPPORTED, "the data set gives " + given.size() + " inputs for " + inputs.size() + " graph inputs");
        }
        String where = set.getFileName() + runner.label();
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            List<Tensor> expected = new ArrayList<>();
            try {
                for (int k = 0; k < inputs.size(); k++) {
                    Tensor t = TensorProtos.toTensor(given.get(k), "input_" + k, arena, null);
                    in.put(inputs.get(k).getName(), t);
                }
                for (int j = 0; j < model.getGraph().getOutputCount(); j++) {
                    expected.add(TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(set.resolve("output_" + j + ".pb"))), "output_" + j, arena, null));
                }
            } catch (OnnxException e) {
                return unsupported("test data", e);
            }
            Map<String, Tensor> out = null;
            try {
                try {
                    out = runner.run().apply(in);   // run(Map) compiles (integer inputs bound to their values where shapes depend on them), or refuses
                } catch (OnnxException e) {
                    return unsupported("compile", e);
                }
                for (int j = 0; j < expected.size(); j++) {   // by the ONNX outputs' names
                    Tensor actual = out.get(model.getGraph().getOutput(j).getName());
                    if (actual == null && expected.get(j).numel() == 0 && !runner.label().isEmpty()) continue;   // a plan returns no empty output
                    String diff = compare(actual, expected.get(j));
                    if (diff != null) return new Outcome(Kind.FAIL, where + ": output " + j + ": " + diff);
                }
                return Outcome.pass();
            } catch (RuntimeException e) {
                return new Outcome(Kind.FAIL, where + ": run: " + oneLine(e));
            } finally {
                if (out != null) for (Tensor t : out.values()) t.close();
            }
        }
    }

    /** Null if {@code actual} matches, else what differs and where. */
    static String compare(Tensor actual, Tensor expected) {
        if (actual.dtype() != expected.dtype()) return "dtype " + actual.dtype() + ", expected " + expected.dtype();
        if (!Arrays.equals(actual.shape(), expected.shape())) return "shape " + Arrays.toString(actual.shape()) + ", expected " + Arrays.toString(expected.shape());
        long n = expected.numel();
        if (expected.dtype() != DataType.F32) {   // integers and booleans: exactly
            long at = actual.segment().mismatch(expected.segment());
            return at == -1 ? null : "byte " + at + " differs (exact comparison of " + expected.dtype() + ")";
        }
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (long i = 0; i < n; i++) {
            double a = element(actual, i), e = element(expected, i);
            boolean ok = Double.isNaN(e) ? Double.isNaN(a) : a == e || Math.abs(a - e) <= ATOL + RTOL * Math.abs(e);
            if (!ok && bad++ < 4) first.append(bad == 1 ? "" : "; ").append("element ").append(i).append(": ").append(a).append(", expected ").append(e);
        }
        return bad == 0 ? null : bad + " of " + n + " elements differ beyond rtol " + RTOL + " / atol " + ATOL + " (first: " + first + (bad > 4 ? "; ..." : "") + ")";
    }

    private static double element(Tensor t, long i) {
        return t.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    private static Outcome unsupported(String stage, RuntimeException e) {
        return new Outcome(Kind.UNSUPPORTED, stage + ": " + oneLine(e));
    }

    static String oneLine(Throwable e) {
        String m = e instanceof OnnxException || e instanceof GraphException ? e.getMessage() : e.getClass().getSimpleName() + ": " + e.getMessage();
        m = m == null ? e.getClass().getSimpleName() : m.replaceAll("\\s+", " ").replace('\t', ' ');
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }
}
