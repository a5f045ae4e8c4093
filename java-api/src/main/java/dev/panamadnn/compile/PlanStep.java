package dev.panamadnn.compile;

import dev.panamadnn.internal.dnnl.Primitive;
import java.util.List;

/**
 * One step of a plan, in execution order: a oneDNN primitive with its arguments ({@link PlanArg}: id, layout, buffer
 * or constant), or a Winograd convolution ({@code winograd}: its batched matmul is {@code primitive}), or a Java step
 * ({@code java}, no primitive), or a GRU's loop of convolution steps ({@code loop}, no primitive: {@link LowerRecurrentSteps});
 * {@code fast}, if not null, the same step with its activation in oneDNN's NaN-dropping
 * form ({@link FiniteBounds}). Built by {@link Compiler}, run by {@link ExecutionContext}.
 */
record PlanStep(Primitive primitive, List<PlanArg> args, String description, Winograd.Conv winograd, JavaStep java, Fast fast,
                LowerRecurrentSteps.Loop loop) {
    PlanStep(Primitive primitive, List<PlanArg> args, String description, Winograd.Conv winograd, JavaStep java) {
        this(primitive, args, description, winograd, java, null, null);
    }

    PlanStep(Primitive primitive, List<PlanArg> args, String description, Winograd.Conv winograd, JavaStep java, Fast fast) {
        this(primitive, args, description, winograd, java, fast, null);
    }

    /**
     * A step's alternative primitive (same arguments and layouts; oneDNN's own {@code relu} or {@code clip}
     * instead of the NaN-keeping formulation), run when every F32 input of the run is finite and at most
     * {@code maxInputBits} (float bits, compared as ints: {@link FiniteBounds#maxAbsBits}) in magnitude; a null
     * {@code primitive}: the step is skipped on such runs (a max pooling's NaN mask, {@link LowerPool}).
     */
    record Fast(Primitive primitive, int maxInputBits) {}
}
