package dev.panamadnn.compile;

import dev.panamadnn.Module;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.NormOps;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PoolOps;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.Reorder;
import dev.panamadnn.models.ResNet;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.Activation;
import dev.panamadnn.nn.AvgPool2d;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Bottleneck;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.ConvNd;
import dev.panamadnn.nn.ELU;
import dev.panamadnn.nn.GELU;
import dev.panamadnn.nn.LeakyReLU;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.PaddingMode;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import dev.panamadnn.nn.SiLU;
import dev.panamadnn.nn.Sigmoid;
import dev.panamadnn.nn.Tanh;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Lowers a module tree to a straight list of oneDNN primitives over numbered buffers (see
 * {@link CompiledModel} for what is fused). Reads the model's parameters and never writes them:
 * batch-norm folding works on copies. Single-use and single-threaded; on failure everything it
 * created is closed.
 */
final class Compiler {
    /** Buffer ids that are not plan-owned activation buffers. */
    static final int INPUT = -1, OUTPUT = -2, CONSTANT = -3, UNUSED = -4;

    /** An activation: its layout (owned by the plan), the logical buffer holding it, its logical shape. */
    record Value(MemoryDescriptor md, int buffer, long[] shape) {}

    /** One primitive execution: per argument its id, layout, and buffer (logical id, or CONSTANT with the segment). */
    record Step(Primitive primitive, int[] argIds, MemoryDescriptor[] descs, int[] buffers, MemorySegment[] constants,
                String description, Winograd.Conv winograd) {}

    private record Item(Module module, String path) {}

    final CompileOptions options;
    /** The plan's intra-op threads (0: OpenMP's default), in force on this thread while primitives are created. */
    private final int threads;
    /** Multiply-adds x 2 of every convolution and inner product in the plan. */
    long flops;

    Compiler(CompileOptions options, int threads) {
        this.options = options;
        this.threads = threads;
    }

    final List<AutoCloseable> owned = new ArrayList<>();
    final Arena constants = Arena.ofShared();
    final List<Step> steps = new ArrayList<>();
    /** Per logical buffer: {bytes, first step, last step}. */
    final List<long[]> buffers = new ArrayList<>();
    long[] outputShape;
    /** The logical buffer bound to the caller's output instead of a plan buffer, or -1. */
    int outputAlias = -1;

    /** Builds the steps for {@code model} on an input of {@code inputShape}. */
    void compile(Module model, long[] inputShape) {
        MemoryDescriptor in = own(MemoryDescriptor.f32(Ops.plain(inputShape.length), inputShape));
        List<Item> items = new ArrayList<>();
        flatten(model, "", items);
        Value last = lowerAll(items, new Value(in, INPUT, inputShape));
        outputShape = last.shape();
        MemoryDescriptor plainOut = own(MemoryDescriptor.f32(Ops.plain(outputShape.length), outputShape));
        if (last.buffer() >= 0 && last.md().sameLayoutAs(plainOut) && buffers.get(last.buffer())[0] <= plainOut.byteSize()
                && !winogradUses(last.buffer())) {
            outputAlias = last.buffer();   // the last layer writes straight into the caller's output
        } else {
            Primitive p = own(Reorder.primitive(last.md(), plainOut, "reorder to the plain output"));
            emit(p, "reorder to the plain output", new int[] {ConvOps.argFrom(), ConvOps.argTo()},
                    new MemoryDescriptor[] {last.md(), plainOut}, new int[] {last.buffer(), OUTPUT}, new MemorySegment[2]);
        }
    }

