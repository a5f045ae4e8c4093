package dev.panamadnn.onnx;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Shape;
import java.util.List;

/**
 * ONNX's {@code auto_pad} SAME_UPPER / SAME_LOWER for Conv, MaxPool and AveragePool as explicit pads,
 * computed from the input's spatial sizes (which must be fixed): each output size is
 * {@code ceil(in / stride)}, the total padding {@code max(0, (out - 1) * stride + (k - 1) * dilation + 1 - in)},
 * its odd element at the end (SAME_UPPER) or the beginning (SAME_LOWER). NOTSET and VALID are passed on.
 * Uneven pads (which our pooling lowering does not take) become a Pad before a MaxPool or AveragePool.
 */
final class AutoPad {
    private AutoPad() {}

    /** The check of {@code auto_pad}: NOTSET, VALID (without pads), SAME_UPPER, SAME_LOWER (without pads). */
    static final OpRule.Check CHECK = new OpRule.Check() {   // not a lambda: a spun class in a cold JVM
        @Override
        public String problem(Attributes a, int opset) {
            String p = a.string("auto_pad", "NOTSET");
            if (p.equals("NOTSET")) return null;
            if (!List.of("VALID", "SAME_UPPER", "SAME_LOWER").contains(p)) return "auto_pad " + p + " is not supported";
            return a.has("pads") ? "auto_pad " + p + " with pads is contradictory" : null;
        }
    };

    /** Emits {@code n.op} with explicit pads in place of SAME_UPPER / SAME_LOWER (a MaxPool's uneven pads as a Pad first). */
    static List<String> translate(NodeContext n) {
        String p = n.attributes.string("auto_pad", "NOTSET");
        Attributes kept = OpTable.kept(n.attributes);
        if (!p.startsWith("SAME_")) return pooled(n, kept);
        Shape x = n.value(0).shape();
        int spatial = x.rank() - 2;
        if (spatial < 1) throw n.refuse("auto_pad " + p + " needs spatial dims, got " + n.value(0));
        long[] kernel = kernel(n, spatial, "auto_pad " + p);
        long[] strides = n.attributes.integers("strides", null), dilations = n.attributes.integers("dilations", null);
        if (strides != null && strides.length != spatial || dilations != null && dilations.length != spatial) {
            throw n.refuse("strides and dilations must have one entry per spatial dim of " + n.value(0));
        }
        long[] pads = new long[2 * spatial];
        for (int i = 0; i < spatial; i++) {
            if (!x.dim(i + 2).isFixed()) throw n.needsConstant("auto_pad " + p + " needs fixed spatial sizes, got " + n.value(0));
            long in = x.dim(i + 2).size(), s = strides == null ? 1 : strides[i], d = dilations == null ? 1 : dilations[i];
            if (s < 1 || d < 1 || kernel[i] < 1) throw n.refuse("kernel_shape, strides and dilations must be >= 1");
            long out = (in + s - 1) / s;
            long total = Math.max(0, Math.addExact(Math.multiplyExact(out - 1, s), Math.multiplyExact(kernel[i] - 1, d)) + 1 - in);
            long small = total / 2, large = total - small;
            pads[i] = p.equals("SAME_UPPER") ? small : large;
            pads[i + spatial] = p.equals("SAME_UPPER") ? large : small;
        }
        Attributes a = kept.toBuilder().remove("auto_pad").put("pads", pads).build();
        return pooled(n, a);
    }

    /** {@code n.op} with attributes {@code a} (explicit pads): a MaxPool with Indices as such, else {@link #maxPoolPadded}. */
    private static List<String> pooled(NodeContext n, Attributes a) {
        return n.op.equals("MaxPool") && n.outputCount > 1 ? maxPoolWithIndices(n, a) : List.of(maxPoolPadded(n, a));
    }

