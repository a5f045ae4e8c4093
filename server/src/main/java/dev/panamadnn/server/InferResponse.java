package dev.panamadnn.server;

import jakarta.json.stream.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes an inference response (Open Inference Protocol): {@code model_name, model_version, id,
 * outputs: [{name, shape, datatype, data}]}; with binary output the data is appended after the JSON
 * (little-endian FP32) and the output carries {@code parameters.binary_data_size}.
 *
 * @param body         the bytes to send
 * @param headerLength the JSON part's length for {@code Inference-Header-Content-Length}, or -1 when all JSON
 */
record InferResponse(byte[] body, int headerLength) {
    static InferResponse of(ModelConfig config, InferRequest request, long[] outputSample, float[] out) {
        ByteArrayOutputStream json = new ByteArrayOutputStream(64 + out.length * 12);
        try (JsonGenerator g = Jsonp.PROVIDER.createGenerator(json)) {
            g.writeStartObject().write("model_name", config.name()).write("model_version", ServerInfo.MODEL_VERSION);
            if (request.id() != null) g.write("id", request.id());
            g.writeStartArray("outputs").writeStartObject().write("name", config.outputName());
            g.writeStartArray("shape").write(request.rows());
            for (long d : outputSample) g.write(d);
            g.writeEnd().write("datatype", "FP32");
            if (request.binaryOutput()) {
                g.writeStartObject("parameters").write("binary_data_size", out.length * 4L).writeEnd();
            } else {
                g.writeStartArray("data");
                for (float f : out) g.write(new BigDecimal(Float.toString(f)));
                g.writeEnd();
            }
            g.writeEnd().writeEnd().writeEnd();
        }
        if (!request.binaryOutput()) return new InferResponse(json.toByteArray(), -1);
        int headerLength = json.size();
        ByteBuffer bytes = ByteBuffer.allocate(headerLength + out.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.put(json.toByteArray()).asFloatBuffer().put(out);
        return new InferResponse(bytes.array(), headerLength);
    }
}
