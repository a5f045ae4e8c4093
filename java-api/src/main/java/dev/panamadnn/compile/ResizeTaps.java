package dev.panamadnn.compile;

/**
 * The taps of one axis of an ONNX Resize: for each output index, the source indices it reads and
 * their weights. Follows ONNX's Resize (opset 13) and its reference implementation:
 * <ul>
 * <li>the source coordinate of output index {@code o} by {@code coordinate_transformation_mode}:
 *     half_pixel {@code (o + 0.5) / scale - 0.5}; pytorch_half_pixel the same, -0.5 for a length-1
 *     output; align_corners {@code o * (in - 1) / (length - 1)}, 0 for a length-1 output, where
 *     {@code length = scale * in} (a real number, as the reference takes it; the output size when
 *     sizes are given); asymmetric {@code o / scale}; tf_half_pixel_for_nn {@code (o + 0.5) / scale};
 *     tf_crop_and_resize {@code start * (in - 1) + o * (end - start) * (in - 1) / (length - 1)} over the axis's roi
 *     {@code [start, end]} ({@code (end - start) * (in - 1) / 2 + start * (in - 1)} for a length-1 output), where a
 *     coordinate outside {@code [0, in - 1]} makes the output the extrapolation value ({@link #outside});</li>
 * <li>nearest: that coordinate if it is an integer, else its floor or the next index by
 *     {@code nearest_mode} (round_prefer_floor, round_prefer_ceil, floor, ceil);</li>
 * <li>linear: the two neighbours, weights {@code 1 - r} and {@code r} ({@code r} the fraction);</li>
 * <li>cubic: the four neighbours, weights from the cubic convolution kernel with {@code cubic_coeff_a}
 *     ({@code (a+2)|s|^3 - (a+3)|s|^2 + 1} within 1, {@code a|s|^3 - 5a|s|^2 + 8a|s| - 4a} within 2).</li>
 * </ul>
 * A source index outside {@code [0, in)} reads the edge element, or with {@code exclude_outside} gets
 * weight 0, the others renormalized to sum 1.
 *
 * <p><b>Taps of weight 0 are read</b>, as PyTorch's {@code F.interpolate} reads them: linear takes {@code floor(x)} and
 * the next element (the same one at the last index) with weights {@code 1 - r} and {@code r} even where {@code r} is
 * 0, and a negative coordinate as 0 (PyTorch clamps it there); cubic takes its four neighbours (clamped) whatever their
 * weights. So an infinity or NaN at a weight-0 tap makes the output NaN ({@code 0 * inf}), as in PyTorch and ONNX
 * Runtime; for finite inputs nothing changes. An axis that is not resampled (its every coordinate its own index: an
 * image's N and C) reads only that element, as PyTorch, which resamples only the spatial axes.
 */
record ResizeTaps(int[][] index, double[][] weight, boolean[] outside) {
    /** The resampling attributes of a Resize node. */
    record Mode(String mode, String coordinates, String nearest, double cubicA, boolean excludeOutside) {
        @Override
        public String toString() {
            return mode + ", " + coordinates + (mode.equals("nearest") ? ", " + nearest : "") + (mode.equals("cubic") ? ", a = " + cubicA : "")
                    + (excludeOutside ? ", exclude_outside" : "");
        }
    }

    static ResizeTaps of(Mode m, int in, int out, double scale) {
        return of(m, in, out, scale, 0, 1);
    }

