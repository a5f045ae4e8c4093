/**
 * ONNX import for Panama DNN: {@link dev.panamadnn.onnx.Onnx#load} reads a {@code .onnx} model into
 * the graph IR and compiles it. The classes generated from onnx.proto
 * ({@code dev.panamadnn.onnx.proto}) are not exported: no public signature exposes protobuf.
 */
module dev.panamadnn.onnx {
    requires transitive dev.panamadnn;
    requires com.google.protobuf;

    exports dev.panamadnn.onnx;
    // The generated classes are not exported; protobuf-java's runtime may reflect on them.
    opens dev.panamadnn.onnx.proto to com.google.protobuf;
}
