package dev.panamadnn.nn;

/** Builder options of the transposed convolutions beyond the shared ones: {@code output_padding}. */
abstract class ConvTransposeBuilder<S extends ConvTransposeBuilder<S>> extends ConvNdBuilder<S> {
    ConvTransposeBuilder(long in, long out, int... kernel) {
        super(in, out, kernel);
    }

    /**
     * Extra output rows/columns added on the bottom/right side, to pick among the input sizes a
     * strided convolution maps to the same output size; must be smaller than the stride or the
     * dilation of its dimension.
     *
     * @param outputPadding extra size added to one side of the output, per spatial dimension (less than the stride)
     * @return this builder
     */
    public S outputPadding(int... outputPadding) {
        this.outputPadding = longs(outputPadding);
        return self();
    }
}
