package dev.panamadnn.compile;

import dev.panamadnn.internal.dnnl.DnnlMemory;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * A plan's constants in native memory - weights in the layouts its primitives read, biases, Winograd's transformed
 * weights, constant operands - freed with the plan ({@link #close()}), and the staging buffer weights pass through on
 * their way into a reorder while the plan is compiled. Every segment handed out has this object's scope: no access
 * outlives the plan (a closed plan's segments throw instead of reading freed memory). In a {@link PlanSet}, large
 * constants are blocks of its {@link SharedConstants}, held by reference and released at {@link #close()}.
 */
final class PlanConstants implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    /** The oneDNN allocations behind {@link #written} segments. */
    private final List<DnnlMemory> allocations = new ArrayList<>();
    /** The plan set's store this plan shares constants through, or null (a plan compiled alone). */
    private final SharedConstants store;
    /** The shared blocks this plan holds a reference to, by the address of their bytes. */
    private final Map<Long, SharedConstants.Block> shared = new HashMap<>();
    /** The Winograd blocks this plan holds a reference to. */
    private final List<SharedConstants.Block> sharedWinograd = new ArrayList<>();
    /** Bytes of every constant this plan reads, shared ones included, and of the shared ones. */
    private long bytes, sharedBytes;
    /** Where {@link #staged} copies weights: one buffer for the whole compile, grown as needed. */
    private Arena stagingArena;
    private MemorySegment staging;

    /** {@return the store its shared blocks are in, or null for a plan compiled alone} */
    SharedConstants store() {
        return store;
    }

    PlanConstants(SharedConstants store) {
        this.store = store;
    }

    /** {@return {@code bytes} of zeroed memory, 64-byte aligned} */
    MemorySegment allocate(long bytes) {
        this.bytes += bytes;
        return arena.allocate(bytes, 64);
    }

    /** {@return a copy of {@code values}, shared with the other plans of a plan set where it is large enough} */
    MemorySegment of(float[] values) {
        long n = 4L * values.length;
        if (store == null || n < SharedConstants.MIN_BYTES) {
            bytes += n;
            return arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
        }
        return shared(n, s -> MemorySegment.copy(values, 0, s, ValueLayout.JAVA_FLOAT, 0, values.length));
    }

    /**
     * {@return {@code bytes} of constant memory that {@code fill} writes once, now (a reorder of weights into a
     * primitive's layout)}: in a plan set, the block of another plan with exactly these bytes where there is one.
     */
    MemorySegment shared(long bytes, Consumer<MemorySegment> fill) {
        if (store == null || bytes < SharedConstants.MIN_BYTES) {
            MemorySegment s = written(bytes);
            fill.accept(s);
            return s;
        }
        DnnlMemory m = DnnlMemory.allocate(bytes);
        SharedConstants.Block b;
        try {
            MemorySegment fresh = m.dataAddress().reinterpret(bytes);
            fill.accept(fresh);
            b = store.intern(m, fresh);
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
        return hold(b, shared);
    }

    /** Winograd weights and their buffer as this plan sees it (in its scope). */
    record Transformed(Winograd.Weights weights, MemorySegment buffer) {}

    /**
     * {@return Winograd's transformed weights of the convolution whose direct weights are {@code direct} (a segment
     * this object handed out) in layout {@code directMd}, for the matmul's layout {@code uMd}}: in a plan set, those of
     * another plan where it made them (prepared by whichever plan prepares first); else new ones {@code make} creates
     * from a layout and a new buffer (in a plan set the store's copy of {@code uMd}, which outlives this plan).
     */
    Transformed winograd(MemorySegment direct, MemoryDescriptor directMd, MemoryDescriptor uMd, int k, int c,
                         BiFunction<MemoryDescriptor, MemorySegment, Winograd.Weights> make) {
        SharedConstants.Block directBlock = store == null ? null : shared.get(direct.address());
        if (directBlock == null) {
            MemorySegment buffer = written(uMd.byteSize());
            return new Transformed(make.apply(uMd, buffer), buffer);
        }
        SharedConstants.WinogradEntry e = store.winograd(directBlock, directMd, uMd, k, c, make);
        sharedWinograd.add(e.u());
        return new Transformed(e.weights(), hold(e.u(), null));
    }

    /** Counts a reference to {@code b} taken for this plan: its bytes seen in this plan's scope. */
    private MemorySegment hold(SharedConstants.Block b, Map<Long, SharedConstants.Block> into) {
        MemorySegment data = b.data();
        if (into != null && into.putIfAbsent(data.address(), b) != null) {
            store.release(b);   // this plan already holds it (two equal constants): one reference per plan
        }
        bytes += data.byteSize();
        sharedBytes += data.byteSize();
        return data.reinterpret(arena, null);
    }

    /** {@return the bytes of every constant this plan reads (blocks shared with other plans included)} */
    long bytes() {
        return bytes;
    }

    /** {@return the part of {@link #bytes()} in shared blocks} */
    long sharedBytes() {
        return sharedBytes;
    }

    /**
     * {@return {@code bytes} for data that is written before it is read (a reorder's destination, Winograd's transformed
     * weights)}: not zeroed ({@link DnnlMemory#allocate}), so its pages are first touched by whoever fills them.
     */
    MemorySegment written(long bytes) {
        this.bytes += bytes;
        DnnlMemory m = DnnlMemory.allocate(bytes);
        allocations.add(m);
        return m.dataAddress().reinterpret(bytes, arena, null);
    }

    /**
     * A constant's values copied into native memory that is valid until the next call or {@link #endCompile()}: every weight
     * goes through the same pages instead of a fresh allocation each (a cold compile of ResNet-50 otherwise faults in
     * and zeroes ~100 MB of short-lived buffers). Confined: the compiling thread only.
     */
    MemorySegment staged(PlanGraph.ConstantSource values) {
        long bytes = 4L * values.count();
        if (staging == null || staging.byteSize() < bytes) {
            endCompile();
            stagingArena = Arena.ofConfined();
            staging = stagingArena.allocate(Math.max(bytes, 1), 64);
        }
        MemorySegment s = staging.asSlice(0, bytes);
        values.copyInto(s);
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
        for (SharedConstants.Block b : shared.values()) store.release(b);
        shared.clear();
        for (SharedConstants.Block b : sharedWinograd) store.release(b);
        sharedWinograd.clear();
        if (arena.scope().isAlive()) arena.close();
    }
}
