package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.MathOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_dst_md;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_src_md;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_weights_md;

/**
 * An activation fused into the step before it ({@link FuseActivation}), as oneDNN post-ops: the eltwise operations
 * that keep PyTorch's NaN semantics, and the cheaper, NaN-dropping variant a step gets where {@link FiniteBounds}
 * proved no NaN can reach it ({@code fast_when_finite}).
 */
final class FusedActivation {
    private FusedActivation() {}

    /** The activation fused into {@code n}, or null. */
    static Act of(Node n) {
        Attributes a = n.attributes();
        return a.has(PlanGraph.ACTIVATION) ? Act.of(a.string(PlanGraph.ACTIVATION), a, PlanGraph.ACTIVATION + ".", n.name()) : null;
    }

    /** The oneDNN formulation of {@code act} in this plan: {@link Ops#eltwise(String, float)}, or oneDNN's relu with {@code fastRelu}. */
    static Ops.EltwiseOp op(Compiler plan, Act act) {
        return op(act, plan.options.fastRelu());
    }

    private static Ops.EltwiseOp op(Act act, boolean fast) {
        return fast && act.isPlainRelu() ? Ops.fastRelu() : Ops.eltwise(act.kind(), act.alpha());
    }

    /**
     * {@code act} as the eltwise post-ops to append: none for null, one, or for a fused Clip {@link Ops#clampKeepingNaN}'s four
     * (with {@code fastRelu}: oneDNN's own clip, one operation that turns NaN into the lower bound).
     */
    static List<Ops.EltwiseOp> ops(Compiler plan, Act act) {
        return ops(act, plan.options.fastRelu());
    }

    private static List<Ops.EltwiseOp> ops(Act act, boolean fast) {
        if (act == null) return List.of();
        if (!act.kind().equals("CLIP")) return List.of(op(act, fast));
        return fast ? List.of(MathOps.unary("Clip", 0, act.beta())) : Ops.clampKeepingNaN(act.beta());
    }

    /**
     * A primitive descriptor made by {@code make} with the post-ops {@code before} appends, then {@code ops}
     * (a user scratchpad, as every plan primitive has).
     */
    static PrimitiveDescriptor withPostOps(Consumer<PostOps> before, List<Ops.EltwiseOp> ops,
                                           Function<PrimitiveAttributes, PrimitiveDescriptor> make) {
        return new Maker(false) {
            @Override
            void before(PostOps post) {
                before.accept(post);
            }

            @Override
            PrimitiveDescriptor make(PrimitiveAttributes attributes) {
                return make.apply(attributes);
            }
        }.apply(ops);
    }

    /**
     * {@link #withPostOps} as a class to extend, for the steps every network compiles (convolutions, linear layers):
     * {@link #make} gives the descriptor for attributes holding the post-ops (a sum first, when asked, then the
     * activation's ops). The lambdas it replaces each cost a cold JVM a class spun at first use (session 54).
     */
    abstract static class Maker implements Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> {
        private final boolean sum;

        /** @param sum whether a {@code sum} post-op (scale 1) comes before the activation's */
        Maker(boolean sum) {
            this.sum = sum;
        }

        /** The descriptor, given attributes that hold the post-ops. */
        abstract PrimitiveDescriptor make(PrimitiveAttributes attributes);

        /** The post-ops before the activation's: a sum when asked. */
        void before(PostOps post) {
            if (sum) post.sum(1f);
        }

        @Override
        public PrimitiveDescriptor apply(List<Ops.EltwiseOp> ops) {
            try (PostOps post = PostOps.create()) {
                before(post);
                for (Ops.EltwiseOp op : ops) post.eltwise(op);
                try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post)) {
                    return make(attr);
                }
            }
        }
    }

    /**
     * The fast variant of node {@code n}'s step (made by {@code make} from the activation's eltwise ops, as
     * {@code primary} was from {@link #ops(Compiler, Act)}), or null: only where {@link FiniteBounds} proved the step
     * NaN-free for bounded finite inputs (it considers only activations with a cheaper, NaN-dropping oneDNN form,
     * and no Winograd convolution); also null if oneDNN would pick other layouts for it (the step's buffers are shared).
     */
    static PlanStep.Fast fastVariant(Compiler plan, Node n, Act act, Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make,
                                     PrimitiveDescriptor primary) {
        if (plan.graph.fastPending.contains(n.name())) {   // proven later (DeferredProof): how to make it, and the layouts it must match
            MemoryDescriptor[] chosen = new MemoryDescriptor[MATCHED.length];
            for (int i = 0; i < MATCHED.length; i++) {
                MemoryDescriptor md = primary.queryMemoryOrNull(MATCHED[i][0], MATCHED[i][1]);
                chosen[i] = md == null ? null : plan.own(md);
            }
            return plan.pendingFast(n.name(), new Pending(make, act, chosen));
        }
        Integer bits = plan.graph.fastInputBits.get(n.name());
        if (bits == null) return null;
        try (PrimitiveDescriptor pd = make.apply(ops(act, true))) {
            for (int[] q : MATCHED) if (!primary.sameMemory(pd, q[0], q[1])) return null;
            return new PlanStep.Fast(plan.own(Primitive.create(pd)), bits);
        }
    }

    /** The layouts a fast variant must choose as its step's own primitive did: source, weights, destination, a binary's second source. */
    private static final int[][] MATCHED = {{dnnl_query_src_md(), 0}, {dnnl_query_weights_md(), 0}, {dnnl_query_dst_md(), 0}, {dnnl_query_src_md(), 1}};

    /**
     * A fast variant to make once proven ({@link DeferredProof}): the step's maker, its activation, and the layouts its own
     * primitive chose ({@link #MATCHED}; plan-owned), which the variant must match to share the step's buffers.
     */
    record Pending(Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make, Act act, MemoryDescriptor[] chosen) {}

    /**
     * The primitive of a pending fast variant, or null where oneDNN would pick other layouts for it; created on the calling
     * thread, whose OpenMP team size oneDNN bakes into it (the caller sets the plan's). The caller owns it.
     */
    static Primitive make(Pending p) {
        try (PrimitiveDescriptor pd = p.make().apply(ops(p.act(), true))) {
            for (int i = 0; i < MATCHED.length; i++) if (!pd.chose(MATCHED[i][0], MATCHED[i][1], p.chosen()[i])) return null;
            return Primitive.create(pd);
        }
    }
}
