package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import dev.panamadnn.internal.lowering.ConvSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Primitive descriptors for (de)convolution and the weight reorder, kept apart from
 * {@link Ops} so each operation family stays a small file. Geometry arrays are oneDNN's:
 * spatial only, dilation 0-based, padding per side (right padding may be negative for a
 * deconvolution with output padding).
 */
public final class ConvOps {
    private ConvOps() {}

    /** Forward-inference direct convolution; {@code bias} may be null. Weights may be {@code any}. */
    public static PrimitiveDescriptor convolution(MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor bias,
                                                  MemoryDescriptor dst, long[] strides, long[] dilates, long[] padLeft,
                                                  long[] padRight, PrimitiveAttributes attributes, String description) {
        return create("dnnl_convolution_forward_primitive_desc_create", false, src, weights, bias, dst, strides, dilates,
                padLeft, padRight, attributes, description);
    }

    /** Forward-inference direct deconvolution (transposed convolution); {@code bias} may be null. */
    public static PrimitiveDescriptor deconvolution(MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor bias,
                                                    MemoryDescriptor dst, long[] strides, long[] dilates, long[] padLeft,
                                                    long[] padRight, PrimitiveAttributes attributes, String description) {
        return create("dnnl_deconvolution_forward_primitive_desc_create", true, src, weights, bias, dst, strides, dilates,
                padLeft, padRight, attributes, description);
    }

