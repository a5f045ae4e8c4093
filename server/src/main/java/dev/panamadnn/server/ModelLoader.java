package dev.panamadnn.server;

import dev.panamadnn.Module;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.demo.Digits;
import dev.panamadnn.models.ResNets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns a model directory into its configuration and a plan set. One implementation per weights
 * format: {@link #SAFETENSORS} ({@code model.safetensors} + a built-in architecture) and
 * {@link OnnxLoader#ONNX} ({@code model.onnx}, imported by the onnx module).
 */
public interface ModelLoader {
    /**
     * The configuration, its plans, what must outlive them (the weights' owner, closed after the plans) and the served
     * outputs, in {@link ModelConfig#outputs()}'s order. A batched model ({@link ModelConfig#batched()}) has a plan set
     * ({@code plans}) for its batch sizes; one without a batch dim has the one compiled plan of its whole input shapes
     * ({@code plan}); a model with variable dims ({@link ModelConfig#variable()}) has neither but {@code shapes}, which
     * imports and compiles it per request shapes (its outputs' samples then have {@link ModelConfig#VARIABLE} dims).
     */
    record Loaded(ModelConfig config, PlanSet plans, CompiledModel plan, AutoCloseable owner, List<Output> outputs, Shapes shapes) {
        public Loaded {
            if (config.variable() != (shapes != null) || shapes != null && (plans != null || plan != null)) {
                throw new IllegalArgumentException(config.name() + ": a model with variable dims has a shape factory and no plans, any other"
                        + " plans and no factory");
            }
            if (shapes == null && ((plans == null) == (plan == null) || (plans != null) != config.batched())) {
                throw new IllegalArgumentException(config.name() + ": a batched model has a plan set, one without a batch dim one plan; got "
                        + (plans == null ? "no plan set" : "a plan set") + " and " + (plan == null ? "no plan" : "a plan") + " for max_batch_size "
                        + config.maxBatch());
            }
        }

        /** A model of fixed shapes: a plan set (batched) or a plan (no batch dim). */
        Loaded(ModelConfig config, PlanSet plans, CompiledModel plan, AutoCloseable owner, List<Output> outputs) {
            this(config, plans, plan, owner, outputs, null);
        }

        /** A batched model. */
        Loaded(ModelConfig config, PlanSet plans, AutoCloseable owner, List<Output> outputs) {
            this(config, plans, null, owner, outputs);
        }

        /** A model of one FP32 output (a built-in architecture's): named as its config says, shaped as the plans say. */
        Loaded(ModelConfig config, PlanSet plans, AutoCloseable owner) {
            this(config, plans, owner, List.of(new Output(config.outputs().getFirst(), null, true, "FP32", sample(plans.outputShape(1)))));
        }

        /** Compiles (where not yet) and warms every plan the configuration serves (with variable dims: none before a request). */
        void warmup() {
            if (plan != null) plan.warmup();
            else if (plans != null) plans.warmup(config.planSizes());
        }

        /** Runs the plan for {@code input}'s rows into {@code output}, of {@link #outputShape(dev.panamadnn.Tensor)} (one input, one output). */
        void run(dev.panamadnn.Tensor input, dev.panamadnn.Tensor output) {
            if (plan != null) plan.run(input, output);
            else plans.run(input, output);
        }

        /** The output's shape for a run on {@code input} (a model of one input and one output; may build the plan for its rows). */
        long[] outputShape(dev.panamadnn.Tensor input) {
            return plan != null ? plan.outputShape() : plans.outputShape(input.shape()[0]);
        }

        /** The plan's outputs for a run of {@code rows} rows (names, dtypes, shapes; may build the plan for them). */
        java.util.List<dev.panamadnn.graph.Value> outputValues(int rows) {
            return plan != null ? plan.outputs() : plans.outputs(rows);
        }

        /** Runs the plan for the inputs' rows into {@code outputs}, one tensor per {@link #outputValues(int)} by name. */
        void run(java.util.Map<String, dev.panamadnn.Tensor> inputs, java.util.Map<String, dev.panamadnn.Tensor> outputs) {
            if (plan != null) plan.run(inputs, outputs);
            else plans.run(inputs, outputs);
        }

        /** Runs the plan for the inputs' rows; the caller closes the outputs. */
        java.util.Map<String, dev.panamadnn.Tensor> run(java.util.Map<String, dev.panamadnn.Tensor> inputs) {
            return plan != null ? plan.run(inputs) : plans.run(inputs);
        }

        /** The batch sizes with a compiled plan now (without a batch dim: {@code [1]}, its one plan; with variable dims none here). */
        int[] compiledBatchSizes() {
            return plan != null ? new int[] {1} : plans != null ? plans.cachedBatchSizes() : new int[0];
        }

        /** Native bytes the plans hold in constants. */
        long constantBytes() {
            return plan != null ? plan.constantBytes() : plans != null ? plans.constantBytes() : 0;
        }

        /** Closes the plans (not the weights' owner). */
        void closePlans() {
            if (plan != null) plan.close();
            else if (plans != null) plans.close();
        }

        /** Closes the plans, then the weights' owner; logs a failure to close the owner. */
        void close() {
            closePlans();
            try {
                owner.close();
            } catch (Exception e) {
                System.getLogger(ModelLoader.class.getName()).log(System.Logger.Level.WARNING, config.name() + ": closing a model's weights failed", e);
            }
        }

        private static long[] sample(long[] batchOfOne) {
            return java.util.Arrays.copyOfRange(batchOfOne, 1, batchOfOne.length);
        }
    }

    /**
     * A served output: its name in requests and responses, the plan set's name for it (null for a built-in architecture's
     * plans, whose one output has no name), whether it is the plans' only output, its Open Inference Protocol datatype
     * ({@link ModelConfig#DATATYPES}) and the shape of one sample's part.
     */
    record Output(String name, String graphName, boolean sole, String datatype, long[] sample) {
        /** Bytes of one sample's part. */
        long sampleBytes() {
            long n = ModelConfig.DATATYPES.get(datatype).byteSize();
            for (long d : sample) n *= d;
            return n;
        }
    }

    /**
     * A model with variable dims at each request's shapes: {@link #check} refuses shapes that cannot go together before a
     * request is queued, {@link #build} imports and compiles the model for one set of shapes (the caller closes the result).
     */
    interface Shapes {
        /**
         * Checks a request's shapes ({@code shapes[i]}: input i's sample, or whole shape without a batch dim).
         *
         * @throws ApiException 400 naming the inputs, e.g. when two inputs size one symbolic dim differently
         */
        void check(long[][] shapes);

        /**
         * The model at {@code shapes}: its plans (nothing compiled yet), weights and outputs.
         *
         * @throws IllegalArgumentException if the model cannot be imported or compiled at those shapes, naming why
         */
        Loaded build(long[][] shapes);
    }

    /** The weights file this loader reads, e.g. {@code model.safetensors}. */
    String weightsFile();

    /**
     * Reads {@code dir}'s config.json, loads the weights and makes a plan set (nothing compiled
     * yet). Leaves nothing native behind when it throws.
     *
     * @throws IllegalArgumentException if the directory or configuration does not fit this loader
     * @throws IOException              if the weights cannot be read
     */
    Loaded load(Path dir) throws IOException;

    /** The compile options for {@code config}: its threads per instance. */
    static CompileOptions options(ModelConfig config) {
        return CompileOptions.defaults().withThreads(config.threadsPerInstance());
    }

    /** {@code model.safetensors} with a built-in architecture: digits, resnet18, resnet34, resnet50. */
    ModelLoader SAFETENSORS = new ModelLoader() {
        @Override
        public String weightsFile() {
            return "model.safetensors";
        }

        @Override
        public Loaded load(Path dir) throws IOException {
            ModelConfig config = ModelConfig.read(dir);
            Module model = architecture(config);
            try {
                SafeTensors.load(model, dir.resolve(weightsFile()));
                return new Loaded(config, PlanSet.of(model, options(config), config.input().sample(), config.planSizes().length), model);
            } catch (IOException | RuntimeException e) {
                model.close();
                throw e;
            }
        }
    };

    /** The architecture named in {@code config}, with fresh parameters. */
    static Module architecture(ModelConfig config) {
        return switch (config.architecture()) {
            case "digits" -> Digits.model();
            case "resnet18" -> ResNets.resnet18(config.numClasses());
            case "resnet34" -> ResNets.resnet34(config.numClasses());
            case "resnet50" -> ResNets.resnet50(config.numClasses());
            default -> throw new IllegalArgumentException(config.name() + ": unknown architecture '" + config.architecture()
                    + "' (built in: digits, resnet18, resnet34, resnet50)");
        };
    }

    /** The loader for {@code dir} (model.safetensors first, then model.onnx), or a message saying why there is none. */
    static ModelLoader forDirectory(Path dir) {
        if (Files.isRegularFile(dir.resolve(SAFETENSORS.weightsFile()))) return SAFETENSORS;
        if (Files.isRegularFile(dir.resolve(OnnxLoader.ONNX.weightsFile()))) return OnnxLoader.ONNX;
        throw new IllegalArgumentException(dir.getFileName() + ": no model.safetensors (or model.onnx) in " + dir);
    }
}
