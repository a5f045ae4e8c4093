package dev.panamadnn.natives;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Finds and loads OpenBLAS and oneDNN, each independently, trying in this order:
 * <ol>
 *   <li>an explicit directory ({@value #DIR_PROPERTY} or {@value #DIR_ENV}); when one is given
 *       it is the only place tried, so a broken build is never silently replaced by another;</li>
 *   <li>the binaries packaged in this jar, extracted once to a per-content cache directory
 *       ({@link PackagedNatives});</li>
 *   <li>the system library search path.</li>
 * </ol>
 * A source build ({@code scripts/build-natives}' {@code native/build}) is loaded only when asked
 * for: name it as the explicit directory ({@code scripts/* --natives native/build} does), or list
 * {@code build} in {@value #SOURCES_PROPERTY}, which then looks for {@code native/build/lib} in
 * the working directory and its parents. It is never in the default order: a library planted in
 * a parent directory of a server's working directory would otherwise be code run in the server.
 * Libraries are opened in {@link Arena#global()}: they stay loaded for the life of the JVM.
 * Not thread-safe by itself; {@link Natives} calls it once.
 */
final class NativeLoader {
    static final String DIR_PROPERTY = "panamadnn.natives.dir";
    static final String DIR_ENV = "PANAMADNN_NATIVES_DIR";
    static final String CACHE_PROPERTY = "panamadnn.natives.cache";
    static final String CACHE_ENV = "PANAMADNN_NATIVES_CACHE";
    /**
     * Comma-separated subset of {@code build,packaged,system} to try, in that order (default
     * {@value #DEFAULT_SOURCES}: {@code build}, the walk up to {@code native/build/lib}, only when listed).
     */
    static final String SOURCES_PROPERTY = "panamadnn.natives.sources";
    static final String DEFAULT_SOURCES = "packaged,system";

    private final Function<String, String> properties;
    private final Function<String, String> environment;
    private final Path workingDirectory;
    private final List<LoadReport.Library> loaded = new ArrayList<>();
    private final List<LoadReport.Attempt> attempts = new ArrayList<>();

    NativeLoader(Function<String, String> properties, Function<String, String> environment, Path workingDirectory) {
        this.properties = properties;
        this.environment = environment;
        this.workingDirectory = workingDirectory;
    }

    static NativeLoader fromSystem() {
        return new NativeLoader(System::getProperty, System::getenv, Path.of("").toAbsolutePath());
    }

    /** The loaded libraries' lookups and the report; throws {@link NativeLoadException} if one fails. */
    record Result(Map<NativeLibrary, SymbolLookup> lookups, LoadReport report) {}

    Result load() {
        var lookups = new EnumMap<NativeLibrary, SymbolLookup>(NativeLibrary.class);
        for (NativeLibrary lib : NativeLibrary.values()) {
            SymbolLookup lookup = loadOne(lib);
            if (lookup == null) {
                throw new NativeLoadException("Panama DNN could not load " + lib.key + ".", attempts, null);
            }
            lookups.put(lib, lookup);
        }
        return new Result(lookups, new LoadReport(loaded, attempts));
    }

    private SymbolLookup loadOne(NativeLibrary lib) {
        String explicit = firstNonBlank(properties.apply(DIR_PROPERTY), environment.apply(DIR_ENV));
        if (explicit != null) {
            Path dir = Path.of(explicit);
            // A build prefix (scripts/build-natives' native/build) holds the libraries in lib/.
            if (!Files.isRegularFile(dir.resolve(Manifest.FILE_NAME)) && Files.isRegularFile(dir.resolve("lib").resolve(Manifest.FILE_NAME))) {
                dir = dir.resolve("lib");
            }
            return fromDirectory(lib, dir, LoadReport.Source.EXPLICIT_DIRECTORY);
        }
        String sources = firstNonBlank(properties.apply(SOURCES_PROPERTY), DEFAULT_SOURCES);
        for (String source : sources.split(",")) {
            SymbolLookup found = switch (source.strip()) {
                case "build" -> fromSourceBuild(lib);
                case "packaged" -> fromPackaged(lib);
                case "system" -> fromSystemPath(lib);
                default -> throw new IllegalArgumentException(SOURCES_PROPERTY
                        + ": expected a comma-separated subset of build,packaged,system, got '" + sources + "'");
            };
            if (found != null) return found;
        }
        return null;
    }

    private SymbolLookup fromSourceBuild(NativeLibrary lib) {
        for (Path dir = workingDirectory; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("native/build/lib");
            if (Files.isRegularFile(candidate.resolve(Manifest.FILE_NAME))) {
                return fromDirectory(lib, candidate, LoadReport.Source.SOURCE_BUILD);
            }
        }
        attempt(lib, LoadReport.Source.SOURCE_BUILD, "native/build/lib above " + workingDirectory,
                "not found (run scripts/build-natives to create it)");
        return null;
    }

    private SymbolLookup fromPackaged(NativeLibrary lib) {
        Path dir;
        try {
            dir = PackagedNatives.extracted(cacheRoot());
        } catch (IOException | RuntimeException e) {
            attempt(lib, LoadReport.Source.PACKAGED, "jar resources " + PackagedNatives.RESOURCE_DIR, describe(e));
            return null;
        }
        return fromDirectory(lib, dir, LoadReport.Source.PACKAGED);
    }

    private SymbolLookup fromSystemPath(NativeLibrary lib) {
        String name = lib.sonameForSystemSearch();
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(name, Arena.global());
            attempt(lib, LoadReport.Source.SYSTEM, name, "loaded");
            loaded.add(new LoadReport.Library(name, "unknown", Path.of(name), LoadReport.Source.SYSTEM));
            return lookup;
        } catch (IllegalArgumentException | IllegalCallerException e) {
            attempt(lib, LoadReport.Source.SYSTEM, name, describe(e));
            return null;
        }
    }

    private SymbolLookup fromDirectory(NativeLibrary lib, Path dir, LoadReport.Source source) {
        String where = dir.toAbsolutePath().toString();
        if (!Files.isDirectory(dir)) {
            attempt(lib, source, where, "not a directory");
            return null;
        }
        try {
            Manifest manifest = readManifest(dir);
            Path file = lib.findIn(dir, manifest).orElse(null);
            if (file == null || !Files.isRegularFile(file)) {
                attempt(lib, source, where, "no " + lib.baseName + "* file"
                        + (manifest != null ? " listed in " + Manifest.FILE_NAME + " and present" : ""));
                return null;
            }
            // Runtime dependencies shipped beside the library go first, so that its DT_NEEDED
            // entries bind to these copies (glibc reuses a loaded object with the same SONAME).
            for (String dep : lib.runtimeDeps) {
                Path depFile = dir.resolve(dep);
                if (Files.isRegularFile(depFile) && !isLoaded(depFile)) {
                    SymbolLookup.libraryLookup(depFile, Arena.global());
                    loaded.add(new LoadReport.Library(dep, versionOf(manifest, dep), depFile, source));
                }
            }
            SymbolLookup lookup = SymbolLookup.libraryLookup(file, Arena.global());
            String name = file.getFileName().toString();
            loaded.add(new LoadReport.Library(name, versionOf(manifest, name), file, source));
            attempt(lib, source, where, "loaded " + name);
            return lookup;
        } catch (IOException | IllegalArgumentException | IllegalCallerException e) {
            attempt(lib, source, where, describe(e));
            return null;
        }
    }

    private boolean isLoaded(Path file) {
        return loaded.stream().anyMatch(l -> l.path().equals(file));
    }

    private static Manifest readManifest(Path dir) throws IOException {
        Path m = dir.resolve(Manifest.FILE_NAME);
        if (!Files.isRegularFile(m)) return null;
        return Manifest.parse(Files.readString(m, StandardCharsets.UTF_8), m.toString());
    }

    private static String versionOf(Manifest manifest, String file) {
        if (manifest == null) return "unknown";
        return manifest.find(file).map(Manifest.Entry::version).orElse("unknown");
    }

    Path cacheRoot() {
        String explicit = firstNonBlank(properties.apply(CACHE_PROPERTY), environment.apply(CACHE_ENV));
        if (explicit != null) return Path.of(explicit);
        String xdg = environment.apply("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "panama-dnn");
        return Path.of(properties.apply("user.home"), ".cache", "panama-dnn");
    }

    private void attempt(NativeLibrary lib, LoadReport.Source source, String location, String outcome) {
        attempts.add(new LoadReport.Attempt(lib.key, source, location, outcome));
    }

    private static String describe(Throwable e) {
        if (e instanceof IllegalCallerException) {
            return "native access is not enabled: " + Natives.NATIVE_ACCESS_HINT;
        }
        String msg = e.getMessage();
        return e.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }

    private static String firstNonBlank(String a, String b) {
        if (a != null && !a.isBlank()) return a;
        if (b != null && !b.isBlank()) return b;
        return null;
    }

    static String readResource(String name) throws IOException {
        try (InputStream in = NativeLoader.class.getResourceAsStream(name)) {
            if (in == null) return null;
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
