package dev.panamadnn.internal.lowering;

/**
 * {@code Linear} as oneDNN's inner product: every leading dimension of the input flattened into
 * {@code rows}, src {@code [rows, in]}, weights {@code [out, in]} (PyTorch's storage is oneDNN's
 * row-major {@code oi}, so no transpose), bias {@code [out]}, dst {@code [rows, out]}.
 */
public record InnerProductLowering(long rows, long inFeatures, long outFeatures, boolean bias) {
    public InnerProductLowering {
        if (rows < 1 || inFeatures < 1 || outFeatures < 1) {
            throw new IllegalArgumentException("inner product: expected rows and features >= 1, got " + rows + ", " + inFeatures
                    + ", " + outFeatures);
        }
    }

    /** The lowering for an input of {@code inputShape} ({@code [*, in]}). */
    public static InnerProductLowering of(long[] inputShape, long outFeatures, boolean bias) {
        if (inputShape.length == 0) throw new IllegalArgumentException("inner product: expected an input of rank >= 1");
        long rows = 1;
        for (int i = 0; i < inputShape.length - 1; i++) rows = Math.multiplyExact(rows, inputShape[i]);
        return new InnerProductLowering(rows, inputShape[inputShape.length - 1], outFeatures, bias);
    }

    public long[] srcDims() {
        return new long[] {rows, inFeatures};
    }

    public long[] weightDims() {
        return new long[] {outFeatures, inFeatures};
    }

    /** {@code [out]}, or null without bias (an absent argument). */
    public long[] biasDims() {
        return bias ? new long[] {outFeatures} : null;
    }

    public long[] dstDims() {
        return new long[] {rows, outFeatures};
    }
}
