package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch goldens written by {@code scripts/goldens/generate_conv.py} into
 * {@code goldens/conv.safetensors}, read through {@link GoldenFile}: per case a spec
 * ({@code layer key=value ...}, keys in the script's header) and the tensors weight, bias (if
 * any), input and output.
 */
final class ConvGoldens {
    private static final String FILE = "conv.safetensors";

    /** One case: its layer, its spec's keys, and its tensors (weight, bias, input, output) copied out of the file. */
    record Case(String name, String layer, Map<String, String> keys, Map<String, float[]> tensors) {
        int integer(String key) {
            return Integer.parseInt(keys.get(key));
        }

        int[] ints(String key) {
            return Arrays.stream(keys.get(key).split(",")).mapToInt(Integer::parseInt).toArray();
        }

        long[] shape(String key) {
            return Arrays.stream(keys.get(key).split(",")).mapToLong(Long::parseLong).toArray();
        }

        float[] data(String tensor) {
            float[] values = tensors.get(tensor);
            if (values == null) throw new IllegalStateException(FILE + ": case " + name + " has no tensor " + tensor + " (has " + tensors.keySet() + ")");
            return values;
        }

        /** The layer this case describes, with the golden weight and bias copied in. */
        ConvNd build() {
            ConvNdBuilder<?> b = switch (layer) {
                case "Conv1d" -> Conv1d.builder(integer("in"), integer("out"), ints("kernel")[0]);
                case "Conv2d" -> Conv2d.builder(integer("in"), integer("out"), ints("kernel"));
                case "ConvTranspose1d" -> ConvTranspose1d.builder(integer("in"), integer("out"), ints("kernel")[0]);
                case "ConvTranspose2d" -> ConvTranspose2d.builder(integer("in"), integer("out"), ints("kernel"));
                default -> throw new IllegalArgumentException("unknown layer " + layer);
            };
            b.stride(ints("stride")).dilation(ints("dilation")).groups(integer("groups")).bias(integer("bias") == 1);
            if (keys.containsKey("padding")) b.padding(ints("padding"));
            if (b instanceof ConvBuilder<?> cb) {
                if (keys.containsKey("pad_before")) cb.padding(ints("pad_before"), ints("pad_after"));
                if (keys.containsKey("padding_text")) cb.padding(keys.get("padding_text"));
                cb.paddingMode(PaddingMode.valueOf(keys.get("mode").toUpperCase(java.util.Locale.ROOT)));
            }
            if (b instanceof Conv1d.Builder c1 && keys.containsKey("causal")) c1.causal();
            if (b instanceof ConvTransposeBuilder<?> tb) tb.outputPadding(ints("output_padding"));
            ConvNd layer = switch (b) {
                case Conv1d.Builder x -> x.build();
                case Conv2d.Builder x -> x.build();
                case ConvTranspose1d.Builder x -> x.build();
                case ConvTranspose2d.Builder x -> x.build();
                default -> throw new IllegalStateException();
            };
            copy(data("weight"), layer.weight());
            if (layer.bias() != null) copy(data("bias"), layer.bias());
            return layer;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Every case, in generation order; the file closes before this returns. */
    static List<Case> cases() {
        try (GoldenFile file = GoldenFile.open(FILE)) {
            List<Case> cases = new ArrayList<>();
            for (GoldenFile.Case c : file.cases()) {
                if (c.spec() == null) throw new IllegalStateException(FILE + ": case " + c.name() + " has no spec");
                Map<String, String> keys = new LinkedHashMap<>(c.fields());
                String layer = keys.remove("layer");
                if (!c.extras().isEmpty()) throw new IllegalStateException(FILE + ": case " + c.name() + " has unknown tensors " + c.extras().keySet());
                Map<String, float[]> tensors = new LinkedHashMap<>();
                c.params().forEach((k, t) -> tensors.put(k, t.toFloatArray()));
                tensors.put("input", c.input().toFloatArray());
                tensors.put("output", c.output().toFloatArray());
                Case k = new Case(c.name(), layer, keys, tensors);
                // The spec's shapes are what the test uses; they must be the tensors' own.
                for (String io : List.of("input", "output")) {
                    long[] stored = (io.equals("input") ? c.input() : c.output()).shape();
                    if (!Arrays.equals(k.shape(io), stored)) {
                        throw new IllegalStateException(FILE + ": case " + c.name() + ": spec " + io + "=" + keys.get(io)
                                + " but the tensor has shape " + Arrays.toString(stored));
                    }
                }
                cases.add(k);
            }
            return cases;
        }
    }

    static void copy(float[] values, Tensor into) {
        if (values.length != into.numel()) {
            throw new IllegalArgumentException(into + " needs " + into.numel() + " values, golden has " + values.length);
        }
        MemorySegment.copy(values, 0, into.segment(), ValueLayout.JAVA_FLOAT, 0, values.length);
    }

    private ConvGoldens() {}
}
