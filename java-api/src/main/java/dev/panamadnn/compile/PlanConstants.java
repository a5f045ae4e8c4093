package dev.panamadnn.compile;

import dev.panamadnn.internal.dnnl.DnnlMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A plan's constants in native memory - weights in the layouts its primitives read, biases, Winograd's transformed
 * weights, constant operands - freed with the plan ({@link #close()}), and the staging buffer weights pass through on
 * their way into a reorder while the plan is compiled. Every segment handed out has this object's scope: no access
 * outlives the plan (a closed plan's segments throw instead of reading freed memory).
 */
final class PlanConstants implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    /** The oneDNN allocations behind {@link #written} segments. */
    private final List<DnnlMemory> allocations = new ArrayList<>();
    /** Where {@link #staged} copies weights: one buffer for the whole compile, grown as needed. */
    private Arena stagingArena;
    private MemorySegment staging;

    /** {@return {@code bytes} of zeroed memory, 64-byte aligned} */
    MemorySegment allocate(long bytes) {
        return arena.allocate(bytes, 64);
    }

    /** {@return a copy of {@code values}} */
    MemorySegment of(float[] values) {
        return arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
    }

    /**
     * {@return {@code bytes} for data that is written before it is read (a reorder's destination, Winograd's transformed
     * weights)}: not zeroed ({@link DnnlMemory#allocate}), so its pages are first touched by whoever fills them.
     */
    MemorySegment written(long bytes) {
        DnnlMemory m = DnnlMemory.allocate(bytes);
        allocations.add(m);
        return m.dataAddress().reinterpret(bytes, arena, null);
    }

    /**
     * {@code values} copied into native memory that is valid until the next call or {@link #endCompile()}: every weight
     * goes through the same pages instead of a fresh allocation each (a cold compile of ResNet-50 otherwise faults in
     * and zeroes ~100 MB of short-lived buffers). Confined: the compiling thread only.
     */
    MemorySegment staged(float[] values) {
        long bytes = 4L * values.length;
        if (staging == null || staging.byteSize() < bytes) {
            endCompile();
            stagingArena = Arena.ofConfined();
            staging = stagingArena.allocate(Math.max(bytes, 1), 64);
        }
        MemorySegment s = staging.asSlice(0, bytes);
        MemorySegment.copy(values, 0, s, ValueLayout.JAVA_FLOAT, 0, values.length);
        return s;
    }

    /** Frees the staging buffer (the end of a compile, on the compiling thread). */
    void endCompile() {
        if (stagingArena != null) stagingArena.close();
        stagingArena = null;
        staging = null;
    }

    /** Frees everything; idempotent. The plan's runs have finished (its close waits for them). */
    @Override
    public void close() {
        endCompile();
        for (DnnlMemory m : allocations) m.close();
        allocations.clear();
        if (arena.scope().isAlive()) arena.close();
    }
}
