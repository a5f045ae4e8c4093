package dev.panamadnn.compile;

import dev.panamadnn.natives.ThreadControl;

/**
 * How {@link CompiledModel#compile(dev.panamadnn.Module, CompileOptions, long...)} builds a plan:
 * which fusions it applies and how many intra-op threads the plan uses. {@link #defaults()} turns
 * every fusion on; switching one off gives the same results (within float rounding) through more
 * primitives, which is how the gain of each fusion is measured (ResNetBenchmark's {@code plan}
 * parameter).
 *
 * @param foldBatchNorm   fold a {@code BatchNorm2d} that follows a {@code Conv2d} into its weights
 *                        and bias; off: a separate oneDNN batch-normalization primitive (inference,
 *                        running statistics), which then carries the ReLU with its own
 *                        {@code fuse_norm_relu} flag when {@code fusePostOps} is on
 * @param fusePostOps     a ReLU that follows a convolution (or a batch norm, or a residual add) is an
 *                        eltwise post-op of that primitive; off: a separate eltwise primitive
 * @param fuseResidualSum a residual block's add is a {@code sum} post-op of its last convolution
 *                        (needs {@code foldBatchNorm}, since the add comes after the batch norm);
 *                        off: a separate binary-add primitive
 * @param blockedLayouts  activations channel-blocked between convolutions ({@code nChw16c} on AVX-512,
 *                        {@code nChw8c} below) where the channels divide the block, else in the layout
 *                        oneDNN picks ({@code any}); off: every activation plain {@code nchw} (weights
 *                        still in the layout the convolution wants)
 * @param threads         intra-op threads of this plan, fixed at compile time because oneDNN sizes its
 *                        work split when a primitive is created; 0 means {@link ThreadControl#threads()}
 *                        when compiling (or, if that is unset too, OpenMP's default)
 */
public record CompileOptions(boolean foldBatchNorm, boolean fusePostOps, boolean fuseResidualSum, boolean blockedLayouts,
                             int threads) {
    public CompileOptions {
        if (threads < 0) throw new IllegalArgumentException("CompileOptions: expected threads >= 0 (0 = the default), got " + threads);
    }

    /** Every fusion on, blocked layouts, the default thread count. */
    public static CompileOptions defaults() {
        return new CompileOptions(true, true, true, true, 0);
    }

    /** Every fusion off and plain layouts: one primitive per layer, as eager execution does. */
    public static CompileOptions unfused() {
        return new CompileOptions(false, false, false, false, 0);
    }

    public CompileOptions withFoldBatchNorm(boolean on) {
        return new CompileOptions(on, fusePostOps, fuseResidualSum, blockedLayouts, threads);
    }

    public CompileOptions withFusePostOps(boolean on) {
        return new CompileOptions(foldBatchNorm, on, fuseResidualSum, blockedLayouts, threads);
    }

    public CompileOptions withFuseResidualSum(boolean on) {
        return new CompileOptions(foldBatchNorm, fusePostOps, on, blockedLayouts, threads);
    }

    public CompileOptions withBlockedLayouts(boolean on) {
        return new CompileOptions(foldBatchNorm, fusePostOps, fuseResidualSum, on, threads);
    }

    /**
     * The same options with {@code n} intra-op threads (0: the default).
     *
     * @throws IllegalArgumentException if {@code n < 0}
     */
    public CompileOptions withThreads(int n) {
        return new CompileOptions(foldBatchNorm, fusePostOps, fuseResidualSum, blockedLayouts, n);
    }
}