    /**
     * The taps of an axis whose roi is {@code [start, end]} (read by tf_crop_and_resize only); {@link #outside} marks the
     * output indices whose source coordinate falls outside the input (their taps read the nearest edge, unused).
     */
    static ResizeTaps of(Mode m, int in, int out, double scale, double start, double end) {
        int[][] index = new int[out][];
        double[][] weight = new double[out][];
        boolean[] outside = new boolean[out];
        boolean identity = in == out && !m.coordinates().equals("tf_crop_and_resize");
        for (int o = 0; identity && o < out; o++) identity = source(m.coordinates(), o, in, scale, start, end) == o;
        if (identity) {   // an axis not resampled: each output reads its own element
            for (int o = 0; o < out; o++) {
                index[o] = new int[] {o};
                weight[o] = new double[] {1};
            }
            return new ResizeTaps(index, weight, outside);
        }
        for (int o = 0; o < out; o++) {
            double x = source(m.coordinates(), o, in, scale, start, end);
            outside[o] = m.coordinates().equals("tf_crop_and_resize") && (x < 0 || x > in - 1);
            double floor = Math.floor(x), r = x - floor;
            int i0 = (int) floor;
            switch (m.mode()) {
                case "nearest" -> {
                    int i = r == 0 ? i0 : switch (m.nearest()) {
                        case "round_prefer_ceil" -> r < 0.5 ? i0 : i0 + 1;
                        case "floor" -> i0;
                        case "ceil" -> i0 + 1;
                        default -> r <= 0.5 ? i0 : i0 + 1;   // round_prefer_floor
                    };
                    index[o] = new int[] {clamp(i, in)};
                    weight[o] = new double[] {1};
                }
                case "linear" -> {   // PyTorch's taps: a negative coordinate as 0, floor(x) and the next (the same at the last index)
                    double xl = Math.max(x, 0);
                    int lo = (int) Math.min(Math.floor(xl), in - 1);
                    double rl = Math.min(Math.max(xl - lo, 0), 1);
                    set(index, weight, o, new int[] {lo, lo + (lo < in - 1 ? 1 : 0)}, new double[] {1 - rl, rl}, in, m.excludeOutside());
                }
                default -> {   // cubic
                    double a = m.cubicA();
                    set(index, weight, o, new int[] {i0 - 1, i0, i0 + 1, i0 + 2},
                            new double[] {cubic(1 + r, a), cubic(r, a), cubic(1 - r, a), cubic(2 - r, a)}, in, m.excludeOutside());
                }
            }
        }
        return new ResizeTaps(index, weight, outside);
    }

    /** The source coordinate of output index {@code o}. */
    static double source(String mode, int o, int in, double scale, double start, double end) {
        double length = scale * in;
        return switch (mode) {
            case "tf_crop_and_resize" -> (length == 1 ? (end - start) * (in - 1) / 2 : o * (end - start) * (in - 1) / (length - 1)) + start * (in - 1);
            case "align_corners" -> length == 1 ? 0 : o * (in - 1) / (length - 1);
            case "asymmetric" -> o / scale;
            case "pytorch_half_pixel" -> length == 1 ? -0.5 : (o + 0.5) / scale - 0.5;
            case "tf_half_pixel_for_nn" -> (o + 0.5) / scale;
            default -> (o + 0.5) / scale - 0.5;   // half_pixel
        };
    }

    /** The cubic convolution kernel at distance {@code s} (>= 0). */
    static double cubic(double s, double a) {
        if (s <= 1) return ((a + 2) * s - (a + 3)) * s * s + 1;
        if (s < 2) return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
        return 0;
    }

    private static void set(int[][] index, double[][] weight, int o, int[] ix, double[] w, int in, boolean excludeOutside) {
        if (excludeOutside) {
            double sum = 0;
            for (int t = 0; t < ix.length; t++) {
                if (ix[t] < 0 || ix[t] >= in) w[t] = 0;
                sum += w[t];
            }
            for (int t = 0; t < ix.length; t++) w[t] /= sum;
        }
        index[o] = new int[ix.length];   // weight-0 taps too: 0 * inf is NaN, as in PyTorch
        weight[o] = w;
        for (int t = 0; t < ix.length; t++) index[o][t] = clamp(ix[t], in);
    }

    private static int clamp(int i, int in) {
        return Math.max(0, Math.min(in - 1, i));
    }
}
