package dev.panamadnn.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which shared libraries a benchmark fork really mapped, read from {@code /proc/self/maps}: the
 * proof that the FFM and the JNI oneDNN figures come from the same build (same sha256) and from
 * one copy per process. With {@code -D}{@value #PROPERTY}{@code =FILE} (BenchMain sets it) each
 * fork appends "who, file, path, sha256" lines there, and results.md shows them.
 */
final class LoadedLibraries {
    static final String PROPERTY = "panamadnn.bench.libraries";

    private LoadedLibraries() {}

    /** Distinct mapped paths whose file name is {@code fileName}. */
    static List<String> mapped(String fileName) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .map(l -> l.indexOf('/') < 0 ? "" : l.substring(l.indexOf('/')))
                    .filter(p -> p.endsWith("/" + fileName)).distinct().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read /proc/self/maps", e);
        }
    }

    /** The one mapped path of {@code fileName}; throws if none or several copies are mapped. */
    static String mappedPath(String fileName) {
        List<String> paths = mapped(fileName);
        if (paths.size() != 1) throw new IllegalStateException("expected exactly one " + fileName + " mapped, got " + paths);
        return paths.getFirst();
    }

    /** Appends this fork's libdnnl.so.3 and libgomp.so.1 (path, sha256) to the file named by the property, if set. */
    static void record(String who) {
        String file = System.getProperty(PROPERTY);
        if (file == null || file.isBlank()) return;
        StringBuilder sb = new StringBuilder();
        for (String lib : new String[] {"libdnnl.so.3", "libgomp.so.1"}) {
            String path = mappedPath(lib);
            sb.append(who).append('\t').append(lib).append('\t').append(path).append('\t').append(sha256(Path.of(path))).append('\n');
        }
        try {
            Files.writeString(Path.of(file), sb, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file, e);
        }
    }

    /** "who\tlibrary" -> "path (sha256 ...)" from a file {@link #record} wrote; empty if there is none. */
    static Map<String, String> read(Path file) throws IOException {
        Map<String, String> rows = new TreeMap<>();
        if (!Files.exists(file)) return rows;
        for (String line : Files.readAllLines(file)) {
            String[] f = line.split("\t");
            if (f.length == 4) rows.put(f[0] + "\t" + f[1], f[2] + " (sha256 " + f[3] + ")");
        }
        return rows;
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int r; (r = in.read(buf)) > 0; ) md.update(buf, 0, r);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
