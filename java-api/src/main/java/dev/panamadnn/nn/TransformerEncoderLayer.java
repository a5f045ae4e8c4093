package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's {@code nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
 * layer_norm_eps, batch_first, norm_first)} at inference (dropout accepted and ignored):
 * <pre>
 *   norm_first=False:  x = norm1(x + self_attn(x));  x = norm2(x + linear2(act(linear1(x))))
 *   norm_first=True:   x = x + self_attn(norm1(x));  x = x + linear2(act(linear1(norm2(x))))
 * </pre>
 * with {@code act} ReLU or exact (erf) GELU. Shapes: {@code src [L, N, d_model]} ({@code [N, L,
 * d_model]} with {@code batch_first}, {@code [L, d_model]} unbatched); the output has the input's
 * shape. Masks as {@link MultiheadAttention}'s ({@code src_mask} = its {@code attn_mask},
 * {@code src_key_padding_mask} = its {@code key_padding_mask}; True = masked out). Parameters
 * under torch's names: {@code self_attn.*}, {@code linear1.*}, {@code linear2.*}, {@code norm1.*},
 * {@code norm2.*}. PyTorch's fused inference "fast path" (which zeroes padded positions) is not
 * reproduced: this is its documented math path (docs/attention.md).
 *
 * <p>Each sub-layer runs on the backend asked for (REFERENCE: every step in plain Java); residual
 * adds are float adds in Java, as torch's. Thread-safe; {@link #close()} waits for calls in flight.
 */
public final class TransformerEncoderLayer implements Module {
    private final int dModel, nhead, dimFeedforward;
    private final String activation;
    private final double eps;
    private final boolean batchFirst, normFirst;
    private final MultiheadAttention selfAttn;
    private final Linear linear1, linear2;
    private final LayerNorm norm1, norm2;
    private final Layer act;
    private final InFlightCalls calls = new InFlightCalls();

    /**
     * torch's defaults: dim_feedforward 2048, dropout 0.1, relu, eps 1e-5, sequence first, post-norm.
     *
     * @param dModel the model width, features per token
     * @param nhead the number of attention heads (must divide dModel)
     */
    public TransformerEncoderLayer(int dModel, int nhead) {
        this(dModel, nhead, 2048, 0.1, "relu", 1e-5, false, false);
    }

