package dev.panamadnn.server;

import jakarta.json.stream.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an inference response (Open Inference Protocol): {@code model_name, model_version, id,
 * outputs: [{name, shape, datatype, data}]}, the outputs the request named (in its order) or else every served one. An
 * output returned as binary data (the binary tensor data extension) carries {@code parameters.binary_data_size} and its
 * little-endian bytes follow the JSON, in the outputs' order. JSON data: FP32 and FP16 as the shortest decimal that reads
 * back to the same float, NaN and infinities as the bare tokens {@code NaN}, {@code Infinity} and {@code -Infinity}
 * (what Triton writes and Python's json reads; strict JSON has no such numbers, so a client that needs them exactly asks
 * for binary data), INT64, INT32 and UINT8 as integers, BOOL as true / false.
 *
 * @param body         the bytes to send
 * @param headerLength the JSON part's length for {@code Inference-Header-Content-Length}, or -1 when all JSON
 */
record InferResponse(byte[] body, int headerLength) {
    static InferResponse of(ModelConfig config, InferRequest request, List<ModelLoader.Output> outputs, byte[][] data) {
        List<Integer> order = new ArrayList<>();
        List<Boolean> binary = new ArrayList<>();
        if (request.outputs().isEmpty()) {
            for (int k = 0; k < outputs.size(); k++) {
                order.add(k);
                binary.add(request.binaryOutput());
            }
        } else {
            for (InferRequest.Requested r : request.outputs()) {
                int k = 0;
                while (!outputs.get(k).name().equals(r.name())) k++;   // checked by InferRequest against the served names
                order.add(k);
                binary.add(r.binary());
            }
        }
        // JSON numbers cannot be NaN or infinite: each data array is written by hand, in place of a unique placeholder string
        String token = "\u0000data-" + Long.toHexString(System.nanoTime()) + "-";
        List<String> arrays = new ArrayList<>();
        long binaryBytes = 0;
        ByteArrayOutputStream json = new ByteArrayOutputStream(256);
        try (JsonGenerator g = Jsonp.PROVIDER.createGenerator(json)) {
            g.writeStartObject().write("model_name", config.name()).write("model_version", ServerInfo.MODEL_VERSION);
            if (request.id() != null) g.write("id", request.id());
            g.writeStartArray("outputs");
            for (int i = 0; i < order.size(); i++) {
                ModelLoader.Output out = outputs.get(order.get(i));
                g.writeStartObject().write("name", out.name());
                g.writeStartArray("shape");
                if (config.batched()) g.write(request.rows());   // else the sample is the whole shape
                for (long d : out.sample()) g.write(d);
                g.writeEnd().write("datatype", out.datatype());
                byte[] bytes = data[order.get(i)];
                if (binary.get(i)) {
                    g.writeStartObject("parameters").write("binary_data_size", bytes.length).writeEnd();
                    binaryBytes += bytes.length;
                } else {
                    g.write("data", token + arrays.size());
                    arrays.add(values(out.datatype(), bytes));
                }
                g.writeEnd();
            }
            g.writeEnd().writeEnd();
        }
        String text = json.toString(StandardCharsets.UTF_8);
        for (int a = 0; a < arrays.size(); a++) {
            // the generator escapes the placeholder's NUL as \u0000: find that written form, quoted
            String written = "\"\\u0000" + token.substring(1) + a + "\"";
            int at = text.indexOf(written);
            if (at < 0) throw new IllegalStateException("response placeholder " + a + " not found");
            text = text.substring(0, at) + arrays.get(a) + text.substring(at + written.length());
        }
        byte[] head = text.getBytes(StandardCharsets.UTF_8);
        if (!binary.contains(true)) return new InferResponse(head, -1);
        ByteBuffer body = ByteBuffer.allocate(Math.toIntExact(head.length + binaryBytes));
        body.put(head);
        for (int i = 0; i < order.size(); i++) if (binary.get(i)) body.put(data[order.get(i)]);
        return new InferResponse(body.array(), head.length);
    }

    /** {@code bytes} (little-endian elements of {@code datatype}) as a JSON array's text. */
    static String values(String datatype, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder s = new StringBuilder(bytes.length * 3 + 2).append('[');
        int count = bytes.length / ModelConfig.DATATYPES.get(datatype).byteSize();
        for (int i = 0; i < count; i++) {
            if (i > 0) s.append(',');
            switch (datatype) {
                case "FP32" -> number(s, b.getFloat());
                case "FP16" -> number(s, Float.float16ToFloat(b.getShort()));
                case "INT64" -> s.append(b.getLong());
                case "INT32" -> s.append(b.getInt());
                case "UINT8" -> s.append(b.get() & 0xff);
                case "BOOL" -> s.append(b.get() != 0);
                default -> throw new IllegalStateException("no JSON form for output datatype " + datatype);
            }
        }
        return s.append(']').toString();
    }

    private static void number(StringBuilder s, float f) {
        if (Float.isNaN(f)) s.append("NaN");
        else if (Float.isInfinite(f)) s.append(f > 0 ? "Infinity" : "-Infinity");
        else if (f == 0) s.append(Float.floatToRawIntBits(f) == 0 ? "0.0" : "-0.0");   // BigDecimal has no negative zero
        else s.append(new BigDecimal(Float.toString(f)).toString());
    }
}
