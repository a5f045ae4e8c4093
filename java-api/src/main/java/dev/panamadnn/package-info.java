/**
 * The core of Panama DNN: {@link dev.panamadnn.Tensor} (an n-dimensional array over a
 * {@link java.lang.foreign.MemorySegment}), {@link dev.panamadnn.Module} (a layer, PyTorch-style),
 * single-precision BLAS ({@link dev.panamadnn.Blas}) and element-wise ops
 * ({@link dev.panamadnn.Eltwise}) on OpenBLAS and oneDNN, safetensors loading
 * ({@link dev.panamadnn.SafeTensors}, {@link dev.panamadnn.StateDictLoader}) and a description of
 * what was loaded ({@link dev.panamadnn.NativeRuntime}).
 *
 * <p>Running it: the natives load on first use, logged once per JVM at INFO through
 * {@link java.lang.System.Logger}: logger {@code dev.panamadnn.natives} says which library came
 * from where (packaged, system or explicit directory) with its version and the thread setting,
 * logger {@code dev.panamadnn} the instruction set oneDNN dispatches to, OpenBLAS's kernel set, the
 * threads and whether the compiled plans' Winograd convolutions are on (the places tried are at
 * DEBUG). Both are written, in that order, by a short-lived thread ({@code panama-dnn-startup-log}), so
 * the first call does not wait for the logging backend to start. They reach JUL by default; SLF4J and Log4j route them with their
 * {@link java.lang.System.LoggerFinder} bridges. The JVM needs
 * {@code --enable-native-access=dev.panamadnn.natives,dev.panamadnn.bindings,dev.panamadnn} on
 * the module path ({@code --enable-native-access=ALL-UNNAMED} on the class path) and, for the
 * compiled plan's Winograd convolutions, {@code --add-modules jdk.incubator.vector}.
 *
 * <p>Units and conventions throughout: shapes are {@code long[]} in PyTorch's order (NCHW for
 * images), sizes and strides are in elements unless a name says bytes, and every tensor is
 * {@link dev.panamadnn.DataType#F32} unless documented otherwise. Failures of a native call are a
 * {@link dev.panamadnn.DnnlException} naming the C function and its status; wrong arguments are an
 * {@link java.lang.IllegalArgumentException} raised in Java before any native call.
 */
package dev.panamadnn;
