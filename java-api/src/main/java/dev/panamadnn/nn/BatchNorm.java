package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.NormOps;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Batch normalization in inference mode, shared by {@link BatchNorm1d} and {@link BatchNorm2d}:
 * with the running statistics, per channel {@code c} (dimension 1 of the input),
 * {@code y = (x - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c]}
 * (without {@code weight}/{@code bias} when {@code affine} is false). The output has the input's shape.
 *
 * <p>State_dict names are PyTorch's, in its order: {@code weight}, {@code bias} (only when affine),
 * {@code running_mean}, {@code running_var} (f32 {@code [C]}), {@code num_batches_tracked} (an
 * I64 scalar, kept only so that a PyTorch state_dict loads strictly; inference never reads it).
 * Initial values are PyTorch's: weight 1, bias 0, mean 0, variance 1, count 0.
 *
 * <p>Native path: oneDNN batch normalization ({@code forward_inference}, {@code use_global_stats},
 * plus {@code use_scale | use_shift} when affine) on the input viewed as {@code [N, C, S, 1]}
 * (S the product of the spatial sizes, 1 for {@code [N, C]}), one primitive per {@code (N, C, S)},
 * cached. The parameter tensors are passed to each call as they are, with no snapshot: writes
 * to them (or a state_dict load) take effect at the next call, but must not race with a running
 * one. Reference: plain loops in double. Thread-safe (see {@link Layer}).
 */
abstract sealed class BatchNorm extends Layer permits BatchNorm1d, BatchNorm2d {
    private final String layer;
    private final int numFeatures;
    private final double eps;
    private final boolean affine;
    private final Tensor weight, bias, runningMean, runningVar, numBatchesTracked;
    private final Arena countArena = Arena.ofShared();
    private final PrimitiveCache<View, Kernel> kernels = new PrimitiveCache<>();

    private record View(long n, long c, long s) {}