    /**
     * A {@code TransformerEncoderLayer} with PyTorch's arguments of the same names.
     *
     * @param dimFeedforward the feed-forward block's hidden width
     * @param layerNormEps the layer norms' epsilon
     * @param normFirst whether the layer norms come before attention and feed-forward (pre-norm)
     * @param dModel the model width, features per token
     * @param nhead the number of attention heads (must divide dModel)
     * @param dropout PyTorch's dropout probability, in [0, 1] (inactive at inference)
     * @param batchFirst whether inputs and outputs are [N, L, features] rather than [L, N, features]
     * @param activation "relu" or "gelu" (exact)
     * @throws IllegalArgumentException if a size is &lt; 1, {@code dModel} is not divisible by {@code nhead},
     *                                  {@code dropout} is not in [0, 1], the activation is unknown or
     *                                  {@code layerNormEps} is not a positive finite float
     */
    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward, double dropout, String activation, double layerNormEps,
                                   boolean batchFirst, boolean normFirst) {
        String who = "TransformerEncoderLayer";
        if (dModel < 1) throw new IllegalArgumentException(who + ": d_model must be >= 1, got " + dModel);
        if (nhead < 1) throw new IllegalArgumentException(who + ": nhead must be >= 1, got " + nhead);
        if (dModel % nhead != 0) {
            throw new IllegalArgumentException(who + ": d_model must be divisible by nhead, got d_model=" + dModel + " and nhead=" + nhead);
        }
        if (dimFeedforward < 1) throw new IllegalArgumentException(who + ": dim_feedforward must be >= 1, got " + dimFeedforward);
        if (!(dropout >= 0 && dropout <= 1)) throw new IllegalArgumentException(who + ": dropout must be in [0, 1], got " + dropout);
        if (!"relu".equals(activation) && !"gelu".equals(activation)) {
            throw new IllegalArgumentException(who + ": activation should be relu/gelu, not " + activation);
        }
        Hyperparameters.positiveFloat(who, "layer_norm_eps", layerNormEps);
        this.dModel = dModel;
        this.nhead = nhead;
        this.dimFeedforward = dimFeedforward;
        this.activation = activation;
        this.eps = layerNormEps;
        this.batchFirst = batchFirst;
        this.normFirst = normFirst;
        // sub-layers made so far are closed if a later one is refused (e.g. a feed-forward too large)
        Module[] made = new Module[6];
        try {
            made[0] = new MultiheadAttention(dModel, nhead, dropout, true, false, false, null, null, batchFirst);
            made[1] = new Linear(dModel, dimFeedforward, true);
            made[2] = new Linear(dimFeedforward, dModel, true);
            made[3] = new LayerNorm(new long[] {dModel}, layerNormEps, true);
            made[4] = new LayerNorm(new long[] {dModel}, layerNormEps, true);
            made[5] = "relu".equals(activation) ? new ReLU() : new GELU();
        } catch (RuntimeException | Error e) {
            for (Module m : made) if (m != null) m.close();
            throw e;
        }
        this.selfAttn = (MultiheadAttention) made[0];
        this.linear1 = (Linear) made[1];
        this.linear2 = (Linear) made[2];
        this.norm1 = (LayerNorm) made[3];
        this.norm2 = (LayerNorm) made[4];
        this.act = (Layer) made[5];
    }

    /** {@return the {@code dModel} setting this layer was built with (PyTorch's name)} */
    public int dModel() {
        return dModel;
    }

    /** {@return the {@code batchFirst} setting this layer was built with (PyTorch's name)} */
    public boolean batchFirst() {
        return batchFirst;
    }

    /** {@return the {@code normFirst} setting this layer was built with (PyTorch's name)} */
    public boolean normFirst() {
        return normFirst;
    }

    /** {@return the sub-module {@code selfAttn} (owned by this module: do not close it)} */
    public MultiheadAttention selfAttn() {
        return selfAttn;
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        Module[] children = {selfAttn, linear1, linear2, norm1, norm2};
        String[] names = {"self_attn", "linear1", "linear2", "norm1", "norm2"};
        for (int i = 0; i < children.length; i++) {
            for (Map.Entry<String, Tensor> e : children[i].parameters().entrySet()) p.put(names[i] + "." + e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(p);
    }

    /** {@link #forward(Tensor, AttentionMask, AttentionMask, Backend)} without masks on {@link Backend#AUTO}. */
    @Override
    public Tensor forward(Tensor src) {
        return forward(src, null, null, Backend.AUTO);
    }

    /**
     * Runs the layer on {@code backend}.
     *
     * @param src the input sequence
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @param srcMask           null, or {@code [L, L]} / {@code [N*nhead, L, L]}
     * @param srcKeyPaddingMask null, or {@code [N, L]} ({@code [L]} unbatched)
     * @return a new tensor of {@code src}'s shape, owned by the caller
     * @throws IllegalArgumentException if a shape, mask or dtype does not fit (naming this layer, expected and given)
     * @throws IllegalStateException    if this layer is closed or a tensor's memory was freed
     */
    public Tensor forward(Tensor src, AttentionMask srcMask, AttentionMask srcKeyPaddingMask, Backend backend) {
        return run(src, srcMask, srcKeyPaddingMask, backend, null);
    }

    /**
     * {@link #forwardInto(Tensor, AttentionMask, AttentionMask, Tensor, Backend)} without masks on {@link Backend#AUTO}.
     *
     * @param src the input sequence
     * @param out where the result goes (not closed by the call), of {@code src}'s shape
     */
    public void forwardInto(Tensor src, Tensor out) {
        forwardInto(src, null, null, out, Backend.AUTO);
    }

    /**
     * The layer into {@code out}, a tensor the caller provides and keeps: live, F32, contiguous,
     * writable, of {@code src}'s shape and not overlapping it. Everything is checked before any
     * native call; the last step (the residual add, or norm2) writes {@code out}, the steps before
     * it still allocate their results per call.
     *
     * @param src the input sequence
     * @param srcMask           null, or {@code [L, L]} / {@code [N*nhead, L, L]}
     * @param srcKeyPaddingMask null, or {@code [N, L]} ({@code [L]} unbatched)
     * @param out where the result goes (not closed by the call)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if a shape, mask or dtype does not fit, or {@code out} does not fit
     * @throws IllegalStateException    if this layer is closed or a tensor's memory was freed
     */
    public void forwardInto(Tensor src, AttentionMask srcMask, AttentionMask srcKeyPaddingMask, Tensor out, Backend backend) {
        if (out == null) throw new IllegalArgumentException(this + ": out must not be null");
        run(src, srcMask, srcKeyPaddingMask, backend, out);
    }

    /** Checks {@code src} (and {@code into}, when not null), then the layer; its result in {@code into} (returned) when given, else in a new tensor. */
    private Tensor run(Tensor src, AttentionMask srcMask, AttentionMask srcKeyPaddingMask, Backend backend, Tensor into) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        calls.enter(this);
        try {
            checkSource(toString(), src, dModel, batchFirst);
            if (into != null) LayerOutputs.check(toString(), into, src.shape(), src);
            return layer(src, srcMask, srcKeyPaddingMask, backend, into);
        } finally {
            calls.exit();
        }
    }

    /**
     * The checked layer; its result in {@code into} (returned) when not null, else in a new tensor. Every intermediate is
     * in this call's memory ({@link Scratch}: no JDK handshake to free it, unlike a new owned tensor each).
     */
    private Tensor layer(Tensor src, AttentionMask srcMask, AttentionMask srcKeyPaddingMask, Backend backend, Tensor into) {
        long[] shape = src.shape();
        try (Scratch scratch = new Scratch()) {
            if (normFirst) {
                Tensor n1 = scratch.forward(norm1, src, backend);
                Tensor x1 = scratch.allocate(shape);
                addInto(src, attend(n1, srcMask, srcKeyPaddingMask, backend, scratch), x1);
                Tensor ff = feedForward(scratch.forward(norm2, x1, backend), backend, scratch);
                if (into == null) return add(x1, ff);
                LayerOutputs.into(toString(), into, y -> addInto(x1, ff, y));
                return into;
            }
            Tensor sum1 = scratch.allocate(shape);
            addInto(src, attend(src, srcMask, srcKeyPaddingMask, backend, scratch), sum1);
            Tensor y1 = scratch.forward(norm1, sum1, backend);
            Tensor sum2 = scratch.allocate(shape);
            addInto(y1, feedForward(y1, backend, scratch), sum2);
            if (into == null) return norm2.forward(sum2, backend);
            norm2.forwardInto(sum2, into, backend);
            return into;
        }
    }

    /**
     * {@link #forward(Tensor)} (no masks) as graph ops: self_attn ({@link MultiheadAttention#lower}), {@code Add}
     * ({@code <path>.add1}, {@code .add2}), norm1/norm2 ({@code LayerNormalization}), linear1, the activation,
     * linear2 ({@code Gemm}s), in norm_first's order or after it.
     */
    @Override
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String input, String path) {
        return lower(graph, input, path, GraphMasks.none());
    }

    /**
     * {@link #forward(Tensor, AttentionMask, AttentionMask, Backend)} as graph ops: the lowering above with
     * {@code masks} (src_mask as the attention mask, src_key_padding_mask as the key padding mask) given to
     * self_attn ({@link MultiheadAttention#lower(dev.panamadnn.graph.GraphBuilder, String, String, GraphMasks)}).
     *
     * @param graph the graph being built
     * @param input the input value's name
     * @param path this module's path in the model (node names)
     * @param masks the mask values ({@link GraphMasks#none()} for none)
     * @return the output value's name
     * @throws IllegalArgumentException if a mask's shape or dtype does not fit
     */
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String input, String path, GraphMasks masks) {
        String x = input;
        dev.panamadnn.graph.Attributes none = dev.panamadnn.graph.Attributes.empty();
        if (normFirst) {
            String sa = selfAttn.lower(graph, norm1.lower(graph, x, Lowering.join(path, "norm1")), Lowering.join(path, "self_attn"), masks);
            String x1 = graph.node("Add", Lowering.join(path, "add1"), none, x, sa);
            return graph.node("Add", Lowering.join(path, "add2"), none, x1, lowerFeedForward(graph, norm2.lower(graph, x1, Lowering.join(path, "norm2")), path));
        }
        String sa = selfAttn.lower(graph, x, Lowering.join(path, "self_attn"), masks);
        String y1 = norm1.lower(graph, graph.node("Add", Lowering.join(path, "add1"), none, x, sa), Lowering.join(path, "norm1"));
        String ff = lowerFeedForward(graph, y1, path);
        return norm2.lower(graph, graph.node("Add", Lowering.join(path, "add2"), none, y1, ff), Lowering.join(path, "norm2"));
    }

    private String lowerFeedForward(dev.panamadnn.graph.GraphBuilder graph, String x, String path) {
        String h = linear1.lower(graph, x, Lowering.join(path, "linear1"));
        return linear2.lower(graph, act.lower(graph, h, Lowering.join(path, activation)), Lowering.join(path, "linear2"));
    }

    /** Rank 3 ({@code [L, N, d]} or batch first) or 2 (unbatched), F32, last dimension d_model. */
    static void checkSource(String who, Tensor src, int dModel, boolean batchFirst) {
        Attention.checkTensor(who, "src", src);
        long[] s = src.shape();
        if ((s.length != 2 && s.length != 3) || s[s.length - 1] != dModel) {
            throw new IllegalArgumentException(who + ": expected src of shape " + (batchFirst ? "[N, L, " : "[L, N, ") + dModel
                    + "] or [L, " + dModel + "] (unbatched), got " + Arrays.toString(s));
        }
    }

    /** Self-attention of {@code x} into this call's memory. */
    private Tensor attend(Tensor x, AttentionMask mask, AttentionMask keyPadding, Backend backend, Scratch scratch) {
        Tensor out = scratch.allocate(x.shape());
        selfAttn.forwardInto(x, x, x, keyPadding, mask, out, backend);
        return out;
    }

    /** {@code linear2(act(linear1(x)))} in this call's memory. */
    private Tensor feedForward(Tensor x, Backend backend, Scratch scratch) {
        return scratch.forward(linear2, scratch.forward(act, scratch.forward(linear1, x, backend), backend), backend);
    }

    /** A new tensor {@code a + b} (same shapes), one float add per element as torch's. */
    static Tensor add(Tensor a, Tensor b) {
        Tensor out = Tensor.zeros(a.shape());
        try {
            addInto(a, b, out);
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /** {@code a + b} into {@code out} (contiguous, a's shape). */
    private static void addInto(Tensor a, Tensor b, Tensor out) {
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        MemorySegment o = out.segment();
        for (int i = 0; i < x.length; i++) o.setAtIndex(ValueLayout.JAVA_FLOAT, i, x[i] + y[i]);
    }

    /** Marks closed, waits for calls in flight, then frees every sub-layer; idempotent. */
    @Override
    public void close() {
        if (!calls.close()) return;
        for (Module m : new Module[] {selfAttn, linear1, linear2, norm1, norm2, act}) m.close();
    }

    /** One line: {@code TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, activation=relu, ...)}. */
    @Override
    public String toString() {
        return "TransformerEncoderLayer(d_model=" + dModel + ", nhead=" + nhead + ", dim_feedforward=" + dimFeedforward + ", activation="
                + activation + ", layer_norm_eps=" + Modules.pyFloat(eps) + ", batch_first=" + (batchFirst ? "True" : "False")
                + ", norm_first=" + (normFirst ? "True" : "False") + ")";
    }
}
