package dev.panamadnn.server;

import dev.panamadnn.DataType;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParsingException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A model's serving configuration, the {@code config.json} of its repository directory:
 * <pre>{@code
 * {"architecture": "digits",                      // digits | resnet18 | resnet34 | resnet50
 *  "num_classes": 10,                             // resnets only (default 1000)
 *  "inputs":  [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 8, 8]}],   // -1 or "N": the batch
 *  "outputs": [{"name": "logits"}],
 *  "max_batch_size": 32, "max_queue_delay_us": 2000, "adaptive_delay": true, "preferred_batch_sizes": [8, 16, 32],
 *  "instances": 2, "threads_per_instance": 1, "max_queue_size": 256, "timeout_ms": 10000, "max_shapes": 16,
 *  "warm_shapes": [{"ids": [-1, 32]}]}                                     // variable dims: shapes built at load
 * }</pre>
 * Every field but {@code architecture} has a default. Inputs FP32 (an ONNX model's also INT64, INT32, BOOL, UINT8 or
 * FP16, see {@link #DATATYPES}); a built-in architecture has one FP32 output, an ONNX model the outputs config.json lists
 * by name (all of its outputs if it lists none), each {@code [N, ...]} of one of the same datatypes. The built-in
 * architectures take exactly one input; an ONNX model may take several, all batched along the same
 * first dim (a request sends every one of them with the same batch size, and the batcher stacks
 * each input's rows separately). For a directory with {@code model.onnx} ({@link #read(Path, Io)}
 * with the ONNX model's metadata), {@code architecture} is {@code "onnx"} (may be omitted) and
 * {@code inputs}, {@code outputs}, an input's {@code name}, {@code datatype} and {@code shape} and
 * an output's {@code name} default from the ONNX model's graph inputs (by position) and outputs;
 * what is given is checked against them by the loader (a listed output must be one of the model's, in any order).
 *
 * <p><b>Without a batch dim</b> ({@code "max_batch_size": 0}, the Open Inference Protocol's and Triton's convention): each
 * input's {@code shape} is its whole shape, every dim a size ({@code [6, 3, 5]}, no {@code -1}), a request sends exactly
 * those shapes and runs alone on one compiled plan. An ONNX model whose inputs do not share a symbolic first dim (exported
 * without {@code dynamic_axes}: a fixed batch of 1, a sequence-first RNN {@code [T, N, I]}) defaults to it; any ONNX
 * model may ask for it (its symbolic dims then sized by config.json). The built-in architectures are always batched.
 *
 * <p><b>Variable dims</b> (ONNX models): a dim of an input's {@code shape} beyond the batch given as {@code -1} (or a
 * name), where the ONNX input has a symbolic dim (a dynamic sequence length or image size), is sized by each request: the
 * batcher merges only requests of the same shapes, and the model is imported and compiled for each distinct set of
 * shapes on its first request, at most {@code max_shapes} of them kept (least recently used dropped). A symbolic dim
 * config.json leaves unsized is variable by default; a size given serves the model at that size only.
 *
 * @param name              the served name (the directory's name)
 * @param architecture      the built-in architecture the weights belong to
 * @param numClasses        classifier width of a ResNet
 * @param inputs            the inputs, in the model's order: name, datatype and the shape of one sample (batch dim removed;
 *                          with {@code maxBatch} 0 the whole shape)
 * @param outputs           the served outputs' names, in the order responses list them
 * @param maxBatch          most rows one compiled run takes; also the most rows one request may send; 0: no batch dim
 *                          (each request the whole input shapes, run alone)
 * @param maxQueueDelayMicros how long the batcher waits for more requests after the first one
 * @param adaptiveDelay     whether the batcher stops waiting early when the queue is empty and no request for the model
 *                          is on its way in (received, not yet queued): nothing could join, so it runs what it holds
 *                          at once; false: it waits the whole delay (Triton's fixed delay)
 * @param preferredBatchSizes batch sizes at which the batcher dispatches without waiting (sorted)
 * @param instances         concurrent runs (worker threads sharing the model's plans)
 * @param threadsPerInstance intra-op threads of each compiled plan
 * @param maxQueueSize      requests waiting at most; one more gets 503 with Retry-After
 * @param timeoutMs         default per-request deadline (a request may ask for less or more)
 * @param maxShapes         with variable dims, how many shapes' imports and plans are kept at most (least recently used
 *                          dropped, rebuilt when asked for again)
 * @param warmShapes        with variable dims, the shapes built and warmed at load, before the model is ready (each: every
 *                          input's sample, or whole shape without a batch dim, in the inputs' order); at most maxShapes
 */
public record ModelConfig(String name, String architecture, int numClasses, List<TensorSpec> inputs, List<String> outputs,
                          int maxBatch, long maxQueueDelayMicros, boolean adaptiveDelay, int[] preferredBatchSizes, int instances,
                          int threadsPerInstance, int maxQueueSize, long timeoutMs, int maxShapes, List<long[][]> warmShapes) {

    /**
     * The Open Inference Protocol datatypes an input may have, with ours: FP32, and for ONNX models INT64 and INT32 (token
     * ids, indices: read as they are), BOOL, UINT8 and FP16 (a plan converts them to exact F32 values).
     */
    public static final Map<String, DataType> DATATYPES = Map.of("FP32", DataType.F32, "INT64", DataType.I64, "INT32", DataType.I32,
            "BOOL", DataType.BOOL, "UINT8", DataType.U8, "FP16", DataType.F16);

    /** A dim of a {@link TensorSpec#sample()} sized by each request (an ONNX input's symbolic dim that config.json leaves free). */
    public static final long VARIABLE = -1;

    /** An input: its name, datatype (one of {@link #DATATYPES}) and the shape of one sample ({@link #VARIABLE} dims sized per request). */
    public record TensorSpec(String name, String datatype, long[] sample) {
        /** Our dtype of {@link #datatype}. */
        public DataType dtype() {
            return DATATYPES.get(datatype);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorSpec t && name.equals(t.name) && datatype.equals(t.datatype) && java.util.Arrays.equals(sample, t.sample);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + java.util.Arrays.hashCode(sample);
        }

        /** Whether a dim of the sample is {@link #VARIABLE}, sized by each request. */
        public boolean variable() {
            return Arrays.stream(sample).anyMatch(d -> d == VARIABLE);
        }

        /** Elements in one sample (of a spec without {@link #variable()} dims). */
        public long sampleElements() {
            long n = 1;
            for (long d : sample) n *= d;
            return n;
        }
    }

    /**
     * Defaults from a model file's own metadata (ONNX): the inputs, in order, as samples of a batch they all share ({@code
     * inputs}; null when they share none, {@code noBatch} saying why) and whole ({@code whole}, for {@code max_batch_size}
     * 0; a symbolic dim is -1, for config.json to size), and the outputs' names.
     */
    public record Io(List<TensorSpec> inputs, List<TensorSpec> whole, String noBatch, List<String> outputs) {
        /** The inputs as they are served: per sample when {@code batched}, else whole. */
        List<TensorSpec> served(boolean batched) {
            return batched ? inputs : whole;
        }
    }

    /** Validates every field, naming the one that is wrong. */
    public ModelConfig {
        check(name != null && name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"), "model name must be 1-64 of [A-Za-z0-9_.-], got " + name);
        check(maxBatch >= 0 && maxBatch <= 1024, "max_batch_size must be in [0, 1024] (0: no batch dim), got " + maxBatch);
        check(maxBatch > 0 || "onnx".equals(architecture), "max_batch_size 0 (no batch dim) is for ONNX models; the " + architecture
                + " architecture is batched: max_batch_size must be in [1, 1024]");
        check(maxBatch > 0 || preferredBatchSizes.length == 0, "preferred_batch_sizes must be empty with max_batch_size 0 (no batching), got "
                + Arrays.toString(preferredBatchSizes));
        check(maxQueueDelayMicros >= 0 && maxQueueDelayMicros <= 10_000_000, "max_queue_delay_us must be in [0, 1e7], got " + maxQueueDelayMicros);
        for (int p : preferredBatchSizes) check(p >= 1 && p <= maxBatch, "preferred_batch_sizes must lie in [1, max_batch_size], got " + p);
        check(instances >= 1 && instances <= 64, "instances must be in [1, 64], got " + instances);
        check(threadsPerInstance >= 1 && threadsPerInstance <= 256, "threads_per_instance must be in [1, 256], got " + threadsPerInstance);
        // Each instance runs its own OpenMP team: 64 x 256 would ask for 16,384 threads, past what the core library accepts
        // for one team (thread creation failing in libgomp ended a JVM at 10,000).
        check((long) instances * threadsPerInstance <= dev.panamadnn.natives.ThreadControl.MAX_THREADS, "instances x threads_per_instance must be at most "
                + dev.panamadnn.natives.ThreadControl.MAX_THREADS + " threads, got " + instances + " x " + threadsPerInstance);
        check(maxQueueSize >= 1 && maxQueueSize <= 1_000_000, "max_queue_size must be in [1, 1e6], got " + maxQueueSize);
        check(timeoutMs >= 1, "timeout_ms must be >= 1, got " + timeoutMs);
        check(maxShapes >= 1 && maxShapes <= 1024, "max_shapes must be in [1, 1024], got " + maxShapes);
        warmShapes = warmShapes == null ? List.of() : List.copyOf(warmShapes);
        check(warmShapes.size() <= maxShapes, "warm_shapes gives " + warmShapes.size() + " shapes, more than max_shapes " + maxShapes + " keeps");
        check(inputs != null && !inputs.isEmpty() && inputs.size() <= 64, "a model takes 1 to 64 inputs, got " + (inputs == null ? 0 : inputs.size()));
        for (TensorSpec in : inputs) {
            check(DATATYPES.containsKey(in.datatype()), "input " + in.name() + ": datatype " + in.datatype() + " is not served (" + DATATYPES.keySet() + ")");
            check("onnx".equals(architecture) || "FP32".equals(in.datatype()), "input " + in.name() + ": the " + architecture + " architecture takes FP32, got "
                    + in.datatype());
            check("onnx".equals(architecture) || !in.variable(), "input " + in.name() + ": the " + architecture + " architecture takes fixed sizes, got "
                    + Arrays.toString(in.sample()));
        }
        check(inputs.stream().map(TensorSpec::name).distinct().count() == inputs.size(), "input names must differ, got " + inputNames(inputs));
        inputs = List.copyOf(inputs);
        check(outputs != null && !outputs.isEmpty() && outputs.size() <= 64, "a model serves 1 to 64 outputs, got " + (outputs == null ? 0 : outputs.size()));
        for (String out : outputs) check(out != null && !out.isEmpty(), "an output name must be a non-empty string, got " + outputs);
        check(outputs.stream().distinct().count() == outputs.size(), "output names must differ, got " + outputs);
        check("onnx".equals(architecture) || outputs.size() == 1, "the " + architecture + " architecture has one output, got " + outputs);
        outputs = List.copyOf(outputs);
        preferredBatchSizes = new TreeSet<>(Arrays.stream(preferredBatchSizes).boxed().toList()).stream().mapToInt(i -> i).toArray();
    }

    /** The built-in digits model's configuration (input {@code [N,1,8,8]} FP32, output {@code logits}). */
    public static ModelConfig digits() {
        return new ModelConfig("digits", "digits", 10, List.of(new TensorSpec("input", "FP32", new long[] {1, 8, 8})), List.of("logits"),
                32, 2000, true, new int[] {32}, defaultInstances(1), 1, 256, 10_000, 16, List.of());
    }

    /** Whether an input has a {@link #VARIABLE} dim: each request sizes it, the model is compiled per distinct shapes. */
    public boolean variable() {
        return inputs.stream().anyMatch(TensorSpec::variable);
    }

    /** This configuration with each input's sample (or whole shape) {@code shapes[i]}: a variable model at one request's sizes. */
    ModelConfig withShapes(long[][] shapes) {
        List<TensorSpec> specs = new java.util.ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) specs.add(new TensorSpec(inputs.get(i).name(), inputs.get(i).datatype(), shapes[i].clone()));
        return new ModelConfig(name, architecture, numClasses, specs, outputs, maxBatch, maxQueueDelayMicros, adaptiveDelay, preferredBatchSizes,
                instances, threadsPerInstance, maxQueueSize, timeoutMs, maxShapes, List.of());
    }

    /** Whether requests carry a batch dim that the batcher stacks ({@code max_batch_size >= 1}); else each is the whole shapes. */
    public boolean batched() {
        return maxBatch > 0;
    }

    /** The shape an input of one sample {@code sample} has with {@code rows} rows: {@code [rows, sample...]}, or the whole shape without a batch dim. */
    long[] requestShape(long[] sample, int rows) {
        if (!batched()) return sample.clone();
        long[] s = new long[sample.length + 1];
        s[0] = rows;
        System.arraycopy(sample, 0, s, 1, s.length - 1);
        return s;
    }

    /** The one input of a single-input model (every built-in architecture). */
    public TensorSpec input() {
        check(inputs.size() == 1, name + " takes " + inputs.size() + " inputs " + inputNames(inputs) + ", not one");
        return inputs.getFirst();
    }

    /** The position of input {@code name} in {@link #inputs()}, or -1. */
    public int inputIndex(String inputName) {
        for (int i = 0; i < inputs.size(); i++) if (inputs.get(i).name().equals(inputName)) return i;
        return -1;
    }

    /** The input names, e.g. {@code [image, features]}. */
    static String inputNames(List<TensorSpec> inputs) {
        return inputs.stream().map(TensorSpec::name).toList().toString();
    }

    /**
     * Instances x threads per instance = the cores this JVM sees (at least one instance); 1 for a thread count below 1,
     * which the constructor then refuses by name (it divided by zero, a 500 for a config a client loads).
     */
    static int defaultInstances(int threads) {
        return threads < 1 ? 1 : Math.max(1, Runtime.getRuntime().availableProcessors() / threads);
    }

    /**
     * The batch sizes compiled (and warmed) up front: powers of two up to the max batch, the max
     * batch and the preferred sizes. A batch of another size runs on the next larger plan, padded.
     * Without a batch dim, {@code [1]}: one plan, one request per run.
     */
    public int[] planSizes() {
        if (!batched()) return new int[] {1};
        TreeSet<Integer> sizes = new TreeSet<>();
        for (int b = 1; b < maxBatch; b *= 2) sizes.add(b);
        sizes.add(maxBatch);
        for (int p : preferredBatchSizes) sizes.add(p);
        return sizes.stream().mapToInt(i -> i).toArray();
    }

    /** Reads {@code dir/config.json}; the model is named after the directory. */
    public static ModelConfig read(Path dir) throws IOException {
        return read(dir, null);
    }

    /** Reads {@code dir/config.json} with the inputs and outputs defaulting to {@code io} (null: no defaults). */
    public static ModelConfig read(Path dir, Io io) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(dir.getFileName() + ": no config.json");
        try (InputStream in = Files.newInputStream(file); var reader = Jsonp.PROVIDER.createReader(in)) {
            return parse(dir.getFileName().toString(), reader.readObject(), io);
        } catch (JsonParsingException | ClassCastException | IllegalStateException e) {
            throw new IllegalArgumentException(dir.getFileName() + "/config.json: not a JSON object: " + e.getMessage());
        }
    }

    /** Parses a config object for model {@code name}. */
    public static ModelConfig parse(String name, JsonObject o) {
        return parse(name, o, null);
    }

    /** Parses a config object for model {@code name}, inputs and outputs defaulting to {@code io} (an ONNX model's; null: none). */
    public static ModelConfig parse(String name, JsonObject o, Io io) {
        String arch = string(o, "architecture", io == null ? null : "onnx");
        check(arch != null, name + "/config.json: architecture is required (digits, resnet18, resnet34, resnet50)");
        check(io == null || arch.equals("onnx"), name + "/config.json: architecture '" + arch + "' with a model.onnx (omit it, or say \"onnx\")");
        check(io != null || !arch.equals("onnx"), name + "/config.json: architecture 'onnx' needs a model.onnx in the directory");
        int threads = integer(o, "threads_per_instance", 1);
        int maxBatch = integer(o, "max_batch_size", io != null && io.inputs() == null ? 0 : 32);
        if (io != null && maxBatch > 0 && io.inputs() == null) {
            throw new IllegalArgumentException(name + "/config.json: max_batch_size " + maxBatch + ", but " + io.noBatch()
                    + ": serve it with max_batch_size 0 (each request the whole input shapes, run alone; the default for such a model), "
                    + "or export it with a symbolic batch (torch.onnx.export(..., dynamic_axes={'<input>': {0: 'N'}}))");
        }
        List<TensorSpec> specs = inputs(o, name, io, maxBatch > 0);
        check(io != null || !o.containsKey("max_shapes"), name + "/config.json: max_shapes is for ONNX models with variable dims; the " + arch
                + " architecture takes fixed sizes");
        check(!o.containsKey("preferred_batch_sizes") || o.get("preferred_batch_sizes") instanceof JsonArray,
                name + "/config.json: preferred_batch_sizes must be an array of integers, got " + o.get("preferred_batch_sizes"));
        JsonArray pref = o.containsKey("preferred_batch_sizes") ? o.getJsonArray("preferred_batch_sizes") : JsonValue.EMPTY_JSON_ARRAY;
        int[] preferred = pref.stream().mapToInt(v -> integer(v, name + "/config.json: an element of preferred_batch_sizes")).toArray();
        return new ModelConfig(name, arch, integer(o, "num_classes", 1000), specs, outputs(o, name, io), maxBatch,
                integer(o, "max_queue_delay_us", 2000), bool(o, "adaptive_delay", true), preferred, integer(o, "instances", defaultInstances(threads)), threads,
                integer(o, "max_queue_size", 256), integer(o, "timeout_ms", 10_000), integer(o, "max_shapes", 16), warmShapes(o, name, specs, maxBatch > 0));
    }

    /**
     * The {@code inputs} of a config: exactly one for a built-in architecture ({@code io} null);
     * for an ONNX model as many as it has (absent: all of them), each field defaulting to the ONNX
     * input at the same position; their {@code shape} {@code [batch, dims...]} when {@code batched}, else the whole shape.
     */
    private static List<TensorSpec> inputs(JsonObject o, String name, Io io, boolean batched) {
        if (io == null) {
            JsonObject in = single(o, "inputs", name);
            return List.of(new TensorSpec(string(in, "name", "input"), string(in, "datatype", "FP32"), sample(in, name, 0, false)));
        }
        List<TensorSpec> defaults = io.served(batched);
        if (!o.containsKey("inputs")) return defaults;
        check(o.get("inputs") instanceof JsonArray a && !a.isEmpty() && a.stream().allMatch(v -> v instanceof JsonObject),
                name + "/config.json: inputs must be an array of objects");
        JsonArray given = o.getJsonArray("inputs");
        check(given.size() == defaults.size(), name + "/config.json: " + given.size() + " inputs, the ONNX model has "
                + defaults.size() + " " + inputNames(defaults));
        List<TensorSpec> specs = new java.util.ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            JsonObject in = given.getJsonObject(i);
            TensorSpec d = defaults.get(i);
            specs.add(new TensorSpec(string(in, "name", d.name()), string(in, "datatype", d.datatype()),
                    !in.containsKey("shape") ? d.sample() : batched ? sample(in, name, i, true) : whole(in, name, i, true)));
        }
        return specs;
    }

    /**
     * {@code warm_shapes}: each an object giving every input's shape by name, as config.json's {@code inputs} do ({@code
     * [-1, sizes...]} with the batch, the whole shape without one), its variable dims sized; as samples (or whole
     * shapes) in the inputs' order. Only for inputs with variable dims; a size where the input has one must equal it.
     */
    private static List<long[][]> warmShapes(JsonObject o, String name, List<TensorSpec> specs, boolean batched) {
        if (!o.containsKey("warm_shapes")) return List.of();
        String what = name + "/config.json: warm_shapes";
        check(o.get("warm_shapes") instanceof JsonArray, what + " must be an array of objects (each input's name -> its shape), got " + o.get("warm_shapes"));
        check(specs.stream().anyMatch(TensorSpec::variable), what + " is for a model with variable dims (-1 beyond the batch), and "
                + name + "'s inputs " + inputNames(specs) + " have none");
        JsonArray given = o.getJsonArray("warm_shapes");
        List<long[][]> warm = new java.util.ArrayList<>();
        for (int k = 0; k < given.size(); k++) {
            String where = what + "[" + k + "]";
            check(given.get(k) instanceof JsonObject, where + " must be an object: each input's name -> its shape, got " + given.get(k));
            JsonObject entry = given.getJsonObject(k);
            check(entry.size() == specs.size() && specs.stream().allMatch(sp -> entry.containsKey(sp.name())),
                    where + " must give the shape of every input " + inputNames(specs) + ", got " + entry.keySet());
            long[][] shapes = new long[specs.size()][];
            for (int i = 0; i < specs.size(); i++) {
                TensorSpec sp = specs.get(i);
                JsonValue shape = entry.get(sp.name());
                String bad = where + ": input " + sp.name() + " shape " + shape + " must be " + (batched ? "[-1, sizes...] (the batch, then sizes)" : "[sizes...]")
                        + " fitting the model's " + (batched ? "[-1, " : "[") + Arrays.toString(sp.sample()).substring(1);
                check(shape instanceof JsonArray a && a.size() == sp.sample().length + (batched ? 1 : 0), bad);
                JsonArray dims = (JsonArray) shape;
                check(!batched || dims.get(0) instanceof JsonString || dims.get(0) instanceof JsonNumber n && n.isIntegral() && n.longValue() == -1, bad);
                shapes[i] = new long[sp.sample().length];
                for (int d = 0; d < shapes[i].length; d++) shapes[i][d] = dim(dims.get(d + (batched ? 1 : 0)), false);
                boolean fits = true;
                for (int d = 0; fits && d < shapes[i].length; d++) fits = shapes[i][d] >= 1 && (sp.sample()[d] == VARIABLE || sp.sample()[d] == shapes[i][d]);
                check(fits, bad);
            }
            warm.add(shapes);
        }
        return warm;
    }

    /**
     * The {@code outputs} of a config, by name: one for a built-in architecture ({@code io} null; default "output"); for
     * an ONNX model those listed (a missing name is the ONNX output at the same position), or all of the model's.
     */
    private static List<String> outputs(JsonObject o, String name, Io io) {
        if (io == null) return List.of(o.containsKey("outputs") ? string(single(o, "outputs", name), "name", "output") : "output");
        if (!o.containsKey("outputs")) return io.outputs();
        check(o.get("outputs") instanceof JsonArray a && !a.isEmpty() && a.stream().allMatch(v -> v instanceof JsonObject),
                name + "/config.json: outputs must be an array of objects");
        JsonArray given = o.getJsonArray("outputs");
        List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            String fallback = i < io.outputs().size() ? io.outputs().get(i) : null;
            String out = string(given.getJsonObject(i), "name", fallback);
            check(out != null, name + "/config.json: outputs[" + i + "] needs a name (the ONNX model has " + io.outputs().size() + " outputs)");
            names.add(out);
        }
        return names;
    }

    private static JsonObject single(JsonObject o, String key, String model) {
        check(o.containsKey(key) && o.get(key) instanceof JsonArray a && a.size() == 1 && a.get(0) instanceof JsonObject,
                model + "/config.json: " + key + " must be an array of exactly one object");
        return o.getJsonArray(key).getJsonObject(0);
    }

    /**
     * {@code inputs[index].shape} as a sample: {@code [batch, dims...]} without the batch; with {@code variable}, a dim of -1
     * or a name is {@link #VARIABLE}, else every dim must be a size.
     */
    static long[] sample(JsonObject in, String model, int index, boolean variable) {
        String where = model + "/config.json: inputs[" + index + "].shape";
        check(in.get("shape") instanceof JsonArray, where + " must be [batch, dims...]");
        JsonArray shape = in.getJsonArray("shape");
        check(shape.size() >= 2, where + " must be [batch, dims...]");
        JsonValue batch = shape.get(0);
        check(batch instanceof JsonString || (batch instanceof JsonNumber n && n.longValue() == -1),
                where + "[0] must be the symbolic batch (-1 or a name), or the whole shape with \"max_batch_size\": 0");
        long[] sample = new long[shape.size() - 1];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = dim(shape.get(i + 1), variable);
            check(sample[i] >= 1 || variable && sample[i] == VARIABLE, where + "[" + (i + 1) + "] must be a positive size"
                    + (variable ? " or -1 (sized by each request), got " + shape.get(i + 1) : ""));
        }
        return sample;
    }

    /** A config dim: its size; -1 or a name: {@link #VARIABLE} where {@code variable}; anything else 0 (refused by the caller). */
    private static long dim(JsonValue v, boolean variable) {
        if (v instanceof JsonNumber n && n.isIntegral()) return n.bigIntegerValue().bitLength() < 63 ? n.longValue() : 0;
        return variable && v instanceof JsonString ? VARIABLE : 0;
    }

    /** A whole input shape ({@code max_batch_size} 0): one or more sizes (or, with {@code variable}, -1 or a name: {@link #VARIABLE}), no batch dim. */
    static long[] whole(JsonObject in, String model, int index, boolean variable) {
        String where = model + "/config.json: inputs[" + index + "].shape";
        check(in.get("shape") instanceof JsonArray a && !a.isEmpty(), where + " must be the input's whole shape [dims...] (max_batch_size 0: no batch dim)");
        JsonArray shape = in.getJsonArray("shape");
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = dim(shape.get(i), variable);
            check(dims[i] >= 1 || variable && dims[i] == VARIABLE, where + "[" + i + "] must be a positive size" + (variable ? " or -1 (sized by each request)" : "")
                    + " (max_batch_size 0: the whole shape, no symbolic batch), got " + shape.get(i));
        }
        return dims;
    }

    private static String string(JsonObject o, String key, String fallback) {
        return o.get(key) instanceof JsonString s ? s.getString() : fallback;
    }

    private static boolean bool(JsonObject o, String key, boolean fallback) {
        if (!o.containsKey(key)) return fallback;
        check(o.get(key) == JsonValue.TRUE || o.get(key) == JsonValue.FALSE, "config.json: " + key + " must be true or false, got " + o.get(key));
        return o.get(key) == JsonValue.TRUE;
    }

    private static int integer(JsonObject o, String key, int fallback) {
        if (!o.containsKey(key)) return fallback;
        return integer(o.get(key), "config.json: " + key);
    }

    /** {@code v} as an int, else an {@link IllegalArgumentException} naming {@code what} and the value. */
    private static int integer(JsonValue v, String what) {
        check(v instanceof JsonNumber n && n.isIntegral(), what + " must be an integer, got " + v);
        java.math.BigInteger b = ((JsonNumber) v).bigIntegerValue();
        check(b.bitLength() < 32, what + " must be an integer in [-2^31, 2^31), got " + v);
        return b.intValue();
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
