package dev.panamadnn.server;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import java.util.List;

/** The server's and each model's metadata replies (Open Inference Protocol). */
final class ServerInfo {
    static final String NAME = "panama-dnn", VERSION = "0.1.0";
    /** Every model serves one version. */
    static final String MODEL_VERSION = "1";
    /** The protocol extensions this server implements (Triton's names for them). */
    static final List<String> EXTENSIONS = List.of("binary_tensor_data", "model_repository");

    private ServerInfo() {}

    /** {@code GET /v2}: {@code {name, version, extensions}}. */
    static JsonObject server() {
        return Jsonp.PROVIDER.createObjectBuilder().add("name", NAME).add("version", VERSION)
                .add("extensions", Jsonp.PROVIDER.createArrayBuilder(EXTENSIONS)).build();
    }

    /** {@code GET /v2/models/{name}}: {@code {name, versions, platform, inputs, outputs}} with -1 for the batch. */
    static JsonObject model(ServedModel m) {
        ModelConfig c = m.config();
        return Jsonp.PROVIDER.createObjectBuilder().add("name", c.name()).add("versions", Jsonp.PROVIDER.createArrayBuilder().add(MODEL_VERSION))
                .add("platform", "panama-dnn_" + c.architecture())
                .add("inputs", inputs(c))
                .add("outputs", outputs(m))
                .build();
    }

    private static JsonArrayBuilder outputs(ServedModel m) {
        JsonArrayBuilder a = Jsonp.PROVIDER.createArrayBuilder();
        for (ModelLoader.Output out : m.outputs()) a.add(tensor(out.name(), out.datatype(), m.config().batched(), out.sample()));
        return a;
    }

    private static JsonArrayBuilder inputs(ModelConfig c) {
        JsonArrayBuilder a = Jsonp.PROVIDER.createArrayBuilder();
        for (ModelConfig.TensorSpec in : c.inputs()) a.add(tensor(in.name(), in.datatype(), c.batched(), in.sample()));
        return a;
    }

    /** A tensor's metadata: its shape {@code [-1, sample...]}, or the whole {@code sample} for a model without a batch dim. */
    private static JsonObject tensor(String name, String datatype, boolean batched, long[] sample) {
        JsonArrayBuilder shape = Jsonp.PROVIDER.createArrayBuilder();
        if (batched) shape.add(-1);
        for (long d : sample) shape.add(d);
        return Jsonp.PROVIDER.createObjectBuilder().add("name", name).add("datatype", datatype).add("shape", shape).build();
    }
}
