package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import java.util.List;

/**
 * ONNX GridSample (opset 16; PyTorch's {@code grid_sample}) as a Java step: X [N, C, H, W] sampled at the grid's
 * normalized (x, y) in [-1, 1], grid [N, Ho, Wo, 2] a constant or computed at run time, output [N, C, Ho, Wo]. As
 * PyTorch's CPU kernel: a coordinate unnormalized by {@code align_corners} ({@code (g + 1) / 2 * (size - 1)}, else
 * {@code ((g + 1) * size - 1) / 2}); padding {@code zeros} (taps outside read 0), {@code border} (coordinates clamped) or
 * {@code reflection} (reflected about the edges, or the pixel borders without align_corners, then clamped); modes
 * bilinear (4 taps), nearest (round half to even), bicubic (16 taps, A = -0.75, each tap's coordinate padded).
 */
final class LowerGridSample {
    private LowerGridSample() {}

    private static final int ZEROS = 0, BORDER = 1, REFLECTION = 2, BILINEAR = 0, NEAREST = 1, BICUBIC = 2;

    static Value lower(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        int mode = switch (n.attributes().string("mode", "bilinear")) {
            case "nearest" -> NEAREST;
            case "bicubic" -> BICUBIC;
            default -> BILINEAR;
        };
        int padding = switch (n.attributes().string("padding_mode", "zeros")) {
            case "border" -> BORDER;
            case "reflection" -> REFLECTION;
            default -> ZEROS;
        };
        boolean corners = n.attributes().integer("align_corners", 0) != 0;
        int batch = (int) x[0], channels = (int) x[1], h = (int) x[2], w = (int) x[3], ho = (int) y[2], wo = (int) y[3];
        Sampler s = new Sampler(mode, padding, corners, h, w);
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0), LowerIndex.input(plan, n, 1)), List.of(y), (src, dst) -> {
            int[] at = new int[16];   // one grid point's taps (offsets in a plane, -1 outside) and weights, shared by its channels
            double[] weight = new double[16];
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < ho * wo; i++) {
                    long g = ((long) b * ho * wo + i) * 2;
                    int taps = s.taps(src[1].getAtIndex(JAVA_FLOAT, g), src[1].getAtIndex(JAVA_FLOAT, g + 1), at, weight);
                    for (int c = 0; c < channels; c++) {
                        long plane = ((long) b * channels + c) * h * w;
                        double sum = 0;
                        for (int t = 0; t < taps; t++) if (at[t] >= 0) sum += weight[t] * src[0].getAtIndex(JAVA_FLOAT, plane + at[t]);
                        dst[0].setAtIndex(JAVA_FLOAT, ((long) b * channels + c) * ho * wo + i, (float) sum);
                    }
                }
            }
        }, "java grid_sample " + n.name() + " (" + n.attributes().string("mode", "bilinear") + ", " + n.attributes().string("padding_mode", "zeros")
                + (corners ? ", align_corners" : "") + ")").get(0);
    }

    /** A grid point's taps and weights, PyTorch's arithmetic (in double), shared by every channel of the point. */
    private record Sampler(int mode, int padding, boolean corners, int h, int w) {
        /** The taps of grid point (gx, gy) into {@code at} (offsets in a plane, -1 outside: read as 0) and {@code weight}; their count. */
        int taps(double gx, double gy, int[] at, double[] weight) {
            double ix = unnormalize(gx, w), iy = unnormalize(gy, h);
            if (mode == BICUBIC) {
                double fx = Math.floor(ix), fy = Math.floor(iy), tx = ix - fx, ty = iy - fy;
                for (int j = 0; j < 4; j++) {
                    for (int i = 0; i < 4; i++) {
                        at[4 * j + i] = offset((long) pad(fx - 1 + i, w), (long) pad(fy - 1 + j, h));   // each tap's coordinate padded
                        weight[4 * j + i] = cubic(tx, i) * cubic(ty, j);
                    }
                }
                return 16;
            }
            ix = pad(ix, w);
            iy = pad(iy, h);
            if (mode == NEAREST) {
                at[0] = offset((long) Math.rint(ix), (long) Math.rint(iy));
                weight[0] = 1;
                return 1;
            }
            long x0 = (long) Math.floor(ix), y0 = (long) Math.floor(iy);
            double tx = ix - x0, ty = iy - y0;
            at[0] = offset(x0, y0);
            at[1] = offset(x0 + 1, y0);
            at[2] = offset(x0, y0 + 1);
            at[3] = offset(x0 + 1, y0 + 1);
            weight[0] = (1 - tx) * (1 - ty);
            weight[1] = tx * (1 - ty);
            weight[2] = (1 - tx) * ty;
            weight[3] = tx * ty;
            return 4;
        }

        private double unnormalize(double g, int size) {
            return corners ? (g + 1) / 2 * (size - 1) : ((g + 1) * size - 1) / 2;
        }

        /** The padding mode applied to a source coordinate (zeros: as is; taps outside read 0). */
        private double pad(double c, int size) {
            if (padding == BORDER) return clamp(c, size);
            if (padding == REFLECTION) return clamp(corners ? reflect(c, 0, 2 * (size - 1)) : reflect(c, -1, 2 * size - 1), size);
            return c;
        }

        private static double clamp(double c, int size) {
            return Math.min(size - 1, Math.max(0, c));
        }

        /** {@code c} reflected into [low / 2, high / 2] (PyTorch's reflect_coordinates, bounds given doubled). */
        private static double reflect(double c, int twiceLow, int twiceHigh) {
            if (twiceLow == twiceHigh) return 0;
            double min = twiceLow / 2.0, span = (twiceHigh - twiceLow) / 2.0;
            c = Math.abs(c - min);
            double extra = c % span;
            long flips = (long) Math.floor(c / span);
            return flips % 2 == 0 ? extra + min : span - extra + min;
        }

        /** The offset of (cx, cy) in a plane, or -1 outside it. */
        private int offset(long cx, long cy) {
            return cx < 0 || cx >= w || cy < 0 || cy >= h ? -1 : (int) (cy * w + cx);
        }

        /** Cubic convolution weight {@code k} (0-3) of the four taps around fraction {@code t} (A = -0.75). */
        private static double cubic(double t, int k) {
            double a = -0.75;
            return switch (k) {
                case 0 -> outer(t + 1, a);
                case 1 -> inner(t, a);
                case 2 -> inner(1 - t, a);
                default -> outer(2 - t, a);
            };
        }

        private static double inner(double s, double a) {
            return ((a + 2) * s - (a + 3)) * s * s + 1;
        }

        private static double outer(double s, double a) {
            return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
        }
    }
}
