package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models of {@code /graphs/onnx_graphs.txt}, written by {@code scripts/goldens/generate_onnx_graphs.py}:
 * small PyTorch models exported to ONNX (opset 13), with ONNX's own inferred shapes and PyTorch's
 * inputs and outputs at two batch sizes. Each is rebuilt here node for node as a {@link Graph}
 * (the text form only mirrors the ONNX protobuf; it is not an importer). Tensors live in an
 * automatic arena (freed by the garbage collector).
 */
public final class OnnxTextGraphs {
    /** One tensor of the file: dtype, dims, values (longs for integer dtypes, floats for F32). */
    public record Data(DataType dtype, long[] dims, long[] ints, float[] floats) {
        public Tensor tensor() {
            long n = 1;
            for (long d : dims) n *= d;
            MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, n * dtype.byteSize()), 8).asSlice(0, n * dtype.byteSize());
            for (int i = 0; i < n; i++) {
                switch (dtype) {
                    case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, floats[i]);
                    case I64 -> seg.setAtIndex(ValueLayout.JAVA_LONG, i, ints[i]);
                    case I32 -> seg.setAtIndex(ValueLayout.JAVA_INT, i, (int) ints[i]);
                    default -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) ints[i]);
                }
            }
            return Tensor.wrap(seg, dtype, dims);
        }
    }

    /** One model: its graph, ONNX's inferred shapes (value -> "dtype dims"), and PyTorch's data per batch size. */
    public record Model(String name, Graph graph, Map<String, String> onnxShapes, Map<Integer, Map<String, Data>> inputs,
                        Map<Integer, Map<String, Data>> outputs) {}

    private OnnxTextGraphs() {}

    /** Every model of the file, by name, in file order. */
    public static Map<String, Model> load() {
        return load("/graphs/onnx_graphs.txt", "generate_onnx_graphs.py");
    }

    /** Every model of another file of the same format (e.g. {@code /graphs/onnx_rnn.txt}), written by {@code scripts/goldens/<script>}. */
    public static Map<String, Model> load(String resource, String script) {
        InputStream in = OnnxTextGraphs.class.getResourceAsStream(resource);
        if (in == null) throw new IllegalStateException("missing " + resource + ": run scripts/goldens/" + script);
        Map<String, Model> models = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String name = null;
            List<Value> inputs = new ArrayList<>();
            List<Node> nodes = new ArrayList<>();
            Map<String, Tensor> inits = new LinkedHashMap<>();
            List<String> outputs = new ArrayList<>();
            Map<String, String> shapes = new LinkedHashMap<>();
            Map<Integer, Map<String, Data>> dataIn = new LinkedHashMap<>(), dataOut = new LinkedHashMap<>();
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) continue;
                String[] w = line.split(" ");
                switch (w[0]) {
                    case "model" -> name = w[1];
                    case "input" -> inputs.add(new Value(w[1], DataType.valueOf(w[2]), shape(w[3])));
                    case "init" -> inits.put(w[1], data(w[2], w[3], w[4]).tensor());
                    case "node" -> nodes.add(new Node(w[1], w[2], names(w[3]), names(w[4]), attributes(w[5])));
                    case "output" -> outputs.add(w[1]);
                    case "shape" -> shapes.put(w[1], w[2] + " " + w[3]);
                    case "data" -> (w[2].equals("in") ? dataIn : dataOut).computeIfAbsent(Integer.parseInt(w[1]), k -> new LinkedHashMap<>())
                            .put(w[3], data(w[4], w[5], w[6]));
                    case "end" -> {
                        models.put(name, new Model(name, Graph.of(name, inputs, nodes, inits, outputs), shapes, dataIn, dataOut));
                        inputs = new ArrayList<>();
                        nodes = new ArrayList<>();
                        inits = new LinkedHashMap<>();
                        outputs = new ArrayList<>();
                        shapes = new LinkedHashMap<>();
                        dataIn = new LinkedHashMap<>();
                        dataOut = new LinkedHashMap<>();
                    }
                    default -> throw new IllegalStateException("unknown line: " + line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return models;
    }

    /** "N,3,4" -> [N, 3, 4]; "-" -> a scalar. */
    public static Shape shape(String dims) {
        List<Dim> d = new ArrayList<>();
        if (!dims.equals("-")) for (String s : dims.split(",")) d.add(s.equals("N") ? Dim.symbol("N") : Dim.of(Long.parseLong(s)));
        return new Shape(d);
    }

    private static List<String> names(String s) {
        if (s.equals("-")) return List.of();
        List<String> out = new ArrayList<>();
        for (String x : s.split(",")) out.add(x.equals("~") ? "" : x);
        return out;
    }

    /** A float as the generators write it: Python's repr, whose special values are {@code nan}, {@code inf}, {@code -inf}. */
    private static float parseFloat(String v) {
        return switch (v) {
            case "nan" -> Float.NaN;
            case "inf" -> Float.POSITIVE_INFINITY;
            case "-inf" -> Float.NEGATIVE_INFINITY;
            default -> Float.parseFloat(v);
        };
    }

    static Data data(String dtype, String dims, String values) {
        DataType t = DataType.valueOf(dtype);
        long[] d = dims.equals("-") ? new long[0] : java.util.Arrays.stream(dims.split(",")).mapToLong(Long::parseLong).toArray();
        String[] v = values.equals("-") ? new String[0] : values.split(",");
        if (t == DataType.F32) {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) f[i] = parseFloat(v[i]);
            return new Data(t, d, null, f);
        }
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) l[i] = Long.parseLong(v[i]);
        return new Data(t, d, l, null);
    }

    private static Attributes attributes(String s) {
        if (s.equals("-")) return Attributes.empty();
        Attributes.Builder b = Attributes.builder();
        for (String kv : s.split(";")) {
            int eq = kv.indexOf('='), colon = kv.indexOf(':', eq);
            String key = kv.substring(0, eq), type = kv.substring(eq + 1, colon), val = kv.substring(colon + 1);
            switch (type) {
                case "i" -> b.put(key, Long.parseLong(val));
                case "is" -> b.put(key, val.equals("-") ? new long[0]
                        : java.util.Arrays.stream(val.split(",")).mapToLong(Long::parseLong).toArray());
                case "f" -> b.put(key, Double.parseDouble(val));
                case "s" -> b.put(key, val);
                case "t" -> {
                    String[] p = val.split(":");
                    b.put(key, data(p[0], p[1], p.length > 2 ? p[2] : "-").tensor());
                }
                default -> throw new IllegalStateException("attribute type " + type + " in " + kv);
            }
        }
        return b.build();
    }
}