    /** Closes what was created, newest first. */
    void closeAll() {
        List<AutoCloseable> all = new ArrayList<>(owned);
        Collections.reverse(all);
        RuntimeException failure = null;
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("CompiledModel: closing a native object failed", e);
            }
        }
        owned.clear();
        if (constants.scope().isAlive()) constants.close();
        if (failure != null) throw failure;
    }

    private <T extends AutoCloseable> T own(T t) {
        owned.add(t);
        return t;
    }

    // ---- traversal ------------------------------------------------------------------------

    private static void flatten(Module m, String path, List<Item> out) {
        if (m instanceof Sequential s) {
            for (int i = 0; i < s.modules().size(); i++) flatten(s.modules().get(i), join(path, String.valueOf(i)), out);
        } else if (m instanceof ResNet r) {
            for (String name : new String[] {"conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"}) {
                flatten(r.children().get(name), join(path, name), out);
            }
            out.add(new Item(new Flatten(), join(path, "flatten")));
            flatten(r.children().get("fc"), join(path, "fc"), out);
        } else {
            out.add(new Item(m, path));
        }
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    private Value lowerAll(List<Item> items, Value x) {
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            Module m = it.module();
            String at = it.path().isEmpty() ? "the model" : it.path();
            if (m instanceof Conv2d c) {
                BatchNorm2d bn = null;
                String bnAt = null, actAt = null;
                Activation act = null;
                if (i + 1 < items.size() && items.get(i + 1).module() instanceof BatchNorm2d b) {
                    bn = b;
                    bnAt = items.get(++i).path();
                }
                if (i + 1 < items.size() && activationOf(items.get(i + 1).module()) != null) {
                    act = activationOf(items.get(i + 1).module());
                    actAt = items.get(++i).path();
                }
                x = conv(c, at, bn, bnAt, act, actAt, x, null);
            } else if (m instanceof BasicBlock b) {
                Value identity = b.downsample() == null ? x : lower(b.downsample(), join(it.path(), "downsample"), x);
                Value a = conv(b.conv1(), at + ".conv1", b.bn1(), at + ".bn1", RELU, at + ".relu", x, null);
                x = conv(b.conv2(), at + ".conv2", b.bn2(), at + ".bn2", RELU, at + ".relu", a, identity);
            } else if (m instanceof Bottleneck b) {
                Value identity = b.downsample() == null ? x : lower(b.downsample(), join(it.path(), "downsample"), x);
                Value a = conv(b.conv1(), at + ".conv1", b.bn1(), at + ".bn1", RELU, at + ".relu", x, null);
                Value c2 = conv(b.conv2(), at + ".conv2", b.bn2(), at + ".bn2", RELU, at + ".relu", a, null);
                x = conv(b.conv3(), at + ".conv3", b.bn3(), at + ".bn3", RELU, at + ".relu", c2, identity);
            } else if (m instanceof MaxPool2d p) {
                x = maxPool(p, x, at);
            } else if (m instanceof AvgPool2d p) {
                x = avgPool(p, x, at);
            } else if (m instanceof AdaptiveAvgPool2d p) {
                x = adaptiveAvgPool(p, x, at);
            } else if (activationOf(m) != null) {
                x = eltwise(activationOf(m), x, at);
            } else if (m instanceof Flatten f) {
                x = flattenValue(f, x, at);
            } else if (m instanceof Linear l) {
                Activation next = i + 1 < items.size() ? activationOf(items.get(i + 1).module()) : null;
                if (next != null && l.activation() == null && options.fusePostOps()) {
                    x = linear(l, next, x, at + "+" + items.get(++i).path());   // the following activation as a post-op
                } else {
                    x = linear(l, l.activation(), x, at);
                }
            } else if (m instanceof BatchNorm2d bn) {
                require4d(x, bn, at);
                x = batchNorm(bn, x, at);
            } else {
                throw unsupported(m, at, null);
            }
        }
        return x;
    }

    private Value lower(Module m, String path, Value x) {
        List<Item> items = new ArrayList<>();
        flatten(m, path, items);
        return lowerAll(items, x);
    }

    static UnsupportedOperationException unsupported(Module m, String at, String why) {
        String name = m == null ? "null" : m.getClass().getSimpleName() + " " + m.toString().lines().findFirst().orElse("");
        return new UnsupportedOperationException("CompiledModel: cannot compile " + name + " at " + at + ": "
                + (why != null ? why : "supported are Sequential, ResNet, Conv2d, BatchNorm2d, the activations (ReLU, LeakyReLU, "
                + "Sigmoid, Tanh, GELU, SiLU, ELU), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BasicBlock, Bottleneck, Flatten and Linear"));
    }

    private static final Activation RELU = Activation.relu();

    /** The function of an activation layer, or null if {@code m} is not one. */
    static Activation activationOf(Module m) {
        if (m instanceof ReLU a) return a.activation();
        if (m instanceof LeakyReLU a) return a.activation();
        if (m instanceof Sigmoid a) return a.activation();
        if (m instanceof Tanh a) return a.activation();
        if (m instanceof GELU a) return a.activation();
        if (m instanceof SiLU a) return a.activation();
        if (m instanceof ELU a) return a.activation();
        return null;
    }

    private static void require4d(Value x, Module m, String at) {
        if (x.shape().length != 4) {
            throw new IllegalArgumentException("CompiledModel: " + at + " (" + m.getClass().getSimpleName()
                    + ") expects a 4-D [N, C, H, W] activation, got shape " + Arrays.toString(x.shape()));
        }
    }

    // ---- operations ---------------------------------------------------------------------------

    /**
     * conv, then (if given) batch norm, the residual add of {@code sum} and the activation
     * {@code act} (at {@code actAt}), each fused into the convolution or a separate primitive as
     * {@link #options} say.
     */
    private Value conv(Conv2d conv, String at, BatchNorm2d bn, String bnAt, Activation act, String actAt, Value x, Value sum) {
        boolean fold = bn != null && options.foldBatchNorm();
        boolean sumHere = sum != null && options.fuseResidualSum() && (bn == null || fold);
        boolean actHere = act != null && options.fusePostOps() && (bn == null || fold) && (sum == null || sumHere);
        String what = at + (fold ? "+" + bnAt : "") + (sumHere ? "+sum(identity)" : "") + (actHere ? "+" + actAt : "");
        Value y = convPrimitive(conv, fold ? bn : null, sumHere ? sum : null, actHere ? act : null, x, what);
        boolean actDone = actHere;
        if (bn != null && !fold) {
            // Not fused: oneDNN's batch norm takes no post-ops, and its fuse_norm_relu flag is a max(x, 0) that
            // turns NaN into 0 (PyTorch keeps it); the activation follows as its own step.
            y = batchNorm(bn, y, bnAt);
        }
        if (sum != null && !sumHere) {
            boolean addAct = act != null && options.fusePostOps();
            y = add(y, sum, addAct ? act : null, "residual add of " + at + (addAct ? "+" + actAt : ""));
            actDone |= addAct;
        }
        if (act != null && !actDone) y = eltwise(act, y, actAt + " after " + at);
        return y;
    }

    private boolean isPlain(Value x) {
        try (MemoryDescriptor plain = MemoryDescriptor.f32(Ops.plain(x.shape().length), x.shape())) {
            return x.md().sameLayoutAs(plain);
        }
    }

    /** Whether a 4-D activation layout is {@code nhwc}, the one the Winograd transforms read and write. */
    private static boolean isChannelsLast(MemoryDescriptor md, long[] shape) {
        try (MemoryDescriptor nhwc = MemoryDescriptor.f32(ConvOps.channelsLast4d(), shape)) {
            return md.sameLayoutAs(nhwc);
        }
    }

    /** The oneDNN formulation of {@code act} in this plan: {@link Ops#eltwise(String, float)}, or oneDNN's relu with {@code fastRelu}. */
    private Ops.EltwiseOp eltwiseOp(Activation act) {
        return options.fastRelu() && isPlainRelu(act) ? Ops.fastRelu() : Ops.eltwise(act.kind().name(), act.alpha());
    }

    private static boolean isPlainRelu(Activation a) {
        return a.kind() == dev.panamadnn.Eltwise.Kind.RELU && a.alpha() == 0f;
    }

    /** One convolution (+ folded bn) (+ sum into {@code sum}'s buffer) (+ relu), weights reordered once into the chosen layout. */
    private Value convPrimitive(Conv2d conv, BatchNorm2d bn, Value sum, Activation act, Value x, String what) {
        require4d(x, conv, what);
        ConvNd.Geometry g = conv.geometry();
        if (g.paddingMode() != PaddingMode.ZEROS) {
            throw unsupported(conv, what, "only padding_mode zeros is compiled, got " + g.paddingMode());
        }
        long[] outShape = conv.outputShape(x.shape());
        for (int i = 0; i < 2; i++) {
            // Eager Conv2d pads such geometries explicitly; a plan would need that copy as a step of its own.
            if (ConvOps.mayHavePaddingOnlyWindows(x.shape()[2 + i], g.kernel()[i], g.dilation()[i], g.padBefore()[i], g.padAfter()[i])) {
                throw unsupported(conv, what, "a window may lie wholly in the padding (padding " + g.padBefore()[i] + "/" + g.padAfter()[i]
                        + ", kernel " + g.kernel()[i] + ", dilation " + g.dilation()[i] + " on spatial dim " + i
                        + "), which oneDNN's kernels mishandle; eager forward handles it");
            }
        }
        long oc = g.outChannels(), groups = g.groups();
        float[] w = conv.weight().toFloatArray();
        float[] b = conv.bias() == null ? (bn == null ? null : new float[(int) oc]) : conv.bias().toFloatArray();
        if (bn != null) {
            if (bn.numFeatures() != oc) {
                throw new IllegalArgumentException("CompiledModel: " + what + ": BatchNorm2d has " + bn.numFeatures()
                        + " features but the convolution gives " + oc + " channels");
            }
            fold(w, b, bn);
        }
        long[] k = g.kernel();
        long[] wDims = groups == 1 ? new long[] {oc, g.inChannels(), k[0], k[1]}
                : new long[] {groups, oc / groups, g.inChannels() / groups, k[0], k[1]};
        int any = ConvOps.anyFormat();
        int srcFormat, dstFormat;
        switch (options.layout()) {
            case PLAIN -> srcFormat = dstFormat = Ops.plain(4);
            case CHANNEL_BLOCKED -> {
                int block = ConvOps.channelBlock();
                boolean blocked = groups == 1;
                srcFormat = blocked && g.inChannels() % block == 0 ? ConvOps.channelBlocked4d() : any;
                dstFormat = blocked && oc % block == 0 ? ConvOps.channelBlocked4d() : any;
            }
            default -> {
                // A stem (fewer input channels than a SIMD block, e.g. RGB): oneDNN's fast kernel reads the
                // plain input as it is and writes channel-blocked; nhwc there would cost an input reorder and
                // a slower kernel (measured: the input reorder alone took 2% of a ResNet-18 run at batch 1).
                int block = ConvOps.channelBlock();
                if (g.inChannels() < block && groups == 1) {
                    srcFormat = isPlain(x) ? Ops.plain(4) : any;
                    dstFormat = oc % block == 0 ? ConvOps.channelBlocked4d() : any;
                } else {
                    srcFormat = dstFormat = ConvOps.channelsLast4d();
                }
            }
        }
        MemoryDescriptor srcAny = own(MemoryDescriptor.f32(srcFormat, x.shape()));
        MemoryDescriptor wAny = own(MemoryDescriptor.f32(any, wDims));
        MemoryDescriptor dstAny = own(MemoryDescriptor.f32(dstFormat, outShape));
        MemoryDescriptor biasMd = b == null ? null : own(MemoryDescriptor.f32(Ops.plain1d(), oc));
        long[] dil = g.dilation().clone();
        for (int i = 0; i < dil.length; i++) dil[i] -= 1;
        MemoryDescriptor src, weights, dst;
        Primitive p;
        String impl;
        try (PostOps post = PostOps.create()) {
            if (sum != null) post.sum(1f);
            if (act != null) post.eltwise(eltwiseOp(act));
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = ConvOps.convolution(srcAny, wAny, biasMd, dstAny, g.stride(), dil, g.padBefore(),
                         g.padAfter(), attr, "compiled " + what)) {
                src = own(Chosen.src(pd));
                weights = own(Chosen.weights(pd));
                dst = own(Chosen.dst(pd));
                p = own(Primitive.create(pd));
                impl = pd.implementation();
            }
        }
        flops += 2 * outShape[0] * oc * outShape[2] * outShape[3] * (g.inChannels() / groups) * k[0] * k[1];
        MemorySegment wBuf = constants.allocate(weights.byteSize(), 64);
        try (Arena tmp = Arena.ofConfined();
             MemoryDescriptor plainW = MemoryDescriptor.f32(ConvOps.rowMajor(wDims.length), wDims)) {
            reorderOnce(plainW, tmp.allocateFrom(ValueLayout.JAVA_FLOAT, w), weights, wBuf, "weights of " + what);
        }
        if (winogradFits(g, x, outShape, act) && isChannelsLast(src, x.shape()) && isChannelsLast(dst, outShape)) {   // the direct one stays as the guard's fallback
            return winogradConv(w, b, x, outShape, sum, act != null, what, new Direct(p, src, weights, biasMd, dst, wBuf, impl));
        }
        Value in = x.md().sameLayoutAs(src) ? x : reorder(x, src, "reorder into " + what);
        int out = destination(sum, dst, what);
        String d = "conv " + what + " [" + impl + "]";
        if (b == null) {
            emit(p, d, new int[] {ConvOps.argSrc(), ConvOps.argWeights(), ConvOps.argDst()},
                    new MemoryDescriptor[] {src, weights, dst}, new int[] {in.buffer(), CONSTANT, out},
                    new MemorySegment[] {null, wBuf, null});
        } else {
            MemorySegment bBuf = constants.allocateFrom(ValueLayout.JAVA_FLOAT, b);
            emit(p, d, new int[] {ConvOps.argSrc(), ConvOps.argWeights(), ConvOps.argBias(), ConvOps.argDst()},
                    new MemoryDescriptor[] {src, weights, biasMd, dst}, new int[] {in.buffer(), CONSTANT, CONSTANT, out},
                    new MemorySegment[] {null, wBuf, bBuf, null});
        }
        return new Value(dst, out, outShape);
    }

    /**
     * The buffer a convolution writes in layout {@code dst}: a new one, or, with a residual
     * {@code sum} post-op, the one holding the shortcut (reordered into {@code dst} first if needed),
     * which the convolution then overwrites in place.
     */
    private int destination(Value sum, MemoryDescriptor dst, String what) {
        if (sum == null) return newBuffer(dst.byteSize());
        Value acc = sum.buffer() >= 0 && sum.md().sameLayoutAs(dst) ? sum : reorder(sum, dst, "reorder shortcut for " + what);
        for (List<Value> copies : reordered.values()) copies.removeIf(v -> v == acc);   // overwritten in place from here on
        return acc.buffer();
    }

    /**
     * Whether {@link Winograd} F(4x4, 3x3) runs this convolution: switched on, channels-last, the
     * Vector API present, 3x3 / stride 1 / padding 1 / no dilation or groups, channels a multiple of
     * the vector lanes, ReLU or no activation, and enough output tiles (see {@link CompileOptions#winograd()}).
     */
    private boolean winogradFits(ConvNd.Geometry g, Value x, long[] outShape, Activation act) {
        if (!options.winograd() || options.layout() != CompileOptions.Layout.CHANNELS_LAST || !Winograd.available()) return false;
        long[] k = g.kernel(), s = g.stride(), d = g.dilation(), pl = g.padBefore(), pr = g.padAfter();
        for (int i = 0; i < 2; i++) {
            if (k[i] != 3 || s[i] != 1 || d[i] != 1 || pl[i] != 1 || pr[i] != 1) return false;
        }
        int lanes = Winograd.lanes();
        if (g.groups() != 1 || g.inChannels() % lanes != 0 || g.outChannels() % lanes != 0) return false;
        if (act != null && !isPlainRelu(act)) return false;
        if (x.buffer() < 0) return false;   // the caller's (plain) input: the direct kernel reads it without a reorder
        return outShape[0] * Winograd.tiles(outShape[2]) * Winograd.tiles(outShape[3]) >= Winograd.MIN_TILES;
    }

    /** A created direct convolution, its weights reordered into {@code weightBuffer}: a Winograd step's guard fallback. */
    private record Direct(Primitive primitive, MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor biasMd,
                          MemoryDescriptor dst, MemorySegment weightBuffer, String impl) {}

    /**
     * A Winograd F(4x4, 3x3) convolution (weights {@code w}, already batch-norm folded; bias {@code b}
     * or none) writing {@code nhwc}: transformed weights reordered once into the matmul's layout, the
     * matmul primitive over one chunk of tiles, and buffers for one chunk of transformed input and products;
     * {@code direct} (same weights, bias and post-ops) runs instead when the input trips the guard.
     */
    private Value winogradConv(float[] w, float[] b, Value x, long[] outShape, Value sum, boolean relu, String what, Direct direct) {
        int n = (int) x.shape()[0], c = (int) x.shape()[1], h = (int) x.shape()[2], wd = (int) x.shape()[3], k = (int) outShape[1];
        MemoryDescriptor nhwcIn = own(MemoryDescriptor.f32(ConvOps.channelsLast4d(), x.shape()));
        MemoryDescriptor nhwcOut = own(MemoryDescriptor.f32(ConvOps.channelsLast4d(), outShape));
        Value in = x.md().sameLayoutAs(nhwcIn) ? x : reorder(x, nhwcIn, "reorder into " + what);
        long tiles = (long) n * Winograd.tiles(h) * Winograd.tiles(wd), chunk = Winograd.chunkTiles(tiles, c, k);
        MemoryDescriptor v = own(MemoryDescriptor.f32(Ops.plain(3), 36, chunk, c));
        MemoryDescriptor m = own(MemoryDescriptor.f32(Ops.plain(3), 36, chunk, k));
        MemoryDescriptor uAny = own(MemoryDescriptor.f32(ConvOps.anyFormat(), 36, c, k));
        MemoryDescriptor u;
        Primitive p;
        String impl;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = Ops.matmul(v, uAny, m, attr, "compiled Winograd products of " + what)) {
            u = own(Chosen.weights(pd));
            p = own(Primitive.create(pd));
            impl = pd.implementation();
        }
        MemorySegment uBuf = constants.allocate(u.byteSize(), 64);
        try (Arena tmp = Arena.ofConfined();
             MemoryDescriptor plainU = MemoryDescriptor.f32(Ops.plain(3), 36, c, k)) {
            reorderOnce(plainU, tmp.allocateFrom(ValueLayout.JAVA_FLOAT, Winograd.transformWeights(w, k, c)), u, uBuf,
                    "Winograd weights of " + what);
        }
        MemorySegment bias = constants.allocate(4L * k, 64);
        if (b != null) MemorySegment.copy(b, 0, bias, ValueLayout.JAVA_FLOAT, 0, k);
        int out = destination(sum, nhwcOut, what);
        int vBuf = newBuffer(v.byteSize()), mBuf = newBuffer(m.byteSize());
        Step fallback = direct.biasMd() == null
                ? new Step(direct.primitive(), new int[] {ConvOps.argSrc(), ConvOps.argWeights(), ConvOps.argDst()},
                        new MemoryDescriptor[] {direct.src(), direct.weights(), direct.dst()}, new int[] {in.buffer(), CONSTANT, out},
                        new MemorySegment[] {null, direct.weightBuffer(), null}, "direct fallback [" + direct.impl() + "]", null)
                : new Step(direct.primitive(), new int[] {ConvOps.argSrc(), ConvOps.argWeights(), ConvOps.argBias(), ConvOps.argDst()},
                        new MemoryDescriptor[] {direct.src(), direct.weights(), direct.biasMd(), direct.dst()},
                        new int[] {in.buffer(), CONSTANT, CONSTANT, out}, new MemorySegment[] {null, direct.weightBuffer(), bias, null},
                        "direct fallback [" + direct.impl() + "]", null);
        String d = "conv " + what + " [winograd F(4x4,3x3): " + (tiles + chunk - 1) / chunk + " x " + chunk + " tiles, " + impl
                + "; guarded, else " + direct.impl() + "]";
        emitWinograd(p, d, new int[] {Ops.argSrc(), Ops.argWeights(), Ops.argDst()}, new MemoryDescriptor[] {v, u, m},
                new int[] {vBuf, CONSTANT, mBuf}, new MemorySegment[] {null, uBuf, null},
                new Winograd.Conv(in.buffer(), out, bias, n, h, wd, c, k, chunk, sum != null, relu, fallback));
        return new Value(nhwcOut, out, outShape);
    }

    /**
     * Folds inference batch-norm into the preceding convolution, in double:
     * {@code s = gamma / sqrt(var + eps); w' = w * s; b' = (b - mean) * s + beta} per output channel.
     */
    static void fold(float[] w, float[] b, BatchNorm2d bn) {
        int c = bn.numFeatures();
        float[] mean = bn.runningMean().toFloatArray(), var = bn.runningVar().toFloatArray();
        float[] gamma = bn.weight() == null ? null : bn.weight().toFloatArray();
        float[] beta = bn.bias() == null ? null : bn.bias().toFloatArray();
        int per = w.length / c;
        for (int o = 0; o < c; o++) {
            double s = (gamma == null ? 1.0 : gamma[o]) / Math.sqrt(var[o] + bn.eps());
            for (int j = o * per; j < (o + 1) * per; j++) w[j] = (float) (w[j] * s);
            b[o] = (float) ((b[o] - (double) mean[o]) * s + (beta == null ? 0.0 : beta[o]));
        }
    }

    private Value maxPool(MaxPool2d pool, Value x, String at) {
        require4d(x, pool, at);
        long[] outShape = pool.outputShape(x.shape());
        Window w = window(pool.kernelSize(), pool.stride(), pool.padding(), pool.dilation(), x.shape(), outShape);
        // oneDNN's kernels take at most 2^31 - 1 per dimension; the mask below is a Java array of oh * ow.
        Sizes.dnnlDims(pool + " at " + at, "the input and output [N, C, H, W]", x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3],
                outShape[2], outShape[3]);
        Sizes.arrayLength(pool + " at " + at, "the padding-window mask (output height x width)",
                Sizes.multiply(pool + " at " + at, "output height x width", outShape[2], outShape[3]));
        return pool(PoolOps.Algorithm.MAX, x, outShape, w.k(), w.s(), w.d(), w.pl(), w.pr(), "maxpool " + at,
                paddingOnlyWindows(x.shape(), outShape, w));
    }

    /**
     * {@code [1, 1, oh, ow]}: -inf where a max-pooling window lies wholly in the padding, 0 elsewhere;
     * null if no window does. oneDNN's maximum starts from -FLT_MAX, so such a window gives
     * -3.4028235E38 where PyTorch gives -inf; the pooling adds this as a binary post-op (NaN and
     * infinities are unchanged by + 0). Possible with dilation, e.g. kernel 2, dilation 2,
     * padding 1 on a size-1 input.
     */
    private static float[] paddingOnlyWindows(long[] inShape, long[] outShape, Window w) {
        boolean[][] empty = new boolean[2][];
        boolean any = false;
        for (int a = 0; a < 2; a++) {
            long in = inShape[2 + a], out = outShape[2 + a];
            empty[a] = new boolean[Math.toIntExact(out)];
            for (int o = 0; o < out; o++) {
                boolean none = true;
                for (long j = 0; j < w.k()[a] && none; j++) {
                    long i = o * w.s()[a] - w.pl()[a] + j * (w.d()[a] + 1);
                    none = i < 0 || i >= in;
                }
                empty[a][o] = none;
                any |= none;
            }
        }
        if (!any) return null;
        int oh = empty[0].length, ow = empty[1].length;
        float[] mask = new float[oh * ow];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) mask[y * ow + x] = empty[0][y] || empty[1][x] ? Float.NEGATIVE_INFINITY : 0f;
        return mask;
    }

    private Value avgPool(AvgPool2d pool, Value x, String at) {
        require4d(x, pool, at);
        long[] outShape = pool.outputShape(x.shape());
        Window w = window(pool.kernelSize(), pool.stride(), pool.padding(), new int[] {1, 1}, x.shape(), outShape);
        if (pool.countIncludePad() && !Arrays.equals(w.pl(), w.pr())) {
            throw unsupported(pool, at, "ceil_mode with count_include_pad and a last window past the padding has a "
                    + "PyTorch divisor oneDNN does not compute (eager forward repairs it; the compiler does not), input "
                    + Arrays.toString(x.shape()));
        }
        return pool(pool.countIncludePad() ? PoolOps.Algorithm.AVG_INCLUDE_PADDING : PoolOps.Algorithm.AVG_EXCLUDE_PADDING, x,
                outShape, w.k(), w.s(), w.d(), w.pl(), w.pr(), "avgpool " + at, null);
    }

    /** A 2-D pooling window in oneDNN's terms: 0-based dilation, and the right padding ceil_mode may need beyond PyTorch's. */
    private record Window(long[] k, long[] s, long[] d, long[] pl, long[] pr) {}

    private static Window window(int[] k, int[] s, int[] pad, int[] d, long[] inShape, long[] outShape) {
        long[] kl = new long[2], sl = new long[2], dl = new long[2], pl = new long[2], pr = new long[2];
        for (int i = 0; i < 2; i++) {
            kl[i] = k[i];
            sl[i] = s[i];
            dl[i] = d[i] - 1;
            pl[i] = pad[i];
            long reach = (long) (k[i] - 1) * d[i] + 1;
            pr[i] = Math.max(pad[i], (outShape[2 + i] - 1) * s[i] + reach - inShape[2 + i] - pad[i]);
        }
        return new Window(kl, sl, dl, pl, pr);
    }

    private Value adaptiveAvgPool(AdaptiveAvgPool2d pool, Value x, String at) {
        require4d(x, pool, at);
        long[] outShape = pool.outputShape(x.shape());
        long[] k = new long[2];
        for (int i = 0; i < 2; i++) {
            long in = x.shape()[2 + i], out = outShape[2 + i];
            if (in % out != 0) {
                throw unsupported(pool, at, "only output sizes that divide the input are compiled (e.g. 1, global), got input "
                        + Arrays.toString(x.shape()) + " -> " + Arrays.toString(outShape));
            }
            k[i] = in / out;
        }
        return pool(PoolOps.Algorithm.AVG_EXCLUDE_PADDING, x, outShape, k, k.clone(), new long[2], new long[2], new long[2],
                "avgpool " + at, null);
    }

    /** A pooling primitive; {@code addend} ({@code [1, 1, oh, ow]}, or null) is added to its output as a post-op. */
    private Value pool(PoolOps.Algorithm algorithm, Value x, long[] outShape, long[] k, long[] s, long[] d, long[] pl, long[] pr,
                       String what, float[] addend) {
        MemoryDescriptor dstAny = own(MemoryDescriptor.f32(options.layout() == CompileOptions.Layout.PLAIN ? Ops.plain(4) : ConvOps.anyFormat(), outShape));
        MemoryDescriptor addendMd = addend == null ? null : own(MemoryDescriptor.f32(Ops.plain(4), 1, 1, outShape[2], outShape[3]));
        MemoryDescriptor dst;
        Primitive p;
        String impl;
        try (PostOps post = PostOps.create();
             PrimitiveAttributes attr = addend == null ? PrimitiveAttributes.userScratchpad()
                     : PrimitiveAttributes.userScratchpad(post.add(addendMd));
             PrimitiveDescriptor pd = PoolOps.pooling(algorithm, x.md(), dstAny, s, k, d, pl, pr, attr, "compiled " + what)) {
            dst = own(Chosen.dst(pd));
            p = own(Primitive.create(pd));
            impl = pd.implementation();
        }
        int out = newBuffer(dst.byteSize());
        String description = what + (addend == null ? "" : "+(-inf where a window is all padding)") + " [" + impl + "]";
        if (addend == null) {
            emit(p, description, new int[] {ConvOps.argSrc(), ConvOps.argDst()}, new MemoryDescriptor[] {x.md(), dst},
                    new int[] {x.buffer(), out}, new MemorySegment[2]);
        } else {
            emit(p, description, new int[] {ConvOps.argSrc(), ConvOps.argDst(), Ops.argPostOpSrc1(0)},
                    new MemoryDescriptor[] {x.md(), dst, addendMd}, new int[] {x.buffer(), out, CONSTANT},
                    new MemorySegment[] {null, null, constants.allocateFrom(ValueLayout.JAVA_FLOAT, addend)});
        }
        return new Value(dst, out, outShape);
    }

    /** Inference batch norm with the running statistics as a primitive of its own (folding off), out of place. */
    private Value batchNorm(BatchNorm2d bn, Value x, String what) {
        long c = x.shape()[1];
        if (bn.numFeatures() != c) {
            throw new IllegalArgumentException("CompiledModel: " + what + ": BatchNorm2d has " + bn.numFeatures()
                    + " features but the convolution gives " + c + " channels");
        }
        boolean affine = bn.weight() != null;
        MemoryDescriptor channels = own(MemoryDescriptor.f32(Ops.plain1d(), c));
        Primitive p;
        String impl;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = NormOps.batchNormalization(x.md(), (float) bn.eps(), affine, attr, "compiled " + what)) {
            p = own(Primitive.create(pd));
            impl = pd.implementation();
        }
        MemorySegment mean = constants.allocateFrom(ValueLayout.JAVA_FLOAT, bn.runningMean().toFloatArray());
        MemorySegment var = constants.allocateFrom(ValueLayout.JAVA_FLOAT, bn.runningVar().toFloatArray());
        int out = newBuffer(x.md().byteSize());
        String d = "batchnorm " + what + " [" + impl + "]";
        if (affine) {
            MemorySegment scale = constants.allocateFrom(ValueLayout.JAVA_FLOAT, bn.weight().toFloatArray());
            MemorySegment shift = constants.allocateFrom(ValueLayout.JAVA_FLOAT, bn.bias().toFloatArray());
            emit(p, d, new int[] {NormOps.argSrc(), NormOps.argDst(), NormOps.argMean(), NormOps.argVariance(), NormOps.argScale(),
                            NormOps.argShift()},
                    new MemoryDescriptor[] {x.md(), x.md(), channels, channels, channels, channels},
                    new int[] {x.buffer(), out, CONSTANT, CONSTANT, CONSTANT, CONSTANT},
                    new MemorySegment[] {null, null, mean, var, scale, shift});
        } else {
            emit(p, d, new int[] {NormOps.argSrc(), NormOps.argDst(), NormOps.argMean(), NormOps.argVariance()},
                    new MemoryDescriptor[] {x.md(), x.md(), channels, channels}, new int[] {x.buffer(), out, CONSTANT, CONSTANT},
                    new MemorySegment[] {null, null, mean, var});
        }
        return new Value(x.md(), out, x.shape());
    }

    /** The residual add as a binary primitive (sum fusion off): {@code x += identity} in place (+ ReLU post-op). */
    private Value add(Value x, Value identity, Activation act, String what) {
        Value id = identity.md().sameLayoutAs(x.md()) ? identity : reorder(identity, x.md(), "reorder shortcut for " + what);
        Primitive p;
        String impl;
        try (PostOps post = PostOps.create()) {
            if (act != null) post.eltwise(eltwiseOp(act));
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = NormOps.add(x.md(), attr, "compiled " + what)) {
                p = own(Primitive.create(pd));
                impl = pd.implementation();
            }
        }
        emit(p, what + " [" + impl + "]", new int[] {NormOps.argSrc(), NormOps.argSrc1(), NormOps.argDst()},
                new MemoryDescriptor[] {x.md(), x.md(), x.md()}, new int[] {x.buffer(), id.buffer(), x.buffer()},
                new MemorySegment[3]);
        return x;
    }

    /** A standalone activation (one not fused into a convolution), out of place. */
    private Value eltwise(Activation act, Value x, String at) {
        Primitive p;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = Ops.eltwise(eltwiseOp(act), x.md(), attr,
                     "compiled " + act + " " + at)) {
            p = own(Primitive.create(pd));
        }
        int out = newBuffer(x.md().byteSize());
        emit(p, (isPlainRelu(act) ? "relu " : "eltwise " + act + " ") + at, new int[] {ConvOps.argSrc(), ConvOps.argDst()}, new MemoryDescriptor[] {x.md(), x.md()},
                new int[] {x.buffer(), out}, new MemorySegment[2]);
        return new Value(x.md(), out, x.shape());
    }

    /** Flatten: a reorder to the plain layout if the activation is blocked, then a view of the same buffer. */
    private Value flattenValue(Flatten f, Value x, String at) {
        long[] outShape = f.outputShape(x.shape());
        MemoryDescriptor plain = own(MemoryDescriptor.f32(Ops.plain(x.shape().length), x.shape()));
        Value p = x.md().sameLayoutAs(plain) ? x : reorder(x, plain, "reorder to plain for " + at);
        return new Value(own(MemoryDescriptor.f32(Ops.plain(outShape.length), outShape)), p.buffer(), outShape);
    }

    private Value linear(Linear l, Activation act, Value x, String at) {
        if (x.shape().length != 2) {
            throw unsupported(l, at, "Linear is compiled on 2-D [N, features] activations (after a Flatten), got shape "
                    + Arrays.toString(x.shape()));
        }
        long[] outShape = l.outputShape(x.shape());
        MemoryDescriptor src = own(MemoryDescriptor.f32(Ops.plain(2), x.shape()));
        Value in = x.md().sameLayoutAs(src) ? x : reorder(x, src, "reorder into " + at);
        MemoryDescriptor wAny = own(MemoryDescriptor.f32(ConvOps.anyFormat(), l.outFeatures(), l.inFeatures()));
        MemoryDescriptor biasMd = l.bias() == null ? null : own(MemoryDescriptor.f32(Ops.plain1d(), l.outFeatures()));
        MemoryDescriptor dst = own(MemoryDescriptor.f32(Ops.plain(2), outShape));
        MemoryDescriptor weights;
        Primitive p;
        String impl;
        try (PostOps post = PostOps.create()) {
            if (act != null) post.eltwise(eltwiseOp(act));
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = Ops.innerProduct(src, wAny, biasMd, dst, attr, "compiled linear " + at)) {
                weights = own(Chosen.weights(pd));
                p = own(Primitive.create(pd));
                impl = pd.implementation();
            }
        }
        flops += 2 * x.shape()[0] * l.inFeatures() * l.outFeatures();
        MemorySegment wBuf = constants.allocate(weights.byteSize(), 64);
        try (MemoryDescriptor plainW = MemoryDescriptor.f32(Ops.plain(2), l.outFeatures(), l.inFeatures())) {
            reorderOnce(plainW, l.weight().segment(), weights, wBuf, "weights of " + at);
        }
        int out = newBuffer(dst.byteSize());
        String d = "linear " + at + (act == null || act != l.activation() ? "" : "+" + act) + " [" + impl + "]";
        if (biasMd == null) {
            emit(p, d, new int[] {Ops.argSrc(), Ops.argWeights(), Ops.argDst()}, new MemoryDescriptor[] {src, weights, dst},
                    new int[] {in.buffer(), CONSTANT, out}, new MemorySegment[] {null, wBuf, null});
        } else {
            MemorySegment bBuf = constants.allocateFrom(ValueLayout.JAVA_FLOAT, l.bias().toFloatArray());
            emit(p, d, new int[] {Ops.argSrc(), Ops.argWeights(), Ops.argBias(), Ops.argDst()},
                    new MemoryDescriptor[] {src, weights, biasMd, dst}, new int[] {in.buffer(), CONSTANT, CONSTANT, out},
                    new MemorySegment[] {null, wBuf, bBuf, null});
        }
        return new Value(dst, out, outShape);
    }

    /**
     * Reorders weights once, now. The eager execution it uses sets this thread's OpenMP team to the
     * global count; the plan's count is put back, since oneDNN sizes every primitive created
     * afterwards (their work split, baked in) by the creating thread's team.
     */
    private void reorderOnce(MemoryDescriptor from, MemorySegment src, MemoryDescriptor to, MemorySegment dst, String what) {
        Reorder.once(from, src, to, dst, what);
        if (threads > 0) ThreadControl.applyToCurrentThread(threads);
    }

    /** Per activation (by identity): the copies already reordered into other layouts. */
    private final IdentityHashMap<Value, List<Value>> reordered = new IdentityHashMap<>();

    /**
     * {@code x} in layout {@code to}, through a reorder step; a value that two consumers need in the
     * same layout (a block's input, read by its first convolution and its downsample) is reordered once.
     */
    private Value reorder(Value x, MemoryDescriptor to, String what) {
        List<Value> copies = reordered.computeIfAbsent(x, v -> new ArrayList<>());
        for (Value c : copies) {
            if (c.md().sameLayoutAs(to)) return c;
        }
        Primitive p = own(Reorder.primitive(x.md(), to, what));
        int out = newBuffer(to.byteSize());
        emit(p, what, new int[] {ConvOps.argFrom(), ConvOps.argTo()}, new MemoryDescriptor[] {x.md(), to},
                new int[] {x.buffer(), out}, new MemorySegment[2]);
        Value y = new Value(to, out, x.shape());
        copies.add(y);
        return y;
    }

    // ---- buffers --------------------------------------------------------------------------------

    private int newBuffer(long bytes) {
        buffers.add(new long[] {bytes, -1, -1});
        return buffers.size() - 1;
    }

    private void emit(Primitive p, String description, int[] argIds, MemoryDescriptor[] descs, int[] bufs, MemorySegment[] consts) {
        for (int b : bufs) touch(b);
        steps.add(new Step(p, argIds, descs, bufs, consts, description, null));
    }

    /** A Winograd step: its matmul's arguments (transformed input, weights, products), plus the activations it reads and writes. */
    private void emitWinograd(Primitive p, String description, int[] argIds, MemoryDescriptor[] descs, int[] bufs,
                              MemorySegment[] consts, Winograd.Conv conv) {
        for (int b : new int[] {bufs[0], bufs[2], conv.input(), conv.output()}) touch(b);
        steps.add(new Step(p, argIds, descs, bufs, consts, description, conv));
    }

    /** Marks plan buffer {@code b} (ids below 0 are not plan buffers) as used by the step about to be added. */
    private void touch(int b) {
        if (b < 0) return;
        long[] buf = buffers.get(b);
        if (buf[1] < 0) buf[1] = steps.size();
        buf[2] = steps.size();
    }

    /** Whether a Winograd step reads or writes plan buffer {@code b} (those are never bound to the caller's tensors). */
    private boolean winogradUses(int b) {
        for (Step st : steps) {
            if (st.winograd() != null && (st.winograd().input() == b || st.winograd().output() == b)) return true;
        }
        return false;
    }
}
