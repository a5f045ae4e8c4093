package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Runs one case of {@code scripts/goldens/generate_layers14.py} on a backend: builds the layer from
 * the case's spec, loads its PyTorch parameters by state_dict name, and returns what it computes
 * (for split/chunk, the pieces concatenated in order, compared with the golden pieces likewise).
 */
final class Layers14Goldens {
    private Layers14Goldens() {}

    static final String FILE = "layers14.safetensors";

    /** The case's output (or pieces) as computed here on {@code backend}. */
    static float[] run(GoldenFile.Case c, Backend backend) {
        Map<String, String> f = c.fields();
        Tensor x = c.input();
        switch (f.get("layer")) {
            case "Embedding", "EmbeddingPretrained" -> {
                try (Embedding e = embedding(c)) {
                    load(e.parameters(), c);
                    return take(e.forward(x, backend));
                }
            }
            case "GroupNorm" -> {
                try (GroupNorm g = new GroupNorm(i(f, "groups"), i(f, "channels"), 1e-5, Boolean.parseBoolean(f.get("affine").toLowerCase()))) {
                    load(g.parameters(), c);
                    return take(g.forward(x, backend));
                }
            }
            case "Upsample" -> {
                Boolean ac = f.get("align_corners").equals("None") ? null : Boolean.parseBoolean(f.get("align_corners").toLowerCase());
                Upsample u;
                if (!f.get("size").equals("none")) {
                    u = Upsample.size(f.get("mode"), ac, java.util.Arrays.stream(f.get("size").split("x")).mapToLong(Long::parseLong).toArray());
                } else {
                    u = Upsample.scale(f.get("mode"), ac, Double.parseDouble(f.get("scale")));
                }
                float[] viaLayer;
                try (u) {
                    viaLayer = take(u.forward(x, backend));
                }
                long[] size = f.get("size").equals("none") ? null : java.util.Arrays.stream(f.get("size").split("x")).mapToLong(Long::parseLong).toArray();
                double[] scale = size != null ? null : new double[] {Double.parseDouble(f.get("scale"))};
                assertArrayEquals(viaLayer, take(Upsample.interpolate(x, size, scale, f.get("mode"), ac, backend)), c + ": interpolate differs from Upsample");
                return viaLayer;
            }
            case "cat" -> {
                List<Tensor> ts = new ArrayList<>(List.of(x));
                for (int k = 1; k < i(f, "inputs"); k++) ts.add(c.extras().get("in" + k));
                return take(Concat.cat(i(f, "dim"), backend, ts.toArray(Tensor[]::new)));
            }
            case "split", "chunk" -> {
                String arg = f.get("arg");
                List<Tensor> pieces = f.get("layer").equals("chunk") ? Concat.chunk(x, Integer.parseInt(arg), i(f, "dim"))
                        : arg.contains("x") ? Concat.split(x, java.util.Arrays.stream(arg.split("x")).mapToLong(Long::parseLong).toArray(), i(f, "dim"))
                        : Concat.split(x, Long.parseLong(arg), i(f, "dim"));
                assertEquals(i(f, "pieces"), pieces.size(), c + ": number of pieces");
                List<Float> all = new ArrayList<>();
                for (int k = 0; k < pieces.size(); k++) {
                    assertArrayEquals(c.extras().get("piece" + k).shape(), pieces.get(k).shape(), c + ": shape of piece " + k);
                    for (float v : pieces.get(k).toFloatArray()) all.add(v);
                }
                float[] out = new float[all.size()];
                for (int k = 0; k < out.length; k++) out[k] = all.get(k);
                return out;
            }
            case "add", "sub", "mul", "div" -> {
                Broadcast.Op op = Broadcast.Op.valueOf(f.get("layer").toUpperCase());
                return take(Broadcast.apply(op, x, c.extras().get("other"), backend));
            }
            case "SequentialDropout" -> {
                try (Sequential s = new Sequential(new Linear(4, 5, true), new Dropout(0.3), new ReLU(), new Identity(), new Linear(5, 3, true))) {
                    load(s.parameters(), c);
                    return take(s.forward(x, backend));
                }
            }
            case "AdaptiveMaxPool1d" -> {
                try (AdaptiveMaxPool1d p = new AdaptiveMaxPool1d(i(f, "out"))) {
                    return take(p.forward(x, backend));
                }
            }
            case "FiLM" -> {
                try (FiLM m = new FiLM(i(f, "cond"), i(f, "channels"))) {
                    load(m.parameters(), c);
                    return take(m.forward(x, c.extras().get("cond"), backend));
                }
            }
            case "FiLMBlock" -> {
                try (FiLMBlock m = new FiLMBlock(i(f, "in"), i(f, "channels"), i(f, "cond"))) {
                    load(m.parameters(), c);
                    return take(m.forward(x, c.extras().get("cond"), backend));
                }
            }
            default -> throw new IllegalArgumentException("unknown golden layer " + f.get("layer") + " in " + c);
        }
    }

    /** The case's Embedding (built, or from_pretrained with the golden weight). */
    private static Embedding embedding(GoldenFile.Case c) {
        Map<String, String> f = c.fields();
        Long pad = f.get("padding_idx").equals("none") ? null : Long.parseLong(f.get("padding_idx"));
        return f.get("layer").equals("Embedding") ? new Embedding(l(f, "num"), l(f, "dim"), pad)
                : Embedding.fromPretrained(c.params().get("weight"), pad);
    }

