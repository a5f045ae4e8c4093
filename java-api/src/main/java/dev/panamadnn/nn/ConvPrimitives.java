package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.lowering.ConvLowering;
import dev.panamadnn.internal.lowering.ConvSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The oneDNN side of one convolution layer: a (de)convolution primitive per input shape,
 * created on first use, and the weights reordered once per shape into the layout that primitive
 * chose, the bias copied beside them (in its own arena, so {@link #clear()} can free it). The
 * geometry is the {@link ConvLowering} of the plan's 2-D spec (a 1-D layer has height 1), computed
 * when the primitive is created.
 *
 * <p>Thread-safe: the cache is a bounded concurrent map ({@link PrimitiveCache}), primitives use a
 * user scratchpad, and every {@link #forward} brings its own memory objects and leases its entry, so
 * eviction, {@link #clear()} and {@link #close()} never free a primitive or weight copy under a
 * running forward (it finishes on the entry it started with).
 */
final class ConvPrimitives implements AutoCloseable {
    private final String layer;
    private final Tensor weight, bias;
    private final PrimitiveCache<Key, Kernel> kernels = new PrimitiveCache<>();

    /**
     * What one primitive is created for: the batch, the input size after any explicit padding, and
     * the spec with the padding oneDNN applies (the same padded size can come from an input this
     * layer padded itself and from a larger one oneDNN pads: different primitives).
     */
    private record Key(long n, long ih, long iw, ConvSpec spec2d) {}

    /**
     * A primitive, its descriptors, the output size it computes ({@link ConvLowering#computedOutputSize()})
     * and its constant arguments (the reordered weights and the bias copy, absent without bias, in {@code weightsArena}).
     */
    private record Kernel(Primitive primitive, MemoryDescriptor src, MemoryDescriptor dst, long computedH, long computedW,
                            Arg weights, Arg bias, Arena weightsArena, String implementation) implements AutoCloseable {
        /** Whether oneDNN offered only its reference kernel ({@code ref:*}; see {@link #forward(MemorySegment, ConvNd.Plan, Tensor, boolean)}). */
        boolean onlyReference() {
            return implementation.startsWith("ref");
        }

        @Override
        public void close() {
            weightsArena.close();
            primitive.close();
            src.close();
            weights.md().close();
            if (bias.present()) bias.md().close();
            dst.close();
        }
    }

    ConvPrimitives(String layer, Tensor weight, Tensor bias) {
        this.layer = layer;
        this.weight = weight;
        this.bias = bias;
    }

    /**
     * Runs the layer on a contiguous off-heap input laid out as {@code p} says, into {@code into}
     * (the caller's validated out) or, if null, a new tensor the caller owns; returns the output, or
     * null, running nothing, where oneDNN offers only its reference kernel ({@code ref:any}) and
     * {@code referenceKernel} is false. That kernel visits every tap of every window, in the padding
     * too: a wide convolution (kernel 16,384 over 5 inputs, padding 16,383) took 30 s there with AVX2
     * kernels only (AMD EPYC VM, session 49; 65,536 hung the CI fuzz past 60 s), where the Java
     * reference, which visits only the taps inside the input, takes milliseconds; {@link ConvNd} runs
     * such layers there unless its Java arrays cannot hold them.
     */
    Tensor forward(MemorySegment src, ConvNd.Plan p, Tensor into, boolean referenceKernel) {
        try (PrimitiveCache.Lease<Kernel> lease = leaseFor(p)) {   // held through the bias tail, which reads the bias copy
            return lease.value().onlyReference() && !referenceKernel ? null : forward(src, p, lease.value(), into);
        }
    }

    /** Whether oneDNN offers only its reference kernel for {@code p} (see {@link #forward(MemorySegment, ConvNd.Plan, Tensor, boolean)}). */
    boolean onlyReferenceKernel(ConvNd.Plan p) {
        try (PrimitiveCache.Lease<Kernel> lease = leaseFor(p)) {
            return lease.value().onlyReference();
        }
    }

    private Tensor forward(MemorySegment src, ConvNd.Plan p, Kernel c, Tensor into) {
        boolean tail = c.computedH() != p.oh() || c.computedW() != p.ow();
        Tensor y = into != null ? into : LayerOutputs.allocate(p.userOutputShape());
        Tensor dst = tail ? Tensor.zeros(p.n(), p.spec2d().outChannels(), c.computedH(), c.computedW()) : y;
        try {
            c.primitive().execute(Args.src(c.src(), src), c.weights(), c.bias(), Args.dst(c.dst(), dst.segment()));
            if (tail) appendBiasTail(dst, y, p, c.bias().buf());
            return y;
        } catch (RuntimeException e) {
            if (y != into) y.close();
            throw e;
        } finally {
            if (tail) dst.close();
        }
    }

    String implementation(ConvNd.Plan p) {
        try (PrimitiveCache.Lease<Kernel> lease = leaseFor(p)) {
            return lease.value().implementation();
        }
    }

    /**
     * Copies the oneDNN result into the top-left of each output plane and fills the rest (the
     * lowering's {@link ConvLowering.Axis#tail() tail}, outputs no kernel tap reaches) with the bias.
     */
    private static void appendBiasTail(Tensor computed, Tensor y, ConvNd.Plan p, MemorySegment biasBuffer) {
        MemorySegment from = computed.segment(), to = y.segment();
        long out = computed.dim(1), ch = computed.dim(2), cw = computed.dim(3);
        for (long plane = 0; plane < p.n() * out; plane++) {
            float b = biasBuffer == null ? 0f : biasBuffer.getAtIndex(ValueLayout.JAVA_FLOAT, plane % out);
            for (long r = 0; r < p.oh(); r++)
                for (long col = 0; col < p.ow(); col++) {
                    float v = r < ch && col < cw ? from.getAtIndex(ValueLayout.JAVA_FLOAT, (plane * ch + r) * cw + col) : b;
                    to.setAtIndex(ValueLayout.JAVA_FLOAT, (plane * p.oh() + r) * p.ow() + col, v);
                }
        }
    }

    private PrimitiveCache.Lease<Kernel> leaseFor(ConvNd.Plan p) {
        return kernels.acquire(new Key(p.n(), p.ih(), p.iw(), p.spec2d()), k -> createKernel(p));
    }

    /** Creates the primitive for one input shape and reorders the weights into its layout (once per shape). */
    private Kernel createKernel(ConvNd.Plan p) {
        ConvSpec spec = p.spec2d();
        ConvLowering l = spec.lower(layer, new long[] {p.ih(), p.iw()});
        long in = spec.inChannels(), out = spec.outChannels();
        long[] wDims = l.weightDims(), computed = l.computedOutputSize();
        // Before any native call: a geometry that would overflow the strided deconvolution kernel's buffer
        // (ConvNd runs those on the reference instead; this guards every other way in).
        if (spec.transposed()) {
            ConvOps.checkStridedDeconvolution(layer, computed[1], l.strides()[1], out);   // the crash first: the more specific message
            ConvOps.checkDeconvolutionStrides(layer, spec.groups(), l.strides());
        }
        String description = layer + " on input [" + p.n() + ", " + in + ", " + p.ih() + ", " + p.iw() + "]";
        MemoryDescriptor src = null, dst = null, biasDesc = null, userWeights = null, anyWeights = null, chosen = null;
        PrimitiveDescriptor pd = null;
        Primitive primitive = null;
        Arena weightsArena = Arena.ofShared();
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            src = MemoryDescriptor.f32(ConvOps.rowMajor(4), p.n(), in, p.ih(), p.iw());
            dst = MemoryDescriptor.f32(ConvOps.rowMajor(4), p.n(), out, computed[0], computed[1]);
            biasDesc = bias == null ? null : MemoryDescriptor.f32(ConvOps.rowMajor(1), out);
            userWeights = MemoryDescriptor.f32(ConvOps.pytorchWeights(spec.transposed(), spec.grouped(), wDims.length), wDims);
            anyWeights = MemoryDescriptor.f32(ConvOps.anyFormat(), wDims);
            pd = spec.transposed()
                    ? ConvOps.deconvolution(src, anyWeights, biasDesc, dst, l.strides(), l.dilates(), l.padLeft(), l.padRight(), attr, description)
                    : ConvOps.convolution(src, anyWeights, biasDesc, dst, l.strides(), l.dilates(), l.padLeft(), l.padRight(), attr, description);
            chosen = ConvOps.chosenWeights(pd);
            primitive = Primitive.create(pd);
            MemorySegment buffer = weightsArena.allocate(Math.max(1, chosen.byteSize()), 64);
            try (PrimitiveDescriptor rpd = ConvOps.reorder(userWeights, chosen, attr, "weights reorder for " + description);
                 Primitive reorder = Primitive.create(rpd)) {
                reorder.execute(Args.from(userWeights, weight.segment()), Args.to(chosen, buffer));
            }
            // The bias is copied too, so that a shape's kernel sees one consistent snapshot of the parameters.
            MemorySegment biasBuffer = bias == null ? null : weightsArena.allocate(bias.numel() * Float.BYTES, 64).copyFrom(bias.segment());
            Kernel c = new Kernel(primitive, src, dst, computed[0], computed[1], Args.weights(chosen, buffer),
                    Args.bias(biasDesc, biasBuffer), weightsArena, pd.implementation());
            primitive = null;   // owned by c from here
            return c;
        } catch (RuntimeException e) {
            if (primitive != null) primitive.close();
            weightsArena.close();
            for (MemoryDescriptor m : new MemoryDescriptor[] {src, dst, biasDesc, chosen}) if (m != null) m.close();
            throw e;
        } finally {
            if (pd != null) pd.close();
            if (userWeights != null) userWeights.close();
            if (anyWeights != null) anyWeights.close();
        }
    }

    /**
     * Whether oneDNN's kernels can run {@code p} (see {@link ConvOps#checkStridedDeconvolution}):
     * false for a transposed convolution past the strided kernel's buffer limit, and for the
     * convolution geometry below.
     */
    boolean nativeKernelsFit(ConvNd.Plan p) {
        ConvSpec spec = p.spec2d();
        ConvSpec.Axis height = spec.axes().get(0), width = spec.axes().get(1);
        // oneDNN 3.13's brg_conv_fwd gives wrong results for one input channel (per group), an output
        // one wide and a width stride > 1 at height stride 1 (measured: max error ~2 on unit data,
        // kernel 1x5 stride (1, 3) on 11x7; exact with 2+ channels, output width 2, or height stride
        // 2; scripts/fuzz --seed 7 --family Conv2d --case 3867): such layers run on the reference.
        if (!spec.transposed()) {
            return !(spec.inChannels() / spec.groups() == 1 && p.ow() == 1 && width.stride() > 1 && height.stride() == 1);
        }
        // Output padding past the cropped padding can leave oneDNN nothing to compute: every output is in the
        // pure-bias tail (kernel 1, padding 1, output_padding 2, dilation 3 on one input: PyTorch gives one output,
        // the bias; scripts/fuzz --seed 5001 --family ConvTranspose1d --case 1071 --nonfinite). oneDNN refuses a
        // 0-wide destination, so the reference writes those biases.
        if (nothingToCompute(p)) return false;
        return ConvOps.deconvolutionStridesFit(spec.groups(), height.stride(), width.stride())
                && ConvOps.stridedDeconvolutionFits(p.ow() - width.tail(), width.stride(), spec.outChannels());
    }

    /** Whether every output of a transposed layer is in the pure-bias tail ({@link ConvSpec.Axis#tail()}), so oneDNN computes none. */
    boolean nothingToCompute(ConvNd.Plan p) {
        List<ConvSpec.Axis> axes = p.spec2d().axes();
        return p.oh() - axes.get(0).tail() <= 0 || p.ow() - axes.get(1).tail() <= 0;
    }

    /**
     * Drops every primitive and reordered weight copy; the next forward creates them again (a
     * forward in flight finishes on its old copy, freed when it returns).
     */
    void clear() {
        kernels.clear();
    }

    @Override
    public void close() {
        clear();
    }
}
