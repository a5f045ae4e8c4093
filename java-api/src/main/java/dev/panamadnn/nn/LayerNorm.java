package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.NormOps;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's {@code nn.LayerNorm(normalized_shape, eps, elementwise_affine)}: over the last
 * {@code k = normalized_shape.length} dimensions of an input {@code [*, normalized_shape]},
 * {@code y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias}, with the mean and the biased
 * variance taken over those {@code k} dimensions (per leading index); weight and bias have the
 * shape {@code normalized_shape} ("weight", "bias"; initially 1 and 0), absent when
 * {@code elementwise_affine} is false. The output has the input's shape.
 *
 * <p>Native path: oneDNN layer normalization ({@code forward_inference}, statistics computed
 * per call, {@code use_scale | use_shift} when affine) on the input viewed as {@code [M, K]}
 * ({@code K} = prod(normalized_shape)), one primitive per {@code M}, cached; the parameter tensors
 * are read at each call (no snapshot). Reference: two passes in double. Thread-safe (see {@link Layer}).
 */
public final class LayerNorm extends Layer {
    private final long[] normalizedShape;
    private final long k;
    private final double eps;
    private final boolean elementwiseAffine;
    private final Tensor weight, bias;
    private final PrimitiveCache<Long, Kernel> kernels = new PrimitiveCache<>();

