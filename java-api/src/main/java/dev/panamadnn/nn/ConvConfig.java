package dev.panamadnn.nn;

/**
 * The hyperparameters a builder collected, before validation and resolution (that happens in
 * {@link ConvNd}'s constructor, so every path into a layer is checked in one place). Arrays
 * hold one value (for every spatial dimension) or one per spatial dimension.
 */
record ConvConfig(String layer, boolean transposed, int spatialDims, long in, long out, long[] kernel, long[] stride,
                  long[] paddingBefore, long[] paddingAfter, String paddingText, boolean causal, long[] dilation,
                  long[] outputPadding, long groups, boolean bias, PaddingMode paddingMode) {}