    /** A primitive, its descriptors, and its statistics and parameters as arguments (over the layer's tensors; scale/shift absent without affine). */
    private record Kernel(MemoryDescriptor data, MemoryDescriptor channels, Primitive primitive, Arg mean, Arg variance, Arg scale,
                            Arg shift) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            data.close();
            channels.close();
        }
    }

    BatchNorm(String layer, int numFeatures, double eps, boolean affine) {
        this.layer = layer;
        if (numFeatures < 1) throw new IllegalArgumentException(layer + ": num_features must be >= 1, got " + numFeatures);
        Hyperparameters.positiveFloat(layer, "eps", eps);
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.affine = affine;
        weight = affine ? filled(numFeatures, 1f) : null;
        bias = affine ? Tensor.zeros(numFeatures) : null;
        runningMean = Tensor.zeros(numFeatures);
        runningVar = filled(numFeatures, 1f);
        numBatchesTracked = Tensor.allocate(countArena, DataType.I64);
    }

    /** A tensor of {@code n} copies of {@code value}, filled in place (no Java array: n may exceed one). */
    private static Tensor filled(int n, float value) {
        Tensor t = Tensor.zeros(n);
        java.lang.foreign.MemorySegment s = t.segment();
        for (long i = 0; i < n; i++) s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, value);
        return t;
    }

    /** {@return the number of features (channels) normalized} */
    public final int numFeatures() {
        return numFeatures;
    }

    /** {@return the epsilon added to the variance} */
    public final double eps() {
        return eps;
    }

    /** {@return whether the layer has a learnable scale and shift} */
    public final boolean affine() {
        return affine;
    }

    /** {@return the scale {@code [C]} ("weight"), or null when not affine} */
    public final Tensor weight() {
        return weight;
    }

    /** {@return the shift {@code [C]} ("bias"), or null when not affine} */
    public final Tensor bias() {
        return bias;
    }

    /** {@return the running mean, [numFeatures] (the layer's own tensor: do not close it)} */
    public final Tensor runningMean() {
        return runningMean;
    }

    /** {@return the running variance, [numFeatures] (the layer's own tensor: do not close it)} */
    public final Tensor runningVar() {
        return runningVar;
    }

    @Override
    public final Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        if (affine) {
            m.put("weight", weight);
            m.put("bias", bias);
        }
        m.put("running_mean", runningMean);
        m.put("running_var", runningVar);
        m.put("num_batches_tracked", numBatchesTracked);
        return Collections.unmodifiableMap(m);
    }

    /**
     * ONNX's {@code BatchNormalization} (inference) with epsilon: inputs X, {@code <path>.weight}
     * and {@code <path>.bias} (absent, "", when not affine: scale 1 and shift 0),
     * {@code <path>.running_mean}, {@code <path>.running_var}, this layer's tensors under their
     * state_dict names. {@code num_batches_tracked} is not an input (inference never reads it).
     */
    @Override
    public final String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        String w = graph.optionalInitializer(Lowering.join(path, "weight"), weight);
        String b = graph.optionalInitializer(Lowering.join(path, "bias"), bias);
        String mean = graph.initializer(Lowering.join(path, "running_mean"), runningMean);
        String var = graph.initializer(Lowering.join(path, "running_var"), runningVar);
        return graph.node("BatchNormalization", path, dev.panamadnn.graph.Attributes.of("epsilon", eps), input, w, b, mean, var);
    }

    /** The ranks this layer accepts and how to name them in messages. */
    abstract boolean acceptsRank(int rank);

    abstract String expectedRanks();

    @Override
    public final long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        if (!acceptsRank(inputShape.length)) {
            throw new IllegalArgumentException(this + ": expected " + expectedRanks() + " input, got rank " + inputShape.length
                    + " shape " + Arrays.toString(inputShape));
        }
        if (inputShape[1] != numFeatures) {
            throw new IllegalArgumentException(this + ": expected " + numFeatures + " channels (dim 1), got " + inputShape[1]
                    + " in shape " + Arrays.toString(inputShape));
        }
        return inputShape.clone();
    }

    @Override
    final void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        long[] shape = input.shape();
        long s = 1;
        for (int i = 2; i < shape.length; i++) s *= shape[i];
        View v = new View(shape[0], shape[1], s);
        into(input, out, backend, (x, y) -> reference(x, v, y.segment()), (x, y) -> runNative(x, v, y));
    }

    private void runNative(Tensor x, View v, Tensor y) {
        try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(v, this::createKernel)) {
            Kernel c = lease.value();
            c.primitive().execute(Args.src(c.data(), x.segment()), Args.dst(c.data(), y.segment()), c.mean(), c.variance(), c.scale(), c.shift());
        }
    }

    private Kernel createKernel(View v) {
        MemoryDescriptor data = MemoryDescriptor.f32(Ops.plain(4), v.n(), v.c(), v.s(), 1);
        MemoryDescriptor channels = null;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            channels = MemoryDescriptor.f32(Ops.plain1d(), v.c());
            try (PrimitiveDescriptor pd = NormOps.batchNormalization(data, (float) eps, affine, attr,
                    this + " on [" + v.n() + ", " + v.c() + ", " + v.s() + ", 1]")) {
                MemoryDescriptor affineMd = affine ? channels : null;   // null: scale and shift absent
                return new Kernel(data, channels, Primitive.create(pd), Args.mean(channels, runningMean.segment()),
                        Args.variance(channels, runningVar.segment()), Args.scale(affineMd, affine ? weight.segment() : null),
                        Args.shift(affineMd, affine ? bias.segment() : null));
            }
        } catch (RuntimeException e) {
            data.close();
            if (channels != null) channels.close();
            throw e;
        }
    }

    /** Per element, in double: {@code (x - mean) / sqrt(var + eps) * weight + bias}. */
    private void reference(float[] x, View v, MemorySegment y) {
        float[] mean = runningMean.toFloatArray(), var = runningVar.toFloatArray();
        float[] w = affine ? weight.toFloatArray() : null, b = affine ? bias.toFloatArray() : null;
        for (long n = 0; n < v.n(); n++) {
            for (int c = 0; c < v.c(); c++) {
                double inv = 1 / Math.sqrt((double) var[c] + eps);
                long base = (n * v.c() + c) * v.s();
                for (long i = base; i < base + v.s(); i++) {
                    double r = (x[(int) i] - (double) mean[c]) * inv;
                    if (affine) r = r * w[c] + b[c];
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r);
                }
            }
        }
    }

    @Override
    final void release() {
        kernels.close();
        if (weight != null) weight.close();
        if (bias != null) bias.close();
        runningMean.close();
        runningVar.close();
        countArena.close();
    }

    /** PyTorch's repr, e.g. {@code BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)}. */
    @Override
    public final String toString() {
        return layer + "(" + numFeatures + ", eps=" + Modules.pyFloat(eps) + ", momentum=0.1, affine=" + (affine ? "True" : "False")
                + ", track_running_stats=True)";
    }
}