    /**
     * A ConvTranspose's {@code output_shape} and {@code auto_pad} as explicit pads, by ONNX's equations: per spatial dim
     * the target size is {@code output_shape} (its last entries; a full {@code [N, C, ...]} shape is accepted) or, for
     * SAME_UPPER / SAME_LOWER, {@code in * stride}; {@code total = stride * (in - 1) + output_padding + (k - 1) * dilation
     * + 1 - target}, split {@code total / 2} at the beginning and the rest at the end for SAME_UPPER, the other way round
     * otherwise. The input's spatial sizes must be fixed; a target past what the kernel reaches (a negative total) gets
     * no padding and the difference as more output_padding: trailing outputs of bias only, as ONNX Runtime computes them
     * (its {@code max(0, total)}; ONNX's test {@code test_convtranspose_output_shape} expects them). VALID is no
     * padding; NOTSET without output_shape passes on.
     */
    static List<String> translateTransposed(NodeContext n) {
        Attributes kept = OpTable.kept(n.attributes);
        String p = n.attributes.string("auto_pad", "NOTSET");
        long[] target = n.attributes.integers("output_shape", null);
        String[] ins = n.inputs.toArray(new String[0]);
        if (target == null && !p.startsWith("SAME_")) {
            return List.of(n.emit(n.op, p.equals("VALID") ? kept.toBuilder().remove("auto_pad").build() : kept, ins));
        }
        Shape x = n.value(0).shape(), w = n.value(1).shape();
        int spatial = x.rank() - 2;
        if (spatial < 1 || w.rank() != x.rank()) throw n.refuse("output_shape and auto_pad need [N, C, spatial...] inputs and weights of the same rank, got "
                + n.value(0) + " and " + n.value(1));
        if (target != null && target.length == spatial + 2) target = java.util.Arrays.copyOfRange(target, 2, target.length);
        if (target != null && target.length != spatial) {
            throw n.refuse("output_shape must have one entry per spatial dim of " + n.value(0) + ", got " + java.util.Arrays.toString(target));
        }
        long[] kernel = kernel(n, spatial, "output_shape and auto_pad"), strides = n.attributes.integers("strides", null);
        long[] dilations = n.attributes.integers("dilations", null), outPad = n.attributes.integers("output_padding", null);
        for (long[] v : new long[][] {strides, dilations, outPad}) {
            if (v != null && v.length != spatial) throw n.refuse("strides, dilations and output_padding must have one entry per spatial dim of "
                    + n.value(0));
        }
        long[] pads = new long[2 * spatial], grown = new long[spatial];
        for (int i = 0; i < spatial; i++) {
            if (!x.dim(i + 2).isFixed()) throw n.needsConstant("output_shape and auto_pad " + p + " need fixed spatial sizes, got " + n.value(0));
            long k = kernel[i];
            if (k < 1) throw n.refuse("kernel_shape must be >= 1, got " + java.util.Arrays.toString(kernel));
            long in = x.dim(i + 2).size(), s = strides == null ? 1 : strides[i], d = dilations == null ? 1 : dilations[i];
            long op = outPad == null ? 0 : outPad[i];
            if (s < 1 || d < 1 || op < 0) throw n.refuse("strides and dilations must be >= 1 and output_padding >= 0");
            long want = target != null ? target[i] : Math.multiplyExact(in, s);
            long total = Math.addExact(Math.multiplyExact(s, in - 1), Math.addExact(op, Math.multiplyExact(k - 1, d) + 1)) - want;
            if (want < 1) throw n.refuse("output_shape must be >= 1, got " + want + " on spatial dim " + i);
            grown[i] = op;
            if (total < 0) {   // past what the kernel reaches: trailing outputs of bias only, as output_padding (ONNX Runtime does the same)
                grown[i] = op - total;
                total = 0;
            }
            boolean upper = p.equals("SAME_UPPER");
            pads[i] = upper ? total / 2 : total - total / 2;
            pads[i + spatial] = upper ? total - total / 2 : total / 2;
        }
        return List.of(n.emit(n.op, kept.toBuilder().remove("auto_pad").remove("output_shape").put("pads", pads).put("output_padding", grown).build(), ins));
    }

