package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import java.util.List;

/**
 * ONNX RoiAlign (opsets 10-17; torchvision's {@code roi_align}) in avg mode as a Java step: for each roi [x1, y1, x2, y2]
 * (times spatial_scale, minus 0.5 with coordinate_transformation_mode half_pixel, torchvision's {@code aligned=True})
 * of image batch_indices[r], each of the output_height x output_width bins averages sampling_ratio^2 bilinear samples
 * (sampling_ratio 0: ceil(roi size / bins) per axis), a sample beyond one pixel outside the image counting 0. The rois
 * come at run time; batch_indices are a constant (or bound input), the plan's integer input or computed at run time,
 * each checked against N.
 */
final class LowerRoiAlign {
    private LowerRoiAlign() {}

    static Value lower(Compiler plan, Node n) {
        if (!n.attributes().string("mode", "avg").equals("avg")) {
            throw Compiler.unsupported(n, "mode max is not compiled (ONNX Runtime takes the max of each sample's weighted corners; "
                    + "torchvision has no max mode to check it against): avg only");
        }
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        int images = (int) x[0], channels = (int) x[1], h = (int) x[2], w = (int) x[3], rois = (int) y[0], oh = (int) y[2], ow = (int) y[3];
        float scale = (float) n.attributes().real("spatial_scale", 1);
        int ratio = (int) n.attributes().integer("sampling_ratio", 0);
        boolean halfPixel = n.attributes().string("coordinate_transformation_mode", "half_pixel").equals("half_pixel");
        String name = n.input(2), label = n.label();
        dev.panamadnn.Tensor t = plan.graph.tensor(name);
        long[] fixed = t == null ? null : LowerIndex.longs(t);
        if (fixed != null) {
            for (long b : fixed) if (b < 0 || b >= images) throw Compiler.unsupported(n, "batch index " + b + " is outside [0, " + images + ")");
        }
        RunTimeIntegers batch = fixed != null ? null : RunTimeIntegers.of(plan, n, 2);
        List<Value> ins = fixed != null ? List.of(LowerIndex.input(plan, n, 0), LowerIndex.input(plan, n, 1))
                : List.of(LowerIndex.input(plan, n, 0), LowerIndex.input(plan, n, 1), batch.value());
        return PlanOutputs.javaStep(plan, ins, List.of(y), (src, dst) -> {
            for (int r = 0; r < rois; r++) {
                long b = fixed != null ? fixed[r] : batch.get(src[2], r);
                if (b < 0 || b >= images) {
                    throw new IllegalArgumentException("CompiledModel: node " + label + ": batch index " + b + " (roi " + r + ") is outside [0, " + images + ")");
                }
                float off = halfPixel ? 0.5f : 0;
                float x1 = src[1].getAtIndex(JAVA_FLOAT, 4L * r) * scale - off, y1 = src[1].getAtIndex(JAVA_FLOAT, 4L * r + 1) * scale - off;
                float x2 = src[1].getAtIndex(JAVA_FLOAT, 4L * r + 2) * scale - off, y2 = src[1].getAtIndex(JAVA_FLOAT, 4L * r + 3) * scale - off;
                float rw = x2 - x1, rh = y2 - y1;
                if (!halfPixel) {
                    rw = Math.max(rw, 1);
                    rh = Math.max(rh, 1);
                }
                float bw = rw / ow, bh = rh / oh;
                int gh = ratio > 0 ? ratio : (int) Math.ceil(rh / oh), gw = ratio > 0 ? ratio : (int) Math.ceil(rw / ow);
                float count = Math.max(gh * gw, 1);
                // every sample's four taps once for the roi (as torchvision's pre-calculation), then each channel reads them
                int samples = gh * gw, cells = oh * ow;
                long[] offsets = new long[4 * cells * samples];
                float[] weights = new float[4 * cells * samples];
                boolean[] inside = new boolean[cells * samples];
                for (int ph = 0, k = 0; ph < oh; ph++) {
                    for (int pw = 0; pw < ow; pw++) {
                        for (int iy = 0; iy < gh; iy++) {
                            float yy = y1 + ph * bh + (iy + 0.5f) * bh / gh;
                            for (int ix = 0; ix < gw; ix++, k++) inside[k] = taps(h, w, yy, x1 + pw * bw + (ix + 0.5f) * bw / gw, offsets, weights, 4 * k);
                        }
                    }
                }
                for (int c = 0; c < channels; c++) {
                    long plane = (b * channels + c) * h * w;
                    for (int cell = 0; cell < cells; cell++) {
                        float sum = 0;
                        for (int k = cell * samples; k < (cell + 1) * samples; k++) {
                            if (!inside[k]) continue;   // 0, the input not read
                            int q = 4 * k;
                            sum += weights[q] * src[0].getAtIndex(JAVA_FLOAT, plane + offsets[q]) + weights[q + 1] * src[0].getAtIndex(JAVA_FLOAT, plane + offsets[q + 1])
                                    + weights[q + 2] * src[0].getAtIndex(JAVA_FLOAT, plane + offsets[q + 2]) + weights[q + 3] * src[0].getAtIndex(JAVA_FLOAT, plane + offsets[q + 3]);
                        }
                        dst[0].setAtIndex(JAVA_FLOAT, ((long) r * channels + c) * cells + cell, sum / count);
                    }
                }
            }
        }, "java roi_align " + n.name() + " (" + rois + " rois, " + (halfPixel ? "half_pixel" : "output_half_pixel") + ")").get(0);
    }

    /**
     * torchvision's bilinear sample at ({@code y}, {@code xx}) as four taps: their offsets in a plane of {@code h x w} and their
     * weights, from index {@code at}; false (no taps) beyond one pixel outside, where the sample is 0. Coordinates are
     * clamped at the low edge and the last pixel.
     */
    private static boolean taps(int h, int w, float y, float xx, long[] offsets, float[] weights, int at) {
        if (y < -1 || y > h || xx < -1 || xx > w) return false;
        if (y <= 0) y = 0;
        if (xx <= 0) xx = 0;
        int y0 = (int) y, x0 = (int) xx, y1, x1;
        if (y0 >= h - 1) {
            y1 = y0 = h - 1;
            y = y0;
        } else {
            y1 = y0 + 1;
        }
        if (x0 >= w - 1) {
            x1 = x0 = w - 1;
            xx = x0;
        } else {
            x1 = x0 + 1;
        }
        float ly = y - y0, lx = xx - x0, hy = 1 - ly, hx = 1 - lx;
        offsets[at] = (long) y0 * w + x0;
        offsets[at + 1] = (long) y0 * w + x1;
        offsets[at + 2] = (long) y1 * w + x0;
        offsets[at + 3] = (long) y1 * w + x1;
        weights[at] = hy * hx;
        weights[at + 1] = hy * lx;
        weights[at + 2] = ly * hx;
        weights[at + 3] = ly * lx;
        return true;
    }
}
