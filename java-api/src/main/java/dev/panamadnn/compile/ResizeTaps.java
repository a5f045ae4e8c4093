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
 * weight 0, the others renormalized to sum 1. Taps of weight exactly 0 are left out.
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
                case "linear" -> set(index, weight, o, new int[] {i0, i0 + 1}, new double[] {1 - r, r}, in, m.excludeOutside());
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
        int kept = 0;
        for (double v : w) if (v != 0) kept++;
        index[o] = new int[kept];
        weight[o] = new double[kept];
        for (int t = 0, k = 0; t < ix.length; t++) {
            if (w[t] == 0) continue;
            index[o][k] = clamp(ix[t], in);
            weight[o][k++] = w[t];
        }
    }

    private static int clamp(int i, int in) {
        return Math.max(0, Math.min(in - 1, i));
    }
}
