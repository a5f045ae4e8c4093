package dev.panamadnn.compile;

import dev.panamadnn.natives.ThreadControl;

/**
 * How {@link CompiledModel#compile(dev.panamadnn.Module, CompileOptions, long...)} builds a plan:
 * which fusions it applies, the memory layout of activations between layers, and how many
 * intra-op threads the plan uses. {@link #defaults()} turns every fusion on; switching one off
 * gives the same results (within float rounding) through more primitives, which is how the gain
 * of each fusion is measured (ResNetBenchmark's {@code plan} parameter).
 *
 * @param foldBatchNorm   fold a {@code BatchNorm2d} that follows a {@code Conv2d} into its weights
 *                        and bias; off: a separate oneDNN batch-normalization primitive (inference,
 *                        running statistics) followed by the activation as its own primitive (the
 *                        {@code fuse_norm_relu} flag would turn NaN into 0, docs/numerics.md)
 * @param fusePostOps     a ReLU that follows a convolution (or a residual add) is an
 *                        eltwise post-op of that primitive; off: a separate eltwise primitive
 * @param fuseResidualSum a residual block's add is a {@code sum} post-op of its last convolution
 *                        (needs {@code foldBatchNorm}, since the add comes after the batch norm);
 *                        off: a separate binary-add primitive
 * @param layout          the layout of activations between convolutions (see {@link Layout}): the policy
 *                        of the {@code assign_layouts} rule, which {@code PLAIN} switches off; weights
 *                        are always in the layout the convolution asks for
 * @param threads         intra-op threads of this plan, fixed at compile time because oneDNN sizes its
 *                        work split when a primitive is created; 0 means {@link ThreadControl#threads()}
 *                        when compiling (or, if that is unset too, OpenMP's default)
 * @param winograd        run 3x3 stride-1 convolutions as Winograd F(4x4, 3x3) (4x fewer multiply-adds;
 *                        oneDNN's batched matmul for the products, the Vector API for the transforms)
 *                        where that pays: {@code CHANNELS_LAST} layout, padding 1, no groups or dilation,
 *                        channels a multiple of the vector lanes, no activation but ReLU, and at least
 *                        16 output tiles of 4x4 (e.g. 14x14 maps at batch 1, 7x7 at batch 4). Needs the
 *                        JVM flag {@code --add-modules jdk.incubator.vector}; without it this option has
 *                        no effect. Rounding differs slightly from a direct convolution (about 1e-5 of
 *                        the output's magnitude per layer, measured): switch it off for results closest
 *                        to PyTorch's. A run whose input to such a layer holds a NaN, an infinity or a
 *                        value beyond 1024 in magnitude runs that layer's direct convolution instead
 *                        ({@link CompiledModel#winogradFallbacks()}), so exceptional values reach the
 *                        outputs they reach in PyTorch
 * @param fastRelu        off (the default): a ReLU keeps NaN as PyTorch does, computed as oneDNN's
 *                        {@code elu} with alpha 0, since oneDNN's {@code relu} turns NaN into 0
 *                        (docs/numerics.md). On: oneDNN's {@code relu}, a plain {@code max(x, 0)},
 *                        cheaper as a post-op (measured on compiled ResNet-18 at batch 1, 1 thread:
 *                        docs/numerics.md), but a NaN reaching a ReLU comes out as 0, so a
 *                        non-finite input can vanish from the output. Also a ReLU6 ({@code Clip(0, m)})
 *                        fused into a convolution becomes oneDNN's one-operation clip instead of four
 *                        NaN-keeping post-ops (MobileNetV2 batch 16: ~31 ms against ~43), and a max pooling
 *                        runs without its NaN mask (oneDNN's maximum skips NaN). Opt in only where
 *                        inputs are known to be finite.
 * @param disabledRules   rewrite rules switched off by name (see {@link #RULES} and {@link #withoutRule})
 */
