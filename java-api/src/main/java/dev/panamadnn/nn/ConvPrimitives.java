package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The oneDNN side of one convolution layer: a (de)convolution primitive per input shape,
 * created on first use, and the weights reordered once per shape into the layout that primitive
 * chose, the bias copied beside them (in its own arena, so {@link #clear()} can free it). All geometry is 2-D (height, width) and PyTorch's (dilation 1-based); the translation
 * to oneDNN's conventions happens in {@link #compile}.
 *
 * <p>Thread-safe: the cache is a bounded concurrent map ({@link PrimitiveCache}), primitives use a
 * user scratchpad, and every {@link #forward} brings its own memory objects and leases its entry, so
 * eviction, {@link #clear()} and {@link #close()} never free a primitive or weight copy under a
 * running forward (it finishes on the entry it started with).
 */
final class ConvPrimitives implements AutoCloseable {
    private final String layer;
    private final boolean transposed;
    private final long in, out, groups;
    private final long[] kernel, stride, dilation, outputPadding;
    private final Tensor weight, bias;
    private final PrimitiveCache<Key, Compiled> compiled = new PrimitiveCache<>();

    /** A native input shape after explicit padding: batch, height, width. */
    private record Key(long n, long h, long w) {}

    /**
     * A primitive and its descriptors. {@code tailH/tailW}: output rows/columns oneDNN does not
     * compute (see {@link #compile}); {@link #forward} fills them with the bias.
     */
    private record Compiled(Primitive primitive, MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor bias,
                            MemoryDescriptor dst, long tailH, long tailW, Arena weightsArena, MemorySegment weightsBuffer,
                            MemorySegment biasBuffer, String implementation) implements AutoCloseable {
        @Override
        public void close() {
            weightsArena.close();
            primitive.close();
            src.close();
            weights.close();
            if (bias != null) bias.close();
            dst.close();
        }
    }

    ConvPrimitives(String layer, boolean transposed, long in, long out, long groups, long[] kernel, long[] stride,
                   long[] dilation, long[] outputPadding, Tensor weight, Tensor bias) {
        this.layer = layer;
        this.transposed = transposed;
        this.in = in;
        this.out = out;
        this.groups = groups;
        this.kernel = kernel;
        this.stride = stride;
        this.dilation = dilation;
        this.outputPadding = outputPadding;
        this.weight = weight;
        this.bias = bias;
    }

    /** Runs the layer on a contiguous off-heap input laid out as {@code p} says; returns a new owned tensor. */
    Tensor forward(MemorySegment src, ConvNd.Plan p) {
        try (PrimitiveCache.Lease<Compiled> lease = leaseFor(p)) {   // held through the bias tail, which reads the bias copy
            return forward(src, p, lease.value());
        }
    }

    private Tensor forward(MemorySegment src, ConvNd.Plan p, Compiled c) {
        boolean tail = c.tailH() != 0 || c.tailW() != 0;
        Tensor y = Tensor.zeros(p.userOutputShape());
        Tensor dst = tail ? Tensor.zeros(p.n(), out, p.oh() - c.tailH(), p.ow() - c.tailW()) : y;
        try {
            if (bias == null) {
                c.primitive().execute(new int[] {ConvOps.argSrc(), ConvOps.argWeights(), ConvOps.argDst()},
                        new MemoryDescriptor[] {c.src(), c.weights(), c.dst()},
                        new MemorySegment[] {src, c.weightsBuffer(), dst.segment()});
            } else {
                c.primitive().execute(new int[] {ConvOps.argSrc(), ConvOps.argWeights(), ConvOps.argBias(), ConvOps.argDst()},
                        new MemoryDescriptor[] {c.src(), c.weights(), c.bias(), c.dst()},
                        new MemorySegment[] {src, c.weightsBuffer(), c.biasBuffer(), dst.segment()});
            }
            if (tail) appendBiasTail(dst, y, p, c.biasBuffer());
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        } finally {
            if (tail) dst.close();
        }
    }

    String implementation(ConvNd.Plan p) {
        try (PrimitiveCache.Lease<Compiled> lease = leaseFor(p)) {
            return lease.value().implementation();
        }
    }

    /** Copies the oneDNN result into the top-left of each output plane and fills the rest with the bias. */
    private void appendBiasTail(Tensor computed, Tensor y, ConvNd.Plan p, MemorySegment biasBuffer) {
        MemorySegment from = computed.segment(), to = y.segment();
        long ch = computed.dim(2), cw = computed.dim(3);
        for (long plane = 0; plane < p.n() * out; plane++) {
            float b = biasBuffer == null ? 0f : biasBuffer.getAtIndex(ValueLayout.JAVA_FLOAT, plane % out);
            for (long r = 0; r < p.oh(); r++)
                for (long col = 0; col < p.ow(); col++) {
                    float v = r < ch && col < cw ? from.getAtIndex(ValueLayout.JAVA_FLOAT, (plane * ch + r) * cw + col) : b;
                    to.setAtIndex(ValueLayout.JAVA_FLOAT, (plane * p.oh() + r) * p.ow() + col, v);
                }
        }
    }

    private PrimitiveCache.Lease<Compiled> leaseFor(ConvNd.Plan p) {
        return compiled.acquire(new Key(p.n(), p.ih(), p.iw()), k -> compile(p));
    }

    /** Creates the primitive for one input shape and reorders the weights into its layout (once per shape). */
    private Compiled compile(ConvNd.Plan p) {
        long g = groups;
        long[] wDims = g == 1 ? new long[] {out, in, kernel[0], kernel[1]} : new long[] {g, out / g, in / g, kernel[0], kernel[1]};
        // PyTorch's Conv weight [out, in/g, k..] is oneDNN's (g)oihw row-major; ConvTranspose's [in, out/g, k..] is (g)iohw.
        int userTag = transposed ? ConvOps.inputMajorWeights(g != 1) : ConvOps.rowMajor(wDims.length);
        long[] oneDnnDilation = {dilation[0] - 1, dilation[1] - 1};
        long[] padL = {p.padTop(), p.padLeft()};
        // oneDNN has no output_padding: a deconvolution's right padding shrinks by it instead (may go negative).
        long[] padR = transposed ? new long[] {p.padBottom() - outputPadding[0], p.padRight() - outputPadding[1]}
                : new long[] {p.padBottom(), p.padRight()};
        long[] tail = tail(padR);
        for (int i = 0; i < 2; i++) if (tail[i] != 0) padR[i] = 0;
        // Before any native call: a geometry that would overflow the strided deconvolution kernel's buffer
        // (ConvNd runs those on the reference instead; this guards every other way in).
        if (transposed) ConvOps.checkStridedDeconvolution(layer, p.ow() - tail[1], stride[1], out);
        String description = layer + " on input [" + p.n() + ", " + in + ", " + p.ih() + ", " + p.iw() + "]";
        MemoryDescriptor src = null, dst = null, biasDesc = null, userWeights = null, anyWeights = null, chosen = null;
        PrimitiveDescriptor pd = null;
        Primitive primitive = null;
        Arena weightsArena = Arena.ofShared();
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            src = MemoryDescriptor.f32(ConvOps.rowMajor(4), p.n(), in, p.ih(), p.iw());
            dst = MemoryDescriptor.f32(ConvOps.rowMajor(4), p.n(), out, p.oh() - tail[0], p.ow() - tail[1]);
            biasDesc = bias == null ? null : MemoryDescriptor.f32(ConvOps.rowMajor(1), out);
            userWeights = MemoryDescriptor.f32(userTag, wDims);
            anyWeights = MemoryDescriptor.f32(ConvOps.anyFormat(), wDims);
            pd = transposed
                    ? ConvOps.deconvolution(src, anyWeights, biasDesc, dst, stride, oneDnnDilation, padL, padR, attr, description)
                    : ConvOps.convolution(src, anyWeights, biasDesc, dst, stride, oneDnnDilation, padL, padR, attr, description);
            chosen = ConvOps.chosenWeights(pd);
            primitive = Primitive.create(pd);
            MemorySegment buffer = weightsArena.allocate(Math.max(1, chosen.byteSize()), 64);
            try (PrimitiveDescriptor rpd = ConvOps.reorder(userWeights, chosen, attr, "weights reorder for " + description);
                 Primitive reorder = Primitive.create(rpd)) {
                reorder.execute(new int[] {ConvOps.argFrom(), ConvOps.argTo()}, new MemoryDescriptor[] {userWeights, chosen},
                        new MemorySegment[] {weight.segment(), buffer});
            }
            // The bias is copied too, so that a compiled shape sees one consistent snapshot of the parameters.
            MemorySegment biasBuffer = bias == null ? null : weightsArena.allocate(bias.numel() * Float.BYTES, 64).copyFrom(bias.segment());
            Compiled c = new Compiled(primitive, src, chosen, biasDesc, dst, tail[0], tail[1], weightsArena, buffer, biasBuffer,
                    pd.implementation());
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
     * oneDNN needs padR > -stride. Output padding beyond that (PyTorch allows it when it is below
     * the dilation) only adds rows/columns no kernel tap reaches, i.e. pure bias: oneDNN computes
     * without them (padR 0) and forward() appends this tail, returned per dimension.
     */
    private long[] tail(long[] padR) {
        long[] tail = new long[2];
        for (int i = 0; i < 2; i++) if (padR[i] + stride[i] <= 0) tail[i] = -padR[i];
        return tail;
    }

    /**
     * Whether oneDNN's kernels can run {@code p} (see {@link ConvOps#checkStridedDeconvolution}):
     * false only for a transposed convolution past the strided kernel's buffer limit.
     */
    boolean nativeKernelsFit(ConvNd.Plan p) {
        // oneDNN 3.13's brg_conv_fwd gives wrong results for one input channel (per group), an output
        // one wide and a width stride > 1 at height stride 1 (measured: max error ~2 on unit data,
        // kernel 1x5 stride (1, 3) on 11x7; exact with 2+ channels, output width 2, or height stride
        // 2; scripts/fuzz --seed 7 --family Conv2d --case 3867): such layers run on the reference.
        if (!transposed) return !(in / groups == 1 && p.ow() == 1 && stride[1] > 1 && stride[0] == 1);
        long[] tail = tail(new long[] {p.padBottom() - outputPadding[0], p.padRight() - outputPadding[1]});
        return ConvOps.stridedDeconvolutionFits(p.ow() - tail[1], stride[1], out);
    }

    /**
     * Drops every primitive and reordered weight copy; the next forward creates them again (a
     * forward in flight finishes on its old copy, freed when it returns).
     */
    void clear() {
        compiled.clear();
    }

    @Override
    public void close() {
        clear();
    }
}
