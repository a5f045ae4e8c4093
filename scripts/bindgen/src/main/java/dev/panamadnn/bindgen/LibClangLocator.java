package dev.panamadnn.bindgen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds libclang and the builtin header directory of the same clang version.
 *
 * <p>Order: {@code -Dpanamadnn.libclang=}, env {@code PDNN_LIBCLANG}, then
 * {@code /usr/lib/llvm-N/lib/libclang.so*} (newest N first), then
 * {@code /usr/lib/x86_64-linux-gnu/libclang*.so*}. One error lists everything tried.
 */
final class LibClangLocator {
    static final String PROPERTY = "panamadnn.libclang";
    static final String ENV = "PDNN_LIBCLANG";
    private static final Pattern LLVM_VERSION = Pattern.compile("(?:llvm-|libclang-)(\\d+)");

    /** The library, and the directory holding its stddef.h/stdint.h (null if none was found). */
    record Found(Path library, Path builtinIncludes) {}

    private LibClangLocator() {}

    static Found locate() {
        List<String> tried = new ArrayList<>();
        for (Path candidate : candidates(tried)) {
            if (Files.isRegularFile(candidate)) {
                return new Found(candidate, builtinIncludes(candidate));
            }
            tried.add(candidate + " (no such file)");
        }
        throw new BindgenException("libclang not found; tried:\n  " + String.join("\n  ", tried)
                + "\nInstall it (apt-get install libclang1-16 libclang-common-16-dev) or point -D"
                + PROPERTY + "= / " + ENV + " at libclang.so.");
    }

    private static List<Path> candidates(List<String> tried) {
        List<Path> result = new ArrayList<>();
        String explicit = System.getProperty(PROPERTY, "");
        if (explicit.isBlank()) {
            explicit = System.getenv().getOrDefault(ENV, "");
        }
        if (!explicit.isBlank()) {
            // An explicit choice is final: silently falling back would hide a typo.
            result.add(Path.of(explicit));
            return result;
        }
        tried.add("-D" + PROPERTY + " / $" + ENV + " (not set)");
        for (Path llvm : newestFirst(list(Path.of("/usr/lib"), "llvm-*"))) {
            result.addAll(list(llvm.resolve("lib"), "libclang.so*"));
            result.addAll(list(llvm.resolve("lib"), "libclang-*.so*"));
        }
        result.addAll(newestFirst(list(Path.of("/usr/lib/x86_64-linux-gnu"), "libclang*.so*")).stream()
                .filter(p -> !p.getFileName().toString().startsWith("libclang-cpp")).toList());
        if (result.isEmpty()) {
            tried.add("/usr/lib/llvm-*/lib/libclang.so* (none)");
            tried.add("/usr/lib/x86_64-linux-gnu/libclang*.so* (none)");
        }
        return result;
    }

    /** stddef.h and friends live in {@code <libdir>/clang/<N>/include} of the LLVM install. */
    static Path builtinIncludes(Path library) {
        List<Path> roots = new ArrayList<>();
        roots.add(library.toAbsolutePath().getParent());
        try {
            roots.add(library.toRealPath().getParent());
        } catch (IOException e) {
            // keep the path as given
        }
        Matcher m = LLVM_VERSION.matcher(library.toString());
        while (m.find()) {
            roots.add(Path.of("/usr/lib/llvm-" + m.group(1), "lib"));
        }
        for (Path root : roots) {
            for (Path version : newestFirst(list(root.resolve("clang"), "*"))) {
                Path include = version.resolve("include");
                if (Files.isRegularFile(include.resolve("stddef.h"))) {
                    return include;
                }
            }
        }
        return null;
    }

    private static List<Path> list(Path dir, String glob) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            var matcher = dir.getFileSystem().getPathMatcher("glob:" + glob);
            return s.filter(p -> matcher.matches(p.getFileName())).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Sorts by the first number in the file name, highest first (llvm-16 before llvm-14). */
    private static List<Path> newestFirst(List<Path> paths) {
        return paths.stream().sorted(Comparator.comparingInt(LibClangLocator::version).reversed()
                .thenComparing(Comparator.naturalOrder())).toList();
    }

    private static int version(Path p) {
        Matcher m = Pattern.compile("(\\d+)").matcher(p.getFileName().toString());
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }
}
