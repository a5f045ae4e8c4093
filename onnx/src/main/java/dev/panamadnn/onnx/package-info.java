/**
 * ONNX import: {@link dev.panamadnn.onnx.Onnx#load} reads a {@code .onnx} file into an
 * {@link dev.panamadnn.onnx.OnnxModel} (the graph IR plus its weights, memory-mapped where the file
 * allows), which compiles to plans of oneDNN primitives. An unsupported model is refused up front
 * with one {@link dev.panamadnn.onnx.OnnxException} listing every problem; docs/onnx.md lists the
 * ops and opsets supported. Control flow is resolved when importing: an If takes the branch its
 * known condition picks, a Loop or Scan whose iterations are known is unrolled, and a sequence is
 * the list of tensors it holds; where that depends on an integer or bool input or a symbolic dim,
 * {@link dev.panamadnn.onnx.OnnxModel#run} imports per call. The generated protobuf classes
 * ({@code dev.panamadnn.onnx.proto}) are not exported.
 */
package dev.panamadnn.onnx;
