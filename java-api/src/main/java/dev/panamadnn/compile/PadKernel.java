package dev.panamadnn.compile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ONNX's {@code Pad} over plain row-major f32 buffers: {@code constant} (the value), {@code
 * reflect} (mirror without the edge, PyTorch's reflect), {@code edge} (replicate), {@code wrap}
 * (circular). Output element by output element: each output index maps to one input index per
 * dimension (or to the constant), so no state and no allocation per run.
 */
final class PadKernel {
    private PadKernel() {}

    private static final int CONSTANT = 0, REFLECT = 1, EDGE = 2, WRAP = 3;

    static JavaStep.Kernel of(long[] in, long[] out, long[] pads, String modeName, float value) {
        int mode = switch (modeName) {   // decided once, not per element
            case "reflect" -> REFLECT;
            case "edge" -> EDGE;
            case "wrap" -> WRAP;
            default -> CONSTANT;
        };
        int rank = in.length;
        long[] before = new long[rank];
        for (int d = 0; d < rank; d++) before[d] = pads[d];
        long[] inStride = new long[rank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            inStride[d] = s;
            s *= in[d];
        }
        return (src, dst) -> {
            long total = dst.byteSize() / 4;
            long[] idx = new long[rank];
            for (long o = 0; o < total; o++) {
                long at = 0;
                boolean outside = false;
                for (int d = 0; d < rank && !outside; d++) {
                    long i = idx[d] - before[d];
                    long size = in[d];
                    if (i < 0 || i >= size) {
                        switch (mode) {
                            case REFLECT -> {
                                long period = 2 * (size - 1);
                                i = period == 0 ? 0 : Math.floorMod(i, period);
                                if (i >= size) i = period - i;
                            }
                            case EDGE -> i = i < 0 ? 0 : size - 1;
                            case WRAP -> i = Math.floorMod(i, size);
                            default -> outside = true;
                        }
                    }
                    at += i * inStride[d];
                }
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, o, outside ? value : src.getAtIndex(ValueLayout.JAVA_FLOAT, at));
                for (int d = rank - 1; d >= 0; d--) {   // the next output index, row-major
                    if (++idx[d] < out[d]) break;
                    idx[d] = 0;
                }
            }
        };
    }
}
