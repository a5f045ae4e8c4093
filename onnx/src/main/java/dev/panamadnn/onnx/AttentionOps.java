package dev.panamadnn.onnx;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX opset 23's Attention and RotaryEmbedding, composed of our ops (what torch's dynamo exporter writes for
 * {@code scaled_dot_product_attention} and for rotary embeddings when asked for opset 23), as the operator text and its
 * reference define them.
 */
final class AttentionOps {
    private AttentionOps() {}

    private static final Attributes NONE = Attributes.empty();

    /** The largest causal bias made (query x key positions): 256 MB of F32. */
    static final long MAX_CAUSAL = 1L << 26;

    /** The ops {@link #attention} emits. */
    static final List<String> ATTENTION_OPS = List.of("Reshape", "Transpose", "Concat", "Unsqueeze", "Expand", "Mul", "MatMul", "Div", "Tanh",
            "Where", "Add", "Softmax", "ReduceMin", "Equal", "Constant");

    /** The ops {@link #rotary} emits. */
    static final List<String> ROTARY_OPS = List.of("Reshape", "Gather", "Unsqueeze", "Slice", "Mul", "Sub", "Add", "Concat");

    /**
     * Attention-23: Q, K, V as [B, heads, S, D] (or [B, S, heads x D] with q_num_heads and kv_num_heads), past_key and
     * past_value concatenated before K and V along the sequence (present_key, present_value), K and V's heads repeated
     * for grouped queries, {@code softmax(Q sqrt(scale) (K sqrt(scale))^T [softcapped] + bias) V} where the bias is the
     * float mask, or 0 / -inf from a BOOL mask, plus the causal frontier (query i sees key j iff j <= i + past length); a
     * row every key of which is masked gives zeros, as the operator's text requires. qk_matmul_output in its four modes.
     */
    static List<String> attention(NodeContext n) {
        for (int i = 0; i < 3; i++) {
            if (n.value(i).dtype() != DataType.F32) throw n.refuse((i == 0 ? "Q" : i == 1 ? "K" : "V") + " must be FLOAT, got " + n.value(i));
        }
        int rank = n.value(0).shape().rank();
        if (rank != 3 && rank != 4 || n.value(1).shape().rank() != rank || n.value(2).shape().rank() != rank) {
            throw n.refuse("Q, K and V must all be 3-D or all 4-D, got " + n.value(0) + ", " + n.value(1) + ", " + n.value(2));
        }
        boolean hasPastKey = !n.input(4).isEmpty(), hasPastValue = !n.input(5).isEmpty();
        if (hasPastKey != hasPastValue) throw n.refuse("past_key and past_value must be given together");
        long mode = n.attributes.integer("qk_matmul_output_mode", 0);
        if (mode < 0 || mode > 3) throw n.refuse("qk_matmul_output_mode must be 0 to 3, got " + mode);
        String q = n.input(0), k = n.input(1), v = n.input(2);
        long qHeads, kvHeads;
        if (rank == 3) {
            if (!n.attributes.has("q_num_heads") || !n.attributes.has("kv_num_heads")) {
                throw n.refuse("3-D Q, K and V need q_num_heads and kv_num_heads");
            }
            qHeads = n.attributes.integer("q_num_heads");
            kvHeads = n.attributes.integer("kv_num_heads");
            q = heads(n, q, qHeads);
            k = heads(n, k, kvHeads);
            v = heads(n, v, kvHeads);
        } else {
            qHeads = fixed(n, n.value(0).shape(), 1, "Q's heads");
            kvHeads = fixed(n, n.value(1).shape(), 1, "K's heads");
        }
        if (qHeads < 1 || kvHeads < 1 || qHeads % kvHeads != 0) {
            throw n.refuse("q_num_heads " + qHeads + " must be a positive multiple of kv_num_heads " + kvHeads);
        }
        Shape qs = n.builderValue(q).shape();
        long d = fixed(n, qs, 3, "the head size");
        double scale = n.attributes.has("scale") ? n.attributes.real("scale") : 1 / Math.sqrt(d);
        if (hasPastKey) {
            k = n.emit("Concat", Attributes.of("axis", 2L), n.input(4), k);
            v = n.emit("Concat", Attributes.of("axis", 2L), n.input(5), v);
        }
        String presentKey = k, presentValue = v;
        if (qHeads != kvHeads) {
            k = repeat(n, k, qHeads / kvHeads, qHeads);
            v = repeat(n, v, qHeads / kvHeads, qHeads);
        }
        String root = n.scalar("sqrt_scale", (float) Math.sqrt(scale));
        String scores = n.emit("MatMul", NONE, n.emit("Mul", NONE, q, root),
                n.emit("Transpose", Attributes.of("perm", new long[] {0, 1, 3, 2}), n.emit("Mul", NONE, k, root)));
        String qk = scores;
        double softcap = n.attributes.real("softcap", 0);
        if (softcap > 0) {
            String cap = n.scalar("softcap", (float) softcap);
            scores = n.emit("Mul", NONE, n.emit("Tanh", NONE, n.emit("Div", NONE, scores, cap)), cap);
        }
        if (mode == 1) qk = scores;
        String bias = null;   // the additive bias: mask, causal frontier, or both
        if (!n.input(3).isEmpty()) {
            String mask = n.input(3);
            if (n.value(3).dtype() == DataType.BOOL) {
                mask = n.emit("Where", NONE, mask, n.scalar("zero", 0f), n.scalar("minus_inf", Float.NEGATIVE_INFINITY));
            } else if (n.value(3).dtype() != DataType.F32) {
                throw n.refuse("attn_mask must be BOOL or FLOAT, got " + n.value(3));
            }
            bias = mask;
        }
        if (n.attributes.integer("is_causal", 0) != 0) {
            Shape ss = n.builderValue(scores).shape();
            long rows = fixed(n, ss, 2, "the query length (is_causal)"), cols = fixed(n, ss, 3, "the key length (is_causal)");
            long past = hasPastKey ? fixed(n, n.value(4).shape(), 2, "the past length (is_causal)") : 0;
            if (rows * cols > MAX_CAUSAL) {
                throw n.refuse("is_causal over " + rows + " queries x " + cols + " keys: the causal bias (a constant) would hold more than "
                        + MAX_CAUSAL + " values");
            }
            float[] frontier = new float[(int) (rows * cols)];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) frontier[(int) (i * cols + j)] = j <= i + past ? 0f : Float.NEGATIVE_INFINITY;
            }
            String causal = n.floats("causal", frontier, rows, cols);
            bias = bias == null ? causal : n.emit("Add", NONE, bias, causal);
        }
        if (bias != null) scores = n.emit("Add", NONE, scores, bias);
        if (mode == 2) qk = scores;
        String probs = n.emit("Softmax", Attributes.of("axis", -1L), scores);
        if (bias != null) {   // a row whose every key's bias is -inf: zeros (the softmax gives NaN)
            String off = n.emit("Where", NONE, n.emit("Equal", NONE, bias, n.scalar("minus_inf", Float.NEGATIVE_INFINITY)), n.scalar("one", 1f),
                    n.scalar("zero", 0f));
            String all = n.emit("ReduceMin", Attributes.of("axes", new long[] {-1}, "keepdims", 1L), off);
            probs = n.emit("Where", NONE, n.emit("Equal", NONE, all, n.scalar("one", 1f)), n.scalar("zero", 0f), probs);
        }
        if (mode == 3) qk = probs;
        String y = n.emit("MatMul", NONE, probs, v);
        if (rank == 3) {
            y = n.emit("Reshape", NONE, n.emit("Transpose", Attributes.of("perm", new long[] {0, 2, 1, 3}), y), n.longs("merged", new long[] {0, 0, -1}, 3));
        }
        List<String> outs = new ArrayList<>(List.of(y, presentKey, presentValue, qk));
        return outs.subList(0, Math.max(1, n.outputCount));
    }

    /** [B, S, heads x D] as [B, heads, S, D]. */
    private static String heads(NodeContext n, String x, long heads) {
        String split = n.emit("Reshape", NONE, x, n.longs("heads", new long[] {0, 0, heads, -1}, 4));
        return n.emit("Transpose", Attributes.of("perm", new long[] {0, 2, 1, 3}), split);
    }

    /** [B, kv, T, D] with each head repeated {@code times} (kv x times = {@code heads}): [B, heads, T, D]. */
    private static String repeat(NodeContext n, String x, long times, long heads) {
        String wide = n.emit("Expand", NONE, n.emit("Unsqueeze", NONE, x, n.longs("axis", new long[] {2}, 1)),
                n.longs("times", new long[] {1, 1, times, 1, 1}, 5));
        return n.emit("Reshape", NONE, wide, n.longs("grouped", new long[] {0, heads, -1, fixed(n, n.builderValue(x).shape(), 3, "the head size")}, 4));
    }

    private static long fixed(NodeContext n, Shape s, int dim, String what) {
        if (!s.dim(dim).isFixed()) throw n.needsConstant(what + " (dim " + dim + " of " + s + ") must be fixed");
        return s.dim(dim).size();
    }

    /**
     * RotaryEmbedding-23: X as [B, heads, S, D] (or [B, S, heads x D] with num_heads), its first rotary_embedding_dim
     * (default D) values of each head rotated by the cos and sin caches (gathered by position_ids, or [B, S, R/2] as
     * given): halves or (interleaved) even and odd elements {@code (x1 cos - x2 sin, x1 sin + x2 cos)}, the rest kept.
     */
    static List<String> rotary(NodeContext n) {
        if (n.value(0).dtype() != DataType.F32) throw n.refuse("X must be FLOAT, got " + n.value(0));
        int rank = n.value(0).shape().rank();
        if (rank != 3 && rank != 4) throw n.refuse("X must be 3-D or 4-D, got " + n.value(0));
        String x = n.input(0);
        long heads = n.attributes.integer("num_heads", 0);
        if (rank == 3) {
            if (heads < 1) throw n.refuse("a 3-D X needs num_heads >= 1, got " + heads);
            x = n.emit("Reshape", NONE, x, n.longs("heads", new long[] {0, 0, heads, -1}, 4));   // [B, S, H, D]
        }
        Shape xs = n.builderValue(x).shape();
        long d = fixed(n, xs, 3, "the head size");
        long r = n.attributes.integer("rotary_embedding_dim", 0);
        if (r == 0) r = d;
        if (r < 2 || r > d || r % 2 != 0) throw n.refuse("rotary_embedding_dim must be even and in [2, " + d + "], got " + r);
        boolean interleaved = n.attributes.integer("interleaved", 0) != 0;
        String cos = n.input(1), sin = n.input(2);
        if (!n.input(3).isEmpty()) {
            cos = n.emit("Gather", Attributes.of("axis", 0L), cos, n.input(3));
            sin = n.emit("Gather", Attributes.of("axis", 0L), sin, n.input(3));
        }
        long[] headAxis = {rank == 4 ? 1 : 2};   // [B, S, R/2] beside the heads of [B, H, S, D] or [B, S, H, D]
        cos = n.emit("Unsqueeze", NONE, cos, n.longs("head_axis", headAxis, 1));
        sin = n.emit("Unsqueeze", NONE, sin, n.longs("head_axis", headAxis, 1));
        String x1, x2;
        if (interleaved) {
            x1 = slice(n, x, 0, r, 2);
            x2 = slice(n, x, 1, r, 2);
        } else {
            x1 = slice(n, x, 0, r / 2, 1);
            x2 = slice(n, x, r / 2, r, 1);
        }
        String real = n.emit("Sub", NONE, n.emit("Mul", NONE, cos, x1), n.emit("Mul", NONE, sin, x2));
        String imag = n.emit("Add", NONE, n.emit("Mul", NONE, sin, x1), n.emit("Mul", NONE, cos, x2));
        String rotated;
        if (interleaved) {
            String[] parts = new String[2];
            for (int i = 0; i < 2; i++) parts[i] = n.emit("Unsqueeze", NONE, i == 0 ? real : imag, n.longs("last", new long[] {-1}, 1));
            rotated = n.emit("Reshape", NONE, n.emit("Concat", Attributes.of("axis", -1L), parts), n.longs("pairs", new long[] {0, 0, 0, r}, 4));
        } else {
            rotated = n.emit("Concat", Attributes.of("axis", -1L), real, imag);
        }
        String y = r == d ? rotated : n.emit("Concat", Attributes.of("axis", -1L), rotated, slice(n, x, r, d, 1));
        if (rank == 3) y = n.emit("Reshape", NONE, y, n.longs("merged", new long[] {0, 0, -1}, 3));
        return List.of(y);
    }

    /** {@code x[..., from:to:step]} along the last axis. */
    private static String slice(NodeContext n, String x, long from, long to, long step) {
        return n.emit("Slice", NONE, x, n.longs("from", new long[] {from}, 1), n.longs("to", new long[] {to}, 1), n.longs("axes", new long[] {-1}, 1),
                n.longs("step", new long[] {step}, 1));
    }
}
