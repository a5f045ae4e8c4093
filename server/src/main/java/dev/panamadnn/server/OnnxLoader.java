package dev.panamadnn.server;

import dev.panamadnn.DataType;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.graph.Value;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxException;
import dev.panamadnn.onnx.OnnxModel;
import dev.panamadnn.onnx.OnnxOptions;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import dev.panamadnn.server.ModelLoader.Output;

/**
 * {@code model.onnx} (+ external data files beside it), imported with {@link Onnx#load(Path)}.
 * A batched model has one or more inputs {@code [N, sizes...]} (FP32, INT64, INT32, BOOL, UINT8 or FP16) sharing one
 * symbolic batch {@code N}, and outputs {@code [N, sizes...]} of those datatypes (each request gets its own rows of each
 * one back); config.json's inputs and outputs default
 * from the model's and, where given, must equal them. Symbolic dims beyond the batch (a dynamic
 * sequence length or image size) take the sizes config.json's input shapes give them: the model
 * is served at those; one config.json leaves at -1 (the default) is variable: each request sizes it, and the model is
 * imported and compiled per request shapes ({@link ModelLoader.Shapes}, cached by {@link Variants}; the shapes' plan sets
 * share the weights). A batched model's first dim is proved a batch before it serves ({@link RowCheck}). A model whose inputs share no symbolic first dim (exported without {@code dynamic_axes}: a fixed
 * batch, a sequence-first RNN {@code [T, N, I]}), or any model with {@code "max_batch_size": 0}, is served without a batch
 * dim: one plan compiled for its whole input shapes (every symbolic dim sized by config.json), each request exactly those
 * shapes, its outputs whole. The {@link OnnxModel} owns the weights: it
 * is closed after the plan set when the model is unloaded, and at once when any step of loading
 * fails.
 */
final class OnnxLoader implements ModelLoader {
    static final OnnxLoader ONNX = new OnnxLoader();

    private OnnxLoader() {}

    @Override
    public String weightsFile() {
        return "model.onnx";
    }

