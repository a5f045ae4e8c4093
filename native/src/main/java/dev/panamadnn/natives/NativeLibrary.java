package dev.panamadnn.natives;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The two libraries Panama DNN calls, with the file names they may carry and the runtime
 * libraries that, when present beside them, must be loaded first (so the dynamic linker binds
 * the library's {@code DT_NEEDED} entries to our copies, not to whatever the system has).
 */
enum NativeLibrary {
    OPENBLAS("openblas", "libopenblas.so", List.of("libquadmath.so.0", "libgfortran.so.5")),
    // Debian's oneDNN sets the SONAME to libdnnl.so.3.6, so any libdnnl.so.3.* is accepted. Its threading runtime:
    // libgomp (the packaged set, OpenMP) or libtbb (scripts/build-natives --cpu-runtime tbb), whichever is beside it.
    DNNL("dnnl", "libdnnl.so", List.of("libgomp.so.1", "libtbb.so.12"));

    final String key;
    final String baseName;
    final List<String> runtimeDeps;

    NativeLibrary(String key, String baseName, List<String> runtimeDeps) {
        this.key = key;
        this.baseName = baseName;
        this.runtimeDeps = runtimeDeps;
    }

    /** The preferred system-path name (the SONAME upstream uses). */
    String sonameForSystemSearch() {
        return this == OPENBLAS ? "libopenblas.so.0" : "libdnnl.so.3";
    }

    /** The file of this library in {@code dir}: the manifest's entry, else the best-named file. */
    Optional<Path> findIn(Path dir, Manifest manifest) throws IOException {
        if (manifest != null) {
            return manifest.entries().stream().map(Manifest.Entry::file)
                    .filter(f -> f.startsWith(baseName)).findFirst().map(dir::resolve);
        }
        try (Stream<Path> files = Files.list(dir)) {
            // libx.so.N before libx.so.N.M before libx.so: the versioned SONAME is what upstream installs.
            return files.filter(p -> p.getFileName().toString().startsWith(baseName))
                    .filter(Files::isRegularFile)
                    .min((a, b) -> rank(a) - rank(b));
        }
    }

    private int rank(Path p) {
        String n = p.getFileName().toString();
        if (n.equals(baseName)) return 3;
        return n.chars().filter(c -> c == '.').count() == 2 ? 1 : 2;
    }
}
