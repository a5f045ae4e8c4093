/**
 * ONNX import: {@link dev.panamadnn.onnx.Onnx#load} reads a {@code .onnx} file into an
 * {@link dev.panamadnn.onnx.OnnxModel} (the graph IR plus its weights, memory-mapped where the file
 * allows), which compiles to plans of oneDNN primitives. An unsupported model is refused up front
 * with one {@link dev.panamadnn.onnx.OnnxException} listing every problem; docs/onnx.md lists the
 * ops and opsets supported. The generated protobuf classes ({@code dev.panamadnn.onnx.proto}) are
 * not exported.
 */
package dev.panamadnn.onnx;
