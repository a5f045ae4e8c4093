package dev.panamadnn.compile;

import dev.panamadnn.internal.lowering.Padding;

/**
 * ONNX's {@code Pad} over plain row-major f32 buffers as a Java step: {@code constant} (the value), {@code reflect}
 * (mirror without the edge, PyTorch's reflect), {@code edge} (replicate), {@code wrap} (circular), by
 * {@link Padding} (the kernel the eager convolutions pad with too); no state and no allocation per run.
 */
final class PadKernel {
    private PadKernel() {}

    static JavaStep.Kernel of(long[] in, long[] out, long[] pads, String modeName, float value) {
        int mode = Padding.mode(modeName);   // decided once, not per run
        long[] inShape = in.clone(), outShape = out.clone(), before = java.util.Arrays.copyOf(pads, in.length);
        return (src, dst) -> Padding.pad(src, inShape, dst, outShape, before, mode, value);
    }
}
