package dev.panamadnn.natives;

import java.nio.file.Path;
import java.util.List;

/**
 * What the loader loaded and from where, and what it tried first.
 *
 * @param libraries every library loaded, dependencies first, in load order
 * @param attempts  every place tried, including the ones that failed
 */
public record LoadReport(List<Library> libraries, List<Attempt> attempts) {

    /** Where a library was found, in the loader's order of preference. */
    public enum Source {
        /** {@code -Dpanamadnn.natives.dir} or {@code PANAMADNN_NATIVES_DIR}. */
        EXPLICIT_DIRECTORY,
        /** The output of {@code scripts/build-natives}: {@code native/build/lib}. */
        SOURCE_BUILD,
        /** The binaries packaged in the panama-dnn-native jar, extracted to a cache. */
        PACKAGED,
        /** The system's library search path ({@code ldconfig}, {@code LD_LIBRARY_PATH}). */
        SYSTEM
    }

    /**
     * One loaded shared library.
     *
     * @param file    file name, e.g. {@code libdnnl.so.3}
     * @param version the version the manifest declares, or {@code "unknown"}
     * @param path    where it was loaded from (a bare name for the system search path)
     * @param source  which resolution step found it
     */
    public record Library(String file, String version, Path path, Source source) {}

    /**
     * One place tried for one library.
     *
     * @param library  {@code openblas} or {@code dnnl}
     * @param source   the resolution step
     * @param location the directory or name tried
     * @param outcome  {@code "loaded"} or why it failed
     */
    public record Attempt(String library, Source source, String location, String outcome) {}

    /** Copies both lists (the report is immutable). */
    public LoadReport {
        libraries = List.copyOf(libraries);
        attempts = List.copyOf(attempts);
    }

    /**
     * {@return the loaded library whose file name starts with {@code prefix}}
     *
     * @param prefix the start of the file name, e.g. {@code libdnnl}
     * @throws IllegalArgumentException if no loaded library's name starts with it
     */
    public Library library(String prefix) {
        return libraries.stream().filter(l -> l.file().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no loaded library starts with " + prefix));
    }

    @Override
    public String toString() {
        int file = 4, version = 7, source = 6;
        for (var l : libraries) {
            file = Math.max(file, l.file().length());
            version = Math.max(version, l.version().length());
            source = Math.max(source, l.source().name().length());
        }
        String row = "%-" + file + "s  %-" + version + "s  %-" + source + "s  %s%n";
        var sb = new StringBuilder();
        for (var l : libraries) sb.append(String.format(row, l.file(), l.version(), l.source(), l.path()));
        return sb.toString();
    }
}
