package dev.panamadnn;

import java.lang.foreign.ValueLayout;

/**
 * Element types of a {@link Tensor}. Activations are computed in f32; I64, I32 and BOOL are the
 * dtypes of graph values that compute shapes and indices ({@link dev.panamadnn.graph.Ops}); the
 * other integer types are those of ONNX models' integer inputs and constants (computed exactly
 * when known, wrapping as the type does); the rest exist so that weights files and future kernels
 * (bf16, int8 inference) fit without changing Tensor.
 */
public enum DataType {
    /** 32-bit IEEE float: every layer's parameters and activations. */
    F32(4, ValueLayout.JAVA_FLOAT, "F32"),
    /** bfloat16 (8-bit exponent, 7-bit mantissa), stored as a {@code short}. */
    BF16(2, ValueLayout.JAVA_SHORT, "BF16"),
    /** IEEE half precision, stored as a {@code short}. */
    F16(2, ValueLayout.JAVA_SHORT, "F16"),
    /** 64-bit IEEE float: a dtype of weights files only; {@link SafeTensors#load} rounds it to F32 parameters. */
    F64(8, ValueLayout.JAVA_DOUBLE, "F64"),
    /** Signed 8-bit integer. */
    I8(1, ValueLayout.JAVA_BYTE, "I8"),
    /** Unsigned 8-bit integer. */
    U8(1, ValueLayout.JAVA_BYTE, "U8"),
    /** Signed 16-bit integer. */
    I16(2, ValueLayout.JAVA_SHORT, "I16"),
    /** Unsigned 16-bit integer, carried as a {@code short} (its bits). */
    U16(2, ValueLayout.JAVA_SHORT, "U16"),
    /** Signed 32-bit integer. */
    I32(4, ValueLayout.JAVA_INT, "I32"),
    /** Unsigned 32-bit integer, carried as an {@code int} (its bits). */
    U32(4, ValueLayout.JAVA_INT, "U32"),
    /** Signed 64-bit integer (ONNX indices and shapes). */
    I64(8, ValueLayout.JAVA_LONG, "I64"),
    /** Unsigned 64-bit integer, carried as a {@code long} (its bits: values from 2^63 read as negative longs). */
    U64(8, ValueLayout.JAVA_LONG, "U64"),
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

    /**
     * Bytes per element.
     *
     * @return bytes per element
     */
    public int byteSize() {
        return byteSize;
    }

    /** {@return the carrier layout (bf16/f16 are carried as raw 16-bit shorts)} */
    public ValueLayout layout() {
        return layout;
    }

    /** {@return the dtype string of the safetensors format, e.g. {@code "F32"}} */
    public String safetensorsName() {
        return safetensorsName;
    }
}
