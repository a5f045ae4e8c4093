package dev.panamadnn.compile;

import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import java.lang.foreign.MemorySegment;

/**
 * One argument of a plan step: its {@code DNNL_ARG_*} id ({@link Args}), its layout, and where its memory is: a
 * logical buffer of the plan (an index into {@code Compiler.buffers}), the caller's input or output {@code k}
 * ({@link #inputId}, {@link #outputId}; bound per run), or {@link #CONSTANT} with the segment. Absent if
 * {@code md} is null.
 */
record PlanArg(int id, MemoryDescriptor md, int buffer, MemorySegment constant) {
    /** Buffer ids that are not plan-owned activation buffers: the caller's input 0 and output 0 (see {@link #inputId}), constants. */
    static final int INPUT = -1000, OUTPUT = -2000, CONSTANT = -3, UNUSED = -4;

    static PlanArg of(int id, MemoryDescriptor md, int buffer) {
        return new PlanArg(id, md, buffer, null);
    }

    static PlanArg constant(int id, MemoryDescriptor md, MemorySegment segment) {
        return new PlanArg(id, md, CONSTANT, segment);
    }

    /** The runtime argument: {@code memory} for a buffer (null: bound per run), the constant otherwise. */
    Arg toArg(MemorySegment memory) {
        return new Arg(id, md, buffer == CONSTANT ? constant : memory);
    }

    /** The buffer id of the caller's input {@code k} (bound per run). */
    static int inputId(int k) {
        return INPUT - k;
    }

    /** The buffer id of the caller's output {@code k} (bound per run). */
    static int outputId(int k) {
        return OUTPUT - k;
    }

    /** For a caller buffer id: its index among the caller's inputs then outputs ({@code inputs + k} for output k); -1 for others. */
    static int callerIndex(int buffer, int inputs) {
        if (buffer <= INPUT && buffer > OUTPUT) return INPUT - buffer;
        if (buffer <= OUTPUT && buffer > OUTPUT - 1000) return inputs + OUTPUT - buffer;
        return -1;
    }
}