    /** A primitive, its descriptors, and its scale and shift as arguments (over the layer's tensors; absent without affine). */
    private record Kernel(MemoryDescriptor data, MemoryDescriptor stats, MemoryDescriptor affine, Primitive primitive, Arg scale,
                            Arg shift) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            data.close();
            stats.close();
            affine.close();
        }
    }

    /**
     * {@code LayerNorm(normalizedShape)}: eps 1e-5, elementwise affine.
     *
     * @param normalizedShape the trailing dimensions normalized over
     */
    public LayerNorm(long... normalizedShape) {
        this(normalizedShape, 1e-5, true);
    }

    /**
     * A {@code LayerNorm} with PyTorch's arguments of the same names.
     *
     * @param normalizedShape the trailing dimensions normalized over
     * @param elementwiseAffine whether there is a learnable scale and shift
     * @param eps added to the variance for stability
     * @throws IllegalArgumentException if {@code normalizedShape} is empty or has a size {@code < 1}, or
     *                                  {@code eps} is not finite and > 0 as a float
     */
    public LayerNorm(long[] normalizedShape, double eps, boolean elementwiseAffine) {
        if (normalizedShape == null || normalizedShape.length == 0) {
            throw new IllegalArgumentException("LayerNorm: normalized_shape must have at least one size, got "
                    + (normalizedShape == null ? "null" : "[]"));
        }
        for (long d : normalizedShape) {
            if (d < 1) throw new IllegalArgumentException("LayerNorm: normalized_shape sizes must be >= 1, got " + Arrays.toString(normalizedShape));
        }
        long prod = Sizes.f32Bytes("LayerNorm: normalized_shape", normalizedShape) / Float.BYTES;
        Hyperparameters.positiveFloat("LayerNorm", "eps", eps);
        this.normalizedShape = normalizedShape.clone();
        this.k = prod;
        this.eps = eps;
        this.elementwiseAffine = elementwiseAffine;
        if (elementwiseAffine) {
            weight = Tensor.zeros(normalizedShape);   // filled in place: a float[] of ones would cap K at 2^31
            MemorySegment w = weight.segment();
            for (long i = 0; i < prod; i++) w.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1f);
            bias = Tensor.zeros(normalizedShape);
        } else {
            weight = null;
            bias = null;
        }
    }

    /** {@return the {@code normalizedShape} setting this layer was built with (PyTorch's name)} */
    public long[] normalizedShape() {
        return normalizedShape.clone();
    }

    /** {@return the epsilon added to the variance} */
    public double eps() {
        return eps;
    }

    /** {@return the {@code elementwiseAffine} setting this layer was built with (PyTorch's name)} */
    public boolean elementwiseAffine() {
        return elementwiseAffine;
    }

    /** {@return the scale, shaped {@code normalized_shape}, or null without elementwise affine} */
    public Tensor weight() {
        return weight;
    }

    /** {@return the shift, shaped {@code normalized_shape}, or null without elementwise affine} */
    public Tensor bias() {
        return bias;
    }

    @Override
    public Map<String, Tensor> parameters() {
        if (!elementwiseAffine) return Map.of();
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", bias);
        return Collections.unmodifiableMap(m);
    }

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        int r = normalizedShape.length;
        if (inputShape.length < r
                || !Arrays.equals(Arrays.copyOfRange(inputShape, inputShape.length - r, inputShape.length), normalizedShape)) {
            StringBuilder want = new StringBuilder("[*");
            for (long d : normalizedShape) want.append(", ").append(d);
            throw new IllegalArgumentException(this + ": expected an input of shape " + want + "], got " + Arrays.toString(inputShape));
        }
        return inputShape.clone();
    }

    /**
     * ONNX's {@code LayerNormalization} over the last {@code normalized_shape.length} dims
     * ({@code axis = -normalized_shape.length}) with epsilon: inputs X, {@code <path>.weight},
     * {@code <path>.bias} (absent, "", without elementwise affine: scale 1 and shift 0).
     */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        String w = graph.optionalInitializer(Lowering.join(path, "weight"), weight);
        String b = graph.optionalInitializer(Lowering.join(path, "bias"), bias);
        dev.panamadnn.graph.Attributes a = dev.panamadnn.graph.Attributes.of("axis", (long) -normalizedShape.length, "epsilon", eps);
        return graph.node("LayerNormalization", path, a, input, w, b);
    }

    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        long m = input.numel() / k;
        into(input, out, backend, (x, y) -> reference(x, m, y.segment()), (x, y) -> {
            try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(m, this::createKernel)) {
                Kernel c = lease.value();
                c.primitive().execute(Args.src(c.data(), x.segment()), Args.dst(c.data(), y.segment()), c.scale(), c.shift());
            }
        });
    }

    private Kernel createKernel(long m) {
        MemoryDescriptor data = null, stats = null, affine = null;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            data = MemoryDescriptor.f32(Ops.plain(2), m, k);
            stats = MemoryDescriptor.f32(Ops.plain1d(), m);
            affine = MemoryDescriptor.f32(Ops.plain1d(), k);
            try (PrimitiveDescriptor pd = NormOps.layerNormalization(data, stats, (float) eps, elementwiseAffine, attr,
                    this + " on [" + m + ", " + k + "]")) {
                MemoryDescriptor affineMd = elementwiseAffine ? affine : null;   // null: scale and shift absent
                return new Kernel(data, stats, affine, Primitive.create(pd), Args.scale(affineMd, elementwiseAffine ? weight.segment() : null),
                        Args.shift(affineMd, elementwiseAffine ? bias.segment() : null));
            }
        } catch (RuntimeException e) {
            for (MemoryDescriptor d : new MemoryDescriptor[] {data, stats, affine}) if (d != null) d.close();
            throw e;
        }
    }

    /** Per row of K: mean, then the biased variance about it (two passes, double), then normalize and scale. */
    private void reference(float[] x, long m, MemorySegment y) {
        float[] w = elementwiseAffine ? weight.toFloatArray() : null, b = elementwiseAffine ? bias.toFloatArray() : null;
        for (long row = 0; row < m; row++) {
            int base = (int) (row * k);
            double mean = 0;
            for (int i = 0; i < k; i++) mean += x[base + i];
            mean /= k;
            double var = 0;
            for (int i = 0; i < k; i++) var += (x[base + i] - mean) * (x[base + i] - mean);
            var /= k;
            double inv = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < k; i++) {
                double r = (x[base + i] - mean) * inv;
                if (elementwiseAffine) r = r * w[i] + b[i];
                y.setAtIndex(ValueLayout.JAVA_FLOAT, base + i, (float) r);
            }
        }
    }

    @Override
    void release() {
        kernels.close();
        if (weight != null) weight.close();
        if (bias != null) bias.close();
    }

    /** PyTorch's repr: {@code LayerNorm((4, 5), eps=1e-05, elementwise_affine=True)}. */
    @Override
    public String toString() {
        return "LayerNorm(" + ConvNd.tuple(normalizedShape) + ", eps=" + Modules.pyFloat(eps) + ", elementwise_affine="
                + (elementwiseAffine ? "True" : "False") + ")";
    }
}
