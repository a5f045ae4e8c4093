package dev.panamadnn.compile;

import java.lang.foreign.MemorySegment;

/**
 * A step run in Java: reads plan buffers {@code inputs} (plain F32, {@code inShapes}; or the caller's integer
 * input, an {@link PlanArg#inputId}, for an embedding lookup), writes plan buffers {@code outputs} (plain F32,
 * {@code outShapes}) or, converting a value held as F32 to its integer or bool dtype, a caller's output
 * ({@link PlanArg#outputId}, see {@link LowerCarried}); never the caller's F32 memory or outputs.
 */
record JavaStep(MultiKernel kernel, int[] inputs, long[][] inShapes, int[] outputs, long[][] outShapes) {
    /** Whether it reads or writes plan buffer {@code b}. */
    boolean uses(int b) {
        for (int i : inputs) if (i == b) return true;
        for (int o : outputs) if (o == b) return true;
        return false;
    }

    /** A Java kernel over exactly-sized plain buffers. */
    interface Kernel {
        void run(MemorySegment src, MemorySegment dst);
    }

    /** A Java kernel of several inputs and outputs, over exactly-sized plain buffers (arrays reused between runs: do not keep them). */
    interface MultiKernel {
        void run(MemorySegment[] src, MemorySegment[] dst);
    }
}
