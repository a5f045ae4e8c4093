package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the PyTorch goldens written by {@code scripts/goldens/generate_layers.py} (format in the
 * script's header: a text manifest plus one raw little-endian f32 file per case) and builds the
 * Java module a case's spec describes.
 */
final class Goldens {
    private static final String DIR = "/goldens/layers/";

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

    static List<Case> load() {
        List<Case> cases = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(open("manifest.txt"), StandardCharsets.UTF_8))) {
            String name = null, spec = null;
            List<String> keys = new ArrayList<>();
            List<long[]> shapes = new ArrayList<>();
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.split(" ", 2);
                switch (f[0]) {
                    case "case" -> name = f[1];
                    case "module" -> spec = f[1];
                    case "tensor" -> {
                        String[] t = f[1].split(" ");
                        keys.add(t[0]);
                        shapes.add(t.length < 2 ? new long[0] : Arrays.stream(t[1].split(",")).mapToLong(Long::parseLong).toArray());
                    }
                    case "end" -> {
                        cases.add(readCase(name, spec, keys, shapes));
                        keys.clear();
                        shapes.clear();
                    }
                    default -> throw new IllegalStateException("manifest: unexpected line '" + line + "'");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cases;
    }

    private static Case readCase(String name, String spec, List<String> keys, List<long[]> shapes) throws IOException {
        byte[] bytes;
        try (InputStream in = open(name + ".bin")) {
            bytes = in.readAllBytes();
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, Array> params = new LinkedHashMap<>();
        Array input = null, output = null;
        for (int i = 0; i < keys.size(); i++) {
            float[] v = new float[(int) Arrays.stream(shapes.get(i)).reduce(1, (a, b) -> a * b)];
            buf.asFloatBuffer().get(v);
            buf.position(buf.position() + v.length * Float.BYTES);
            Array a = new Array(shapes.get(i), v);
            String key = keys.get(i);
            if (key.startsWith("param:")) params.put(key.substring(6), a);
            else if (key.equals("input")) input = a;
            else if (key.equals("output")) output = a;
            else throw new IllegalStateException(name + ": unknown tensor key " + key);
        }
        if (buf.hasRemaining()) throw new IllegalStateException(name + ".bin has " + buf.remaining() + " bytes beyond its tensors");
        return new Case(name, spec, params, input, output);
    }

    private static InputStream open(String file) {
        InputStream in = Goldens.class.getResourceAsStream(DIR + file);
        if (in == null) throw new IllegalStateException("golden resource " + DIR + file + " is missing");
        return in;
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
