package dev.panamadnn.compile;

/**
 * One rewrite rule of the compiler: a pattern in the {@link PlanGraph} and its replacement,
 * applied everywhere it matches. Rules never change the result beyond float rounding: each has a
 * test that compares the rewritten graph with the original one numerically. A rule can be
 * switched off by name ({@link CompileOptions#withoutRule}); {@link CompiledModel#describe()}
 * lists where each one fired.
 */
interface Rewrite {
    /** The name used to switch it off and in {@code describe()}, e.g. {@code fold_batch_norm}. */
    String name();

    /** Whether these options switch it on. */
    boolean enabled(CompileOptions options);

    /** Applies the rule wherever it matches; records each firing in {@link PlanGraph#fired}. */
    void apply(PlanGraph graph, CompileOptions options);

    /** Every rule, in the order the compiler applies them (the names in {@link CompileOptions#RULES}). */
    static java.util.List<Rewrite> all() {
        return java.util.List.of(new FoldConstants(), new RemoveIdentities(), new FoldPad(), new FuseGelu(), new FuseSilu(), new FuseLogSigmoid(), new FuseChannelShuffle(), new FuseLayerNorm(), new FoldBatchNorm(), new PoolBeforeConv(), new BatchGatheredGemms(), new FuseResidualSum(), new FuseMatMulBias(), new SplitMatMulBySlices(), new HoistScalarOps(), new FuseMatMulScale(), new FoldTransposeMatMul(),
                new FuseActivation(), new AssignLayouts(), new SelectWinograd(), new ConcatInPlace(), new FiniteBounds());
    }
}
