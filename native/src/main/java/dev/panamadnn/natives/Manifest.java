package dev.panamadnn.natives;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * A {@code natives.manifest}: one {@code file|version|sha256} line per shared library, in load
 * order; {@code #} starts a comment. The packaged one pins the exact upstream binaries; the one
 * {@code scripts/build-natives} writes describes a source build.
 */
record Manifest(String origin, List<Entry> entries) {

    /** One library: its file name, the version it declares and its sha256 (lower-case hex). */
    record Entry(String file, String version, String sha256) {}

    static final String FILE_NAME = "natives.manifest";

    Manifest {
        entries = List.copyOf(entries);
    }

    static Manifest parse(String text, String origin) {
        var entries = new ArrayList<Entry>();
        int lineNo = 0;
        for (String raw : text.split("\n", -1)) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] parts = line.split("\\|", -1);
            if (parts.length != 3 || parts[0].isBlank() || parts[0].contains("/")) {
                throw new IllegalArgumentException(origin + ":" + lineNo
                        + ": expected 'file|version|sha256' with a plain file name, got '" + line + "'");
            }
            String sha = parts[2].strip().toLowerCase(java.util.Locale.ROOT);
            if (sha.length() != 64 || !isHex(sha)) {
                throw new IllegalArgumentException(origin + ":" + lineNo
                        + ": expected a 64-digit hex sha256, got '" + parts[2].strip() + "'");
            }
            entries.add(new Entry(parts[0].strip(), parts[1].strip(), sha));
        }
        return new Manifest(origin, entries);
    }

    Optional<Entry> find(String file) {
        return entries.stream().filter(e -> e.file().equals(file)).findFirst();
    }

    private static boolean isHex(String s) {
        try {
            HexFormat.of().parseHex(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
