package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.NormOps;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PoolOps;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.nn.Layer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import dev.panamadnn.compile.Compiler.Act;
import dev.panamadnn.compile.Compiler.JavaStep;
import dev.panamadnn.compile.Compiler.Step;
import dev.panamadnn.compile.Compiler.Value;
import static dev.panamadnn.compile.Compiler.CONSTANT;

/**
 * The lowering of the pooling nodes ({@code MaxPool}, {@code AveragePool}, {@code GlobalAveragePool},
 * {@code AdaptiveAvgPool} with divisible sizes): oneDNN pooling with PyTorch's ceil-mode window and
 * -inf for max-pooling windows wholly in the padding.
 */
final class PoolLowering {
    private PoolLowering() {}

    static Value maxPool(Compiler plan, Node n) {
        Value x = plan.spatial2d(n, plan.in(n, 0));
        long[] outShape = Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
        Window w = window(n, x.shape(), outShape);
        String at = n.name();
        // oneDNN's kernels take at most 2^31 - 1 per dimension; the mask below is a Java array of oh * ow.
        Sizes.dnnlDims("MaxPool at " + at, "the input and output [N, C, H, W]", x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3],
                outShape[2], outShape[3]);
        Sizes.arrayLength("MaxPool at " + at, "the padding-window mask (output height x width)",
                Sizes.multiply("MaxPool at " + at, "output height x width", outShape[2], outShape[3]));
        return pool(plan, PoolOps.Algorithm.MAX, x, outShape, w, "maxpool " + at, paddingOnlyWindows(x.shape(), outShape, w));
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

    static Value avgPool(Compiler plan, Node n) {
        Value x = plan.spatial2d(n, plan.in(n, 0));
        long[] outShape = Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
        Window w = window(n, x.shape(), outShape);
        boolean includePad = n.attributes().integer("count_include_pad", 0) != 0;
        long[] pads = Compiler.pads2d(n.attributes().integers("pads", null), 2);
        if (includePad && (!Arrays.equals(w.pr(), new long[] {pads[2], pads[3]}) || pads[0] != pads[2] || pads[1] != pads[3])) {
            // ceil_mode with count_include_pad and a last window past the padding: PyTorch's divisor there is one
            // oneDNN does not compute; the eager layer repairs it, so it runs as a Java step.
            Layer eager = EagerNodes.layerFor(n, plan.graph);
            if (eager == null) throw plan.unsupported(n, "ceil_mode with count_include_pad and asymmetric padding, input " + Arrays.toString(x.shape()));
            return OpLowering.javaStep(plan, n, plan.own(eager));
        }
        return pool(plan, includePad ? PoolOps.Algorithm.AVG_INCLUDE_PADDING : PoolOps.Algorithm.AVG_EXCLUDE_PADDING, x, outShape, w,
                "avgpool " + n.name(), null);
    }

    /** A 2-D pooling window in oneDNN's terms: 0-based dilation, and the right padding ceil_mode may need beyond the given one. */
    private record Window(long[] k, long[] s, long[] d, long[] pl, long[] pr) {}

    private static Window window(Node n, long[] inShape, long[] outShape) {
        Attributes a = n.attributes();
        long[] k = Compiler.window2d(a.integers("kernel_shape"), 1), s = Compiler.window2d(a.integers("strides", null), 1);
        long[] d = Compiler.window2d(a.integers("dilations", null), 1), pads = Compiler.pads2d(a.integers("pads", null), 2);
        long[] dl = new long[2], pl = new long[2], pr = new long[2];
        for (int i = 0; i < 2; i++) {
            dl[i] = d[i] - 1;
            pl[i] = pads[i];
            long reach = (k[i] - 1) * d[i] + 1;
            pr[i] = Math.max(pads[2 + i], (outShape[2 + i] - 1) * s[i] + reach - inShape[2 + i] - pads[i]);
        }
        return new Window(k.clone(), s.clone(), dl, pl, pr);
    }

    static Value adaptiveAvgPool(Compiler plan, Node n, long[] size) {
        Value x = plan.spatial2d(n, plan.in(n, 0));
        long[] outShape = Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
        long[] k = new long[2];
        for (int i = 0; i < 2; i++) {
            long in = x.shape()[2 + i], out = outShape[2 + i];
            if (in % out != 0) {   // windows of varying size: the eager layer's kernel, as a Java step
                Layer eager = EagerNodes.layerFor(n, plan.graph);
                if (eager == null) throw plan.unsupported(n, "adaptive pooling " + Arrays.toString(x.shape()) + " -> " + Arrays.toString(outShape));
                return OpLowering.javaStep(plan, n, plan.own(eager));
            }
            k[i] = in / out;
        }
        return pool(plan, PoolOps.Algorithm.AVG_EXCLUDE_PADDING, x, outShape, new Window(k, k.clone(), new long[2], new long[2], new long[2]),
                "avgpool " + n.name(), null);
    }

    /** A pooling primitive; {@code addend} ({@code [1, 1, oh, ow]}, or null) is added to its output as a post-op. */
    static Value pool(Compiler plan, PoolOps.Algorithm algorithm, Value x, long[] outShape, Window w, String what, float[] addend) {
        MemoryDescriptor dstAny = plan.own(MemoryDescriptor.f32(plan.options.layout() == CompileOptions.Layout.PLAIN ? Ops.plain(4) : ConvOps.anyFormat(), outShape));
        MemoryDescriptor addendMd = addend == null ? null : plan.own(MemoryDescriptor.f32(Ops.plain(4), 1, 1, outShape[2], outShape[3]));
        MemoryDescriptor dst;
        Primitive p;
        String impl;
        try (PostOps post = PostOps.create();
             PrimitiveAttributes attr = addend == null ? PrimitiveAttributes.userScratchpad()
                     : PrimitiveAttributes.userScratchpad(post.add(addendMd));
             PrimitiveDescriptor pd = PoolOps.pooling(algorithm, x.md(), dstAny, w.s(), w.k(), w.d(), w.pl(), w.pr(), attr, "compiled " + what)) {
            dst = plan.own(Chosen.dst(pd));
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
        }
        int out = plan.newBuffer(dst.byteSize());
        String description = what + (addend == null ? "" : "+(-inf where a window is all padding)") + " [" + impl + "]";
        if (addend == null) {
            plan.emit(p, description, new int[] {ConvOps.argSrc(), ConvOps.argDst()}, new MemoryDescriptor[] {x.md(), dst},
                    new int[] {x.buffer(), out}, new MemorySegment[2]);
        } else {
            plan.emit(p, description, new int[] {ConvOps.argSrc(), ConvOps.argDst(), Ops.argPostOpSrc1(0)},
                    new MemoryDescriptor[] {x.md(), dst, addendMd}, new int[] {x.buffer(), out, CONSTANT},
                    new MemorySegment[] {null, null, plan.constants.allocateFrom(ValueLayout.JAVA_FLOAT, addend)});
        }
        return new Value(dst, out, outShape);
    }
}
