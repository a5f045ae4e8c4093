package dev.panamadnn.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.lifetime.NativeAccess;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Java reads of a memory-mapped file truncated under its mapping are an {@link IllegalStateException} naming what was
 * read, however warm the JVM. Once the JIT compiles a copy into its copy stub, the JVM no longer throws the fault's
 * {@link InternalError} at the copy but at the thread's next safepoint poll, which can lie in a caller past the code
 * that catches it: measured before the fix, 189,547 of 200,000 {@code NativeAccess.copyOfMapped} calls from a truncated
 * mapping in one JVM escaped as an {@code InternalError} (the first ~10,000, interpreted or C1-compiled, did not); the
 * race suite caught one such escape in a compiled plan's run of a mapped input ({@code plan-truncate/cnn-split}).
 * Each read here is repeated well past the JIT's thresholds, on a platform and on a virtual thread; every one must end as
 * the named exception (the JVM handles a Java access's fault itself: no native code touches the mapping, so nothing here
 * can crash).
 */
@SuppressWarnings("unchecked")
class TruncatedMappingWarmTest {
    private static final int CALLS = 40_000;

    @TempDir
    Path dir;

    @Test
    void everyReadOfATruncatedMappingIsANamedExceptionEvenOnceCompiled() throws Exception {
        float[] values = new float[4096];
        for (int i = 0; i < values.length; i++) values[i] = i;
        Path file = dir.resolve("x.safetensors");
        try (Tensor x = Tensor.of(values, 64, 64)) {
            SafeTensors.save(file, Map.of("x", x), null);
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            Tensor mapped = st.get("x");
            assertTrue(mapped.segment().isMapped(), "the tensor is a view of the mapping");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(64);   // the header's first bytes stay; every page of the data is gone
            }
            Supplier<Object> copy = () -> {
                try (Arena tmp = Arena.ofConfined()) {
                    return NativeAccess.copyOfMapped(mapped.segment(), tmp, "x").byteSize();
                }
            };
            assertEquals(Map.of("IllegalStateException", CALLS), outcomes(copy), "NativeAccess.copyOfMapped");
            assertEquals(Map.of("IllegalStateException", CALLS), outcomes(() -> mapped.toFloatArray().length), "Tensor.toFloatArray");
            assertEquals(Map.of("IllegalStateException", CALLS), outcomes(() -> mapped.getFloat(63, 63)), "Tensor.getFloat");
            // On a virtual thread too (a delivery by Thread.yield, an unmount there, left it hanging with the fault pending)
            Map<String, Integer>[] onVirtual = new Map[1];
            Thread v = Thread.ofVirtual().start(() -> onVirtual[0] = outcomes(copy));
            assertTrue(v.join(java.time.Duration.ofSeconds(120)), "the virtual thread's reads ended");
            assertEquals(Map.of("IllegalStateException", CALLS), onVirtual[0], "NativeAccess.copyOfMapped on a virtual thread");
        }
    }

    @Test
    void loadingAStateDictFromATruncatedFileIsANamedExceptionEvenOnceCompiled() throws Exception {
        Path file = dir.resolve("linear.safetensors");
        try (dev.panamadnn.nn.Linear source = new dev.panamadnn.nn.Linear(64, 64, true)) {
            SafeTensors.save(file, Map.of("weight", source.weight(), "bias", source.bias()), null);
        }
        try (SafeTensors st = SafeTensors.open(file); dev.panamadnn.nn.Linear target = new dev.panamadnn.nn.Linear(64, 64, true)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(64);
            }
            // before: the InternalError itself, from the copy into the first parameter
            assertEquals(Map.of("IllegalStateException", CALLS / 4), outcomes(() -> {
                st.loadInto(target);
                return null;
            }, CALLS / 4), "SafeTensors.loadInto");
        }
    }

    private static Map<String, Integer> outcomes(Supplier<Object> read) {
        return outcomes(read, CALLS);
    }

    /** Per outcome (the exception's simple name, or "read"), how many of {@code calls} calls of {@code read} ended so. */
    private static Map<String, Integer> outcomes(Supplier<Object> read, int calls) {
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int i = 0; i < calls; i++) {
            String o;
            try {
                try {
                    read.get();
                    o = "read";
                } catch (IllegalStateException e) {
                    o = e.getMessage() != null && e.getMessage().contains("truncated") ? "IllegalStateException" : "IllegalStateException: " + e.getMessage();
                }
            } catch (Throwable t) {   // the fault's InternalError thrown past the read's own catch, at this frame's poll
                o = t.getClass().getSimpleName();
            }
            outcomes.merge(o, 1, Integer::sum);
        }
        return outcomes;
    }
}
