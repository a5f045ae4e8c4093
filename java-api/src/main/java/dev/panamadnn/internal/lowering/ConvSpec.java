package dev.panamadnn.internal.lowering;

import dev.panamadnn.internal.Sizes;
import java.util.ArrayList;
import java.util.List;

/**
 * A convolution or transposed convolution as PyTorch describes it: channels, groups and, per
 * spatial axis, kernel, stride, dilation (1-based), padding before/after (after 'same' / causal
 * resolution) and output_padding (transposed only). {@link #lower} turns it into oneDNN's geometry
 * for one input size. Layers validate their hyperparameters with their own messages first; the
 * checks here only keep an inconsistent spec from being built.
 *
 * @param axes one per spatial dimension (1 to 3), outermost first
 */
public record ConvSpec(boolean transposed, long inChannels, long outChannels, long groups, List<Axis> axes) {
    /**
     * One spatial axis in PyTorch's terms.
     *
     * @param dilation      1-based: 1 is a dense kernel
     * @param outputPadding extra output of a transposed convolution on the far side; 0 for a convolution
     */
    public record Axis(long kernel, long stride, long dilation, long padBefore, long padAfter, long outputPadding) {
        public Axis {
            if (kernel < 1 || stride < 1 || dilation < 1 || padBefore < 0 || padAfter < 0 || outputPadding < 0) {
                throw new IllegalArgumentException("convolution axis: expected kernel, stride, dilation >= 1 and padding,"
                        + " output_padding >= 0, got " + kernel + ", " + stride + ", " + dilation + ", " + padBefore + "/"
                        + padAfter + ", " + outputPadding);
            }
        }

        /** The extent of the dilated kernel: {@code dilation * (kernel - 1) + 1}. */
        public long reach() {
            return dilation * (kernel - 1) + 1;
        }

        /**
         * oneDNN's right padding: {@code padAfter}, less {@code output_padding} (a transposed convolution's
         * extra output has no oneDNN counterpart: the right padding shrinks by it, possibly below 0), and
         * 0 where that would reach {@code -stride} or below, which oneDNN refuses ({@link #tail()}).
         */
        public long oneDnnPadRight() {
            return tail() != 0 ? 0 : padAfter - outputPadding;
        }

        /**
         * Trailing outputs oneDNN does not compute: when {@code padAfter - output_padding <= -stride}, the
         * outputs past it are ones no kernel tap reaches (possible as output_padding < dilation), pure bias,
         * which the caller appends. 0 for a convolution.
         */
        public long tail() {
            long padRight = padAfter - outputPadding;
            return padRight + stride <= 0 ? -padRight : 0;
        }

        /**
         * PyTorch's output size for an input of {@code in}: convolution
         * {@code floor((in + padBefore + padAfter - reach) / stride) + 1}, transposed
         * {@code (in - 1) * stride - padBefore - padAfter + reach + output_padding}. May be {@code <= 0}
         * (the caller reports it); a transposed product past {@link Sizes#MAX_BYTES} is refused naming {@code who}.
         */
        public long outputSize(Object who, boolean transposed, long in) {
            if (!transposed) return Math.floorDiv(in + padBefore + padAfter - reach(), stride) + 1;
            // Inputs are at most 2^48 bytes and hyperparameters ints, so only (in - 1) * stride and the
            // sum after it can leave a long's safe range.
            return Sizes.add(who, "a spatial output size before padding: (in - 1) * stride + dilation * (kernel - 1) + 1 + output_padding",
                    Sizes.multiply(who, "(in - 1) * stride on a spatial dim", in - 1, stride), reach() + outputPadding) - padBefore - padAfter;
        }

        /**
         * Whether some window of a convolution over {@code in} may lie wholly in the zero padding: a
         * padding at least as wide as the dilated kernel, or kernel taps spaced wider than the input.
         * oneDNN 3.13's brgemm convolution writes past its buffers for such windows (SIGSEGV in {@code
         * perform_outwork}, found by scripts/fuzz --long); eager convolutions pad them explicitly,
         * compiled plans refuse them (docs/convolution.md). Conservative: a harmless geometry may be caught too.
         */
        public boolean mayHavePaddingOnlyWindows(long in) {
            long reach = reach();
            return padBefore >= reach || padAfter >= reach || (kernel > 1 && dilation > in && padBefore + padAfter > 0);
        }
    }

    public ConvSpec {
        if (inChannels < 1 || outChannels < 1 || groups < 1 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("convolution: expected channels and groups >= 1 with both channel counts divisible"
                    + " by groups, got in " + inChannels + ", out " + outChannels + ", groups " + groups);
        }
        axes = List.copyOf(axes);
        if (axes.isEmpty() || axes.size() > 3) {
            throw new IllegalArgumentException("convolution: expected 1 to 3 spatial axes, got " + axes.size());
        }
        if (!transposed) {
            for (Axis a : axes) {
                if (a.outputPadding() != 0) throw new IllegalArgumentException("convolution: output_padding is for transposed convolutions only");
            }
        }
    }

