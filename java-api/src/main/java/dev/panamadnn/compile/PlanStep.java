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

    /** {@return the step's description, with its fast variant's bound where one is proven} */
    String describe() {
        return fast == null ? description : description + fast.describe();
    }

    /**
     * A step's alternative primitive (same arguments and layouts; oneDNN's own {@code relu} or {@code clip}
     * instead of the NaN-keeping formulation), run when every F32 input of the run is finite and at most
     * {@code maxInputBits} (float bits, compared as ints: {@link FiniteBounds#maxAbsBits}) in magnitude; a null
     * {@code primitive}: the step is skipped on such runs (a max pooling's NaN mask, {@link LowerPool}).
     *
     * <p>Proven at compile ({@link #Fast(Primitive, int)}), or later: a step {@link FiniteBounds} lists as a candidate
     * gets a pending one, which {@link DeferredProof} (after the plan's first run, on a thread of its own, or in
     * {@code warmup()}) either proves - making the primitive and publishing both - or leaves unproven. Until then, and
     * if never proven, the step runs its own primitive.
     */
    static final class Fast {
        /** What a proof established: the alternative (null: skip the step) and the bound of the inputs it is right for. */
        record Proven(Primitive primitive, int maxInputBits) {}

        private volatile Proven proven;
        /** How to make the alternative, for a pending one (null: proven at compile, or a skip). */
        final FusedActivation.Pending pending;
        /** The node whose proof this is (null: proven at compile). */
        final String node;

        /** Proven at compile: {@code primitive} (null: skip the step) for inputs up to {@code maxInputBits}. */
        Fast(Primitive primitive, int maxInputBits) {
            this.proven = new Proven(primitive, maxInputBits);
            this.pending = null;
            this.node = null;
        }

        /** Pending: node {@code node}'s step, its alternative made by {@code pending} (null: a skip) once proven. */
        Fast(String node, FusedActivation.Pending pending) {
            this.node = node;
            this.pending = pending;
        }

        /** {@return what is proven, or null (not yet, or never)} */
        Proven proven() {
            return proven;
        }

        /** Publishes a proof (once; a run that reads it afterwards may take the alternative). */
        void publish(Proven p) {
            proven = p;
        }

        /** This step's description suffix: its bound where proven, else that it is pending or none. */
        String describe() {
            Proven p = proven;
            if (p != null) return " (" + (p.primitive() == null ? "skipped" : "fast") + " when |inputs| <= " + Float.intBitsToFloat(p.maxInputBits()) + ")";
            return "";
        }
    }
}
