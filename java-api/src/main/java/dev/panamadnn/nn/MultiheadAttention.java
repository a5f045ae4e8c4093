package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * PyTorch's {@code nn.MultiheadAttention(embed_dim, num_heads, dropout, bias, add_bias_kv=False,
 * add_zero_attn=False, kdim, vdim, batch_first)} at inference (dropout is accepted and ignored).
 *
 * <p>Shapes: query {@code [L, N, E]}, key {@code [S, N, kdim]}, value {@code [S, N, vdim]}
 * ({@code [N, L, E]}... with {@code batch_first}), or unbatched {@code [L, E]}, {@code [S, kdim]},
 * {@code [S, vdim]}. Output {@code [L, N, E]} (likewise). Weights, when asked for:
 * {@code [N, L, S]} averaged over heads, {@code [N, H, L, S]} per head ({@code [L, S]} /
 * {@code [H, L, S]} unbatched). Masks ({@link AttentionMask}; True = masked out, as in PyTorch):
 * {@code attn_mask} {@code [L, S]} or {@code [N*H, L, S]}; {@code key_padding_mask} {@code [N, S]}
 * ({@code [S]} unbatched); an additive one is added. A query whose keys are all masked out gives
 * NaN (PyTorch 1.13 and its math path since; docs/attention.md).
 *
 * <p>Parameters (state_dict names): {@code in_proj_weight [3E, E]} when {@code kdim == vdim == E},
 * else {@code q_proj_weight [E, E]}, {@code k_proj_weight [E, kdim]}, {@code v_proj_weight [E, vdim]};
 * with {@code bias}, {@code in_proj_bias [3E]}; then {@code out_proj.weight}, {@code out_proj.bias}.
 * Initialised as PyTorch does (xavier-uniform projections, zero biases).
 *
 * <p>Native: the in-projections on OpenBLAS sgemm, attention on oneDNN ({@link AttentionCore}),
 * {@code out_proj} a {@link Linear} run on the backend asked for. REFERENCE: plain loops in
 * double throughout. Thread-safe; {@link #close()} waits for calls in flight (see {@link Layer}).
 */
public final class MultiheadAttention implements Module {
    /**
     * A forward's result: the output and the attention weights (null unless asked for); both owned by the caller.
     *
     * @param output the attention output
     * @param weights the attention weights, or null
     */
    public record Output(Tensor output, Tensor weights) implements AutoCloseable {
        @Override
        public void close() {
            output.close();
            if (weights != null) weights.close();
        }
    }

    /**
     * The graph values of an attention lowered by {@link #lower(dev.panamadnn.graph.GraphBuilder, String, String, String, String,
     * GraphMasks, boolean, boolean)}.
     *
     * @param output the attention output's value name
     * @param weights the attention weights' value name, or null when not asked for
     */
    public record Lowered(String output, String weights) {}

    private record Geometry(boolean batched, long batch, long queries, long keys) {}

    private final int embedDim, numHeads, headDim, kdim, vdim;
    private final boolean batchFirst;
    private final Tensor inProjWeight, qProjWeight, kProjWeight, vProjWeight, inProjBias;   // unused ones null
    private final Linear outProj;
    private final AttentionCore core;
    private final InFlightCalls calls = new InFlightCalls();

    /**
     * {@code MultiheadAttention(embedDim, numHeads)}: bias, kdim = vdim = embedDim, sequence first.
     *
     * @param embedDim the model width, features per token
     * @param numHeads the number of attention heads (must divide embedDim)
     */
    public MultiheadAttention(int embedDim, int numHeads) {
        this(embedDim, numHeads, 0.0, true, false, false, null, null, false);
    }

    /**
     * A {@code MultiheadAttention} with PyTorch's arguments of the same names.
     *
     * @param addBiasKv PyTorch's {@code add_bias_kv} (must be false: not supported)
     * @param addZeroAttn PyTorch's {@code add_zero_attn} (must be false: not supported)
     * @param embedDim the model width, features per token
     * @param numHeads the number of attention heads (must divide embedDim)
     * @param dropout PyTorch's dropout probability, in [0, 1] (inactive at inference)
     * @param bias whether to add a learnable bias
     * @param batchFirst whether inputs and outputs are [N, L, features] rather than [L, N, features]
     * @param kdim null for {@code embedDim}
     * @param vdim null for {@code embedDim}
     * @throws IllegalArgumentException if {@code embedDim} or {@code numHeads} is &lt; 1, {@code embedDim}
     *                                  is not divisible by {@code numHeads}, {@code kdim}/{@code vdim} &lt; 1,
     *                                  {@code dropout} is not in [0, 1], or {@code addBiasKv}/{@code addZeroAttn}
     *                                  is true (not supported)
     */
    public MultiheadAttention(int embedDim, int numHeads, double dropout, boolean bias, boolean addBiasKv, boolean addZeroAttn,
                              Integer kdim, Integer vdim, boolean batchFirst) {
        String who = "MultiheadAttention";
        if (embedDim < 1) throw new IllegalArgumentException(who + ": embed_dim must be >= 1, got " + embedDim);
        if (numHeads < 1) throw new IllegalArgumentException(who + ": num_heads must be >= 1, got " + numHeads);
        if (embedDim % numHeads != 0) {
            throw new IllegalArgumentException(who + ": embed_dim must be divisible by num_heads, got embed_dim=" + embedDim
                    + " and num_heads=" + numHeads);
        }
        if (!(dropout >= 0 && dropout <= 1)) throw new IllegalArgumentException(who + ": dropout must be in [0, 1], got " + dropout);
        if (addBiasKv) throw new IllegalArgumentException(who + ": add_bias_kv=True is not supported (expected False)");
        if (addZeroAttn) throw new IllegalArgumentException(who + ": add_zero_attn=True is not supported (expected False)");
        if (kdim != null && kdim < 1) throw new IllegalArgumentException(who + ": kdim must be >= 1, got " + kdim);
        if (vdim != null && vdim < 1) throw new IllegalArgumentException(who + ": vdim must be >= 1, got " + vdim);
        this.embedDim = embedDim;
        this.numHeads = numHeads;
        this.headDim = embedDim / numHeads;
        this.kdim = kdim == null ? embedDim : kdim;
        this.vdim = vdim == null ? embedDim : vdim;
        this.batchFirst = batchFirst;
        Sizes.f32Bytes(who + ": in_proj_weight", new long[] {3L * embedDim, Math.max(embedDim, Math.max(this.kdim, this.vdim))});
        SplittableRandom random = new SplittableRandom();
        boolean packed = this.kdim == embedDim && this.vdim == embedDim;
        Tensor[] made = new Tensor[5];   // in_proj, q, k, v, in_proj_bias: closed if a later allocation fails
        Linear out = null;
        try {
            if (packed) {
                made[0] = xavier(random, 3L * embedDim, embedDim);
            } else {
                made[1] = xavier(random, embedDim, embedDim);
                made[2] = xavier(random, embedDim, this.kdim);
                made[3] = xavier(random, embedDim, this.vdim);
            }
            if (bias) made[4] = Tensor.zeros(3L * embedDim);
            out = new Linear(embedDim, embedDim, bias);
            if (bias) out.bias().segment().fill((byte) 0);
        } catch (RuntimeException | Error e) {
            for (Tensor t : made) if (t != null) t.close();
            throw e;
        }
        inProjWeight = made[0];
        qProjWeight = made[1];
        kProjWeight = made[2];
        vProjWeight = made[3];
        inProjBias = made[4];
        outProj = out;
        core = new AttentionCore(toString());
    }

    private static Tensor xavier(SplittableRandom random, long rows, long cols) {
        Tensor t = Tensor.zeros(rows, cols);
        Init.uniform(t, random, Math.sqrt(6.0 / (rows + cols)));
        return t;
    }

    /** {@return the {@code embedDim} setting this layer was built with (PyTorch's name)} */
    public int embedDim() {
        return embedDim;
    }

    /** {@return the {@code numHeads} setting this layer was built with (PyTorch's name)} */
    public int numHeads() {
        return numHeads;
    }

    /** {@return the {@code batchFirst} setting this layer was built with (PyTorch's name)} */
    public boolean batchFirst() {
        return batchFirst;
    }

    /**
     * {@code out_proj} (its weight and bias are this module's {@code out_proj.*} parameters).
     *
     * @return the output projection (owned by this module)
     */
    public Linear outProj() {
        return outProj;
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        if (inProjWeight != null) {
            p.put("in_proj_weight", inProjWeight);
        } else {
            p.put("q_proj_weight", qProjWeight);
            p.put("k_proj_weight", kProjWeight);
            p.put("v_proj_weight", vProjWeight);
        }
        if (inProjBias != null) p.put("in_proj_bias", inProjBias);
        for (Map.Entry<String, Tensor> e : outProj.parameters().entrySet()) p.put("out_proj." + e.getKey(), e.getValue());
        return Collections.unmodifiableMap(p);
    }

    /**
     * Self-attention ({@link #forward(Tensor)}) as graph ops ({@link AttentionLowering}); the projections are
     * copied now (a snapshot). Needs kdim = vdim = embed_dim, as {@code forward(x)} does.
     */
    @Override
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String input, String path) {
        return lower(graph, input, path, GraphMasks.none());
    }

    /**
     * Self-attention with masks as graph ops: {@link #lower(dev.panamadnn.graph.GraphBuilder, String, String)} plus
     * {@code masks} (graph values, usually inputs; {@link GraphMasks} gives their shapes and PyTorch's semantics)
     * added to the scaled scores before the softmax, as {@code forward(x, x, x, keyPaddingMask, false, attnMask, ...)}.
     *
     * @param graph the graph being built
     * @param input the input value's name
     * @param path this module's path in the model (node names)
     * @param masks the mask values ({@link GraphMasks#none()} for none)
     * @return the output value's name
     * @throws IllegalArgumentException if a mask's shape or dtype does not fit (naming this module, expected and given)
     */
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String input, String path, GraphMasks masks) {
        if (masks == null) throw new IllegalArgumentException(this + ": masks must not be null (GraphMasks.none() for none)");
        dev.panamadnn.graph.Shape x = graph.value(input).shape();
        if ((x.rank() != 2 && x.rank() != 3) || !x.dim(x.rank() - 1).equals(dev.panamadnn.graph.Dim.of(embedDim)) || kdim != embedDim
                || vdim != embedDim) {
            throw new dev.panamadnn.graph.GraphException(Lowering.where(path) + " on " + graph.value(input) + ": " + this
                    + ": self-attention expects [L, N, " + embedDim + "] (batch first [N, L, " + embedDim + "]) or [L, " + embedDim
                    + "] with kdim = vdim = embed_dim; with kdim or vdim != embed_dim lower the query, key and value separately");
        }
        return AttentionLowering.selfAttention(graph, input, path, projections(), outProj, masks, toString());
    }

    /**
     * {@link #forward(Tensor, Tensor, Tensor, AttentionMask, boolean, AttentionMask, boolean, Backend)} as graph ops: the
     * attention of {@code query} over {@code key} and {@code value} (three graph values; the same one for
     * self-attention), with {@code masks} ({@link GraphMasks}, whose {@code attn_mask} is {@code [L, S]} or
     * {@code [N * num_heads, L, S]} and {@code key_padding_mask} {@code [N, S]}; {@code is_causal} needs L == S)
     * and, with {@code needWeights}, the attention weights as a second value: {@code [N, L, S]} averaged over the
     * heads ({@code averageAttnWeights}) or {@code [N, num_heads, L, S]} per head ({@code [L, S]} / {@code [num_heads,
     * L, S]} unbatched), as PyTorch returns them. The projections are copied now (a snapshot).
     *
     * @param graph the graph being built
     * @param query the query's value: {@code [L, N, E]} ({@code [N, L, E]} batch first) or unbatched {@code [L, E]}
     * @param key the key's value: {@code [S, N, kdim]} (likewise)
     * @param value the value's value: {@code [S, N, vdim]} (likewise)
     * @param path this module's path in the model (node names)
     * @param masks the mask values ({@link GraphMasks#none()} for none)
     * @param needWeights whether to lower the attention weights too
     * @param averageAttnWeights whether the weights are averaged over the heads
     * @return the output's value name and the weights' (null without {@code needWeights})
     * @throws dev.panamadnn.graph.GraphException if a shape does not fit (naming this module, expected and given)
     * @throws IllegalArgumentException if a mask's shape or dtype does not fit, or an argument is null
     */
    public Lowered lower(dev.panamadnn.graph.GraphBuilder graph, String query, String key, String value, String path, GraphMasks masks,
                         boolean needWeights, boolean averageAttnWeights) {
        if (masks == null) throw new IllegalArgumentException(this + ": masks must not be null (GraphMasks.none() for none)");
        if (graph == null || query == null || key == null || value == null || path == null) {
            throw new IllegalArgumentException(this + ": graph, query, key, value and path must not be null");
        }
        dev.panamadnn.graph.Shape q = graph.value(query).shape(), k = graph.value(key).shape(), v = graph.value(value).shape();
        int r = q.rank();
        if (r != 2 && r != 3 || !q.dim(r - 1).equals(dev.panamadnn.graph.Dim.of(embedDim))) {
            throw new dev.panamadnn.graph.GraphException(Lowering.where(path) + ": " + this + ": expected a query " + (batchFirst ? "[N, L, " : "[L, N, ")
                    + embedDim + "] or unbatched [L, " + embedDim + "], got " + graph.value(query));
        }
        if (k.rank() != r || v.rank() != r) {
            throw new dev.panamadnn.graph.GraphException(Lowering.where(path) + ": " + this + ": expected key and value of the query's rank " + r
                    + ", got key " + graph.value(key) + " and value " + graph.value(value));
        }
        int seq = r == 3 && batchFirst ? 1 : 0, batch = r == 3 ? 1 - seq : -1;
        if (!k.dim(r - 1).equals(dev.panamadnn.graph.Dim.of(kdim)) || !v.dim(r - 1).equals(dev.panamadnn.graph.Dim.of(vdim))) {
            throw new dev.panamadnn.graph.GraphException(Lowering.where(path) + ": " + this + ": expected the key's last dimension kdim=" + kdim
                    + " and the value's vdim=" + vdim + ", got key " + graph.value(key) + " and value " + graph.value(value));
        }
        if (batch >= 0 && (!k.dim(batch).equals(q.dim(batch)) || !v.dim(batch).equals(q.dim(batch)))) {
            throw new dev.panamadnn.graph.GraphException(Lowering.where(path) + ": " + this + ": expected key and value with the query's batch size "
                    + q.dim(batch) + " (dim " + batch + "), got key " + graph.value(key) + " and value " + graph.value(value));
        }
        if (!v.dim(seq).equals(k.dim(seq))) {
            throw new dev.panamadnn.graph.GraphException(Lowering.where(path) + ": " + this + ": expected the value with the key's sequence length "
                    + k.dim(seq) + " (dim " + seq + "), got value " + graph.value(value));
        }
        return AttentionLowering.attention(graph, query, key, value, path, projections(), outProj, masks, toString(), needWeights,
                averageAttnWeights);
    }

    /** The in-projections as graph-owned copies (rows of in_proj_weight, or q/k/v_proj_weight). */
    private AttentionLowering.Projections projections() {
        float[][] w = new float[3][], b = new float[3][];
        long e = embedDim;
        for (int i = 0; i < 3; i++) {
            w[i] = inProjWeight != null ? AttentionLowering.rows(inProjWeight.segment(), i * e, e, e)
                    : (i == 0 ? qProjWeight : i == 1 ? kProjWeight : vProjWeight).toFloatArray();
            b[i] = inProjBias == null ? null : AttentionLowering.rows(inProjBias.segment(), i * e, e, 1);
        }
        return new AttentionLowering.Projections(w, b, embedDim, numHeads, batchFirst);
    }

    /** Self-attention {@code forward(x, x, x)} without masks or weights, on {@link Backend#AUTO}; returns the output. */
    @Override
    public Tensor forward(Tensor x) {
        return forward(x, x, x, null, false, null, true, Backend.AUTO).output();
    }

    /**
     * PyTorch's defaults: no masks, {@code need_weights=True}, averaged, {@link Backend#AUTO}.
     *
     * @param query the queries
     * @param key the keys
     * @param value the values
     * @return the attention output and, if asked for, its weights; new tensors owned by the caller
     */
    public Output forward(Tensor query, Tensor key, Tensor value) {
        return forward(query, key, value, null, true, null, true, Backend.AUTO);
    }

    /**
     * Attention of {@code query} over {@code key}/{@code value}; masks may be null.
     *
     * @param query the queries
     * @param key the keys
     * @param value the values
     * @param keyPaddingMask keys to ignore, [N, S], or null
     * @param needWeights whether to return the attention weights
     * @param attnMask a mask broadcast to [L, S] or [N * numHeads, L, S], or null
     * @param averageAttnWeights whether the weights are averaged over heads
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if a shape, mask or dtype does not fit (the message names this module,
     *                                  the expected and the given shape) or {@code backend} is null
     * @throws IllegalStateException    if this module is closed or a tensor's memory was freed
     * @return the attention output and, if asked for, its weights; new tensors owned by the caller
     */
    public Output forward(Tensor query, Tensor key, Tensor value, AttentionMask keyPaddingMask, boolean needWeights,
                          AttentionMask attnMask, boolean averageAttnWeights, Backend backend) {
        return attend(query, key, value, keyPaddingMask, needWeights, attnMask, averageAttnWeights, backend, null);
    }

    /**
     * {@link #forwardInto(Tensor, Tensor, Tensor, AttentionMask, AttentionMask, Tensor, Backend)}
     * without masks on {@link Backend#AUTO}.
     *
     * @param query the queries
     * @param key the keys
     * @param value the values
     * @param out where the attention output goes (not closed by the call), of the query's shape
     */
    public void forwardInto(Tensor query, Tensor key, Tensor value, Tensor out) {
        forwardInto(query, key, value, null, null, out, Backend.AUTO);
    }

    /**
     * The attention output (no weights) into {@code out}, a tensor the caller provides and keeps:
     * live, F32, contiguous, writable, of the query's shape and overlapping none of query, key and
     * value. Everything is checked before any native call; the output projection writes {@code out}
     * (the projections and heads in between are still allocated per call).
     *
     * @param query the queries
     * @param key the keys
     * @param value the values
     * @param keyPaddingMask keys to ignore, [N, S], or null
     * @param attnMask a mask broadcast to [L, S] or [N * numHeads, L, S], or null
     * @param out where the attention output goes (not closed by the call)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if a shape, mask or dtype does not fit, {@code out} does not fit, or {@code backend} is null
     * @throws IllegalStateException    if this module is closed or a tensor's memory was freed
     */
    public void forwardInto(Tensor query, Tensor key, Tensor value, AttentionMask keyPaddingMask, AttentionMask attnMask, Tensor out,
                            Backend backend) {
        if (out == null) throw new IllegalArgumentException(this + ": out must not be null");
        attend(query, key, value, keyPaddingMask, false, attnMask, true, backend, out);
    }

    /** Checks everything (and {@code into}, when not null), then the attention; its output in {@code into} when given. */
    private Output attend(Tensor query, Tensor key, Tensor value, AttentionMask keyPaddingMask, boolean needWeights,
                          AttentionMask attnMask, boolean average, Backend backend, Tensor into) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        calls.enter(this);
        try {
            Geometry g = check(query, key, value);
            if (into != null) LayerOutputs.check(toString(), into, query.shape(), query, key, value);
            float[] mask = mask(g, keyPaddingMask, attnMask);
            try {
                return compute(g, query, key, value, mask, needWeights, average, backend, into);
            } catch (IllegalStateException e) {
                throw Attention.freedDuringCall(toString(), e, query, key, value);
            }
        } finally {
            calls.exit();
        }
    }

    private Geometry check(Tensor query, Tensor key, Tensor value) {
        String who = toString();
        Attention.checkTensor(who, "query", query);
        Attention.checkTensor(who, "key", key);
        Attention.checkTensor(who, "value", value);
        long[] q = query.shape(), k = key.shape(), v = value.shape();
        int r = q.length;
        if (r != 2 && r != 3) {
            throw new IllegalArgumentException(who + ": expected a query of rank 3 (" + (batchFirst ? "[N, L, E]" : "[L, N, E]")
                    + ") or 2 (unbatched [L, E]), got " + Arrays.toString(q));
        }
        if (k.length != r || v.length != r) {
            throw new IllegalArgumentException(who + ": expected key and value of the query's rank " + r + ", got key "
                    + Arrays.toString(k) + " and value " + Arrays.toString(v));
        }
        checkLast(who, "query", q, embedDim, "embed_dim");
        checkLast(who, "key", k, kdim, "kdim");
        checkLast(who, "value", v, vdim, "vdim");
        boolean batched = r == 3;
        int t = batched && batchFirst ? 1 : 0;
        long n = batched ? q[1 - t] : 1, l = q[t], s = k[t];
        if (batched && (k[1 - t] != n || v[1 - t] != n)) {
            throw new IllegalArgumentException(who + ": expected key and value with the query's batch size " + n + ", got key "
                    + Arrays.toString(k) + " and value " + Arrays.toString(v));
        }
        if (v[t] != s) {
            throw new IllegalArgumentException(who + ": expected value with the key's sequence length " + s + ", got value "
                    + Arrays.toString(v) + " for key " + Arrays.toString(k));
        }
        Sizes.f32Bytes(who + ": attention weights", new long[] {n * numHeads, l, s});
        for (long rows : new long[] {n * l, n * s}) {
            if (rows > Integer.MAX_VALUE) throw new IllegalArgumentException(who + ": at most " + Integer.MAX_VALUE + " rows, got " + rows);
        }
        return new Geometry(batched, n, l, s);
    }

    private static void checkLast(String who, String what, long[] shape, int want, String name) {
        if (shape[shape.length - 1] != want) {
            throw new IllegalArgumentException(who + ": expected the " + what + "'s last dimension to be " + name + "=" + want
                    + ", got " + Arrays.toString(shape));
        }
    }

    /** Both masks as one additive {@code [N*H, L, S]}, or null without masks (PyTorch's merge: -inf wins). */
    private float[] mask(Geometry g, AttentionMask keyPadding, AttentionMask attn) {
        String who = toString();
        long bh = g.batch() * numHeads;
        float[] full = null;
        if (attn != null) {
            Attention.checkTensor(who, "attn_mask", attn.values());
            long[] ms = attn.values().shape();
            long[] two = {g.queries(), g.keys()}, three = {bh, g.queries(), g.keys()};
            if (!Arrays.equals(ms, two) && !Arrays.equals(ms, three)) {
                throw new IllegalArgumentException(who + ": expected attn_mask of shape " + Arrays.toString(two) + " or "
                        + Arrays.toString(three) + ", got " + Arrays.toString(ms));
            }
            full = Attention.expand(who, "attn_mask", attn, true, three);
        }
        if (keyPadding != null) {
            Attention.checkTensor(who, "key_padding_mask", keyPadding.values());
            long[] want = g.batched() ? new long[] {g.batch(), g.keys()} : new long[] {g.keys()};
            if (!Arrays.equals(keyPadding.values().shape(), want)) {
                throw new IllegalArgumentException(who + ": expected key_padding_mask of shape " + Arrays.toString(want) + ", got "
                        + Arrays.toString(keyPadding.values().shape()));
            }
            float[] kp = Attention.expand(who, "key_padding_mask", keyPadding, true, want);
            if (full == null) full = new float[Sizes.arrayLength(who, "the mask", bh * g.queries() * g.keys())];
            int l = (int) g.queries(), s = (int) g.keys();
            for (int b = 0; b < bh; b++) {
                int n = b / numHeads;
                for (int i = 0; i < l; i++) for (int j = 0; j < s; j++) full[(b * l + i) * s + j] += kp[n * s + j];
            }
        }
        return full;
    }

    /** The attention; its output in {@code into} when not null (then the returned output is {@code into}, not the caller's to close). */
    private Output compute(Geometry g, Tensor query, Tensor key, Tensor value, float[] mask, boolean needWeights, boolean average,
                           Backend backend, Tensor into) {
        long n = g.batch(), bh = n * numHeads;
        AttentionCore.Dims d = new AttentionCore.Dims(bh, g.queries(), g.keys(), headDim, headDim, (float) (1 / Math.sqrt(headDim)),
                mask != null);
        long[] perHead = g.batched() ? new long[] {n, numHeads, g.queries(), g.keys()} : new long[] {numHeads, g.queries(), g.keys()};
        Tensor heads = null, weights = null, out = null;
        // the projections, the merged heads and (unless handed out) the weights in this call's memory (Scratch: no JDK
        // handshake to free them, unlike a new owned tensor each)
        try (Scratch scratch = new Scratch()) {
            Tensor qh = projectHeads(0, query, n, g.queries(), backend, scratch);
            Tensor kh = projectHeads(1, key, n, g.keys(), backend, scratch);
            Tensor vh = projectHeads(2, value, n, g.keys(), backend, scratch);
            weights = needWeights && !average ? Tensor.zeros(perHead) : scratch.allocate(perHead);
            heads = scratch.allocate(new long[] {bh, g.queries(), headDim});
            Attention.runInto(core, toString(), d, qh, kh, vh, mask, heads, weights, backend);
            Tensor merged = scratch.allocate(query.shape());
            AttentionHeads.merge(heads.segment(), merged.segment(), batchFirst, n, g.queries(), numHeads, headDim);
            if (into == null) {
                out = outProj.forward(merged, backend);
            } else {
                outProj.forwardInto(merged, into, backend);
            }
            Tensor w = null;
            if (needWeights && average) {
                w = Tensor.zeros(g.batched() ? new long[] {n, g.queries(), g.keys()} : new long[] {g.queries(), g.keys()});
                AttentionHeads.average(weights.segment(), w.segment(), n, numHeads, g.queries(), g.keys());
            } else if (needWeights) {
                w = weights;
                weights = null;   // handed to the caller
            }
            Output result = new Output(into == null ? out : into, w);
            out = null;
            return result;
        } finally {
            for (Tensor t : new Tensor[] {heads, weights, out}) if (t != null) t.close();   // scratch ones: close does nothing
        }
    }

    /** Projection {@code which} (0 q, 1 k, 2 v) of {@code x}, split into heads {@code [N*H, T, hd]}, in {@code scratch}. */
    private Tensor projectHeads(int which, Tensor x, long batch, long steps, Backend backend, Scratch scratch) {
        int in = which == 0 ? embedDim : which == 1 ? kdim : vdim, rows = (int) (batch * steps);
        MemorySegment w = inProjWeight != null
                ? inProjWeight.segment().asSlice((long) which * embedDim * embedDim * Float.BYTES, (long) embedDim * embedDim * Float.BYTES)
                : (which == 0 ? qProjWeight : which == 1 ? kProjWeight : vProjWeight).segment();
        MemorySegment b = inProjBias == null ? null
                : inProjBias.segment().asSlice((long) which * embedDim * Float.BYTES, (long) embedDim * Float.BYTES);
        Tensor heads = scratch.allocate(new long[] {batch * numHeads, steps, headDim});
        if (backend == Backend.REFERENCE) {
            Sizes.arrayLength(this, "the projected rows", (long) rows * Math.max(in, embedDim));
            float[] y = AttentionHeads.projectReference(x.toFloatArray(), rows, in, w, b, embedDim);
            AttentionHeads.split(MemorySegment.ofArray(y), heads.segment(), batchFirst, batch, steps, numHeads, headDim);
            return heads;
        }
        Tensor xn = Layer.nativeReady(x);
        try {
            Tensor y = scratch.allocate(new long[] {rows, embedDim});
            AttentionHeads.projectNative(xn.segment(), rows, in, w, b, embedDim, y.segment());
            AttentionHeads.split(y.segment(), heads.segment(), batchFirst, batch, steps, numHeads, headDim);
        } finally {
            if (xn != x) xn.close();
        }
        return heads;
    }

    /** Marks closed, waits for calls in flight, then frees primitives and parameters; idempotent. */
    @Override
    public void close() {
        if (!calls.close()) return;
        core.close();
        outProj.close();
        for (Tensor t : new Tensor[] {inProjWeight, qProjWeight, kProjWeight, vProjWeight, inProjBias}) if (t != null) t.close();
    }

    /** One line: {@code MultiheadAttention(embed_dim=8, num_heads=2, bias=True, kdim=8, vdim=8, batch_first=False)}. */
    @Override
    public String toString() {
        return "MultiheadAttention(embed_dim=" + embedDim + ", num_heads=" + numHeads + ", bias=" + (inProjBias != null ? "True" : "False")
                + ", kdim=" + kdim + ", vdim=" + vdim + ", batch_first=" + (batchFirst ? "True" : "False") + ")";
    }
}
