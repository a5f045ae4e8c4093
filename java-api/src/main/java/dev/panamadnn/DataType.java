package dev.panamadnn;

import java.lang.foreign.ValueLayout;

/**
 * Element types of a {@link Tensor}. Activations are computed in f32; I64, I32 and BOOL are the
 * dtypes of graph values that compute shapes and indices ({@link dev.panamadnn.graph.Ops}); the
 * others exist so that weights files and future kernels (bf16, int8 inference) fit without
 * changing Tensor.
 */
public enum DataType {
    F32(4, ValueLayout.JAVA_FLOAT, "F32"),
    BF16(2, ValueLayout.JAVA_SHORT, "BF16"),
    F16(2, ValueLayout.JAVA_SHORT, "F16"),
    I8(1, ValueLayout.JAVA_BYTE, "I8"),
    U8(1, ValueLayout.JAVA_BYTE, "U8"),
    I32(4, ValueLayout.JAVA_INT, "I32"),
    I64(8, ValueLayout.JAVA_LONG, "I64"),
    /** A boolean carried as one byte, 0 or 1 (ONNX's bool: comparisons, Where's condition). */
    BOOL(1, ValueLayout.JAVA_BYTE, "BOOL");

    private final int byteSize;
    private final ValueLayout layout;
    private final String safetensorsName;

    DataType(int byteSize, ValueLayout layout, String safetensorsName) {
        this.byteSize = byteSize;
        this.layout = layout;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The carrier layout (bf16/f16 are carried as raw 16-bit shorts). */
    public ValueLayout layout() {
        return layout;
    }

    /** The dtype string of the safetensors format, e.g. {@code "F32"}. */
    public String safetensorsName() {
        return safetensorsName;
    }
}