    /** The layers whose cases {@link #runInto} runs through their {@code ...Into} call. */
    static final java.util.Set<String> INTO_LAYERS = java.util.Set.of("Embedding", "EmbeddingPretrained", "cat", "add", "sub", "mul", "div",
            "FiLM", "FiLMBlock");

    /**
     * The case's output computed by the module's {@code forwardInto}/{@code catInto}/{@code applyInto}
     * into an {@code out} of the golden's shape that starts full of NaN (an element left unwritten
     * fails the comparison), called twice into the same {@code out}; both results must be equal.
     */
    static float[] runInto(GoldenFile.Case c, Backend backend) {
        Map<String, String> f = c.fields();
        Tensor x = c.input();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor out = Tensor.allocate(arena, dev.panamadnn.DataType.F32, c.output().shape());
            float[] first = null;
            for (int round = 0; round < 2; round++) {
                out.segment().fill((byte) 0xFF);
                switch (f.get("layer")) {
                    case "Embedding", "EmbeddingPretrained" -> {
                        try (Embedding e = embedding(c)) {
                            load(e.parameters(), c);
                            e.forwardInto(x, out, backend);
                        }
                    }
                    case "cat" -> {
                        List<Tensor> ts = new ArrayList<>(List.of(x));
                        for (int k = 1; k < i(f, "inputs"); k++) ts.add(c.extras().get("in" + k));
                        Concat.catInto(i(f, "dim"), backend, out, ts.toArray(Tensor[]::new));
                    }
                    case "add", "sub", "mul", "div" ->
                            Broadcast.applyInto(Broadcast.Op.valueOf(f.get("layer").toUpperCase()), x, c.extras().get("other"), out, backend);
                    case "FiLM" -> {
                        try (FiLM m = new FiLM(i(f, "cond"), i(f, "channels"))) {
                            load(m.parameters(), c);
                            m.forwardInto(x, c.extras().get("cond"), out, backend);
                        }
                    }
                    case "FiLMBlock" -> {
                        try (FiLMBlock m = new FiLMBlock(i(f, "in"), i(f, "channels"), i(f, "cond"))) {
                            load(m.parameters(), c);
                            m.forwardInto(x, c.extras().get("cond"), out, backend);
                        }
                    }
                    default -> throw new IllegalArgumentException("no ...Into call for golden layer " + f.get("layer") + " in " + c);
                }
                float[] got = out.toFloatArray();
                if (first == null) first = got;
                else assertArrayEquals(first, got, c + ": a second call into the same out differs");
            }
            return first;
        }
    }

    /** The golden: the output, or for split/chunk every piece in order. */
    static float[] expected(GoldenFile.Case c) {
        String layer = c.fields().get("layer");
        if (!layer.equals("split") && !layer.equals("chunk")) return c.output().toFloatArray();
        List<Float> all = new ArrayList<>();
        for (int k = 0; c.extras().containsKey("piece" + k); k++) for (float v : c.extras().get("piece" + k).toFloatArray()) all.add(v);
        float[] out = new float[all.size()];
        for (int k = 0; k < out.length; k++) out[k] = all.get(k);
        return out;
    }

    /** The golden's shape for the cases with one output. */
    static long[] expectedShape(GoldenFile.Case c) {
        return c.output().shape();
    }

    private static float[] take(Tensor t) {
        try (t) {
            return t.toFloatArray();
        }
    }

    /** Copies the golden parameters in, requiring exactly the same names, shapes and dtypes. */
    static void load(Map<String, Tensor> mine, GoldenFile.Case c) {
        assertEquals(new TreeSet<>(c.params().keySet()), new TreeSet<>(mine.keySet()), c + ": state_dict keys");
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            Tensor src = c.params().get(e.getKey()), dst = e.getValue();
            assertArrayEquals(src.shape(), dst.shape(), c + ": shape of " + e.getKey());
            assertEquals(src.dtype(), dst.dtype(), c + ": dtype of " + e.getKey());
            MemorySegment.copy(src.segment(), 0, dst.segment(), 0, src.segment().byteSize());
        }
    }

    /** Largest |got - want| over finite values; NaN must meet NaN and an infinity the same infinity. */
    static double compare(String what, float[] got, float[] want, double abs, double rel) {
        assertEquals(want.length, got.length, what + ": element count");
        double worst = 0;
        for (int k = 0; k < want.length; k++) {
            if (Float.isNaN(want[k]) || Float.isInfinite(want[k])) {
                if (Float.compare(got[k], want[k]) != 0 && !(Float.isNaN(got[k]) && Float.isNaN(want[k]))) {
                    throw new AssertionError(what + ": element " + k + " = " + got[k] + ", expected " + want[k]);
                }
                continue;
            }
            double err = Math.abs((double) got[k] - want[k]);
            worst = Math.max(worst, err);
            if (!(err <= abs + rel * Math.abs(want[k]))) {
                throw new AssertionError(what + ": element " + k + " = " + got[k] + ", expected " + want[k] + ", error " + err);
            }
        }
        return worst;
    }

    private static int i(Map<String, String> f, String key) {
        return Integer.parseInt(f.get(key));
    }

    private static long l(Map<String, String> f, String key) {
        return Long.parseLong(f.get(key));
    }
}
