package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Memory for the intermediates of one call of a composite module ({@link Sequential}, {@link ShortcutBlock}): a child
 * that is a {@link Layer} with a known output shape writes its result ({@link Layer#forwardInto}) into a tensor of a
 * confined arena of this call, freed by {@link #free} or {@link #close()}. Why: every owned tensor lives in a shared
 * arena, and closing a shared arena is a JDK handshake with every thread (tens of microseconds, more with many threads:
 * docs/safety.md), while a confined arena closes in well under a microsecond; an eager digits CNN made ~20 owned
 * intermediates per forward. Other children (not a layer, a non-F32 or freed input: their own checks and messages) get
 * their new owned tensor as before. Used by the calling thread only (native kernels read the memory by address; no
 * layer runs Java code on another thread); a tensor from here must not escape the call.
 */
final class Scratch implements AutoCloseable {
    private final Map<Tensor, Arena> arenas = new IdentityHashMap<>();
    private final java.util.List<Tensor> owned = new java.util.ArrayList<>();   // temporary()'s own tensors

    /** {@code m} on {@code x}: in this call's memory where {@code m} is a layer of known output shape, else {@code m}'s own new tensor. */
    Tensor forward(Module m, Tensor x, Backend backend) {
        if (m instanceof Layer layer && x.dtype() == DataType.F32 && x.isAlive()) {
            layer.checkOpen();
            long[] shape = layer.checkShape(x.shape());
            if (shape != null) {
                Arena arena = Arena.ofConfined();
                try {
                    Tensor out = Tensor.allocate(arena, DataType.F32, shape);
                    layer.forwardInto(x, out, backend);
                    arenas.put(out, arena);
                    return out;
                } catch (RuntimeException | Error e) {
                    arena.close();
                    throw e;
                }
            }
        }
        return Modules.forward(m, x, backend);
    }

    /**
     * {@link #forward} for an intermediate that never leaves the call: a child's own new tensor (not this call's memory)
     * is closed with this scratch too.
     */
    Tensor temporary(Module m, Tensor x, Backend backend) {
        Tensor t = forward(m, x, backend);
        if (!holds(t) && t != x) owned.add(t);
        return t;
    }

    /** A zero-filled F32 tensor of {@code shape} in this call's memory. */
    Tensor allocate(long[] shape) {
        Arena arena = Arena.ofConfined();
        try {
            Tensor t = Tensor.allocate(arena, DataType.F32, shape);
            arenas.put(t, arena);
            return t;
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Whether {@code t} is this call's memory (closing it does nothing; {@link #free} or {@link #close()} frees it). */
    boolean holds(Tensor t) {
        return arenas.containsKey(t);
    }

    /** Frees {@code t} now if it is this call's memory (a later read of it fails); else does nothing. */
    void free(Tensor t) {
        Arena a = arenas.remove(t);
        if (a != null) a.close();
    }

    /** Frees everything still held, and closes {@link #temporary}'s own tensors. */
    @Override
    public void close() {
        arenas.values().forEach(Arena::close);
        arenas.clear();
        owned.forEach(Tensor::close);
        owned.clear();
    }
}