    /**
     * A spec from per-axis arrays of equal length, PyTorch's order; {@code outputPadding} null for none.
     */
    public static ConvSpec of(boolean transposed, long inChannels, long outChannels, long groups, long[] kernel, long[] stride,
                              long[] dilation, long[] padBefore, long[] padAfter, long[] outputPadding) {
        int nd = kernel.length;
        long[] op = outputPadding == null ? new long[nd] : outputPadding;
        if (stride.length != nd || dilation.length != nd || padBefore.length != nd || padAfter.length != nd || op.length != nd) {
            throw new IllegalArgumentException("convolution: every per-axis array needs " + nd + " values");
        }
        List<Axis> axes = new ArrayList<>(nd);
        for (int i = 0; i < nd; i++) axes.add(new Axis(kernel[i], stride[i], dilation[i], padBefore[i], padAfter[i], op[i]));
        return new ConvSpec(transposed, inChannels, outChannels, groups, axes);
    }

    public int spatialDims() {
        return axes.size();
    }

    /** Whether oneDNN sees grouped weights (an extra leading groups dimension): {@code groups != 1}. */
    public boolean grouped() {
        return groups != 1;
    }

    /** This spec with other padding (e.g. none, when the caller pads the input itself). */
    public ConvSpec withPadding(long[] before, long[] after) {
        List<Axis> padded = new ArrayList<>(axes.size());
        for (int i = 0; i < axes.size(); i++) {
            Axis a = axes.get(i);
            padded.add(new Axis(a.kernel(), a.stride(), a.dilation(), before[i], after[i], a.outputPadding()));
        }
        return new ConvSpec(transposed, inChannels, outChannels, groups, padded);
    }

    /** A 1-D spec as 2-D with a height axis of kernel 1, stride 1, no padding (same result on height-1 inputs); others as they are. */
    public ConvSpec lifted2d() {
        if (axes.size() != 1) return this;
        return new ConvSpec(transposed, inChannels, outChannels, groups, List.of(new Axis(1, 1, 1, 0, 0, 0), axes.get(0)));
    }

    /** The weight shape PyTorch stores: convolution {@code [out, in/groups, k...]}, transposed {@code [in, out/groups, k...]}. */
    public long[] pytorchWeightShape() {
        long[] shape = new long[2 + axes.size()];
        shape[0] = transposed ? inChannels : outChannels;
        shape[1] = transposed ? outChannels / groups : inChannels / groups;
        for (int i = 0; i < axes.size(); i++) shape[2 + i] = axes.get(i).kernel();
        return shape;
    }

    /**
     * oneDNN's logical weight dims, for convolution and deconvolution alike: {@code [oc, ic, k...]},
     * or grouped {@code [g, oc/g, ic/g, k...]}. PyTorch's storage of them is row-major ({@code
     * (g)oihw}) for a convolution and input-major ({@code (g)iohw}) for a transposed one (its
     * {@code [in, out/g, k...]} is {@code [g, ic/g, oc/g, k...]}): the format tag says which,
     * {@code ConvOps.pytorchWeights}.
     */
    public long[] weightDims() {
        int nd = axes.size();
        long[] dims = new long[(grouped() ? 3 : 2) + nd];
        int at = 0;
        if (grouped()) dims[at++] = groups;
        dims[at++] = outChannels / groups;
        dims[at++] = inChannels / groups;
        for (Axis a : axes) dims[at++] = a.kernel();
        return dims;
    }

    /** PyTorch's output size per axis ({@link Axis#outputSize}); entries may be {@code <= 0}. */
    public long[] outputSize(Object who, long[] inputSize) {
        checkRank(inputSize);
        long[] out = new long[axes.size()];
        for (int i = 0; i < out.length; i++) out[i] = axes.get(i).outputSize(who, transposed, inputSize[i]);
        return out;
    }

    /** Whether some window may lie wholly in the zero padding on some axis ({@link Axis#mayHavePaddingOnlyWindows}). */
    public boolean mayHavePaddingOnlyWindows(long[] inputSize) {
        checkRank(inputSize);
        for (int i = 0; i < axes.size(); i++) if (axes.get(i).mayHavePaddingOnlyWindows(inputSize[i])) return true;
        return false;
    }

    /**
     * oneDNN's geometry for an input of spatial size {@code inputSize}.
     *
     * @throws IllegalArgumentException naming {@code who} if an output size is {@code <= 0} (layers check first, with their own message)
     */
    public ConvLowering lower(Object who, long[] inputSize) {
        return ConvLowering.of(who, this, inputSize);
    }

    private void checkRank(long[] inputSize) {
        if (inputSize.length != axes.size()) {
            throw new IllegalArgumentException("convolution: expected " + axes.size() + " spatial sizes, got " + inputSize.length);
        }
    }
}
