package dev.panamadnn.internal.dnnl;

import java.lang.foreign.MemorySegment;

/**
 * One argument of a primitive execution: its {@code DNNL_ARG_*} id ({@link Args}), its layout
 * and its buffer. Replaces the parallel {@code int[] / MemoryDescriptor[] / MemorySegment[]}
 * arrays, so an optional argument is one value instead of a fork at every call site.
 *
 * <p>An argument whose {@code md} is null is <i>absent</i> (a layer without bias passes
 * {@code Args.bias(null, null)}): {@link Primitive#execute(Arg...)} and {@link Execution} skip it.
 * A present argument with a null {@code buf} is bound later ({@link Execution#bind}); {@link
 * Primitive#execute(Arg...)} refuses it. Neither field is owned: the caller keeps the descriptor
 * open and the buffer alive for as long as the argument is used.
 */
public record Arg(int id, MemoryDescriptor md, MemorySegment buf) {
    public Arg {
        if (md == null && buf != null) {
            throw new IllegalArgumentException("argument " + Args.name(id) + ": a buffer without a descriptor (" + buf + ")");
        }
    }

    /** Whether the primitive gets this argument (its descriptor is not null). */
    public boolean present() {
        return md != null;
    }

    @Override
    public String toString() {
        return Args.name(id) + (md == null ? " (absent)" : " " + md);
    }
}