    @Override
    public Loaded load(Path dir) throws IOException {
        String name = dir.getFileName().toString();
        Path file = dir.resolve(weightsFile());
        OnnxModel model;
        try {
            model = Onnx.load(file);
        } catch (OnnxException e) {
            // Inputs the file declares without a shape (other exporters write such models): config.json's shapes give them
            OnnxOptions given = e.problems().stream().anyMatch(p -> p.contains(": has no shape")) ? configShapes(dir, name) : null;
            if (given == null) {
                throw new IllegalArgumentException(name + ": " + e.getMessage() + (e.getMessage().contains(": has no shape")
                        ? " (for the server: give each input's name, datatype and shape [-1, sizes...] in config.json's inputs)" : ""), e);
            }
            model = load(name, file, given);
        }
        try {
            ModelConfig config = ModelConfig.read(dir, io(name, model));
            Map<String, Long> sizes = check(name, model, config);
            if (config.variable()) return variable(name, model, config);
            if (!sizes.isEmpty()) {
                // Imported again with config.json's sizes in the inputs' shapes (a batch stays symbolic): shape inference
                // then reaches what needs them (a Reshape over the batch and the sequence length), which binding the sizes
                // into the graph afterwards cannot, since without them there is no graph.
                OnnxOptions fixed = OnnxOptions.defaults();
                for (ModelConfig.TensorSpec in : config.inputs()) {
                    List<Dim> dims = new ArrayList<>();
                    if (config.batched()) dims.add(model.inputs().get(0).shape().dim(0));
                    for (long d : in.sample()) dims.add(Dim.of(d));
                    fixed = fixed.withInputShape(in.name(), new Shape(dims));
                }
                OnnxModel declared = model;
                model = load(name, file, fixed);
                declared.close();
            }
            Graph graph = model.toGraph();
            List<Output> outputs = outputs(name, model, graph, config);
            if (config.batched()) {
                Loaded l = new Loaded(config, PlanSet.of(graph, ModelLoader.options(config), config.planSizes().length), model, outputs);
                checked(l);
                return l;
            }
            return new Loaded(config, null, model.plan(ModelLoader.options(config)), model, outputs);   // every dim fixed by now
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * The shapes config.json's {@code inputs} give (each {@code name} and {@code shape} [-1, sizes...], the batch as the
     * symbol N; with {@code "max_batch_size": 0} the whole shape), as load options; null when it gives none. Its other
     * fields are checked later, against the model.
     */
    private static OnnxOptions configShapes(Path dir, String name) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) return null;
        JsonObject o;
        try (InputStream in = Files.newInputStream(file); var reader = Jsonp.PROVIDER.createReader(in)) {
            o = reader.readObject();
        } catch (JsonException | ClassCastException | IllegalStateException e) {
            throw new IllegalArgumentException(name + "/config.json: not a JSON object: " + e.getMessage());
        }
        if (!(o.get("inputs") instanceof JsonArray inputs) || inputs.isEmpty()) return null;
        OnnxOptions options = OnnxOptions.defaults();
        boolean whole = o.get("max_batch_size") instanceof jakarta.json.JsonNumber n && n.isIntegral() && n.longValue() == 0;
        for (int i = 0; i < inputs.size(); i++) {
            if (!(inputs.get(i) instanceof JsonObject in) || !(in.get("name") instanceof JsonString n)) {
                throw new IllegalArgumentException(name + "/config.json: inputs[" + i + "] needs a name to give a model.onnx input its shape");
            }
            List<Dim> dims = new ArrayList<>(whole ? List.of() : List.of(Dim.symbol("N")));
            long[] given = whole ? ModelConfig.whole(in, name, i, true) : ModelConfig.sample(in, name, i, true);
            for (int d = 0; d < given.length; d++) {   // a variable dim: a symbol of this input's own, sized by each request
                dims.add(given[d] == ModelConfig.VARIABLE ? Dim.symbol(n.getString() + "_dim" + (dims.size())) : Dim.of(given[d]));
            }
            options = options.withInputShape(n.getString(), new Shape(dims));
        }
        return options;
    }

    /**
     * A model with variable dims: nothing compiled at load; its served outputs as declared (a symbolic dim beyond the batch
     * {@link ModelConfig#VARIABLE}), and a shape factory that imports the loaded model again ({@link OnnxModel#withOptions},
     * not the file: a file replaced on disk since changes nothing until a reload) with each request's sizes in the inputs'
     * shapes (the batch staying symbolic) and compiles that import.
     */
    private static Loaded variable(String name, OnnxModel model, ModelConfig config) {
        int skip = config.batched() ? 1 : 0;
        List<Output> outputs = new ArrayList<>();
        for (String want : config.outputs()) {
            Value out = model.outputs().stream().filter(v -> v.name().equals(want)).findFirst().orElseThrow();
            String datatype = datatype(out.dtype());
            if (!ModelConfig.DATATYPES.containsKey(datatype)) {
                throw new IllegalArgumentException(name + ": ONNX output '" + want + "' is " + out.dtype() + "; served outputs are "
                        + ModelConfig.DATATYPES.keySet());
            }
            Shape o = out.shape();
            if (o.rank() < skip) throw new IllegalArgumentException(name + ": ONNX output '" + want + "' " + o + " has no batch dim");
            long[] sample = new long[o.rank() - skip];
            for (int i = skip; i < o.rank(); i++) sample[i - skip] = o.dim(i).isFixed() ? o.dim(i).size() : ModelConfig.VARIABLE;
            outputs.add(new Output(want, null, false, datatype, sample));
        }
        Dim batch = config.batched() ? model.inputs().get(0).shape().dim(0) : null;
        List<Value> declared = model.inputs();
        // set once a build proved the first dim a batch (RowCheck ran and passed): later builds need not check again
        java.util.concurrent.atomic.AtomicBoolean rowsChecked = new java.util.concurrent.atomic.AtomicBoolean();
        // every shape's plans hold their constants in one store, so the weights (the same bytes at every sequence length or
        // image size, in the layouts their primitives read) are held about once, not per shape
        dev.panamadnn.compile.ConstantStore constants = new dev.panamadnn.compile.ConstantStore();
        ModelLoader.Shapes shapes = new ModelLoader.Shapes() {
            @Override
            public void check(long[][] request) {
                Map<String, Long> sizes = new LinkedHashMap<>();   // symbol -> the size the first input with it gives
                Map<String, String> where = new LinkedHashMap<>();   // symbol -> which input and dim gave it
                for (int i = 0; i < request.length; i++) {
                    long[] spec = config.inputs().get(i).sample();
                    for (int d = 0; d < spec.length; d++) {
                        if (spec[d] != ModelConfig.VARIABLE) continue;
                        Dim dim = declared.get(i).shape().dim(d + skip);
                        String here = "input '" + declared.get(i).name() + "' sizes dim " + (d + skip) + " " + request[i][d];
                        Long before = sizes.putIfAbsent(dim.symbol(), request[i][d]);
                        where.putIfAbsent(dim.symbol(), here);
                        if (before != null && before != request[i][d]) {
                            throw ApiException.badRequest(here + " but " + where.get(dim.symbol()) + " (both are the model's symbolic dim "
                                    + dim.symbol() + ")");
                        }
                    }
                }
            }

            @Override
            public Loaded build(long[][] request) {
                ModelConfig at = config.withShapes(request);
                OnnxOptions fixed = OnnxOptions.defaults();
                for (ModelConfig.TensorSpec in : at.inputs()) {
                    List<Dim> dims = new ArrayList<>();
                    if (batch != null) dims.add(batch);
                    for (long d : in.sample()) dims.add(Dim.of(d));
                    fixed = fixed.withInputShape(in.name(), new Shape(dims));
                }
                OnnxModel m = model.withOptions(fixed);   // from the bytes loaded, not the file again: every shape the same model
                try {
                    Graph graph = m.toGraph();
                    List<Output> served = outputs(name, m, graph, at);
                    if (at.batched()) {
                        Loaded l = new Loaded(at, PlanSet.of(graph, ModelLoader.options(at), at.planSizes().length, constants), m, served);
                        if (!rowsChecked.get()) rowsChecked.set(checked(l));
                        return l;
                    }
                    return new Loaded(at, null, m.plan(ModelLoader.options(at), constants), m, served);
                } catch (RuntimeException | Error e) {   // an OutOfMemoryError too: the import is closed, not left behind
                    m.close();
                    throw e;
                }
            }
        };
        // At load, the model at small sizes of its variable dims (those OnnxModel tries for a deferred import): it proves the
        // first dim a batch (RowCheck), or refuses the model now rather than at every request. Sizes it cannot take (an image
        // too small for its convolutions) leave the check to each request's shapes.
        if (config.batched() && config.maxBatch() >= 2) {
            for (long size : new long[] {1, 2, 3, 4, 8}) {
                long[][] at = new long[config.inputs().size()][];
                for (int i = 0; i < at.length; i++) {
                    at[i] = config.inputs().get(i).sample().clone();
                    for (int d = 0; d < at[i].length; d++) if (at[i][d] == ModelConfig.VARIABLE) at[i][d] = size;
                }
                Loaded probe;
                try {
                    probe = shapes.build(at);
                } catch (RowCheck.NotABatch e) {
                    throw e;
                } catch (RuntimeException e) {
                    continue;
                }
                probe.close();
                break;
            }
        }
        return new Loaded(config, null, null, model, outputs, shapes);
    }

    /**
     * {@link RowCheck} on {@code loaded}: whether it ran (and found the first dim a batch); if it refuses the model (or
     * fails otherwise), the plans are closed (not the weights) and the exception thrown.
     */
    private static boolean checked(Loaded loaded) {
        try {
            return RowCheck.check(loaded);
        } catch (RuntimeException | Error e) {
            loaded.closePlans();
            throw e;
        }
    }

    private static OnnxModel load(String name, Path file, OnnxOptions options) {
        try {
            return Onnx.load(file, options);
        } catch (OnnxException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    /**
     * The defaults config.json takes from the model: its inputs (KServe datatype, shape), in order, batched (each
     * {@code [N, sizes...]} with the same batch symbol N, the batcher stacking each input's rows; null when they share no
     * such N, with the reason) and whole (for {@code max_batch_size} 0), a symbolic dim as -1 for config.json to size; and
     * its outputs' names.
     */
    static ModelConfig.Io io(String name, OnnxModel model) {
        List<Value> ins = model.inputs(), outs = model.outputs();
        if (ins.isEmpty() || outs.isEmpty()) {
            throw new IllegalArgumentException(name + ": the ONNX model has " + ins.size() + " inputs " + ins + " and " + outs.size()
                    + " outputs " + outs + "; the server serves models of one or more inputs and outputs");
        }
        Dim batch = null;
        String noBatch = null;
        List<ModelConfig.TensorSpec> specs = new ArrayList<>(), whole = new ArrayList<>();
        for (Value in : ins) {
            Shape s = in.shape();
            long[] dims = new long[s.rank()];   // a symbolic dim: -1, its size given by config.json
            for (int i = 0; i < dims.length; i++) dims[i] = s.dim(i).isFixed() ? s.dim(i).size() : -1;
            whole.add(new ModelConfig.TensorSpec(in.name(), datatype(in.dtype()), dims));
            if (noBatch != null) continue;
            Dim first = s.rank() < 1 ? null : s.dim(0);
            if (first == null || first.isFixed() || first.factor() != 1) {
                noBatch = "ONNX input '" + in.name() + "' " + s + " has no symbolic batch as its first dim";
            } else if (batch != null && !first.equals(batch)) {
                noBatch = "ONNX input '" + in.name() + "' " + s + " has batch " + first + ", input '" + ins.get(0).name() + "' has " + batch
                        + " (a batched model's inputs share one batch dim)";
            } else {
                batch = first;
                specs.add(new ModelConfig.TensorSpec(in.name(), datatype(in.dtype()), Arrays.copyOfRange(dims, 1, dims.length)));
            }
        }
        List<String> names = new ArrayList<>();
        for (Value out : outs) names.add(out.name());
        return new ModelConfig.Io(noBatch == null ? specs : null, whole, noBatch, names);
    }

    /**
     * The outputs config.json serves, as the graph with its sizes bound computes them: each {@code [batch, fixed sizes...]}
     * (the input's batch first, the rest fixed once config.json's sizes are bound; without a batch dim every dim fixed) of a
     * served datatype, else refused naming it.
     */
    static List<Output> outputs(String name, OnnxModel model, Graph graph, ModelConfig config) {
        Dim batch = config.batched() ? model.inputs().get(0).shape().dim(0) : null;
        int skip = config.batched() ? 1 : 0;
        List<Value> declared = model.outputs();
        if (declared.size() != graph.outputs().size()) {
            throw new IllegalArgumentException(name + ": " + (declared.size() - graph.outputs().size()) + " of the ONNX model's outputs "
                    + declared + " are empty by their shapes; the server serves outputs of one or more rows per sample");
        }
        List<Output> served = new ArrayList<>();
        for (String want : config.outputs()) {
            int k = 0;
            while (!declared.get(k).name().equals(want)) k++;   // config.outputs() were checked against the model's (check)
            Value out = graph.value(graph.outputs().get(k));
            Shape o = out.shape();
            boolean fits = batch == null || o.rank() >= 1 && o.dim(0).equals(batch);
            for (int i = skip; fits && i < o.rank(); i++) fits = o.dim(i).isFixed();
            if (!fits && batch == null) {
                throw new IllegalArgumentException(name + ": ONNX output '" + want + "' " + o + " must have fixed sizes once config.json's"
                        + " input sizes are bound (the model is served without a batch dim, max_batch_size 0)");
            }
            if (!fits) {
                throw new IllegalArgumentException(name + ": ONNX output '" + want + "' " + o + " must be [" + batch
                        + ", fixed sizes...] (the input's batch first, the rest fixed once config.json's sizes are bound), so that each request gets"
                        + " its own rows back; or serve the model without a batch dim (\"max_batch_size\": 0, each request the whole input shapes)");
            }
            String datatype = datatype(out.dtype());
            if (!ModelConfig.DATATYPES.containsKey(datatype)) {
                throw new IllegalArgumentException(name + ": ONNX output '" + want + "' is " + out.dtype() + "; served outputs are "
                        + ModelConfig.DATATYPES.keySet());
            }
            long[] sample = new long[o.rank() - skip];
            for (int i = skip; i < o.rank(); i++) sample[i - skip] = o.dim(i).size();
            served.add(new Output(want, graph.outputs().get(k), graph.outputs().size() == 1, datatype, sample));
        }
        return served;
    }

    /**
     * config.json's inputs (by position) and outputs (by name) against the ONNX model's, naming the first mismatch; returns the sizes
     * config.json gives the model's symbolic dims beyond the batch (a model exported with a dynamic sequence length or
     * image size, served at one; without a batch dim, every symbolic dim), by symbol.
     */
    static Map<String, Long> check(String name, OnnxModel model, ModelConfig config) {
        ModelConfig.Io io = io(name, model);
        List<ModelConfig.TensorSpec> served = io.served(config.batched());   // not null: ModelConfig.parse refused a batch the model has not
        int skip = config.batched() ? 1 : 0;
        String where = name + "/config.json vs model.onnx: ";
        Map<String, Long> sizes = new LinkedHashMap<>();
        java.util.Set<String> variable = new java.util.HashSet<>();
        for (int i = 0; i < served.size(); i++) {
            ModelConfig.TensorSpec want = served.get(i), got = config.inputs().get(i);
            if (!got.name().equals(want.name())) {
                throw new IllegalArgumentException(where + "input name '" + got.name() + "' is not the ONNX input '" + want.name() + "'");
            }
            if (!got.datatype().equals(want.datatype())) {
                throw new IllegalArgumentException(where + "input '" + got.name() + "' datatype " + got.datatype() + " is not the ONNX "
                        + want.datatype());
            }
            Shape s = model.inputs().get(i).shape();
            boolean same = got.sample().length == want.sample().length;
            for (int d = 0; same && d < want.sample().length; d++) same = want.sample()[d] < 0 || got.sample()[d] == want.sample()[d];
            if (!same) {
                throw new IllegalArgumentException(where + "input '" + got.name() + "' shape [" + (config.batched() ? "-1, " : "") + join(got.sample())
                        + "] is not the ONNX " + s);
            }
            if (!config.batched() && want.sample().length == 0) {
                throw new IllegalArgumentException(name + ": ONNX input '" + want.name() + "' is a scalar " + s + "; served inputs have at least one dim");
            }
            for (int d = 0; d < want.sample().length; d++) {
                if (want.sample()[d] >= 0) continue;
                Dim dim = s.dim(d + skip);
                if (got.sample()[d] == ModelConfig.VARIABLE && dim.factor() == 1) {   // sized by each request
                    Long before = sizes.get(dim.symbol());
                    if (before != null) {
                        throw new IllegalArgumentException(where + "input '" + got.name() + "' leaves " + dim.symbol() + " variable (-1), an earlier"
                                + " input gives it " + before);
                    }
                    variable.add(dim.symbol());
                    continue;
                }
                if (variable.contains(dim.symbol())) {
                    throw new IllegalArgumentException(where + "input '" + got.name() + "' gives " + dim.symbol() + " = " + got.sample()[d]
                            + ", an earlier input leaves it variable (-1)");
                }
                if (got.sample()[d] < 1 || dim.factor() != 1) {
                    throw new IllegalArgumentException(name + ": ONNX input '" + want.name() + "' " + s + ": dim " + (d + skip) + " is symbolic ("
                            + dim + "): give its size in config.json's inputs[" + i + "].shape" + (config.batched() ? " (only the batch, dim 0, stays free)"
                            : " (the whole shape: the model is served without a batch dim, max_batch_size 0" + (io.noBatch() == null ? ")"
                            : ", as its " + io.noBatch().substring("ONNX ".length()) + ")")));
                }
                Long before = sizes.putIfAbsent(dim.symbol(), got.sample()[d]);
                if (before != null && before != got.sample()[d]) {
                    throw new IllegalArgumentException(where + "input '" + got.name() + "' gives " + dim.symbol() + " = " + got.sample()[d]
                            + ", an earlier input " + before);
                }
            }
        }
        for (String out : config.outputs()) {
            if (!io.outputs().contains(out)) {
                throw new IllegalArgumentException(where + "output name '" + out + "' is not one of the ONNX outputs " + io.outputs());
            }
        }
        return sizes;
    }

    /** The Open Inference Protocol's name for {@code t} ({@link ModelConfig#DATATYPES}; another is refused by the config's check). */
    static String datatype(DataType t) {
        for (var e : ModelConfig.DATATYPES.entrySet()) if (e.getValue() == t) return e.getKey();
        return t.name();
    }

    private static String join(long[] a) {
        String s = Arrays.toString(a);
        return s.substring(1, s.length() - 1);
    }
}
