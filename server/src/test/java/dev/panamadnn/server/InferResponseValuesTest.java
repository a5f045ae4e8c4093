package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** JSON output data: every FP32 and FP16 value reads back to the same bits (negative zero included). */
class InferResponseValuesTest {
    private static float read(String token) {
        return switch (token) {   // the bare tokens Python's json (and Triton) use for non-finite values
            case "NaN" -> Float.NaN;
            case "Infinity" -> Float.POSITIVE_INFINITY;
            case "-Infinity" -> Float.NEGATIVE_INFINITY;
            default -> Float.parseFloat(token);
        };
    }

    @Test
    void fp32ValuesReadBackToTheSameBits() {
        float[] values = {-0f, 0f, 1e10f, -1e-5f, 0.1f, Float.MIN_VALUE, -Float.MAX_VALUE, Float.NaN, Float.NEGATIVE_INFINITY,
            Float.POSITIVE_INFINITY, 3.4028235e38f, 1.17549435e-38f, 123456.79f};
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        String json = InferResponse.values("FP32", b.array());
        String[] tokens = json.substring(1, json.length() - 1).split(",");
        assertEquals(values.length, tokens.length, json);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToIntBits(values[i]), Float.floatToIntBits(read(tokens[i])), tokens[i] + " in " + json);
        }
        assertEquals("-0.0", tokens[0]);
    }

    @Test
    void fp16NegativeZeroKeepsItsSign() {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(Float.floatToFloat16(-0f)).putShort(Float.floatToFloat16(0.5f));
        assertEquals("[-0.0,0.5]", InferResponse.values("FP16", b.array()));
    }
}
