package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test helper: a self-attention module (MultiheadAttention, TransformerEncoderLayer, TransformerEncoder)
 * lowered with {@link GraphMasks} whose masks are graph inputs named {@code attn_mask} and
 * {@code key_padding_mask}, compiled for fixed shapes, and run with the mask tensors by name.
 */
final class MaskedAttentionPlans {
    private MaskedAttentionPlans() {}

    /** Mask kinds and shapes for {@link #compile}: a null shape means no such mask. */
    record Masks(long[] attnShape, boolean attnBool, long[] paddingShape, boolean paddingBool, boolean causal) {
        static Masks of(Tensor attn, boolean attnBool, Tensor padding, boolean paddingBool) {
            return new Masks(attn == null ? null : attn.shape(), attnBool, padding == null ? null : padding.shape(), paddingBool, false);
        }
    }

    /** The module's graph with the masks as inputs (built only: {@link #compile} compiles it). */
    static Graph graph(Module m, long[] inputShape, Masks masks) {
        GraphBuilder g = Graph.builder("masked " + m.getClass().getSimpleName());
        String x = g.input("input", Shape.of(inputShape));
        GraphMasks gm = GraphMasks.none();
        if (masks.attnShape() != null) gm = gm.withAttnMask(g.input("attn_mask", Shape.of(masks.attnShape())), masks.attnBool());
        if (masks.paddingShape() != null) gm = gm.withKeyPaddingMask(g.input("key_padding_mask", Shape.of(masks.paddingShape())), masks.paddingBool());
        if (masks.causal()) gm = gm.causal();
        String y = switch (m) {
            case MultiheadAttention a -> a.lower(g, x, "", gm);
            case TransformerEncoderLayer l -> l.lower(g, x, "", gm);
            case TransformerEncoder e -> e.lower(g, x, "", gm);
            default -> throw new IllegalArgumentException("not an attention module: " + m);
        };
        return g.output(y).build();
    }

    static CompiledModel compile(Module m, long[] inputShape, Masks masks) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("input", inputShape);
        if (masks.attnShape() != null) shapes.put("attn_mask", masks.attnShape());
        if (masks.paddingShape() != null) shapes.put("key_padding_mask", masks.paddingShape());
        return CompiledModel.compile(graph(m, inputShape, masks), CompileOptions.defaults(), shapes);
    }

    /** Runs {@code plan} on {@code x} and the masks it was compiled with (null: none); the output, owned by the caller. */
    static Tensor run(CompiledModel plan, Tensor x, Tensor attn, Tensor padding) {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("input", x);
        if (attn != null) in.put("attn_mask", attn);
        if (padding != null) in.put("key_padding_mask", padding);
        Map<String, Tensor> out = plan.run(in);
        if (out.size() != 1) {
            out.values().forEach(Tensor::close);
            throw new IllegalStateException("expected one output, got " + out.keySet());
        }
        return out.values().iterator().next();
    }
}