    /**
     * The kernel's spatial sizes for {@code what}: kernel_shape, else (a Conv or ConvTranspose) the weights' fixed
     * spatial dims; refused naming {@code what} when neither gives one size per spatial dim.
     */
    private static long[] kernel(NodeContext n, int spatial, String what) {
        long[] kernel = n.attributes.integers("kernel_shape", null);
        if (kernel == null && n.op.startsWith("Conv")) {
            Shape w = n.value(1).shape();
            kernel = new long[spatial];
            for (int i = 0; i < spatial; i++) {
                if (w.rank() != spatial + 2 || !w.dim(i + 2).isFixed()) throw n.refuse(what + " needs the kernel's size, got weights " + n.value(1));
                kernel[i] = w.dim(i + 2).size();
            }
        }
        if (kernel == null || kernel.length != spatial) throw n.refuse(what + " needs kernel_shape with one size per spatial dim of " + n.value(0));
        return kernel;
    }

    /**
     * {@code n.op} with attributes {@code a}; a MaxPool (ceil_mode 0) whose pads differ between the
     * beginning and the end of a dim (our pooling takes even pads, as PyTorch's) as a Pad with -inf
     * (which no window's maximum takes) then the MaxPool without pads: the same windows and maxima.
     */
    static String maxPoolPadded(NodeContext n, Attributes a) {
        long[] pads = a.integers("pads", null);
        boolean even = true;   // no pads, or an odd count (left to the shape rule's refusal), count as even
        for (int i = 0; pads != null && pads.length % 2 == 0 && i < pads.length / 2; i++) even &= pads[i] == pads[i + pads.length / 2];
        if (!even && a.integer("ceil_mode", 0) == 0 && n.op.equals("AveragePool")) return avgPoolPadded(n, a, pads);
        if (!n.op.equals("MaxPool") || even || a.integer("ceil_mode", 0) != 0) return n.emit(n.op, a, n.inputs.toArray(new String[0]));
        for (long v : pads) if (v < 0) throw n.refuse("pads must be >= 0, got " + java.util.Arrays.toString(pads));
        if (pads.length != 2 * (n.value(0).shape().rank() - 2)) throw n.refuse("pads must have two entries per spatial dim of " + n.value(0));
        long[] kernel = a.integers("kernel_shape", null);
        for (int i = 0; kernel != null && i < pads.length; i++) {
            if (i % (pads.length / 2) < kernel.length && pads[i] >= kernel[i % (pads.length / 2)]) {
                throw n.refuse("pads " + java.util.Arrays.toString(pads) + " must be smaller than kernel_shape " + java.util.Arrays.toString(kernel));
            }
        }
        long[] full = fullPads(pads);
        String padded = n.emit("Pad", Attributes.of("mode", "constant"), n.input(0), n.longs("pads", full, full.length),
                n.scalar("pad_value", Float.NEGATIVE_INFINITY));
        return n.emit("MaxPool", a.toBuilder().remove("pads").build(), padded);
    }

    /**
     * A MaxPool with its Indices output (opset 8 on): our MaxPool with both outputs, storage_order kept and the pads as
     * given (a Pad before it would shift the indices).
     */
    private static List<String> maxPoolWithIndices(NodeContext n, Attributes a) {
        if (n.opset < 8) throw n.refuse("MaxPool has no Indices output before opset 8, got " + n.outputCount + " outputs");
        Attributes withOrder = a.toBuilder().put("storage_order", n.attributes.integer("storage_order", 0)).build();
        return n.emit("MaxPool", withOrder, List.of(n.input(0)), 2);
    }