    private static PrimitiveDescriptor create(String function, boolean deconvolution, MemoryDescriptor src,
                                              MemoryDescriptor weights, MemoryDescriptor bias, MemoryDescriptor dst,
                                              long[] strides, long[] dilates, long[] padLeft, long[] padRight,
                                              PrimitiveAttributes attributes, String description) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment s = Dnnl.dims(tmp, strides), d = Dnnl.dims(tmp, dilates);
            MemorySegment l = Dnnl.dims(tmp, padLeft), r = Dnnl.dims(tmp, padRight);
            MemorySegment b = bias == null ? MemorySegment.NULL : bias.handle();
            try (NativeHandle.Out pointer = new NativeHandle.Out()) {
                MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
                return PrimitiveDescriptor.created(pointer, deconvolution
                        ? dnnl_deconvolution_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                                dnnl_deconvolution_direct(), src.handle(), weights.handle(), b, dst.handle(), s, d, l, r, attr)
                        : dnnl_convolution_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                                dnnl_convolution_direct(), src.handle(), weights.handle(), b, dst.handle(), s, d, l, r, attr),
                        function, description);
            }
        }
    }

    /**
     * The largest per-thread output buffer, in elements, that oneDNN 3.13's strided deconvolution
     * kernel can book: 2^31 - 4096. That kernel ({@code brgconv_strided}, {@code
     * jit_brgemm_convolution_bwd_strided_t}, oneDNN's first choice for f32 deconvolution on
     * AVX2, AVX-512 and AMX machines) computes the buffer as {@code rnd_up(iw_block * stride_w * ic, 4096)}
     * in a 32-bit {@code int} ({@code jit_brgemm_conv_bwd_utils.cpp}, {@code init_conf}); past
     * this the size wraps, a smaller scratchpad is booked and the kernel writes beyond it
     * (SIGSEGV, measured). See docs/convolution.md, "Limits".
     */
    public static final long STRIDED_DECONVOLUTION_BUFFER_LIMIT = Integer.MAX_VALUE - 4095L;

    /**
     * The largest stride, in any dimension, an ungrouped deconvolution is given to oneDNN with. Past it oneDNN 3.13's
     * setup grows with the stride until it stalls the caller (measured on the strided kernel, ConvTranspose2d(4, 2, (5,
     * 2)) on {@code [4, 10, 12]} with width stride s: primitive creation plus first run 0.5 s at s = 256, 0.7 s at 1024,
     * 2.9 s at 4096, 35.7 s at 16,384; at 65,536 about 6 minutes, and a height stride of 65,536 about 2 minutes to run:
     * docs/convolution.md, "Limits"). Such strides leave most outputs bias-only, little work for the reference, which
     * runs them instead ({@link #deconvolutionStridesFit}). Grouped deconvolutions keep oneDNN: the ones probed with
     * stride 65,536 took other kernels and ran at once, with oneDNN's threads (the CI fuzz seed's grouped layer with a
     * height stride of 65,536 writes 225 MB; the reference, single-threaded, writes its output in place since session 49).
     */
    public static final long MAX_DECONVOLUTION_STRIDE = 1024;

    /**
     * Whether oneDNN is given this deconvolution as far as its strides go: grouped, or every stride at most {@link
     * #MAX_DECONVOLUTION_STRIDE} (else the layer runs on the reference).
     */
    public static boolean deconvolutionStridesFit(long groups, long... strides) {
        if (groups > 1) return true;
        for (long s : strides) if (s > MAX_DECONVOLUTION_STRIDE) return false;
        return true;
    }

    /**
     * Refuses an ungrouped deconvolution with a stride past {@link #MAX_DECONVOLUTION_STRIDE}.
     *
     * @param who     the layer, for the message
     * @param groups  the groups
     * @param strides the strides, one per spatial dimension
     * @throws IllegalArgumentException naming {@code who}, the strides and the limit
     */
    public static void checkDeconvolutionStrides(String who, long groups, long... strides) {
        if (!deconvolutionStridesFit(groups, strides)) {
            throw new IllegalArgumentException(who + ": stride " + java.util.Arrays.toString(strides) + " is past "
                    + MAX_DECONVOLUTION_STRIDE + ", beyond which oneDNN 3.13 takes seconds to minutes to set up a deconvolution (35 s at "
                    + "16,384, minutes at 65,536), so forward runs it on the reference (docs/convolution.md, \"Limits\")");
        }
    }

    /** Whether {@link #checkStridedDeconvolution} accepts these sizes (all >= 1). */
    public static boolean stridedDeconvolutionFits(long outWidth, long strideW, long outChannels) {
        if (outWidth % strideW == 0) return true;
        long block = Math.ceilDiv(outWidth, strideW);   // stride sectors in the widest block
        // block * stride^2 * channels can pass a long: compare by division instead.
        long limit = STRIDED_DECONVOLUTION_BUFFER_LIMIT;
        return block <= limit / strideW && block * strideW <= limit / strideW && block * strideW * strideW <= limit / outChannels;
    }

    /**
     * Refuses a deconvolution whose strided-kernel buffer would overflow (see
     * {@link #STRIDED_DECONVOLUTION_BUFFER_LIMIT}). oneDNN books that buffer only when the output
     * width is not a multiple of the width stride ({@code has_uneven_iw}); its size is
     * {@code iw_block * stride_w * outChannels} elements (all groups' channels: the kernel's
     * {@code ic_without_padding} is the whole channel dimension) with {@code iw_block} a multiple
     * of the stride chosen by a heuristic (threads, caches) up to {@code ceil(outWidth / stride_w) *
     * stride_w}, which it reaches on one thread, so that largest value is the one bounded here: the
     * refusal does not depend on the thread count or the machine. Every refused configuration
     * would need a buffer of over 8 GiB per thread even if the arithmetic did not wrap. Groups are
     * not looked at: which kernel takes a grouped deconvolution depends on the machine (here the
     * strided one takes it once {@code in / groups} passes the vector width, on AMX also below),
     * so a grouped geometry past the limit is refused on every machine alike.
     *
     * @param who            the layer, for the message
     * @param outWidth       the deconvolution's output width as given to oneDNN (its {@code iw})
     * @param strideW        the width stride
     * @param outChannels    the deconvolution's output channels, all groups
     * @throws IllegalArgumentException naming {@code who}, the sizes and the limit
     */
    public static void checkStridedDeconvolution(String who, long outWidth, long strideW, long outChannels) {
        if (!stridedDeconvolutionFits(outWidth, strideW, outChannels)) {
            long block = Math.ceilDiv(outWidth, strideW);
            long limit = STRIDED_DECONVOLUTION_BUFFER_LIMIT;
            java.math.BigInteger need = java.math.BigInteger.valueOf(block * strideW).multiply(java.math.BigInteger.valueOf(strideW))
                    .multiply(java.math.BigInteger.valueOf(outChannels));
            throw new IllegalArgumentException(who + ": width stride " + strideW + " with output width " + outWidth
                    + " and " + outChannels + " output channels is past oneDNN 3.13's strided deconvolution"
                    + " kernel: its per-thread buffer of ceil(width / stride) * stride * stride * channels = " + need
                    + " elements overflows the 32-bit int it is computed in (at most " + limit + " = 2^31 - 4096; it would"
                    + " crash the JVM), so forward runs it on the reference. A smaller width stride, or an output width"
                    + " that is a multiple of it, runs natively");
        }
    }

    /** A reorder (layout conversion, same values) from {@code from} to {@code to}. */
    public static PrimitiveDescriptor reorder(MemoryDescriptor from, MemoryDescriptor to, PrimitiveAttributes attributes,
                                              String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_reorder_primitive_desc_create(out, from.handle(), engine, to.handle(), engine, attr),
                    "dnnl_reorder_primitive_desc_create", description);
        }
    }

    /** The weights layout the primitive chose (an owned copy). */
    public static MemoryDescriptor chosenWeights(PrimitiveDescriptor pd) {
        return pd.queryMemory(dnnl_query_weights_md(), 0);
    }

    /** Let the primitive choose the layout. */
    public static int anyFormat() {
        return dnnl_format_tag_any();
    }

    private static volatile int channelBlock;

    /** oneDNN's channel block for f32 activations on this CPU: 16 with AVX-512 (and later), else 8. */
    public static int channelBlock() {
        int b = channelBlock;
        if (b == 0) {
            String isa = RuntimeQueries.effectiveIsa();
            channelBlock = b = isa.startsWith("avx512") || isa.startsWith("avx10") ? 16 : 8;
        }
        return b;
    }

    /** The 4-D channel-blocked layout for {@link #channelBlock()}: {@code nChw16c} ({@code aBcd16b}) or {@code nChw8c}. */
    public static int channelBlocked4d() {
        return channelBlock() == 16 ? dnnl_aBcd16b() : dnnl_aBcd8b();
    }

    /** The 4-D channels-last layout {@code nhwc} ({@code acdb}). */
    public static int channelsLast4d() {
        return dnnl_acdb();
    }

    /** Channels-last for 5-D activations ({@code ndhwc}). */
    public static int channelsLast5d() {
        return dnnl_acdeb();
    }

    /** Row-major in the logical order (nchw, oihw, goihw, x ...) for {@code rank} dimensions. */
    public static int rowMajor(int rank) {
        return switch (rank) {
            case 1 -> dnnl_a();
            case 4 -> dnnl_abcd();
            case 5 -> dnnl_abcde();
            case 6 -> dnnl_abcdef();   // grouped 3-D convolution weights [g, oc/g, ic/g, kd, kh, kw]
            default -> throw new IllegalArgumentException("no row-major tag wired for rank " + rank);
        };
    }

    /**
     * PyTorch's ConvTranspose weight [in, out/g, kh, kw] seen as oneDNN's logical deconvolution
     * weights: [oc, ic, kh, kw] stored i-o-h-w ("bacd"), or grouped [g, oc/g, ic/g, kh, kw]
     * stored g-i-o-h-w ("acbde").
     */
    public static int inputMajorWeights(boolean grouped) {
        return grouped ? dnnl_acbde() : dnnl_bacd();
    }

    /**
     * The format tag of PyTorch's weight storage over oneDNN's logical weight dims ({@link
     * ConvSpec#weightDims()}, {@code rank} of them): row-major ({@code (g)oihw}) for a convolution,
     * {@link #inputMajorWeights} for a transposed one. 2-D convolutions (rank 4, or 5 grouped).
     */
    public static int pytorchWeights(boolean transposed, boolean grouped, int rank) {
        if (rank != (grouped ? 5 : 4)) {
            throw new IllegalArgumentException("no PyTorch weight format wired for " + (grouped ? "grouped " : "") + "weights of rank " + rank);
        }
        return transposed ? inputMajorWeights(grouped) : rowMajor(rank);
    }

}
