package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch goldens written by {@code scripts/goldens/generate_layers.py} into
 * {@code goldens/layers.safetensors} (read through {@link GoldenFile}; each case's spec is a module
 * spec, grammar in the script's header) and the Java module a case's spec describes.
 */
final class Goldens {
    private static final String FILE = "layers.safetensors";

    /** One case: the module spec, the state_dict (in PyTorch's order), the input and PyTorch's output. */
    record Case(String name, String spec, Map<String, Array> params, Array input, Array output) {
        /** The layer kind, for reporting: the spec's outer name plus its activation, if fused. */
        String kind() {
            String outer = spec.substring(0, spec.indexOf('('));
            int act = spec.indexOf("activation=");
            return act < 0 ? outer : outer + "+" + spec.substring(act + 11, spec.indexOf('(', act));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** A tensor's shape and values. */
    record Array(long[] shape, float[] values) {}

    private Goldens() {}

    /**
     * Every case, in generation order, its tensors copied out of the file (which closes here). The
     * parameters come in PyTorch's state_dict order, which the file records per case.
     */
    static List<Case> load() {
        try (GoldenFile file = GoldenFile.open(FILE)) {
            List<Case> cases = new ArrayList<>();
            for (GoldenFile.Case c : file.cases()) {
                if (c.spec() == null) throw new IllegalStateException(FILE + ": case " + c.name() + " has no spec");
                if (!c.extras().isEmpty()) throw new IllegalStateException(FILE + ": case " + c.name() + " has unknown tensors " + c.extras().keySet());
                Map<String, Array> params = new LinkedHashMap<>();
                c.params().forEach((k, v) -> params.put(k, array(v)));
                cases.add(new Case(c.name(), c.spec(), params, array(c.input()), array(c.output())));
            }
            return cases;
        }
    }

    private static Array array(Tensor t) {
        return new Array(t.shape(), t.toFloatArray());
    }

    /** Copies a state_dict into the module's parameters, insisting on the same names, order and shapes. */
    static void loadParameters(Module m, Map<String, Array> state) {
        Map<String, Tensor> params = m.parameters();
        if (!List.copyOf(params.keySet()).equals(List.copyOf(state.keySet()))) {
            throw new AssertionError("parameter names " + params.keySet() + " differ from PyTorch's " + state.keySet());
        }
        state.forEach((key, a) -> {
            Tensor t = params.get(key);
            if (!Arrays.equals(t.shape(), a.shape())) {
                throw new AssertionError(key + ": shape " + Arrays.toString(t.shape()) + ", PyTorch has " + Arrays.toString(a.shape()));
            }
            MemorySegment.copy(a.values(), 0, t.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, a.values().length);
        });
    }

    /** Builds the module of a spec (grammar in the generator script's header). */
    static Module build(String spec) {
        Parser p = new Parser(spec);
        Node n = p.module();
        if (p.pos != spec.length()) throw new IllegalArgumentException("trailing text in spec at " + p.pos + ": " + spec);
        return build(n);
    }

    private record Node(String name, Map<String, Object> args, List<Node> children) {
        String str(String key) {
            Object v = args.get(key);
            if (v == null) throw new IllegalArgumentException(name + ": missing " + key);
            return (String) v;
        }

        int integer(String key) {
            return Integer.parseInt(str(key));
        }

        float real(String key) {
            return Float.parseFloat(str(key));
        }
    }

    private static Module build(Node n) {
        return switch (n.name()) {
            case "Linear" -> n.args().containsKey("activation")
                    ? new Linear(n.integer("in_features"), n.integer("out_features"), Boolean.parseBoolean(n.str("bias")),
                            activation((Node) n.args().get("activation")))
                    : new Linear(n.integer("in_features"), n.integer("out_features"), Boolean.parseBoolean(n.str("bias")));
            case "ReLU" -> new ReLU();
            case "LeakyReLU" -> new LeakyReLU(n.real("negative_slope"));
            case "Sigmoid" -> new Sigmoid();
            case "Tanh" -> new Tanh();
            case "GELU" -> new GELU(n.str("approximate"));
            case "SiLU" -> new SiLU();
            case "ELU" -> new ELU(n.real("alpha"));
            case "Softmax" -> new Softmax(n.integer("dim"));
            case "Flatten" -> new Flatten(n.integer("start_dim"), n.integer("end_dim"));
            case "Sequential" -> new Sequential(n.children().stream().map(Goldens::build).toArray(Module[]::new));
            default -> throw new IllegalArgumentException("unknown module " + n.name());
        };
    }

    private static Activation activation(Node n) {
        try (var layer = (ElementwiseLayer) build(n)) {
            return layer.activation();
        }
    }

    /** Recursive descent over: module := Name "(" [arg ("," arg)*] ")"; arg := key "=" value | module. */
    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        Node module() {
            String name = word();
            expect('(');
            Map<String, Object> args = new LinkedHashMap<>();
            List<Node> children = new ArrayList<>();
            while (s.charAt(pos) != ')') {
                int start = pos;
                String w = word();
                if (s.charAt(pos) == '=') {
                    pos++;
                    int valueStart = pos;
                    String v = word();
                    if (pos < s.length() && s.charAt(pos) == '(') {
                        pos = valueStart;
                        args.put(w, module());
                    } else {
                        args.put(w, v);
                    }
                } else {
                    pos = start;
                    children.add(module());
                }
                if (s.charAt(pos) == ',') pos++;
            }
            expect(')');
            return new Node(name, args, children);
        }

        private String word() {
            int start = pos;
            while (pos < s.length() && "(),=".indexOf(s.charAt(pos)) < 0) pos++;
            if (pos == start) throw new IllegalArgumentException("expected a word at " + pos + " in " + s);
            return s.substring(start, pos);
        }

        private void expect(char c) {
            if (pos >= s.length() || s.charAt(pos) != c) throw new IllegalArgumentException("expected '" + c + "' at " + pos + " in " + s);
            pos++;
        }
    }
}
