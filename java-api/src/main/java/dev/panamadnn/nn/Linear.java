package dev.panamadnn.nn;

import dev.panamadnn.Blas;
import dev.panamadnn.Eltwise;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.internal.Sizes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A fully connected layer, PyTorch's {@code nn.Linear}, with an optional fused activation:
 * {@code y = act(x W^T + b)}.
 *
 * <p>Shapes: input {@code [*, in_features]} (any number of leading dimensions, including none:
 * {@code [in_features]}), output {@code [*, out_features]}; the leading dimensions are flattened
 * into {@code rows} for the kernel. Parameters, by state_dict name: {@code weight}
 * {@code [out_features, in_features]} (PyTorch's layout) and, if {@code bias}, {@code bias}
 * {@code [out_features]}. They start as PyTorch initialises them, U(-1/sqrt(in), 1/sqrt(in));
 * to load trained weights, write into the tensors of {@link #parameters()} (every call reads
 * them afresh). The layer owns them and frees them on {@link #close()}.
 *
 * <p>Backends: {@link Backend#ONEDNN} is oneDNN's inner product with the activation fused as a
 * post-op (one primitive per {@code rows}, cached; exact GELU runs as a separate pass instead, see
 * docs/numerics.md); {@link Backend#OPENBLAS} fills the output
 * with the bias, runs {@code cblas_sgemm} (C = X W^T + C) and applies the activation in place
 * with oneDNN's eltwise; {@link Backend#REFERENCE} is three plain loops accumulating in double.
 * {@link Backend#AUTO} picks by a measured rule: OpenBLAS when {@code rows * in * out <= 2^19}
 * multiply-adds and {@code rows <= 128}, oneDNN otherwise. Measured with a scratch timing
 * (median of 7 rounds, µs per {@code forward} including the output allocation, 1 intra-op
 * thread, Intel Xeon with AVX-512 on a shared 2-core VM, bias on; "+gelu" fused):
 * <pre>
 *   rows x in -> out     oneDNN  OpenBLAS   (+gelu: oneDNN OpenBLAS)
 *   1 x 512 -> 512         53       29           71       49
 *   1 x 784 -> 128         45       27           46       38
 *   4 x 256 -> 256         65       38           91       58
 *   64 x 64 -> 64          41       31           38       33
 *   1 x 1024 -> 1024      237      588          229      611
 *   1 x 2048 -> 2048      698     2892          783     2969
 *   4 x 512 -> 512         90      199           95      218
 *   64 x 1024 -> 1024    1147     1405         1344     1995
 *   256 x 784 -> 512     2562     2596         2312     2700
 *   1000 x 10 -> 10       198      234           36       50
 * </pre>
 * Small products are dominated by per-call overhead, which is lower for one sgemm downcall than
 * for a oneDNN execution (memory objects, stream, scratchpad per call); once the weights stop
 * fitting in cache, OpenBLAS's packing of {@code W^T} for a few rows costs more than oneDNN's
 * brgemm, and for large products oneDNN is 0-20% faster, more with a fused activation (one
 * pass over the output instead of two). Differences under ~20% are within this machine's noise.
 *
 * <p>Inputs that are not contiguous or not off-heap are copied once for the native paths.
 * Thread-safe (see {@link Layer}).
 */
public final class Linear extends Layer {
    /** AUTO's crossover (see the class comment): products up to this many multiply-adds go to OpenBLAS... */
    static final double OPENBLAS_MAX_MACS = 1 << 19;
    /** ...if they have at most this many rows (the bias is copied into the output row by row first). */
    static final long OPENBLAS_MAX_ROWS = 128;

    private final int inFeatures;
    private final int outFeatures;
    private final Activation activation;   // null: none
    private final Tensor weight;
    private final Tensor bias;             // null without bias
    private final InnerProduct innerProduct;
    private final Eltwise activationKernel; // the OpenBLAS path's separate activation pass; null without one

    /**
     * {@code Linear(inFeatures, outFeatures, bias)} without an activation.
     *
     * @param inFeatures the number of input features
     * @param outFeatures the number of output features
     * @param bias whether to add a learnable bias
     */
    public Linear(int inFeatures, int outFeatures, boolean bias) {
        this(inFeatures, outFeatures, bias, null, false);
    }

    /**
     * {@code act(Linear(inFeatures, outFeatures, bias)(x))} in one fused step.
     *
     * @param activation the activation fused after it
     * @param inFeatures the number of input features
     * @param outFeatures the number of output features
     * @param bias whether to add a learnable bias
     */
    public Linear(int inFeatures, int outFeatures, boolean bias, Activation activation) {
        this(inFeatures, outFeatures, bias, activation, true);
    }

    private Linear(int inFeatures, int outFeatures, boolean hasBias, Activation activation, boolean activationGiven) {
        if (inFeatures <= 0) throw new IllegalArgumentException("Linear: in_features must be > 0, got " + inFeatures);
        if (outFeatures <= 0) throw new IllegalArgumentException("Linear: out_features must be > 0, got " + outFeatures);
        if (activationGiven && activation == null) {
            throw new IllegalArgumentException("Linear: activation must not be null (use Linear(in, out, bias) for none)");
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.activation = activation;
        Sizes.f32Bytes("Linear(in_features=" + inFeatures + ", out_features=" + outFeatures + "): weight", new long[] {outFeatures, inFeatures});
        this.weight = Tensor.zeros(outFeatures, inFeatures);
        this.bias = hasBias ? Tensor.zeros(outFeatures) : null;
        // exact GELU is not fused: its separate pass repairs what oneDNN's kernel gets wrong (see Activation)
        this.innerProduct = new InnerProduct(inFeatures, outFeatures, weight, bias,
                activation != null && activation.fusesExactly() ? activation : null);
        this.activationKernel = activation == null ? null : new Eltwise(activation.kind(), activation.alpha());
        SplittableRandom random = new SplittableRandom();
        double bound = 1 / Math.sqrt(inFeatures);
        Init.uniform(weight, random, bound);
        if (bias != null) Init.uniform(bias, random, bound);
    }

    /** {@return the fused activation, or null for none} */
    public Activation activation() {
        return activation;
    }

    /** {@return the number of input features} */
    public int inFeatures() {
        return inFeatures;
    }

    /** {@return the number of output features} */
    public int outFeatures() {
        return outFeatures;
    }

    /** {@return the weight tensor {@code [out_features, in_features]} (live: writes are seen by the next call)} */
    public Tensor weight() {
        return weight;
    }

    /** {@return the bias tensor {@code [out_features]}, or null if the layer has none} */
    public Tensor bias() {
        return bias;
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("weight", weight);
        if (bias != null) p.put("bias", bias);
        return java.util.Collections.unmodifiableMap(p);
    }

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        if (inputShape.length == 0) {
            throw new IllegalArgumentException(this + ": expected an input of rank >= 1 ([*, " + inFeatures
                    + "]), got a rank-0 tensor");
        }
        long last = inputShape[inputShape.length - 1];
        if (last != inFeatures) {
            throw new IllegalArgumentException(this + ": expected the input's last dimension to be in_features="
                    + inFeatures + ", got " + last + " (input shape " + Arrays.toString(inputShape) + ")");
        }
        long[] out = inputShape.clone();
        out[out.length - 1] = outFeatures;
        return out;
    }

    /**
     * ONNX's {@code Gemm} with {@code transB = 1} ({@code X W^T + b}, W {@code [out, in]} as
     * stored) on {@code <path>.weight} and {@code <path>.bias}, then the fused activation as its
     * own node ({@code <path>.relu}, ...). An input of another rank than 2 is reshaped to rows
     * {@code [-1, in]} before and back to {@code [*, out]} after (named {@code <path>.flatten} /
     * {@code <path>.unflatten}): the same row-by-row product forward computes, rather than a
     * MatMul + Add that would need a transposed weight.
     */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        String w = graph.initializer(Lowering.join(path, "weight"), weight);
        String b = graph.optionalInitializer(Lowering.join(path, "bias"), bias);
        Shape x = graph.value(input).shape();
        List<Dim> leading = x.dims().subList(0, x.rank() - 1);
        String rows = input;
        if (x.rank() != 2) {
            Dim n = new Shape(leading).elements();
            if (n == null) throw Lowering.misfit(this, graph, input, path, "cannot merge two symbolic dimensions into rows");
            rows = Lowering.reshape(graph, input, Lowering.join(path, "flatten"), Shape.of(n, Dim.of(inFeatures)));
        }
        Attributes transB = Attributes.of("transB", 1L);
        String y = bias == null ? graph.node("Gemm", path, transB, rows, w) : graph.node("Gemm", path, transB, rows, w, b);
        if (activation != null) y = activation.lower(graph, y, Lowering.join(path, activation.op().toLowerCase(Locale.ROOT)));
        if (x.rank() == 2) return y;
        List<Dim> out = new ArrayList<>(leading);
        out.add(Dim.of(outFeatures));
        return Lowering.reshape(graph, y, Lowering.join(path, "unflatten"), new Shape(out));
    }

    /**
     * {@return the kernel {@link Backend#AUTO} runs for an input with {@code rows} rows (never AUTO or REFERENCE)}
     *
     * @param rows the input's rows (the product of every dimension but the last), at least 1
     */
    public Backend autoBackend(long rows) {
        if (rows <= 0) throw new IllegalArgumentException(this + ": expected rows > 0, got " + rows);
        boolean small = rows <= OPENBLAS_MAX_ROWS && rows * inFeatures * (double) outFeatures <= OPENBLAS_MAX_MACS;
        return small ? Backend.OPENBLAS : Backend.ONEDNN;
    }

    /**
     * {@return the oneDNN implementation the ONEDNN path uses for {@code rows} rows (e.g. {@code brgemm:avx512_core})}
     *
     * @param rows the input's rows (the product of every dimension but the last), at least 1
     */
    public String onednnImplementation(long rows) {
        if (rows <= 0) throw new IllegalArgumentException(this + ": expected rows > 0, got " + rows);
        return innerProduct.implementation(rows);
    }

    /** Into a new output ({@code forward(x)}) or the caller's validated out: both paths overwrite every element. */
    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor y) {
        long rows = input.numel() / inFeatures;
        Backend chosen = backend == Backend.AUTO ? autoBackend(rows) : backend;
        if (chosen == Backend.OPENBLAS && rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(this + ": OpenBLAS takes at most " + Integer.MAX_VALUE
                    + " rows, got " + rows);
        }
        if (chosen == Backend.REFERENCE) {
            reference(input, rows, y.segment());
            return;
        }
        Tensor x = nativeReady(input);
        try {
            if (chosen == Backend.ONEDNN) {
                innerProduct.execute(rows, x.segment(), y.segment());
                if (activation != null && !activation.fusesExactly()) activationKernel.forward(y.segment(), y.segment());
            } else {
                sgemm((int) rows, x.segment(), y.segment());
            }
        } finally {
            if (x != input) x.close();
        }
    }

    /** C = X W^T (+ bias pre-filled into C, beta = 1), then the activation in place. */
    private void sgemm(int rows, MemorySegment x, MemorySegment y) {
        long rowBytes = (long) outFeatures * Float.BYTES;
        if (bias != null) {
            MemorySegment b = bias.segment();
            for (long r = 0; r < rows; r++) MemorySegment.copy(b, 0, y, r * rowBytes, rowBytes);
        }
        Blas.sgemm(false, true, rows, outFeatures, inFeatures, 1f, x, inFeatures, weight.segment(), inFeatures,
                bias == null ? 0f : 1f, y, outFeatures);
        if (activationKernel != null) activationKernel.forward(y, y);
    }

    /** y[r][o] = act(b[o] + sum_i x[r][i] * w[o][i]), the sum in double, in the natural order. */
    private void reference(Tensor input, long rows, MemorySegment out) {
        float[] x = input.toFloatArray();
        MemorySegment w = weight.segment();
        for (long r = 0; r < rows; r++) {
            for (int o = 0; o < outFeatures; o++) {
                double sum = bias == null ? 0 : bias.segment().getAtIndex(ValueLayout.JAVA_FLOAT, o);
                for (int i = 0; i < inFeatures; i++) {
                    sum += (double) x[(int) (r * inFeatures + i)] * w.getAtIndex(ValueLayout.JAVA_FLOAT, (long) o * inFeatures + i);
                }
                out.setAtIndex(ValueLayout.JAVA_FLOAT, r * outFeatures + o, (float) sum);
            }
        }
        if (activation != null) Eltwise.reference(activation.kind(), activation.alpha(), out, out);
    }

    @Override
    void release() {
        innerProduct.close();
        if (activationKernel != null) activationKernel.close();
        weight.close();
        if (bias != null) bias.close();
    }

    @Override
    public String toString() {
        return "Linear(in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + (bias != null ? "True" : "False")
                + (activation == null ? "" : ", activation=" + activation) + ")";
    }
}
