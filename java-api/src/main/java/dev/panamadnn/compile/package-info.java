/**
 * Compiled inference: {@link dev.panamadnn.compile.CompiledModel#compile} turns a model into a
 * fixed plan of oneDNN primitives for one input shape (batch-norm folded, bias/ReLU/residual add
 * fused as post-ops, blocked layouts chosen by oneDNN, weights reordered once) that runs many
 * times from many threads without creating anything per call.
 */
package dev.panamadnn.compile;
