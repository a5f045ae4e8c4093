package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.BinaryOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.NormOps;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
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
 * PyTorch's {@code nn.GroupNorm(num_groups, num_channels, eps, affine)}: input {@code [N, C, *]}
 * ({@code C = num_channels}), the channels split into {@code num_groups} groups of {@code C / G};
 * each (sample, group) is normalized over its channels and all positions,
 * {@code (x - mean) / sqrt(var + eps)} (biased variance), then scaled and shifted per channel by
 * "weight" and "bias" (shape {@code [C]}, initially 1 and 0; absent without affine). The output has
 * the input's shape. {@code num_groups = 1} normalizes each sample as a whole, {@code = C} each channel.
 *
 * <p>Native: oneDNN layer normalization (statistics per call) on the input viewed as
 * {@code [N*G, (C/G)*S]}, then, with affine, one binary multiply by the weight with a binary-add
 * post-op of the bias, broadcast over {@code [N, C, S]}, in place; primitives cached per
 * {@code (N, S)}. Reference: two passes in double. Thread-safe (see {@link Layer}).
 */
public final class GroupNorm extends Layer {
    private final int groups, channels;
    private final double eps;
    private final boolean affine;
    private final Tensor weight, bias;
    private final PrimitiveCache<Geometry, Kernel> kernels = new PrimitiveCache<>();

    /** N samples of S positions each. */
    private record Geometry(long n, long s) {}

    private record Kernel(MemoryDescriptor rows, MemoryDescriptor stats, Primitive norm, MemoryDescriptor data,
                          MemoryDescriptor perChannel, Primitive scaleShift) implements AutoCloseable {
        @Override
        public void close() {
            norm.close();
            if (scaleShift != null) scaleShift.close();
            for (MemoryDescriptor d : new MemoryDescriptor[] {rows, stats, data, perChannel}) if (d != null) d.close();
        }
    }

    /**
     * {@code GroupNorm(num_groups, num_channels)}: eps 1e-5, affine.
     *
     * @param numGroups the number of groups (must divide numChannels)
     * @param numChannels the number of channels
     */
    public GroupNorm(int numGroups, int numChannels) {
        this(numGroups, numChannels, 1e-5, true);
    }

