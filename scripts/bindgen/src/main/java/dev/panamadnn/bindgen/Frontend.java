package dev.panamadnn.bindgen;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the headers with libclang. clang sees one synthetic file that includes every header
 * (the positional ones by path, {@code --extra-header} ones as {@code #include <name>}), so
 * several headers share one translation unit and macros can be evaluated after them.
 */
final class Frontend {
    /** Virtual: never written, clang reads it from memory. */
    private static final String SYNTHETIC_FILE =
            Path.of(System.getProperty("java.io.tmpdir"), "pdnn_bindgen_input.c").toString();
    private static final int MAX_REPORTED_ERRORS = 20;

    final List<String> clangArgs = new ArrayList<>();
    final String prelude;
    /** Directories whose headers count as "this header's", for --dump-includes. */
    final List<Path> roots = new ArrayList<>();
    final String headerNames;

    Frontend(Options o) {
        StringBuilder includes = new StringBuilder();
        List<String> names = new ArrayList<>();
        for (Path h : o.headers()) {
            if (!Files.isRegularFile(h)) {
                throw new BindgenException("header file not found: " + h);
            }
            Path abs = h.toAbsolutePath().normalize();
            includes.append("#include \"").append(abs).append("\"\n");
            roots.add(abs.getParent());
            names.add(abs.getFileName().toString());
        }
        for (String extra : o.extraHeaders()) {
            Path found = o.includeDirs().stream().map(d -> d.resolve(extra)).filter(Files::isRegularFile)
                    .findFirst().orElseThrow(() -> new BindgenException("--extra-header " + extra
                            + ": not found in any -I directory " + o.includeDirs()));
            includes.append("#include <").append(extra).append(">\n");
            roots.add(found.toAbsolutePath().normalize().getParent());
            names.add(extra);
        }
        prelude = includes.toString();
        headerNames = String.join(", ", names);

        LibClangLocator.Found clang = LibClang.load();
        clangArgs.add("-ferror-limit=0");
        if (clang.builtinIncludes() != null) {
            // libclang finds its stddef.h/stdint.h relative to its own path, which a distro symlink can break.
            clangArgs.add("-isystem");
            clangArgs.add(clang.builtinIncludes().toString());
        }
        for (Path dir : o.includeDirs()) {
            clangArgs.add("-I" + dir.toAbsolutePath().normalize());
        }
        for (String define : o.defines()) {
            clangArgs.add("-D" + define);
        }
    }

    /** Parses the headers; any clang error (or fatal error) stops generation with all of them listed. */
    Declarations parse() {
        try (TranslationUnit tu = TranslationUnit.parse(SYNTHETIC_FILE, prelude, clangArgs,
                TranslationUnit.DETAILED_PREPROCESSING | TranslationUnit.SKIP_FUNCTION_BODIES)) {
            List<String> errors = tu.diagnostics().stream()
                    .filter(d -> d.severity() >= TranslationUnit.SEVERITY_ERROR).map(Object::toString).toList();
            if (!errors.isEmpty()) {
                List<String> shown = errors.subList(0, Math.min(errors.size(), MAX_REPORTED_ERRORS));
                throw new BindgenException("clang reported " + errors.size() + " error(s) parsing " + headerNames
                        + ":\n  " + String.join("\n  ", shown)
                        + (errors.size() > shown.size() ? "\n  ..." : ""));
            }
            return HeaderParser.parse(tu);
        }
    }

    MacroEvaluator macroEvaluator() {
        return new MacroEvaluator(SYNTHETIC_FILE, prelude, clangArgs);
    }

    /** True for declarations in the headers' own directories (and below), not system headers. */
    boolean inTree(Location location) {
        if (location.file().isEmpty()) {
            return false;
        }
        Path file = Path.of(location.file()).toAbsolutePath().normalize();
        return roots.stream().anyMatch(file::startsWith);
    }

    /** The file relative to its tree root, for output that must not contain absolute paths. */
    String relative(Location location) {
        Path file = Path.of(location.file()).toAbsolutePath().normalize();
        for (Path root : roots) {
            if (file.startsWith(root)) {
                return root.relativize(file).toString();
            }
        }
        return file.getFileName().toString();
    }
}
