package dev.panamadnn.server;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParser;
import jakarta.json.stream.JsonParsingException;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * A parsed and fully validated inference request (Open Inference Protocol, REST): each of the
 * model's inputs as {@code rows} samples of its datatype (every input the same {@code rows}), row-major, as little-endian
 * bytes (FP32; for ONNX models also INT64, INT32, BOOL, UINT8, FP16: {@link ModelConfig#DATATYPES}),
 * whether the output goes back as binary data, the id and the requested timeout. {@link #parse}
 * checks everything before any native call and refuses with a 400 naming the field: malformed
 * JSON, names (each model input exactly once), datatype, shape, element count vs data length, batch
 * within max and equal across inputs, binary-extension sizes, non-finite values (NaN and
 * infinities are refused: JSON cannot carry them, and in binary data they are almost always a
 * client bug), integers that are not integers or do not fit the datatype, and BOOL values that are
 * not JSON booleans (binary: bytes 0 or 1).
 *
 * @param id           the request's id, echoed in the response (null if none)
 * @param data         per model input (in the model's order), {@code rows x sample} values as little-endian bytes
 * @param rows         the batch size of this request (1 for a model without a batch dim: each input its whole shape)
 * @param shapes       per model input, the shape of one sample (without a batch dim: the whole shape): the model's, with
 *                     its {@link ModelConfig#VARIABLE} dims sized as this request sizes them
 * @param binaryOutput whether outputs not requested by name return with the binary tensor data extension
 *                     ({@code parameters.binary_data_output})
 * @param timeoutMs    the requested deadline in ms, or 0 for the model's default
 * @param outputs      the outputs requested by name, in the request's order (each at most once), or empty for all of them
 */
record InferRequest(String id, byte[][] data, int rows, long[][] shapes, boolean binaryOutput, long timeoutMs, List<Requested> outputs) {
    /** An output requested by name, and whether it returns as binary data ({@code parameters.binary_data}, else the request's). */
    record Requested(String name, boolean binary) {}

    /** Longest deadline a request may ask for. */
    static final long MAX_TIMEOUT_MS = 600_000;

    /**
     * Parses {@code body}; {@code headerLength} is the {@code Inference-Header-Content-Length} value
     * (null: all JSON), {@code headerTimeout} the {@code Inference-Timeout-Ms} value (null: none).
     */
    static InferRequest parse(byte[] body, String headerLength, String headerTimeout, ModelConfig config) {
        try {
            return parseChecked(body, headerLength, headerTimeout, config);
        } catch (ApiException e) {
            throw e;
        } catch (RuntimeException e) {   // the JSON library's own limits (nesting depth, digits in a number, ...)
            throw bad("unreadable JSON: " + abbreviate(String.valueOf(e.getMessage())));
        } catch (StackOverflowError e) {
            throw bad("unreadable JSON: nested too deeply");
        }
    }

    private static InferRequest parseChecked(byte[] body, String headerLength, String headerTimeout, ModelConfig config) {
        int jsonLength = body.length;
        if (headerLength != null) {
            jsonLength = (int) Math.min(Integer.MAX_VALUE, positive("Inference-Header-Content-Length", headerLength, true));
            if (jsonLength > body.length) {
                throw bad("Inference-Header-Content-Length " + jsonLength + " exceeds the body's " + body.length + " bytes");
            }
        }
        if (jsonLength == 0) throw bad("empty request body: expected a JSON object with \"inputs\"");
        JsonObject o;
        try (JsonParser p = Jsonp.PROVIDER.createParser(new ByteArrayInputStream(body, 0, jsonLength))) {
            if (!p.hasNext()) throw bad("empty JSON header: expected a JSON object with \"inputs\"");
            p.next();
            JsonValue v = p.getValue();
            if (!(v instanceof JsonObject obj)) throw bad("the request must be a JSON object, got " + v.getValueType());
            if (p.hasNext()) throw bad("malformed JSON: content after the request object");
            o = obj;
        } catch (JsonParsingException e) {
            throw bad("malformed JSON: " + e.getMessage());
        } catch (jakarta.json.JsonException | IllegalStateException e) {
            throw bad("unreadable JSON: " + e.getMessage());
        }
        String id = null;
        if (o.containsKey("id")) {
            if (!(o.get("id") instanceof JsonString s)) throw bad("\"id\" must be a string");
            id = s.getString();
        }
        JsonObject params = object(o, "parameters", "request");
        boolean binaryOutput = bool(params, "binary_data_output", "parameters");
        long timeout = 0;
        if (params.containsKey("timeout_ms")) timeout = timeout(params.get("timeout_ms").toString());
        if (headerTimeout != null) timeout = timeout(headerTimeout);
        if (!(o.get("inputs") instanceof JsonArray inputs)) throw bad("\"inputs\" must be an array of input tensors");
        List<ModelConfig.TensorSpec> specs = config.inputs();
        if (inputs.size() != specs.size()) {
            throw bad("model " + config.name() + " takes " + specs.size() + " input" + (specs.size() == 1 ? " " : "s ")
                    + ModelConfig.inputNames(specs) + ", got " + inputs.size());
        }
        List<Requested> requested = requestedOutputs(o, config, binaryOutput);
        byte[][] data = new byte[specs.size()][];
        long[][] shapes = new long[specs.size()][];
        int rows = -1;
        String firstInput = null;
        long binaryAt = jsonLength;   // where the next binary input's bytes start: they follow the JSON in the inputs' order
        for (int k = 0; k < inputs.size(); k++) {
            if (!(inputs.get(k) instanceof JsonObject in)) throw bad("inputs[" + k + "] must be an object");
            String where = "input " + (in.get("name") instanceof JsonString s ? "'" + s.getString() + "'" : "inputs[" + k + "]");
            if (!(in.get("name") instanceof JsonString name)) throw bad("inputs[" + k + "].name must be a string");
            int i = config.inputIndex(name.getString());
            if (i < 0) {
                throw bad("unknown input '" + name.getString() + "' for model " + config.name() + "; expected "
                        + (specs.size() == 1 ? "'" + specs.getFirst().name() + "'" : "one of " + ModelConfig.inputNames(specs)));
            }
            if (data[i] != null) throw bad(where + " appears twice");
            ModelConfig.TensorSpec spec = specs.get(i);
            if (!(in.get("datatype") instanceof JsonString dtype)) throw bad(where + ": datatype must be a string");
            if (!dtype.getString().equals(spec.datatype())) {
                throw bad(where + ": datatype " + dtype.getString() + " does not match the model's " + spec.datatype());
            }
            shapes[i] = new long[spec.sample().length];
            int r = rows(in, where, spec, config, shapes[i]);
            if (rows >= 0 && r != rows) throw bad(where + ": batch size " + r + " differs from input " + firstInput + "'s " + rows);
            rows = r;
            firstInput = "'" + name.getString() + "'";
            long count = rows;
            for (long d : shapes[i]) count = multiply(count, d);
            if (spec.variable() && count > body.length) {   // each element takes at least a byte of the body: refused before any allocation
                throw bad(where + ": shape " + in.get("shape") + " has " + (count == Long.MAX_VALUE ? "more than 2^63" : Long.toString(count))
                        + " elements; the request body has " + body.length + " bytes");
            }
            JsonObject inParams = object(in, "parameters", where);
            if (inParams.containsKey("binary_data_size")) {
                if (in.containsKey("data")) throw bad(where + ": has both \"data\" and a binary_data_size");
                long size = positive(where + " binary_data_size", inParams.get("binary_data_size").toString(), true);
                int bytes = spec.dtype().byteSize();
                if (size != count * bytes) {
                    throw bad(where + ": binary_data_size " + size + " != " + count + " " + spec.datatype() + " elements x " + bytes + " bytes");
                }
                if (binaryAt + size > body.length) {
                    throw bad(where + ": binary_data_size " + size + " but " + (body.length - binaryAt) + " binary bytes follow"
                            + (binaryAt == jsonLength ? " the JSON header" : " the inputs before it"));
                }
                data[i] = binary(body, (int) binaryAt, (int) count, spec, where);
                binaryAt += size;
            } else {
                if (!in.containsKey("data")) throw bad(where + ": no \"data\" (and no binary_data_size)");
                ByteBuffer into = ByteBuffer.allocate(Math.toIntExact(count * spec.dtype().byteSize())).order(ByteOrder.LITTLE_ENDIAN);
                int n = flatten(in.get("data"), into, spec, 0, where, 0);
                data[i] = into.array();
                if (n != count) {
                    throw bad(where + ": data has " + n + " elements, shape " + (spec.variable() ? in.get("shape").toString().replace(" ", "")
                            : shapeText(rows, spec, config)) + " needs " + count);
                }
            }
        }
        if (binaryAt != body.length) {
            throw bad(binaryAt == jsonLength ? (body.length - jsonLength) + " binary bytes follow the JSON header but no input has a binary_data_size"
                    : "the inputs' binary_data_size add up to " + (binaryAt - jsonLength) + " but " + (body.length - jsonLength)
                    + " binary bytes follow the JSON header");
        }
        return new InferRequest(id, data, rows, shapes, binaryOutput, timeout, requested);
    }

    /** {@code a * b} for non-negative values, {@link Long#MAX_VALUE} when it overflows. */
    private static long multiply(long a, long b) {
        return Math.multiplyHigh(a, b) != 0 || a * b < 0 ? Long.MAX_VALUE : a * b;
    }

    /**
     * The batch size input {@code in}'s shape gives (1 without a batch dim), checked against the model's {@code spec}: its
     * rank, its fixed dims, its {@link ModelConfig#VARIABLE} dims at least 1; writes the sample's dims into {@code sample}.
     */
    private static int rows(JsonObject in, String where, ModelConfig.TensorSpec spec, ModelConfig config, long[] sample) {
        if (!(in.get("shape") instanceof JsonArray shape)) throw bad(where + ": shape must be an array of integers");
        int batchDims = config.batched() ? 1 : 0;
        if (shape.size() != sample.length + batchDims) {
            throw bad(where + ": shape " + shape + " has rank " + shape.size() + ", expected " + (sample.length + batchDims) + " "
                    + shapeText(-1, spec, config));
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!(shape.get(i) instanceof JsonNumber n) || !n.isIntegral()) throw bad(where + ": shape " + shape + " has a non-integer dim");
            dims[i] = n.bigIntegerValue().bitLength() < 63 ? n.longValue() : -1;
        }
        for (int i = 0; i < sample.length; i++) {
            long want = spec.sample()[i], got = dims[i + batchDims];
            if (want == ModelConfig.VARIABLE ? got < 1 : got != want) {
                throw bad(where + ": shape " + shape + " does not match the model's " + shapeText(-1, spec, config)
                        + (want == ModelConfig.VARIABLE ? " (dim " + (i + batchDims) + " is sized by the request: at least 1)" : ""));
            }
            sample[i] = got;
        }
        if (!config.batched()) return 1;   // the whole shape: one run of its own
        // the batch as the client wrote it: a value past a long reads -1 above, and must not be reported as -1
        if (dims[0] > config.maxBatch() || shape.getJsonNumber(0).bigIntegerValue().bitLength() >= 63 && shape.getJsonNumber(0).bigIntegerValue().signum() > 0) {
            throw bad(where + ": batch size " + shape.get(0) + " exceeds max_batch_size " + config.maxBatch());
        }
        if (dims[0] < 1) throw bad(where + ": batch size must be >= 1, got " + shape.get(0));
        return (int) dims[0];
    }

    /** The outputs requested by name (empty: none named, all are returned), each a served one, at most once. */
    private static List<Requested> requestedOutputs(JsonObject o, ModelConfig config, boolean binaryByDefault) {
        if (!o.containsKey("outputs")) return List.of();
        if (!(o.get("outputs") instanceof JsonArray outputs)) throw bad("\"outputs\" must be an array");
        List<Requested> requested = new java.util.ArrayList<>();
        for (JsonValue v : outputs) {
            if (!(v instanceof JsonObject out) || !(out.get("name") instanceof JsonString name)) throw bad("each of \"outputs\" must be an object with a name");
            if (!config.outputs().contains(name.getString())) {
                throw bad("unknown output '" + name.getString() + "' for model " + config.name() + "; it has " + config.outputs());
            }
            if (requested.stream().anyMatch(r -> r.name().equals(name.getString()))) throw bad("output '" + name.getString() + "' is requested twice");
            JsonObject params = object(out, "parameters", "output '" + name.getString() + "'");
            boolean binary = params.containsKey("binary_data") ? bool(params, "binary_data", "output parameters") : binaryByDefault;
            requested.add(new Requested(name.getString(), binary));
        }
        return List.copyOf(requested);
    }

    /**
     * Copies nested or flat JSON values into {@code into} (as {@code spec}'s datatype) from element {@code at}; returns the
     * count (which may exceed the buffer: the caller compares it with the shape's).
     */
    private static int flatten(JsonValue v, ByteBuffer into, ModelConfig.TensorSpec spec, int at, String where, int depth) {
        if (depth > 32) throw bad(where + ": data nested deeper than 32 levels");
        if (v instanceof JsonArray a) {
            for (JsonValue e : a) at = flatten(e, into, spec, at, where, depth + 1);
            return at;
        }
        boolean room = into.remaining() >= spec.dtype().byteSize();
        if (spec.dtype() == dev.panamadnn.DataType.BOOL) {
            if (v != JsonValue.TRUE && v != JsonValue.FALSE) throw bad(where + ": data element " + at + " is " + v.getValueType() + ", not a boolean (BOOL)");
            if (room) into.put((byte) (v == JsonValue.TRUE ? 1 : 0));
            return at + 1;
        }
        if (!(v instanceof JsonNumber n)) throw bad(where + ": data element " + at + " is " + v.getValueType() + ", not a number");
        switch (spec.dtype()) {
            case F32, F16 -> {
                float f = (float) n.doubleValue();
                boolean half = spec.dtype() == dev.panamadnn.DataType.F16;
                if (!Float.isFinite(f) || half && Math.abs(f) > 65504f) {
                    throw bad(where + ": data element " + at + " (" + n + ") is not a finite " + spec.datatype() + " value");
                }
                if (room && half) into.putShort(Float.floatToFloat16(f));
                else if (room) into.putFloat(f);
            }
            default -> {   // INT64, INT32, UINT8: integers that fit the type, exactly
                long min = spec.dtype() == dev.panamadnn.DataType.U8 ? 0 : spec.dtype() == dev.panamadnn.DataType.I32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
                long max = spec.dtype() == dev.panamadnn.DataType.U8 ? 255 : spec.dtype() == dev.panamadnn.DataType.I32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
                java.math.BigInteger b;
                try {
                    b = n.bigDecimalValue().toBigIntegerExact();
                } catch (ArithmeticException notIntegral) {
                    throw bad(where + ": data element " + at + " (" + n + ") is not an integer (" + spec.datatype() + ")");
                }
                if (b.bitLength() > 63 || b.longValue() < min || b.longValue() > max) {
                    throw bad(where + ": data element " + at + " (" + n + ") is out of " + spec.datatype() + "'s range [" + min + ", " + max + "]");
                }
                if (room) {
                    switch (spec.dtype()) {
                        case I64 -> into.putLong(b.longValue());
                        case I32 -> into.putInt(b.intValue());
                        default -> into.put((byte) b.intValue());
                    }
                }
            }
        }
        return at + 1;
    }

    /** {@code count} elements of {@code spec}'s datatype from {@code body} at {@code from}: FP32/FP16 finite, BOOL bytes 0 or 1. */
    private static byte[] binary(byte[] body, int from, int count, ModelConfig.TensorSpec spec, String where) {
        byte[] data = Arrays.copyOfRange(body, from, from + count * spec.dtype().byteSize());
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            switch (spec.dtype()) {
                case F32 -> {
                    float f = b.getFloat(4 * i);
                    if (!Float.isFinite(f)) throw bad(where + ": binary element " + i + " is " + f + "; non-finite values are refused");
                }
                case F16 -> {
                    float f = Float.float16ToFloat(b.getShort(2 * i));
                    if (!Float.isFinite(f)) throw bad(where + ": binary element " + i + " is " + f + "; non-finite values are refused");
                }
                case BOOL -> {
                    if (data[i] != 0 && data[i] != 1) throw bad(where + ": binary element " + i + " is byte " + data[i] + "; BOOL takes 0 or 1");
                }
                default -> { }
            }
        }
        return data;
    }

    private static JsonObject object(JsonObject o, String key, String where) {
        if (!o.containsKey(key)) return JsonValue.EMPTY_JSON_OBJECT;
        if (!(o.get(key) instanceof JsonObject p)) throw bad(where + ": \"" + key + "\" must be an object");
        return p;
    }

    private static boolean bool(JsonObject o, String key, String where) {
        if (!o.containsKey(key)) return false;
        JsonValue v = o.get(key);
        if (v != JsonValue.TRUE && v != JsonValue.FALSE) throw bad(where + ": " + key + " must be true or false");
        return v == JsonValue.TRUE;
    }

    private static long timeout(String text) {
        long t = positive("timeout_ms", text, false);
        if (t > MAX_TIMEOUT_MS) throw bad("timeout_ms " + t + " exceeds " + MAX_TIMEOUT_MS);
        return t;
    }

    private static long positive(String what, String text, boolean zeroOk) {
        long v;
        try {
            v = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw bad(what + " must be an integer, got " + abbreviate(text));
        }
        if (v < 0 || (!zeroOk && v == 0)) throw bad(what + " must be " + (zeroOk ? ">= 0" : ">= 1") + ", got " + v);
        return v;
    }

    /** {@code [N,sample...]} ({@code rows} < 0) or {@code [rows,sample...]}; the whole shape for a model without a batch dim. */
    private static String shapeText(int rows, ModelConfig.TensorSpec spec, ModelConfig config) {
        if (!config.batched()) {
            return Arrays.toString(spec.sample()).replace(" ", "") + " (the whole shape: this model has no batch dim, max_batch_size 0)";
        }
        StringBuilder s = new StringBuilder("[").append(rows < 0 ? "N" : Integer.toString(rows));
        for (long d : spec.sample()) s.append(',').append(d);
        return s.append(']').toString();
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }

    private static ApiException bad(String message) {
        return ApiException.badRequest(message);
    }
}