    /** [0, 0, begins..., 0, 0, ends...]: ONNX pads of the spatial dims as a Pad's pads of all dims. */
    private static long[] fullPads(long[] pads) {
        int spatial = pads.length / 2;
        long[] full = new long[2 * (spatial + 2)];
        for (int i = 0; i < spatial; i++) {
            full[2 + i] = pads[i];
            full[spatial + 4 + i] = pads[spatial + i];
        }
        return full;
    }

    /**
     * An AveragePool (ceil_mode 0) with uneven pads: a Pad with zeros, the AveragePool without pads
     * (dividing by the window size), then, unless count_include_pad, a Mul by the window size over the
     * count of input elements in each window (a constant of the output's spatial shape): the average
     * over the input elements only, as ONNX defines it.
     */
    private static String avgPoolPadded(NodeContext n, Attributes a, long[] pads) {
        Shape x = n.value(0).shape();
        int spatial = pads.length / 2;
        long[] kernel = a.integers("kernel_shape", null), strides = a.integers("strides", null);
        if (x.rank() != spatial + 2 || kernel == null || kernel.length != spatial || strides != null && strides.length != spatial) {
            throw n.refuse("pads " + java.util.Arrays.toString(pads) + ", kernel_shape and strides must have one entry per spatial dim of " + n.value(0));
        }
        long[] in = new long[spatial], out = new long[spatial];
        for (int i = 0; i < spatial; i++) {
            if (!x.dim(i + 2).isFixed()) throw n.needsConstant("uneven pads need fixed spatial sizes, got " + n.value(0));
            in[i] = x.dim(i + 2).size();
            long s = strides == null ? 1 : strides[i];
            if (s < 1 || kernel[i] < 1 || pads[i] < 0 || pads[i + spatial] < 0 || pads[i] >= kernel[i] || pads[i + spatial] >= kernel[i]) {
                throw n.refuse("strides and kernel_shape must be >= 1 and pads in [0, kernel), got kernel " + java.util.Arrays.toString(kernel)
                        + ", strides " + java.util.Arrays.toString(strides) + ", pads " + java.util.Arrays.toString(pads));
            }
            if (in[i] + pads[i] + pads[i + spatial] < kernel[i]) throw n.refuse("the window " + kernel[i] + " is larger than the padded input in dim " + (i + 2));
            out[i] = (in[i] + pads[i] + pads[i + spatial] - kernel[i]) / s + 1;
        }
        if (java.util.Arrays.stream(out).reduce(1, Math::multiplyExact) > (1 << 24)) throw n.refuse("the pooled output is too large for a constant divisor map");
        String padded = n.emit("Pad", Attributes.of("mode", "constant"), n.input(0), n.longs("pads", fullPads(pads), 2 * (spatial + 2)));
        boolean include = a.integer("count_include_pad", 0) != 0;
        String pooled = n.emit("AveragePool", a.toBuilder().remove("pads").put("count_include_pad", 1L).build(), padded);
        if (include) return pooled;
        int count = 1;
        for (long o : out) count = Math.multiplyExact(count, Math.toIntExact(o));
        float[] scale = new float[count];
        long window = 1;
        for (long k : kernel) window *= k;
        for (int flat = 0; flat < count; flat++) {
            long inside = 1;
            for (int i = spatial - 1, rest = flat; i >= 0; i--) {
                long o = rest % out[i];
                rest /= (int) out[i];
                long start = o * (strides == null ? 1 : strides[i]) - pads[i];   // in input coordinates
                inside *= Math.min(start + kernel[i], in[i]) - Math.max(start, 0);
            }
            scale[flat] = (float) ((double) window / inside);
        }
        long[] shape = new long[spatial + 2];
        shape[0] = 1;
        shape[1] = 1;
        System.arraycopy(out, 0, shape, 2, spatial);
        String factor = n.emit("Constant", Attributes.of("value", TensorProtos.floats(n.arena(), scale, shape)));
        return n.emit("Mul", Attributes.empty(), pooled, factor);
    }
}
