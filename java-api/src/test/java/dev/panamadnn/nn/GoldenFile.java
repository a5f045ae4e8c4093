package dev.panamadnn.nn;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch goldens in the safetensors format written by {@code scripts/goldens/goldens_io.py}:
 * tensors {@code <case>/input}, {@code <case>/output}, {@code <case>/param:<name>}, and the
 * metadata {@code cases} (names in order), {@code <case>} (its spec string) and, in files written
 * since it was added, {@code <case>/order} (tensor keys in the generator's order). Read through
 * {@link SafeTensors}, so every golden test also checks our reader on PyTorch-written data.
 */
final class GoldenFile implements AutoCloseable {
    /** One case: its spec ("Layer key=value ..."), parameters by state_dict name, input and output. */
    record Case(String name, String spec, Map<String, Tensor> params, Map<String, Tensor> extras, Tensor input, Tensor output) {
        /** The spec's {@code key=value} pairs; the first word (the layer) is under "layer". */
        Map<String, String> fields() {
            Map<String, String> m = new LinkedHashMap<>();
            String[] words = spec.trim().split("\\s+");
            m.put("layer", words[0]);
            for (int i = 1; i < words.length; i++) {
                int eq = words[i].indexOf('=');
                if (eq < 0) throw new IllegalArgumentException("spec word without '=': " + words[i] + " in " + spec);
                m.put(words[i].substring(0, eq), words[i].substring(eq + 1));
            }
            return m;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final SafeTensors file;

    private GoldenFile(SafeTensors file) {
        this.file = file;
    }

    private static final String PROBE_DIR = "panamadnn.goldens.dir";

    /** Whether the goldens may come from {@code scripts/torch-probe}'s random cases (so counts of cases do not hold). */
    static boolean probing() {
        return System.getProperty(PROBE_DIR) != null;
    }

    /**
     * Opens {@code /goldens/<resource>} from the test class path; or, where the system property
     * {@code panamadnn.goldens.dir} names a directory holding a file of that name, that file instead
     * ({@code scripts/torch-probe} runs the golden tests on random PyTorch configurations that way).
     */
    static GoldenFile open(String resource) {
        String dir = System.getProperty(PROBE_DIR);
        if (dir != null && Files.isRegularFile(Path.of(dir, resource))) {
            try {
                return new GoldenFile(SafeTensors.open(Path.of(dir, resource)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        URL url = GoldenFile.class.getResource("/goldens/" + resource);
        if (url == null) throw new IllegalStateException("missing golden resource /goldens/" + resource + ": run its scripts/goldens generator");
        try {
            return new GoldenFile(SafeTensors.open(Path.of(url.toURI())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    List<Case> cases() {
        List<Case> out = new ArrayList<>();
        String list = file.metadata().get("cases");
        if (list == null || list.isEmpty()) throw new IllegalStateException(file.file() + ": no 'cases' metadata");
        for (String name : list.split(",")) {
            Map<String, Tensor> params = new LinkedHashMap<>(), extras = new LinkedHashMap<>();
            String prefix = name + "/";
            // Files list names sorted; "<case>/order" (newer files) gives the generator's order.
            String order = file.metadata().get(prefix + "order");
            List<String> keys = order != null ? List.of(order.split(","))
                    : file.names().stream().filter(t -> t.startsWith(prefix)).map(t -> t.substring(prefix.length())).toList();
            for (String key : keys) {
                String t = prefix + key;
                if (key.startsWith("param:")) params.put(key.substring(6), file.get(t));
                else if (!key.equals("input") && !key.equals("output")) extras.put(key, file.get(t));
            }
            out.add(new Case(name, file.metadata().get(name), params, extras, file.get(prefix + "input"), file.get(prefix + "output")));
        }
        return out;
    }

    @Override
    public void close() {
        file.close();
    }
}
