package dev.panamadnn.bindgen;

import static java.lang.foreign.ValueLayout.ADDRESS;

import dev.panamadnn.bindgen.LibClang.Fn;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One parsed libclang translation unit. Every cursor and type copied out of it lives in
 * {@link #arena()}, which closes with the unit; use it from one thread.
 */
final class TranslationUnit implements AutoCloseable {
    /** CXTranslationUnit_DetailedPreprocessingRecord: macro definitions become cursors. */
    static final int DETAILED_PREPROCESSING = 0x01;
    /** CXTranslationUnit_SkipFunctionBodies: headers only, bodies are irrelevant. */
    static final int SKIP_FUNCTION_BODIES = 0x40;

    static final int SEVERITY_ERROR = 3;

    /** A clang diagnostic: severity (3 error, 4 fatal), message and where. */
    record Diagnostic(int severity, String message, Location location) {
        @Override
        public String toString() {
            return location + ": " + (severity >= SEVERITY_ERROR ? "error: " : "warning: ") + message;
        }
    }

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment index;
    private final MemorySegment unit;
    private final Map<String, byte[]> sources = new HashMap<>();

    private TranslationUnit(MemorySegment index, MemorySegment unit) {
        this.index = index;
        this.unit = unit;
    }

    /**
     * Parses {@code contents} as a C file named {@code fileName} (it need not exist on disk),
     * with the given clang command-line arguments.
     */
    static TranslationUnit parse(String fileName, String contents, List<String> args, int options) {
        LibClang.load();
        MemorySegment index = LibClang.createIndex();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment argv = tmp.allocate(ADDRESS, Math.max(1, args.size()));
            for (int i = 0; i < args.size(); i++) {
                argv.setAtIndex(ADDRESS, i, tmp.allocateFrom(args.get(i)));
            }
            byte[] bytes = contents.getBytes(StandardCharsets.UTF_8);
            MemorySegment name = tmp.allocateFrom(fileName);
            MemorySegment unsaved = tmp.allocate(LibClang.UNSAVED_FILE);
            unsaved.set(ADDRESS, 0, name);
            unsaved.set(ADDRESS, 8, tmp.allocateFrom(contents));
            unsaved.set(java.lang.foreign.ValueLayout.JAVA_LONG, 16, bytes.length);
            MemorySegment out = tmp.allocate(ADDRESS);
            int error = (int) LibClang.call(Fn.parseTranslationUnit2, index, name, argv, args.size(), unsaved, 1,
                    options, out);
            if (error != 0) {
                LibClang.call(Fn.disposeIndex, index);
                // CXErrorCode: 1 failure, 2 crashed, 3 invalid arguments, 4 AST read error.
                throw new BindgenException("libclang could not parse " + fileName + " (CXErrorCode " + error
                        + ") with arguments " + args);
            }
            return new TranslationUnit(index, out.get(ADDRESS, 0));
        }
    }

    Arena arena() {
        return arena;
    }

    Cursor cursor() {
        return new Cursor(this, (MemorySegment) LibClang.call(Fn.getTranslationUnitCursor, arena, unit));
    }

    List<Diagnostic> diagnostics() {
        List<Diagnostic> result = new ArrayList<>();
        int n = (int) LibClang.call(Fn.getNumDiagnostics, unit);
        for (int i = 0; i < n; i++) {
            MemorySegment diag = (MemorySegment) LibClang.call(Fn.getDiagnostic, unit, i);
            MemorySegment location = (MemorySegment) LibClang.call(Fn.getDiagnosticLocation, arena, diag);
            result.add(new Diagnostic((int) LibClang.call(Fn.getDiagnosticSeverity, diag),
                    LibClang.stringCall(Fn.getDiagnosticSpelling, arena, diag),
                    LibClang.expansionLocation(arena, location)));
            LibClang.call(Fn.disposeDiagnostic, diag);
        }
        return result;
    }

    /** The source bytes between two locations of one file, or null when they are not in one real file. */
    String text(Location start, Location end) {
        if (start.file().isEmpty() || !start.file().equals(end.file()) || end.offset() < start.offset()) {
            return null;
        }
        byte[] bytes = sources.computeIfAbsent(start.file(), f -> {
            try {
                return Files.readAllBytes(Path.of(f));
            } catch (IOException e) {
                return null;
            }
        });
        if (bytes == null || end.offset() > bytes.length) {
            return null;
        }
        return new String(bytes, start.offset(), end.offset() - start.offset(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        LibClang.call(Fn.disposeTranslationUnit, unit);
        LibClang.call(Fn.disposeIndex, index);
        arena.close();
    }
}
