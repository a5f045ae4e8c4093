/**
 * One lowering per op: the oneDNN geometry of each operation (weight dims, 0-based dilation,
 * asymmetric and ceil-mode padding, pooling algorithm, inner-product dims), computed from plain
 * numbers in PyTorch's terms, in exactly one place, for the eager layers ({@code dev.panamadnn.nn})
 * and the compiled plans ({@code dev.panamadnn.compile}) alike.
 *
 * <p>Also {@link dev.panamadnn.internal.lowering.Padding}, the one pad kernel (plain Java over memory segments) that
 * ONNX's Pad steps, the compiler's zero padding and the eager convolutions' explicit padding share.
 *
 * <p>Pure arithmetic: nothing here loads a native library or creates a oneDNN object, so every
 * rule is unit-tested against PyTorch's shapes without one. The records are immutable values
 * (lists, not arrays) and usable as cache keys; the {@code long[]} accessors return fresh arrays
 * in the form {@code internal.dnnl}'s primitive-descriptor functions take. Not exported.
 */
package dev.panamadnn.internal.lowering;
