/**
 * Compiled inference: {@link dev.panamadnn.compile.CompiledModel#compile} turns a model or a graph into a fixed plan
 * of oneDNN primitives for one input shape, which runs many times from many threads without creating anything per
 * call; {@link dev.panamadnn.compile.PlanSet} keeps such plans for any batch size.
 *
 * <p><b>What compiling does.</b> A model is lowered to a {@link dev.panamadnn.graph.Graph} (every module emits its
 * nodes), the symbolic dims are bound to the input shape, the rewrite rules run ({@link
 * dev.panamadnn.compile.CompileOptions#RULES}), then each node is lowered and every oneDNN primitive is created up
 * front:
 * <ul>
 *   <li>a batch norm after a convolution (or a Linear) is folded into its weights and bias (on copies, in double; the
 *       model is never modified);</li>
 *   <li>the bias is part of the convolution, and a following activation is an eltwise post-op;</li>
 *   <li>a residual add after a convolution is a {@code sum} post-op that writes into the buffer already holding the
 *       other operand (the identity / downsample output), followed by the activation post-op;</li>
 *   <li>weights are reordered once, when compiling, into the layout each convolution picks ({@code any}); activations
 *       stay in one layout between layers ({@link dev.panamadnn.compile.CompileOptions.Layout}: {@code nhwc} by
 *       default, for oneDNN's brgemm kernels), with reorders only where a layout changes (the 3-channel stem, which
 *       reads the plain {@code nchw} input directly and writes channel-blocked, into the next convolution; the
 *       activation into plain for {@code Flatten}/{@code Linear}; and into the plain output if the last layer does
 *       not write it directly);</li>
 *   <li>3x3, stride-1, padding-1 convolutions with enough output tiles run as Winograd F(4x4, 3x3): transformed
 *       weights, one oneDNN batched matmul, and Vector API input/output transforms with the bias, residual sum and
 *       ReLU fused ({@link dev.panamadnn.compile.CompileOptions#winograd()}; needs {@code --add-modules
 *       jdk.incubator.vector}, else every convolution is direct);</li>
 *   <li>ops whose eager layer does more than one primitive (softmax and layer norm with their NaN repairs,
 *       transposed convolutions, adaptive max pooling, a conv's reflect padding...) and layers without a graph op run
 *       as Java steps inside the plan (docs/compile.md).</li>
 * </ul>
 *
 * <p><b>The package, along the seams a compile crosses</b> (docs/architecture.md draws the walk):
 * <ul>
 *   <li>entry: {@code Compilation} (arguments, batch split, threads), {@code LowerGraph} (bind, rules, dispatch by
 *       op, outputs);</li>
 *   <li>rules: {@code Rewrite} and one class per rule ({@code FoldBatchNorm}, {@code FuseActivation}, {@code
 *       FuseResidualSum}, {@code AssignLayouts}, {@code SelectWinograd}, {@code FiniteBounds}...) over a mutable
 *       {@code PlanGraph};</li>
 *   <li>per-op lowering: the {@code Lower*} classes, each emitting steps through the plan builder {@code Compiler}
 *       (values, buffers, steps, constants, native objects), with fused activations as post-ops ({@code
 *       FusedActivation});</li>
 *   <li>the plan: {@code PlanStep} and {@code PlanArg} (a step's primitive and arguments), {@code PlanConstants}
 *       (shared across a plan set by {@code SharedConstants}), buffer placement by liveness ({@code
 *       BufferAssignment}, a pure function);</li>
 *   <li>running: {@code ContextPool} and {@code ExecutionContext} (per-call memory objects and buffers), {@code
 *       SplitRuns} (a batch as parts side by side), {@code PlanIO} (the checks before any native call).</li>
 * </ul>
 */
package dev.panamadnn.compile;