    /**
     * A {@code GroupNorm} with PyTorch's arguments of the same names.
     *
     * @param numGroups the number of groups (must divide numChannels)
     * @param numChannels the number of channels
     * @param eps added to the variance for stability
     * @param affine whether there is a learnable scale and shift
     * @throws IllegalArgumentException if a count is {@code < 1}, {@code num_channels} is not divisible by
     *                                  {@code num_groups}, or {@code eps} is not finite and > 0 as a float
     */
    public GroupNorm(int numGroups, int numChannels, double eps, boolean affine) {
        if (numGroups < 1 || numChannels < 1) {
            throw new IllegalArgumentException("GroupNorm: num_groups and num_channels must be >= 1, got " + numGroups + " and " + numChannels);
        }
        if (numChannels % numGroups != 0) {
            throw new IllegalArgumentException("GroupNorm: num_channels must be divisible by num_groups, got " + numChannels + " and " + numGroups);
        }
        Hyperparameters.positiveFloat("GroupNorm", "eps", eps);
        this.groups = numGroups;
        this.channels = numChannels;
        this.eps = eps;
        this.affine = affine;
        if (affine) {
            weight = Tensor.zeros(numChannels);   // filled in place: a float[] of ones fails with an Error near 2^31 channels
            for (long i = 0; i < numChannels; i++) weight.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 1f);
            bias = Tensor.zeros(numChannels);
        } else {
            weight = null;
            bias = null;
        }
    }

    /** {@return the {@code numGroups} setting this layer was built with (PyTorch's name)} */
    public int numGroups() {
        return groups;
    }

    /** {@return the {@code numChannels} setting this layer was built with (PyTorch's name)} */
    public int numChannels() {
        return channels;
    }

    /** {@return the epsilon added to the variance} */
    public double eps() {
        return eps;
    }

    /** {@return whether the layer has a learnable scale and shift} */
    public boolean affine() {
        return affine;
    }

    /** {@return the per-channel scale {@code [C]}, or null without affine} */
    public Tensor weight() {
        return weight;
    }

    /** {@return the per-channel shift {@code [C]}, or null without affine} */
    public Tensor bias() {
        return bias;
    }

    @Override
    public Map<String, Tensor> parameters() {
        if (!affine) return Map.of();
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", bias);
        return Collections.unmodifiableMap(m);
    }

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        if (inputShape.length < 2 || inputShape[1] != channels) {
            throw new IllegalArgumentException(this + ": expected an input [N, " + channels + ", *], got " + Arrays.toString(inputShape));
        }
        return inputShape.clone();
    }

    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        long n = outShape[0], s = input.numel() / (n * channels);
        into(input, out, backend, (x, y) -> reference(x, n, s, y.segment()), (x, y) -> {
            try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(new Geometry(n, s), this::createKernel)) {
                Kernel k = lease.value();
                k.norm().execute(Args.src(k.rows(), x.segment()), Args.dst(k.rows(), y.segment()));
                if (affine) {
                    k.scaleShift().execute(Args.src(k.data(), y.segment()), Args.src1(k.perChannel(), weight.segment()),
                            Args.postOpSrc1(0, k.perChannel(), bias.segment()), Args.dst(k.data(), y.segment()));
                }
            }
        });
    }

    private Kernel createKernel(Geometry g) {
        long m = g.n() * groups, k = (channels / groups) * g.s();
        String where = this + " on [" + g.n() + ", " + channels + ", " + g.s() + "]";
        MemoryDescriptor rows = null, stats = null, data = null, perChannel = null;
        Primitive norm = null;
        try {
            rows = MemoryDescriptor.f32(Ops.plain(2), m, k);
            stats = MemoryDescriptor.f32(Ops.plain1d(), m);
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
                 PrimitiveDescriptor pd = NormOps.layerNormalization(rows, stats, (float) eps, false, attr, where)) {
                norm = Primitive.create(pd);
            }
            if (!affine) return new Kernel(rows, stats, norm, null, null, null);
            // [N, C] without positions: a trailing size-1 dimension made oneDNN's binary broadcast the weight wrongly
            data = g.s() == 1 ? MemoryDescriptor.f32(Ops.plain(2), g.n(), channels) : MemoryDescriptor.f32(Ops.plain(3), g.n(), channels, g.s());
            perChannel = g.s() == 1 ? MemoryDescriptor.f32(Ops.plain(2), 1, channels) : MemoryDescriptor.f32(Ops.plain(3), 1, channels, 1);
            try (PostOps post = PostOps.create().add(perChannel);
                 PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = BinaryOps.binary(BinaryOps.algorithm("mul"), data, perChannel, data, attr, where + ": affine")) {
                return new Kernel(rows, stats, norm, data, perChannel, Primitive.create(pd));
            }
        } catch (RuntimeException e) {
            if (norm != null) norm.close();
            for (MemoryDescriptor d : new MemoryDescriptor[] {rows, stats, data, perChannel}) if (d != null) d.close();
            throw e;
        }
    }

    /** Per (sample, group): mean, then the biased variance about it (double), then normalize, scale and shift per channel. */
    private void reference(float[] x, long n, long s, MemorySegment y) {
        float[] w = affine ? weight.toFloatArray() : null, b = affine ? bias.toFloatArray() : null;
        int per = channels / groups;
        int k = (int) (per * s);
        for (int row = 0; row < n * groups; row++) {
            int base = row * k;
            double mean = 0;
            for (int i = 0; i < k; i++) mean += x[base + i];
            mean /= k;
            double var = 0;
            for (int i = 0; i < k; i++) var += (x[base + i] - mean) * (x[base + i] - mean);
            var /= k;
            double inv = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < k; i++) {
                double r = (x[base + i] - mean) * inv;
                int c = (row % groups) * per + (int) (i / s);
                if (affine) r = r * w[c] + b[c];
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

    /** PyTorch's repr: {@code GroupNorm(2, 6, eps=1e-05, affine=True)}. */
    @Override
    public String toString() {
        return "GroupNorm(" + groups + ", " + channels + ", eps=" + Modules.pyFloat(eps) + ", affine=" + (affine ? "True" : "False") + ")";
    }
}