public record CompileOptions(boolean foldBatchNorm, boolean fusePostOps, boolean fuseResidualSum, Layout layout, int threads,
                             boolean winograd, boolean fastRelu, java.util.Set<String> disabledRules) {
    /** The rewrite rules a plan applies, by the names {@link #withoutRule} takes. */
    public static final java.util.List<String> RULES = java.util.List.of("fold_constants", "remove_dead_values", "fold_pad", "fuse_gelu", "fuse_silu", "fuse_log_sigmoid", "fuse_channel_shuffle", "fuse_layer_norm", "fold_batch_norm", "pool_before_conv", "batch_gathered_gemms", "fuse_residual_sum",
            "fuse_matmul_bias", "split_matmul_by_slices", "hoist_scalar_ops", "fuse_matmul_scale", "fold_transpose_matmul", "fuse_activation", "assign_layouts", "select_winograd", "concat_in_place", "fast_when_finite", "split_batch");

    /**
     * The options with no rule switched off by name, as before {@link #withoutRule} existed.
     *
     * @param foldBatchNorm see {@link #foldBatchNorm()}
     * @param fusePostOps see {@link #fusePostOps()}
     * @param fuseResidualSum see {@link #fuseResidualSum()}
     * @param layout see {@link #layout()}
     * @param threads see {@link #threads()}
     * @param winograd see {@link #winograd()}
     * @param fastRelu see {@link #fastRelu()}
     */
    public CompileOptions(boolean foldBatchNorm, boolean fusePostOps, boolean fuseResidualSum, Layout layout, int threads,
                          boolean winograd, boolean fastRelu) {
        this(foldBatchNorm, fusePostOps, fuseResidualSum, layout, threads, winograd, fastRelu, java.util.Set.of());
    }

    /**
     * Activation layouts between convolutions, as the {@code assign_layouts} rule decides them per
     * node (docs/compile.md). The caller's input and output stay plain row-major whatever the
     * layout; reorders sit only where a layout changes: the plan's input and output, Java steps, a
     * {@code Flatten} before a {@code Gemm}, a stem's output.
     */
    public enum Layout {
        /**
         * {@code nhwc} (channels last), the layout of oneDNN's brgemm convolutions, its newest
         * kernels. A convolution with fewer input channels than the SIMD channel block (16 floats
         * on AVX-512, 8 below; the 3-channel stem of an image model) reads the plain input and
         * writes channel-blocked instead, and the next convolution's reorder brings that to
         * {@code nhwc}. The default: measured here (oneDNN 3.13, AVX-512, 2 threads; every kernel
         * interleaved in one process) the 3x3 convolutions of ResNet-50 at 56x56 and 28x28 ran
         * 15-26% faster than with {@link #CHANNEL_BLOCKED} at batch 1, whole ResNet-18/50 runs 6-10%
         * faster (medians of 100-200 interleaved runs), and ResNet-50's convolutions summed 4%
         * faster at batch 16. A graph that concatenates channels (DenseNet, SqueezeNet) and has no
         * convolution for Winograd is laid out as {@link #CHANNEL_BLOCKED} instead, where the
         * {@code concat_in_place} rule removes its copies (docs/compile.md).
         */
        CHANNELS_LAST,
        /**
         * Channel-blocked ({@code nChw16c} on AVX-512, {@code nChw8c} below) where the channels
         * divide the block, else the layout oneDNN picks ({@code any}); oneDNN's older direct
         * convolution kernels.
         */
        CHANNEL_BLOCKED,
        /**
         * Every activation plain {@code nchw}: no reorders at all, the slowest kernels, no Winograd. The
         * {@code assign_layouts} rule switched off, exactly as {@code withoutRule("assign_layouts")}.
         */
        PLAIN
    }

    /**
     * The options with {@code fastRelu} off (PyTorch's NaN semantics), as before that option existed.
     *
     * @param foldBatchNorm see {@link #foldBatchNorm()}
     * @param fusePostOps see {@link #fusePostOps()}
     * @param fuseResidualSum see {@link #fuseResidualSum()}
     * @param layout see {@link #layout()}
     * @param threads see {@link #threads()}
     * @param winograd see {@link #winograd()}
     */
    public CompileOptions(boolean foldBatchNorm, boolean fusePostOps, boolean fuseResidualSum, Layout layout, int threads,
                          boolean winograd) {
        this(foldBatchNorm, fusePostOps, fuseResidualSum, layout, threads, winograd, false, java.util.Set.of());
    }

    /**
     * Validates the options.
     * @throws IllegalArgumentException if a value is out of range or null
     */
    public CompileOptions {
        if (layout == null) {
            throw new IllegalArgumentException("CompileOptions: layout must not be null (CHANNELS_LAST, CHANNEL_BLOCKED or PLAIN)");
        }
        if (threads < 0 || threads > dev.panamadnn.natives.ThreadControl.MAX_THREADS) {
            throw new IllegalArgumentException("CompileOptions: expected threads from 0 (the default) to " + dev.panamadnn.natives.ThreadControl.MAX_THREADS
                    + ", got " + threads);
        }
        disabledRules = disabledRules == null ? java.util.Set.of() : java.util.Set.copyOf(disabledRules);
        for (String r : disabledRules) {
            if (!RULES.contains(r)) throw new IllegalArgumentException("CompileOptions: unknown rule '" + r + "' (rules: " + RULES + ")");
        }
    }

    /**
     * The same options with the rewrite rule {@code name} switched off (one of {@link #RULES};
     * {@code fold_batch_norm}, {@code fuse_activation} and {@code fuse_residual_sum} are also the
     * switches {@link #withFoldBatchNorm}, {@link #withFusePostOps} and {@link #withFuseResidualSum};
     * {@code assign_layouts} off is {@link Layout#PLAIN}).
     *
     * @param name a rule from {@link #RULES}
     * @throws IllegalArgumentException if there is no rule of that name
     * @return these options with that rule disabled
     */
    public CompileOptions withoutRule(String name) {
        if (name == null) throw new IllegalArgumentException("CompileOptions.withoutRule: expected a rule name (one of " + RULES + "), got null");
        java.util.Set<String> off = new java.util.HashSet<>(disabledRules);
        off.add(name);
        return new CompileOptions(foldBatchNorm, fusePostOps, fuseResidualSum, layout, threads, winograd, fastRelu, off);
    }

    /** {@return every fusion on, channels-last activations, Winograd where it pays, the default thread count} */
    public static CompileOptions defaults() {
        return new CompileOptions(true, true, true, Layout.CHANNELS_LAST, 0, true);
    }

    /** {@return every fusion off, plain layouts, no Winograd: one oneDNN primitive per layer, as eager execution does} */
    public static CompileOptions unfused() {
        return new CompileOptions(false, false, false, Layout.PLAIN, 0, false);
    }

    /**
     * {@return these options with batch-norm folding into the preceding convolution on or off}
     * @param on whether to fold
     */
    public CompileOptions withFoldBatchNorm(boolean on) {
        return new CompileOptions(on, fusePostOps, fuseResidualSum, layout, threads, winograd, fastRelu, disabledRules);
    }

    /**
     * {@return these options with activations fused into convolutions and linear layers as post-ops on or off}
     * @param on whether to fuse
     */
    public CompileOptions withFusePostOps(boolean on) {
        return new CompileOptions(foldBatchNorm, on, fuseResidualSum, layout, threads, winograd, fastRelu, disabledRules);
    }

    /**
     * {@return these options with the residual add (and its ReLU) fused into the preceding convolution as a sum post-op on or off}
     * @param on whether to fuse
     */
    public CompileOptions withFuseResidualSum(boolean on) {
        return new CompileOptions(foldBatchNorm, fusePostOps, on, layout, threads, winograd, fastRelu, disabledRules);
    }

    /**
     * The same options with activations in {@code layout}.
     *
     * @param layout the activation layout
     * @throws IllegalArgumentException if {@code layout} is null
     * @return these options with that activation layout
     */
    public CompileOptions withLayout(Layout layout) {
        return new CompileOptions(foldBatchNorm, fusePostOps, fuseResidualSum, layout, threads, winograd, fastRelu, disabledRules);
    }

    /**
     * The same options with {@code n} intra-op threads (0: the default).
     *
     * @param n the thread count, 0 for the default
     * @throws IllegalArgumentException if {@code n < 0}
     * @return these options with that thread count
     */
    public CompileOptions withThreads(int n) {
        return new CompileOptions(foldBatchNorm, fusePostOps, fuseResidualSum, layout, n, winograd, fastRelu, disabledRules);
    }

    /**
     * {@return the same options with the Winograd path on or off (see {@link #winograd()})}
     *
     * @param on whether it is on
     */
    public CompileOptions withWinograd(boolean on) {
        return new CompileOptions(foldBatchNorm, fusePostOps, fuseResidualSum, layout, threads, on, fastRelu, disabledRules);
    }

    /**
     * {@return the same options with oneDNN's NaN-dropping {@code relu} on or off (see {@link #fastRelu()})}
     *
     * @param on whether it is on
     */
    public CompileOptions withFastRelu(boolean on) {
        return new CompileOptions(foldBatchNorm, fusePostOps, fuseResidualSum, layout, threads, winograd, on, disabledRules);
    }
}
