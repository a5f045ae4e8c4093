package dev.panamadnn.spark;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.graph.Value;
import dev.panamadnn.models.ResNets;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxModel;
import dev.panamadnn.onnx.OnnxOptions;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * One model loaded in an executor JVM: its plan set (one plan, for the spec's batch size) and
 * what must outlive the plans (the ONNX model's mapped weights, or the module). Shared by every
 * task of the JVM ({@link ExecutorModels}); {@link PlanSet} is thread-safe, so tasks run it at once.
 */
final class LoadedModel implements AutoCloseable {
    final ModelSpec spec;
    final PlanSet plans;
    private final AutoCloseable owner;
    /** One sample's input and output shapes (without the batch) and element counts. */
    final long[] sampleShape, outputSample;
    final int sampleSize, outputSize;

    private LoadedModel(ModelSpec spec, PlanSet plans, AutoCloseable owner) {
        this.spec = spec;
        this.plans = plans;
        this.owner = owner;
        this.sampleShape = plans.sampleShape();
        long[] out = plans.outputShape(spec.batchSize());
        this.outputSample = Arrays.copyOfRange(out, 1, out.length);
        this.sampleSize = Math.toIntExact(numel(sampleShape));
        this.outputSize = Math.toIntExact(numel(outputSample));
    }

    /**
     * Loads {@code spec}'s file and builds its plan for {@code [batchSize, inputShape...]} now, so that
     * a model that does not compile fails once, at load, naming the file. Leaves nothing native behind
     * when it throws.
     */
    static LoadedModel load(ModelSpec spec) {
        Path file = resolve(spec.path());
        CompileOptions options = CompileOptions.defaults().withThreads(spec.threads());
        AutoCloseable owner = null;
        PlanSet plans = null;
        try {
            if (spec.isOnnx()) {
                OnnxModel onnx = Onnx.load(file);
                owner = onnx;
                OnnxOptions fixed = sized(spec, onnx);
                if (fixed != null) {   // dynamic dims beyond the batch, sized by inputShape: imported again with them fixed
                    owner = null;
                    onnx.close();
                    onnx = Onnx.load(file, fixed);
                    owner = onnx;
                }
                checkOnnx(spec, onnx);
                plans = PlanSet.of(onnx.toGraph(), options, 1);
            } else {
                Module model = architecture(spec, file);
                owner = model;
                SafeTensors.load(model, file);
                plans = PlanSet.of(model, options, spec.inputShape(), 1);
            }
            plans.warmup(spec.batchSize());
            return new LoadedModel(spec, plans, owner);
        } catch (IOException | RuntimeException e) {
            closeQuietly(plans, e);
            closeQuietly(owner, e);
            throw new IllegalStateException("PanamaModel: cannot load " + spec.path() + " (" + spec + "): " + e.getMessage(), e);
        }
    }

    /** The path itself when it exists here, else a file shipped with --files / addFile, found by its name. */
    static Path resolve(String path) {
        Path p = Path.of(path.startsWith("file:") ? java.net.URI.create(path).getPath() : path);
        if (Files.isRegularFile(p)) return p;
        try {
            Path shipped = Path.of(org.apache.spark.SparkFiles.get(p.getFileName().toString()));
            if (Files.isRegularFile(shipped)) return shipped;
        } catch (RuntimeException notInSparkFiles) {
            // no SparkContext here, or no such file: report the path as given
        }
        throw new IllegalArgumentException("no such file: " + path + " (it must exist at this path on every executor, or be shipped"
                + " with --files)");
    }

    /**
     * For a model whose one input {@code [N, ...]} has dynamic dims beyond the batch N (a sequence length, an image
     * size): the load options that fix them to {@code inputShape} (same rank, the model's fixed dims kept; checked by
     * the import), so that shape inference reaches what needs them; null when there is nothing to fix.
     */
    private static OnnxOptions sized(ModelSpec spec, OnnxModel onnx) {
        List<Value> ins = onnx.inputs();
        long[] given = spec.inputShape();
        if (ins.size() != 1 || given.length == 0) return null;
        Shape s = ins.get(0).shape();
        if (s.rank() != given.length + 1 || s.dim(0).isFixed() || s.dim(0).factor() != 1) return null;
        boolean dynamic = false;
        for (int i = 1; i < s.rank(); i++) dynamic |= !s.dim(i).isFixed();
        if (!dynamic) return null;
        List<Dim> dims = new java.util.ArrayList<>(List.of(s.dim(0)));
        for (long d : given) dims.add(Dim.of(d));
        return OnnxOptions.defaults().withInputShape(ins.get(0).name(), new Shape(dims));
    }

    /** The ONNX model must have one F32 input [N, sample...] with a symbolic N and one F32 output [N, ...]. */
    private static void checkOnnx(ModelSpec spec, OnnxModel onnx) {
        List<Value> ins = onnx.inputs(), outs = onnx.outputs();
        if (ins.size() != 1 || outs.size() != 1) {
            throw new IllegalArgumentException("expected an ONNX model with one input and one output, got inputs " + ins + " and outputs " + outs);
        }
        Value in = ins.get(0);
        Shape s = in.shape();
        if (in.dtype() != DataType.F32 || outs.get(0).dtype() != DataType.F32) {
            throw new IllegalArgumentException("expected an F32 input and output, got " + in.dtype() + " -> " + outs.get(0).dtype());
        }
        if (s.rank() < 2 || s.dim(0).isFixed()) {
            throw new IllegalArgumentException("expected the ONNX input '" + in.name() + "' to be [N, ...] with a symbolic batch N, got " + s
                    + " (export with dynamic_axes={'" + in.name() + "': {0: 'N'}})");
        }
        long[] sample = new long[s.rank() - 1];
        for (int i = 1; i < s.rank(); i++) {
            if (!s.dim(i).isFixed()) throw new IllegalArgumentException("ONNX input '" + in.name() + "' " + s + ": only the batch may be symbolic");
            sample[i - 1] = s.dim(i).size();
        }
        long[] given = spec.inputShape();
        if (given.length > 0 && !Arrays.equals(given, sample)) {
            throw new IllegalArgumentException("inputShape " + Arrays.toString(given) + " is not the ONNX input's sample shape "
                    + Arrays.toString(sample));
        }
    }

    /** The named architecture with fresh parameters (the weights file's class count for ResNets). */
    private static Module architecture(ModelSpec spec, Path file) throws IOException {
        String arch = spec.architecture();
        switch (arch) {
            case "resnet18", "resnet34", "resnet50" -> {
                int classes;
                try (SafeTensors st = SafeTensors.open(file)) {
                    if (!st.names().contains("fc.weight")) throw new IllegalArgumentException(file + " has no fc.weight: not a torchvision " + arch);
                    classes = Math.toIntExact(st.shape("fc.weight")[0]);
                }
                return switch (arch) {
                    case "resnet18" -> ResNets.resnet18(classes);
                    case "resnet34" -> ResNets.resnet34(classes);
                    default -> ResNets.resnet50(classes);
                };
            }
            default -> {
                return byClassName(arch);
            }
        }
    }

    private static Module byClassName(String name) {
        Method m;
        try {
            m = Class.forName(name, true, Thread.currentThread().getContextClassLoader()).getMethod("model");
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new IllegalArgumentException("unknown architecture '" + name + "': expected resnet18, resnet34, resnet50 or a class on the"
                    + " executors' class path with a public static model() method (" + e + ")");
        }
        if (!Modifier.isStatic(m.getModifiers()) || !Module.class.isAssignableFrom(m.getReturnType())) {
            throw new IllegalArgumentException("architecture " + name + ": model() must be static and return a dev.panamadnn.Module, got " + m);
        }
        try {
            return (Module) m.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("architecture " + name + ": model() failed: " + e.getCause(), e);
        }
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    private static void closeQuietly(AutoCloseable c, Exception failure) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            failure.addSuppressed(e);
        }
    }

    /** Closes the plans (waiting for runs in flight), then the weights' owner. */
    @Override
    public void close() {
        try {
            plans.close();
        } finally {
            try {
                owner.close();
            } catch (Exception e) {
                throw new IllegalStateException("PanamaModel: closing " + spec.path() + " failed", e);
            }
        }
    }
}
