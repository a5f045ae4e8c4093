package dev.panamadnn.bindgen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line, jextract's option names plus three project extensions
 * ({@code --symbol-lookup}, {@code --critical-function}, {@code --extra-header}).
 * {@code @file} arguments are expanded first: one option per line ("--opt value"),
 * blank lines and {@code #} comments ignored, options from all sources combined.
 */
record Options(List<Path> headers, List<String> extraHeaders, List<Path> includeDirs, List<String> defines,
        Path output, String targetPackage, String headerClassName, String symbolLookup,
        Map<Kind, Set<String>> includes, Set<String> criticalFunctions, Path dumpIncludes) {

    /** The {@code --include-*} kinds, in the order generated code and dumps list them. */
    enum Kind {
        FUNCTION("--include-function"), CONSTANT("--include-constant"), STRUCT("--include-struct"),
        UNION("--include-union"), TYPEDEF("--include-typedef"), VAR("--include-var");

        final String option;

        Kind(String option) {
            this.option = option;
        }
    }

    /** Bad command line: Main prints it with the usage and exits 2. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    static final String USAGE = """
            usage: Main [options] <header.h>...
              -I <dir>                        add a directory to the include search path
              -D <name>[=<value>]             define a macro
              --output <dir>                  source root to write into (package dirs are created)
              --target-package <pkg>          package of the generated classes
              --header-class-name <name>      name of the header class (default: <header>_h)
              --include-function <name>       generate this function (also -constant, -struct, -union,
              --include-constant <name>         -typedef, -var); only listed symbols are generated
              --include-struct <name>
              --include-union <name>
              --include-typedef <name>
              --include-var <name>            (global variables are refused with an error)
              --dump-includes <file>          write include lines for every declaration, then stop
              --symbol-lookup <java expr>     SymbolLookup expression for the header class (extension)
              --critical-function <name>      also generate name$critical(...) (extension)
              --extra-header <name>           also parse <name>, found like #include <name> (extension)
              @<file>                         read options from a file, one per line
            """;

    static Options parse(List<String> args) {
        List<String[]> pairs = new ArrayList<>();
        List<Path> headers = new ArrayList<>();
        expand(args, pairs, headers);
        List<String> extra = new ArrayList<>();
        List<Path> includeDirs = new ArrayList<>();
        List<String> defines = new ArrayList<>();
        Map<Kind, Set<String>> includes = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            includes.put(k, new LinkedHashSet<>());
        }
        Set<String> critical = new LinkedHashSet<>();
        Path output = null;
        Path dump = null;
        String pkg = "";
        String headerClass = null;
        String lookup = null;
        for (String[] p : pairs) {
            String value = p[1];
            switch (p[0]) {
                case "-I" -> includeDirs.add(Path.of(value));
                case "-D" -> defines.add(value);
                case "--output" -> output = Path.of(value);
                case "--target-package" -> pkg = value;
                case "--header-class-name" -> headerClass = value;
                case "--symbol-lookup" -> lookup = value;
                case "--critical-function" -> critical.add(value);
                case "--extra-header" -> extra.add(value);
                case "--dump-includes" -> dump = Path.of(value);
                default -> includes.get(kindOf(p[0])).add(value);
            }
        }
        if (headers.isEmpty()) {
            throw new UsageException("no header file given");
        }
        if (output == null && dump == null) {
            throw new UsageException("--output is required (or --dump-includes)");
        }
        if (headerClass == null) {
            String file = headers.get(0).getFileName().toString();
            headerClass = file.replaceAll("\\.h$", "").replaceAll("[^A-Za-z0-9_]", "_") + "_h";
        }
        return new Options(List.copyOf(headers), List.copyOf(extra), List.copyOf(includeDirs), List.copyOf(defines),
                output, pkg, headerClass, lookup, includes, critical, dump);
    }

    private static final Set<String> WITH_VALUE = Set.of("-I", "-D", "--output", "--target-package",
            "--header-class-name", "--symbol-lookup", "--critical-function", "--extra-header", "--dump-includes");

    private static boolean takesValue(String option) {
        if (WITH_VALUE.contains(option)) {
            return true;
        }
        for (Kind k : Kind.values()) {
            if (k.option.equals(option)) {
                return true;
            }
        }
        return false;
    }

    private static Kind kindOf(String option) {
        for (Kind k : Kind.values()) {
            if (k.option.equals(option)) {
                return k;
            }
        }
        throw new AssertionError(option);
    }

    /** Turns command-line words and argfile lines into (option, value) pairs and positional headers. */
    private static void expand(List<String> args, List<String[]> pairs, List<Path> headers) {
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.startsWith("@")) {
                argFile(Path.of(arg.substring(1)), pairs, headers);
            } else if (arg.startsWith("-")) {
                String[] p = split(arg, i + 1 < args.size() ? args.get(i + 1) : null);
                pairs.add(p);
                if (p[2] != null) {
                    i++; // the value was the next word
                }
            } else {
                headers.add(Path.of(arg));
            }
        }
    }

    /** {option, value, "next" if the value was taken from the next word}; also accepts -Idir, -DX, --opt=v. */
    private static String[] split(String arg, String next) {
        int eq = arg.indexOf('=');
        if (arg.startsWith("--") && eq > 0 && takesValue(arg.substring(0, eq))) {
            return new String[] {arg.substring(0, eq), arg.substring(eq + 1), null};
        }
        if (!arg.startsWith("--") && arg.length() > 2 && takesValue(arg.substring(0, 2))) {
            return new String[] {arg.substring(0, 2), arg.substring(2), null};
        }
        if (!takesValue(arg)) {
            throw new UsageException("unknown option: " + arg);
        }
        if (next == null) {
            throw new UsageException("option " + arg + " needs a value");
        }
        return new String[] {arg, next, "next"};
    }

    private static void argFile(Path file, List<String[]> pairs, List<Path> headers) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UsageException("cannot read argument file " + file + ": " + e);
        }
        for (int n = 0; n < lines.size(); n++) {
            String line = stripComment(lines.get(n)).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] words = line.split("\\s+", 2);
            try {
                if (!words[0].startsWith("-")) {
                    headers.add(Path.of(line));
                } else {
                    String[] p = split(words[0], words.length > 1 ? words[1] : null);
                    pairs.add(p);
                }
            } catch (UsageException e) {
                throw new UsageException(file + ":" + (n + 1) + ": " + e.getMessage());
            }
        }
    }

    /** A '#' at the start of a line or after whitespace starts a comment (dump files end lines with one). */
    private static String stripComment(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }
}
