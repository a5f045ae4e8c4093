package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the PyTorch goldens written by {@code scripts/goldens/generate_conv.py}: a manifest line
 * per case ({@code name layer key=value ...}) and raw little-endian f32 files.
 */
final class ConvGoldens {
    static final Path DIR = Path.of("src/test/resources/goldens/conv");

    record Case(String name, String layer, Map<String, String> keys) {
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
            return read(DIR.resolve(name + "." + tensor + ".bin"));
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

    static List<Case> cases() {
        try {
            List<Case> cases = new ArrayList<>();
            for (String line : Files.readAllLines(DIR.resolve("manifest.txt"))) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.trim().split(" ");
                Map<String, String> keys = new LinkedHashMap<>();
                for (int i = 2; i < f.length; i++) {
                    int eq = f[i].indexOf('=');
                    keys.put(f[i].substring(0, eq), f[i].substring(eq + 1));
                }
                cases.add(new Case(f[0], f[1], keys));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] read(Path file) {
        try {
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            float[] values = new float[bytes.remaining() / Float.BYTES];
            bytes.asFloatBuffer().get(values);
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
