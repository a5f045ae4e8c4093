package dev.panamadnn.nn;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** The pooling goldens ({@code scripts/goldens/generate_pool.py}) and the layer each spec describes. */
final class PoolGoldens {
    private PoolGoldens() {}

    static List<GoldenFile.Case> cases() {
        try (GoldenFile file = GoldenFile.open("pool.safetensors")) {
            // Copy the tensors out: the file (and its mapping) closes here.
            return file.cases().stream().map(PoolGoldens::detach).toList();
        }
    }

    private static GoldenFile.Case detach(GoldenFile.Case c) {
        return new GoldenFile.Case(c.name(), c.spec(), Map.of(), Map.of(), copy(c.input()), copy(c.output()));
    }

    private static dev.panamadnn.Tensor copy(dev.panamadnn.Tensor t) {
        return dev.panamadnn.Tensor.of(t.toFloatArray(), t.shape());
    }

    /** The layer a spec ("Layer key=value ...") describes. */
    static PoolLayer build(Map<String, String> f) {
        String layer = f.get("layer");
        return switch (layer) {
            case "MaxPool1d" -> new MaxPool1d(ints(f, "kernel")[0], ints(f, "stride")[0], ints(f, "padding")[0],
                    ints(f, "dilation")[0], flag(f, "ceil"));
            case "MaxPool2d" -> new MaxPool2d(ints(f, "kernel"), ints(f, "stride"), ints(f, "padding"), ints(f, "dilation"),
                    flag(f, "ceil"));
            case "AvgPool1d" -> new AvgPool1d(ints(f, "kernel")[0], ints(f, "stride")[0], ints(f, "padding")[0], flag(f, "ceil"),
                    flag(f, "include_pad"));
            case "AvgPool2d" -> new AvgPool2d(ints(f, "kernel"), ints(f, "stride"), ints(f, "padding"), flag(f, "ceil"),
                    flag(f, "include_pad"));
            case "AdaptiveAvgPool1d" -> new AdaptiveAvgPool1d(ints(f, "output_size")[0]);
            case "AdaptiveAvgPool2d" -> new AdaptiveAvgPool2d(ints(f, "output_size")[0], ints(f, "output_size")[1]);
            case "AdaptiveMaxPool2d" -> new AdaptiveMaxPool2d(ints(f, "output_size")[0], ints(f, "output_size")[1]);
            default -> throw new IllegalArgumentException("unknown layer in golden spec: " + layer);
        };
    }

    private static int[] ints(Map<String, String> f, String key) {
        String v = f.get(key);
        if (v == null) throw new IllegalArgumentException("golden spec lacks " + key + ": " + f);
        return Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static boolean flag(Map<String, String> f, String key) {
        return ints(f, key)[0] == 1;
    }
}
