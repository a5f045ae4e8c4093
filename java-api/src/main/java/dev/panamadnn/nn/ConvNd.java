package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.lowering.ConvSpec;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The N-d (1-D and 2-D) convolution and transposed convolution shared by {@link Conv1d},
 * {@link Conv2d}, {@link ConvTranspose1d} and {@link ConvTranspose2d}: validated PyTorch
 * hyperparameters, the parameters, the oneDNN path and the plain-Java reference.
 *
 * <p>Internally everything is 2-D: a 1-D layer is a 2-D one with height 1 (kernel, stride and
 * dilation 1, no padding on that axis), so one primitive family and one reference serve both.
 *
 * <p>Native path: one oneDNN (de)convolution primitive per input shape, created on first use
 * with plain nchw activations and the weights layout oneDNN prefers ({@code any}); the weights
 * are reordered into that layout (and the bias copied) once, when the shape is first seen
 * ({@link ConvPrimitives}). So parameters must hold their final values before the first
 * {@link #forward} (load the state_dict first), or call {@link #weightsChanged()} after writing
 * them. Primitives use a user scratchpad, so one layer serves any number of threads at once;
 * {@link #close()} may race with running forwards (it waits for them; see {@link Layer}).
 */
public abstract sealed class ConvNd extends Layer permits Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d {
    private final String layer;
    private final boolean transposed;
    private final int nd;
    private final long in, out, groups;
    private final long[] kernel, stride, dilation, padBefore, padAfter, outputPadding;
    private final String paddingText;
    private final boolean causal;
    private final PaddingMode paddingMode;
    private final Tensor weight, bias;
    /**
     * The hyperparameters for the lowering: as given, and without padding (for inputs this layer
     * pads itself); each also lifted to 2-D, the form the primitives take (made once, not per call).
     */
    private final ConvSpec spec, unpadded, spec2d, unpadded2d;
    private final ConvPrimitives primitives;

    ConvNd(ConvConfig c) {
        layer = c.layer();
        transposed = c.transposed();
        nd = c.spatialDims();
        in = c.in();
        out = c.out();
        groups = c.groups();
        if (in <= 0) throw bad("in_channels must be > 0, got " + in);
        if (out <= 0) throw bad("out_channels must be > 0, got " + out);
        if (groups <= 0) throw bad("groups must be > 0, got " + groups);
        if (in % groups != 0) throw bad("in_channels " + in + " must be divisible by groups " + groups);
        if (out % groups != 0) throw bad("out_channels " + out + " must be divisible by groups " + groups);
        kernel = perDim("kernel_size", c.kernel(), 1);
        stride = perDim("stride", c.stride(), 1);
        dilation = perDim("dilation", c.dilation(), 1);
        outputPadding = perDim("output_padding", c.outputPadding(), 0);
        paddingMode = c.paddingMode();
        if (paddingMode == null) throw bad("padding_mode must not be null");
        if (transposed && paddingMode != PaddingMode.ZEROS) {
            throw bad("only padding_mode zeros is supported, got " + paddingMode.pytorchName());
        }
        causal = c.causal();
        paddingText = c.paddingText();
        long[][] pads = resolvePadding(c);
        padBefore = pads[0];
        padAfter = pads[1];
        if (transposed) {
            for (int i = 0; i < nd; i++) {
                if (outputPadding[i] >= stride[i] && outputPadding[i] >= dilation[i]) {
                    throw bad("output_padding must be smaller than either stride or dilation, got output_padding="
                            + tuple(outputPadding) + ", stride=" + tuple(stride) + ", dilation=" + tuple(dilation));
                }
            }
        }
        spec = ConvSpec.of(transposed, in, out, groups, kernel, stride, dilation, padBefore, padAfter, transposed ? outputPadding : null);
        unpadded = spec.withPadding(new long[nd], new long[nd]);
        spec2d = spec.lifted2d();
        unpadded2d = unpadded.lifted2d();
        long[] wShape = spec.pytorchWeightShape();
        Sizes.f32Bytes(layer + ": weight", wShape);   // named here rather than by Tensor.zeros
        weight = Tensor.zeros(wShape);
        bias = c.bias() ? Tensor.zeros(out) : null;
        initialise();
        primitives = new ConvPrimitives(toString(), weight, bias);
    }

    private long[][] resolvePadding(ConvConfig c) {
        long[] before, after;
        if (causal) {
            if (transposed || nd != 1) throw bad("causal padding is only defined for Conv1d");
            if (c.paddingText() != null || !allZero(perDim("padding", c.paddingBefore(), 0))
                    || !allZero(perDim("padding", c.paddingAfter(), 0))) {
                throw bad("causal and an explicit padding are exclusive");
            }
            before = new long[] {(kernel[0] - 1) * dilation[0]};
            after = new long[] {0};
        } else if (c.paddingText() != null) {
            before = new long[nd];
            after = new long[nd];
            switch (c.paddingText()) {
                case "valid" -> { }
                case "same" -> {
                    if (!allOne(stride)) throw bad("padding='same' is not supported for strided convolutions, got stride=" + tuple(stride));
                    for (int i = 0; i < nd; i++) {
                        long total = dilation[i] * (kernel[i] - 1);
                        before[i] = total / 2;
                        after[i] = total - before[i];
                    }
                }
                default -> throw bad("padding must be 'same', 'valid' or sizes, got '" + c.paddingText() + "'");
            }
        } else {
            before = perDim("padding", c.paddingBefore(), 0);
            after = perDim("padding", c.paddingAfter(), 0);
        }
        return new long[][] {before, after};
    }

    /** PyTorch's default initialisation (kaiming-uniform with a = sqrt(5)), from a fixed seed so runs repeat. */
    private void initialise() {
        long fanIn = weight.dim(1);
        for (long k : kernel) fanIn *= k;
        double bound = 1 / Math.sqrt(fanIn);
        var random = new SplittableRandom(0x5eed);
        Init.uniform(weight, random, bound);
        if (bias != null) Init.uniform(bias, random, bound);
    }

    /**
     * Native inference on oneDNN ({@link Backend#AUTO}, {@link Backend#ONEDNN}; OPENBLAS has no
     * convolution and also means oneDNN) or the plain-Java reference ({@link Backend#REFERENCE}).
     * Input {@code [N, C_in, *spatial]} or unbatched {@code [C_in, *spatial]}; output the same
     * rank with {@code C_out} channels and the sizes of {@link #outputShape}; a new tensor the
     * caller owns. A transposed convolution whose width stride is past what oneDNN's strided
     * deconvolution kernel can buffer (docs/convolution.md, "Limits"; it would crash there), or
     * ungrouped with any stride past 1,024 (oneDNN's setup then takes seconds to minutes), runs
     * on the reference on every backend.
     */
    @Override
    Tensor compute(Tensor input, long[] outShape, Backend backend) {
        return run(input, backend != Backend.REFERENCE, null);
    }

    /** {@link #compute} written straight into the caller's validated {@code out}. */
    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        run(input, backend != Backend.REFERENCE, out);
    }

    /**
     * The hyperparameters as resolved numbers (for compilers such as {@code dev.panamadnn.compile}):
     * per spatial dimension, dilation 1-based as in PyTorch, padding per side after 'same' /
     * causal resolution. Arrays are copies.
     *
     * @param inChannels  input channels
     * @param outChannels output channels
     * @param groups      the number of channel groups
     * @param kernel      the kernel size
     * @param stride      the step of the window
     * @param dilation    the spacing between kernel taps (1: adjacent)
     * @param padBefore   zeros (or the padding mode's values) before each spatial dimension
     * @param padAfter    the same after
     * @param transposed  whether this is a transposed convolution
     * @param paddingMode how the border is filled
     */
    public record Geometry(long inChannels, long outChannels, long groups, long[] kernel, long[] stride, long[] dilation,
                           long[] padBefore, long[] padAfter, boolean transposed, PaddingMode paddingMode) {}

    /** {@return this layer's {@link Geometry}} */
    public Geometry geometry() {
        return new Geometry(in, out, groups, kernel.clone(), stride.clone(), dilation.clone(), padBefore.clone(),
                padAfter.clone(), transposed, paddingMode);
    }

    /** {@return the weight, PyTorch layout: Conv {@code [out, in/groups, k...]}, ConvTranspose {@code [in, out/groups, k...]}} */
    public Tensor weight() {
        return weight;
    }

    /** {@return the bias {@code [out]}, or null when built with {@code bias(false)}} */
    public Tensor bias() {
        return bias;
    }

    /**
     * The output shape for an input shape, validating it like {@link #forward} does.
     * Convolution: {@code out = floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1};
     * transposed: {@code out = (in-1)*stride - padBefore - padAfter + dilation*(k-1) + output_padding + 1}.
     */
    @Override
    public long[] outputShape(long... inputShape) {
        return plan(inputShape).userOutputShape();
    }

    /**
     * The oneDNN implementation chosen for an input shape, e.g. {@code brg_conv_fwd:avx2}.
     *
     * @param inputShape the input shape
     * @throws IllegalArgumentException for a geometry oneDNN's kernels cannot run (that
     *         {@link #forward} runs on the reference), naming the limit
     * @return the oneDNN implementation's name, e.g. {@code brg_conv_fwd:avx512_core}
     */
    public String implementation(long... inputShape) {
        Plan p = plan(inputShape);
        if (!transposed && !primitives.nativeKernelsFit(p)) {
            throw bad("input " + Arrays.toString(inputShape) + " runs on the reference: one input channel per group, an output one"
                    + " wide and a width stride > 1 at height stride 1, which oneDNN 3.13's brg_conv_fwd computes wrongly"
                    + " (docs/convolution.md)");
        }
        if (transposed && primitives.nothingToCompute(p)) {
            throw bad("input " + Arrays.toString(inputShape) + " runs on the reference: every output of " + Arrays.toString(p.userOutputShape())
                    + " lies in the output padding past the cropped padding, where no kernel tap reaches (the bias alone), so oneDNN"
                    + " has nothing to compute");
        }
        if (primitives.nativeKernelsFit(p) && primitives.onlyReferenceKernel(p) && referenceFits(p)) {
            throw bad("input " + Arrays.toString(inputShape) + " runs on the reference: oneDNN offers only its reference kernel ("
                    + primitives.implementation(p) + ") for it, which visits every tap in the padding too; ours visits only those inside"
                    + " the input");
        }
        return primitives.implementation(p);
    }

    /**
     * Tells the native path that the parameters were written after it ran: drops the primitives
     * and their reordered weight copies, so the next {@link #forward} reads the new values. A
     * forward running meanwhile finishes on its old copy (freed when it returns): safe, but which
     * weights a racing forward sees is not defined. (The reference path always reads the parameters directly.)
     */
    public void weightsChanged() {
        checkOpen();
        primitives.clear();
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("weight", weight);
        if (bias != null) m.put("bias", bias);
        return Collections.unmodifiableMap(m);
    }

    @Override
    void release() {
        primitives.close();
        weight.close();
        if (bias != null) bias.close();
    }

    /**
     * One call, lifted to 2-D: the batch, the input height/width after any explicit padding, the
     * output sizes, the spec oneDNN runs ({@code spec2d}: with the padding it applies itself, none
     * where this layer pads explicitly; {@link ConvSpec#lower} gives the primitive's geometry), the
     * output shape as the caller sees it, and the explicit padding {top, bottom, left, right} (null if none).
     */
    record Plan(long n, long ih, long iw, long oh, long ow, ConvSpec spec2d, long[] userOutputShape, long[] explicitPad) {}

    private Plan plan(long[] shape) {
        checkOpen();
        if (shape == null) throw bad("input must not be null");
        checkShapeArgument(shape);
        if (shape.length != nd + 1 && shape.length != nd + 2) {
            String dims = nd == 1 ? "L" : "H, W";
            throw bad("expected a " + (nd + 2) + "-D input [N, C, " + dims + "] or an unbatched " + (nd + 1)
                    + "-D one [C, " + dims + "], got rank " + shape.length + " shape " + Arrays.toString(shape));
        }
        boolean batched = shape.length == nd + 2;
        long n = batched ? shape[0] : 1;
        long channels = shape[batched ? 1 : 0];
        if (channels != in) {
            throw bad("expected " + in + " input channels (dim " + (batched ? 1 : 0) + "), got " + channels
                    + " in shape " + Arrays.toString(shape));
        }
        long[] size = Arrays.copyOfRange(shape, shape.length - nd, shape.length);
        ConvSpec nativeSpec = spec;
        long[] explicit = null;
        // A window wholly in the zero padding (e.g. Conv1d(4, 1, kernel 1, stride 3, padding (2, 1)) on
        // [3, 4, 1]) crashes oneDNN's kernels: such geometries get their zeros as an explicit padded copy
        // and no padding in oneDNN, like the other padding modes.
        if (paddingMode != PaddingMode.ZEROS || (!transposed && spec.mayHavePaddingOnlyWindows(size))) {
            for (int i = 0; i < nd; i++) {
                long limit = paddingMode == PaddingMode.REFLECT ? size[i] - 1 : paddingMode == PaddingMode.CIRCULAR ? size[i] : Long.MAX_VALUE;
                if (padBefore[i] > limit || padAfter[i] > limit) {
                    throw bad("padding_mode " + paddingMode.pytorchName() + " needs padding <= " + limit + " on spatial dim " + i
                            + " of input " + Arrays.toString(shape) + ", got (" + padBefore[i] + ", " + padAfter[i] + ")");
                }
            }
            explicit = lift2(padBefore, padAfter);
            for (int i = 0; i < nd; i++) size[i] += padBefore[i] + padAfter[i];
            nativeSpec = unpadded;
        }
        long[] outSize = nativeSpec.outputSize(this, size);
        for (int i = 0; i < nd; i++) {
            if (outSize[i] <= 0) {
                ConvSpec.Axis a = nativeSpec.axes().get(i);
                throw bad("output size " + outSize[i] + " <= 0 on spatial dim " + i + " for input " + Arrays.toString(shape)
                        + (transposed ? ": padding cuts more than the output has"
                                : ": kernel (dilated extent " + a.reach() + ") larger than padded input " + (size[i] + a.padBefore() + a.padAfter())));
            }
        }
        long[] userOut = shape.clone();
        userOut[batched ? 1 : 0] = out;
        System.arraycopy(outSize, 0, userOut, shape.length - nd, nd);
        if (!Sizes.fits(userOut, Float.BYTES)) Sizes.f32Bytes(toString() + ": output", userOut);
        Sizes.dnnlDims(this, "the batch and spatial sizes [N, H, W, H_out, W_out]",
                n, nd == 1 ? 1 : size[0], size[nd - 1], nd == 1 ? 1 : outSize[0], outSize[nd - 1]);
        ConvSpec lifted = nativeSpec == spec ? spec2d : unpadded2d;
        if (nd == 1) return new Plan(n, 1, size[0], 1, outSize[0], lifted, userOut, explicit);
        return new Plan(n, size[0], size[1], outSize[0], outSize[1], lifted, userOut, explicit);
    }

    private long[] lift2(long[] before, long[] after) {
        return nd == 1 ? new long[] {0, 0, before[0], after[0]} : new long[] {before[0], after[0], before[1], after[1]};
    }


    /** Runs on an input {@link Layer#forward} has already validated, into {@code into} (the caller's out) or, if null, a new tensor. */
    private Tensor run(Tensor input, boolean nativePath, Tensor into) {
        Plan p = plan(input.shape());
        // A transposed geometry past oneDNN's strided-kernel buffer (it would crash there, see
        // docs/convolution.md "Limits") runs on the reference: absurdly strided, so little work.
        if (nativePath && !primitives.nativeKernelsFit(p)) nativePath = false;
        if (!nativePath) return reference(p, input, into);
        long[] e = p.explicitPad();
        Tensor x = nativeReady(input), padded = null;   // x: the input, or its contiguous off-heap copy
        try {
            if (e != null) {
                // The explicit padding (reflect, replicate, circular, or zeros where oneDNN 3.13 mishandles a window wholly
                // in the padding) from native memory into native memory: no Java array, so no heap of the input's size (a
                // 282 MB input on a 512 MB heap ran out of it: scripts/fuzz --long --seed 5003 --threads 2 --family Conv2d
                // --case 1573).
                checkPaddedSize(p);
                padded = Tensor.zeros(p.n(), in, p.ih(), p.iw());
                ConvReference.pad(x.segment(), p.n(), in, p.ih() - e[0] - e[1], p.iw() - e[2] - e[3], paddingMode, e[0], e[1], e[2], e[3],
                        padded.segment());
            }
            // Where oneDNN offers only its reference kernel, ours (ConvPrimitives.forward), unless its arrays cannot hold the layer.
            MemorySegment src = (padded != null ? padded : x).segment();
            Tensor y = primitives.forward(src, p, into, false);
            if (y == null && !referenceFits(p)) y = primitives.forward(src, p, into, true);
            if (y != null) return y;
        } finally {
            if (padded != null) padded.close();
            if (x != input) x.close();
        }
        return reference(p, input, into);
    }

    /** The reference, straight into the native output: a strided transposed layer's output can be far larger than its input. */
    private Tensor reference(Plan p, Tensor input, Tensor into) {
        float[] x;
        long[] e = p.explicitPad();
        if (e != null) {
            long h = p.ih() - e[0] - e[1], w = p.iw() - e[2] - e[3];
            checkPaddedSize(p);   // before the int casts
            x = ConvReference.pad(input.toFloatArray(), (int) p.n(), (int) in, (int) h, (int) w, paddingMode,
                    (int) e[0], (int) e[1], (int) e[2], (int) e[3]);
        } else {
            x = input.toFloatArray();
        }
        ConvReference.Geometry g = geometry(p);
        float[] w = weight.toFloatArray(), b = bias == null ? null : bias.toFloatArray();
        Tensor y = into != null ? into : LayerOutputs.allocate(p.userOutputShape());
        try {
            if (transposed) ConvReference.transposed(g, x, w, b, y.segment());
            else ConvReference.convolution(g, x, w, b, y.segment());
        } catch (RuntimeException | Error err) {
            if (into == null) y.close();
            throw err;
        }
        return y;
    }

    /**
     * Bounds an explicitly padded copy of the input (both paths make one) at a Java array's length, as it was when the
     * copy was a Java array on both: the reference still needs that, and a padded input of 2^31 elements (8 GiB) is
     * refused with the layer's name rather than allocated.
     */
    private void checkPaddedSize(Plan p) {
        long paddedElements = Sizes.multiply(this, "padded input elements", Sizes.multiply(this, "padded input elements", p.n() * in, p.ih()), p.iw());
        if (paddedElements > Sizes.MAX_ARRAY_LENGTH && paddingMode == PaddingMode.ZEROS) {
            throw bad("a window lies wholly in the zero padding, which oneDNN 3.13's kernels mishandle (docs/convolution.md), so"
                    + " such geometries are padded explicitly, in a copy of at most " + Sizes.MAX_ARRAY_LENGTH
                    + " elements (2^31 - 9); the padded input " + Arrays.toString(new long[] {p.n(), in, p.ih(), p.iw()}) + " has "
                    + paddedElements);
        }
        if (paddedElements > Sizes.MAX_ARRAY_LENGTH) {
            Sizes.arrayLength(toString(), "the " + paddingMode.pytorchName() + "-padded input " + Arrays.toString(new long[] {p.n(), in, p.ih(), p.iw()}),
                    paddedElements);
        }
    }

    /** Whether the reference can hold {@code p} in its Java arrays ({@link #geometry} would not refuse it). */
    private boolean referenceFits(Plan p) {
        try {
            geometry(p);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private ConvReference.Geometry geometry(Plan p) {
        // The reference indexes its Java arrays (input, weight) with int: refuse (rather than wrap)
        // past that; the output is a segment indexed with long (as large as the native path's). Every
        // index it forms (r * stride - pad + p * dilation, on either side) stays within the padded
        // extent plus the kernel's reach, so bounding those bounds every int expression.
        Object who = this;   // formatted only if a check fails
        Sizes.arrayLength(who, "the input", Sizes.multiply(who, "input elements", Sizes.multiply(who, "input elements", p.n() * in, p.ih()), p.iw()));
        Sizes.arrayLength(who, "the weight", weight.numel());
        // PyTorch's padding (the reference applies output_padding itself), lifted to 2-D like the plan.
        ConvSpec.Axis h = p.spec2d().axes().get(0), w = p.spec2d().axes().get(1);
        long[][] extents = {{p.ih(), p.oh(), h.padBefore(), h.padAfter(), h.reach()}, {p.iw(), p.ow(), w.padBefore(), w.padAfter(), w.reach()}};
        for (long[] e : extents) {
            long span = Sizes.add(who, "padded extent", Sizes.add(who, "padded extent", Math.max(e[0], e[1]), e[2] + e[3]), e[4]);
            Sizes.arrayLength(who, "a spatial extent (size + padding + dilated kernel)", span);
        }
        return new ConvReference.Geometry(Math.toIntExact(p.n()), (int) in, (int) out, (int) groups,
                Math.toIntExact(p.ih()), Math.toIntExact(p.iw()), Math.toIntExact(p.oh()), Math.toIntExact(p.ow()),
                (int) h.kernel(), (int) w.kernel(), (int) h.stride(), (int) w.stride(), (int) h.padBefore(), (int) w.padBefore(),
                (int) h.dilation(), (int) w.dilation());
    }

    private long[] perDim(String name, long[] values, long min) {
        if (values == null) throw bad(name + " must not be null");
        if (values.length != 1 && values.length != nd) {
            throw bad(name + (nd == 1 ? " must have 1 value" : " must have 1 or " + nd + " values") + ", got " + values.length + ": " + Arrays.toString(values));
        }
        long[] v = values.length == nd ? values.clone() : filled(values[0]);
        for (long x : v) if (x < min) throw bad(name + " must be >= " + min + ", got " + tuple(v));
        return v;
    }

    private long[] filled(long value) {
        long[] v = new long[nd];
        Arrays.fill(v, value);
        return v;
    }

    private static boolean allZero(long[] v) {
        for (long x : v) if (x != 0) return false;
        return true;
    }

    private static boolean allOne(long[] v) {
        for (long x : v) if (x != 1) return false;
        return true;
    }

    private IllegalArgumentException bad(String message) {
        return new IllegalArgumentException(layer + ": " + message);
    }

    /** A Python tuple: {@code (3,)} or {@code (3, 3)}. */
    static String tuple(long[] v) {
        if (v.length == 1) return "(" + v[0] + ",)";
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < v.length; i++) s.append(i == 0 ? "" : ", ").append(v[i]);
        return s.append(')').toString();
    }

    /**
     * ONNX's {@code Conv} or {@code ConvTranspose}: inputs X, {@code <path>.weight} and, with a
     * bias, {@code <path>.bias} (this layer's tensors as initializers, under their state_dict
     * names); attributes kernel_shape, strides, pads {@code [begin..., end...]} (after 'same' and
     * causal resolution, so possibly asymmetric), dilations (1-based), group, and output_padding
     * for the transposed form. As in {@link #forward}, a padding_mode other than zeros is a
     * {@code Pad} node (reflect, edge for replicate, wrap for circular) before a convolution
     * without padding, and so is a zero padding in which a window may lie wholly
     * ({@link ConvSpec#mayHavePaddingOnlyWindows}: forward pads those explicitly because oneDNN's
     * kernels mishandle them). An unbatched input runs as a batch of one.
     *
     * @throws dev.panamadnn.graph.GraphException if the input does not fit (this layer's message)
     */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        String w = graph.initializer(Lowering.join(path, "weight"), weight);
        String b = graph.optionalInitializer(Lowering.join(path, "bias"), bias);
        return Lowering.batched(graph, input, path, nd + 2, x -> {
            Shape shape = graph.value(x).shape();
            long[] size = new long[nd];
            for (int i = 0; i < nd; i++) size[i] = shape.dim(2 + i).size();
            long[] pb = padBefore.clone(), pa = padAfter.clone();
            if (paddingMode != PaddingMode.ZEROS || (!transposed && spec.mayHavePaddingOnlyWindows(size))) {
                long[] pads = new long[2 * (nd + 2)];   // [N, C, spatial... begin, N, C, spatial... end]
                System.arraycopy(pb, 0, pads, 2, nd);
                System.arraycopy(pa, 0, pads, nd + 4, nd);
                String mode = switch (paddingMode) {
                    case ZEROS -> "constant";
                    case REFLECT -> "reflect";
                    case REPLICATE -> "edge";
                    case CIRCULAR -> "wrap";
                };
                String p = graph.constant(graph.uniqueName(Lowering.join(path, "pads")), pads);
                x = graph.node("Pad", Lowering.join(path, "pad"), Attributes.of("mode", mode), x, p);
                Arrays.fill(pb, 0);
                Arrays.fill(pa, 0);
            }
            long[] pads = new long[2 * nd];
            System.arraycopy(pb, 0, pads, 0, nd);
            System.arraycopy(pa, 0, pads, nd, nd);
            Attributes.Builder a = Attributes.builder().put("kernel_shape", kernel).put("strides", stride).put("pads", pads)
                    .put("dilations", dilation).put("group", groups);
            if (transposed) a.put("output_padding", outputPadding);
            String op = transposed ? "ConvTranspose" : "Conv";
            return bias == null ? graph.node(op, path, a.build(), x, w) : graph.node(op, path, a.build(), x, w, b);
        });
    }

    /** PyTorch's repr: defaults are left out, like {@code _ConvNd.extra_repr}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(layer).append('(').append(in).append(", ").append(out)
                .append(", kernel_size=").append(tuple(kernel)).append(", stride=").append(tuple(stride));
        if (causal) s.append(", causal=True");
        else if (paddingText != null) s.append(", padding=").append(paddingText);
        else if (!Arrays.equals(padBefore, padAfter)) {
            s.append(", padding=(");
            for (int i = 0; i < nd; i++) s.append(i == 0 ? "" : ", ").append(tuple(new long[] {padBefore[i], padAfter[i]}));
            s.append(nd == 1 ? ",)" : ")");
        } else if (!allZero(padBefore)) s.append(", padding=").append(tuple(padBefore));
        if (!allOne(dilation)) s.append(", dilation=").append(tuple(dilation));
        if (!allZero(outputPadding)) s.append(", output_padding=").append(tuple(outputPadding));
        if (groups != 1) s.append(", groups=").append(groups);
        if (bias == null) s.append(", bias=False");
        if (paddingMode != PaddingMode.ZEROS) s.append(", padding_mode=").append(paddingMode.pytorchName());
        return s.append(')').toString();
    }
}
