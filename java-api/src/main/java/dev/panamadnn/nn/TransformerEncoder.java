package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * PyTorch's {@code nn.TransformerEncoder(encoder_layer, num_layers, norm)}: {@code num_layers}
 * {@link TransformerEncoderLayer}s applied in turn with the same masks, then the optional final
 * {@code norm}. Where torch deep-copies one layer, this takes a factory called {@code num_layers}
 * times (so each layer starts with its own random weights: load a state_dict for torch's).
 * Parameters: {@code layers.{i}.*} and {@code norm.*}. Shapes and masks as
 * {@link TransformerEncoderLayer}. Owns its layers and norm; thread-safe; {@link #close()} waits
 * for calls in flight, then closes them.
 */
public final class TransformerEncoder implements Module {
    private final List<TransformerEncoderLayer> layers;
    private final LayerNorm norm;   // null: none
    private final InFlightCalls calls = new InFlightCalls();

    /**
     * A {@code TransformerEncoder} with PyTorch's arguments of the same names.
     *
     * @param layer     makes each layer (a new instance per call, all with the same d_model and batch_first)
     * @param numLayers at least 1
     * @param norm      the final norm over {@code [d_model]}, or null; owned from here on
     * @throws IllegalArgumentException if {@code layer} is null or returns null, the same instance twice or
     *                                  layers that disagree, {@code numLayers} &lt; 1, or {@code norm} does not normalize
     *                                  {@code [d_model]}; the layers made so far are closed then
     */
    public TransformerEncoder(Supplier<TransformerEncoderLayer> layer, int numLayers, LayerNorm norm) {
        String who = "TransformerEncoder";
        if (layer == null) throw new IllegalArgumentException(who + ": the encoder layer factory must not be null");
        if (numLayers < 1) throw new IllegalArgumentException(who + ": num_layers must be >= 1, got " + numLayers);
        List<TransformerEncoderLayer> made = new ArrayList<>();
        Map<TransformerEncoderLayer, Boolean> seen = new IdentityHashMap<>();
        try {
            for (int i = 0; i < numLayers; i++) {
                TransformerEncoderLayer l = layer.get();
                if (l == null) throw new IllegalArgumentException(who + ": the layer factory returned null for layer " + i);
                if (seen.put(l, true) != null) {
                    throw new IllegalArgumentException(who + ": the layer factory returned the same instance twice (layer " + i
                            + "); expected a new layer per call");
                }
                made.add(l);
                TransformerEncoderLayer first = made.get(0);
                if (l.dModel() != first.dModel() || l.batchFirst() != first.batchFirst()) {
                    throw new IllegalArgumentException(who + ": expected every layer like layer 0 (" + first + "), got layer " + i + " " + l);
                }
            }
            int d = made.get(0).dModel();
            if (norm != null && !Arrays.equals(norm.normalizedShape(), new long[] {d})) {
                throw new IllegalArgumentException(who + ": expected a final norm over [" + d + "] (d_model), got " + norm);
            }
        } catch (RuntimeException e) {
            for (TransformerEncoderLayer l : made) l.close();
            throw e;
        }
        this.layers = List.copyOf(made);
        this.norm = norm;
    }

    /** {@return the {@code numLayers} setting this layer was built with (PyTorch's name)} */
    public int numLayers() {
        return layers.size();
    }

    /**
     * Layer {@code i} (owned by this encoder).
     *
     * @param i the layer index, 0 to numLayers - 1
     * @return layer {@code i}
     */
    public TransformerEncoderLayer layer(int i) {
        return layers.get(i);
    }

    /** {@return the final norm, or null} */
    public LayerNorm norm() {
        return norm;
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            for (Map.Entry<String, Tensor> e : layers.get(i).parameters().entrySet()) p.put("layers." + i + "." + e.getKey(), e.getValue());
        }
        if (norm != null) for (Map.Entry<String, Tensor> e : norm.parameters().entrySet()) p.put("norm." + e.getKey(), e.getValue());
        return Collections.unmodifiableMap(p);
    }

    /** Every layer's {@link TransformerEncoderLayer#lower} under {@code layers.<i>}, then the norm's. */
    @Override
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String input, String path) {
        return lower(graph, input, path, GraphMasks.none());
    }

    /**
     * As above with {@code masks} (mask, src_key_padding_mask; {@link GraphMasks}) given to every layer, as
     * torch's {@code TransformerEncoder.forward(src, mask, src_key_padding_mask)} does.
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
        for (int i = 0; i < layers.size(); i++) x = layers.get(i).lower(graph, x, Lowering.join(path, "layers." + i), masks);
        return norm == null ? x : norm.lower(graph, x, Lowering.join(path, "norm"));
    }

    @Override
    public Tensor forward(Tensor src) {
        return forward(src, null, null, Backend.AUTO);
    }

    /**
     * Every layer with {@code mask} and {@code srcKeyPaddingMask} (either may be null), then the norm.
     *
     * @param src the input sequence
     * @param mask an attention mask, or null
     * @param srcKeyPaddingMask keys to ignore, [N, S], or null
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @return a new tensor of {@code src}'s shape, owned by the caller
     * @throws IllegalArgumentException if a shape, mask or dtype does not fit (naming this encoder or the layer)
     * @throws IllegalStateException    if this encoder is closed or a tensor's memory was freed
     */
    public Tensor forward(Tensor src, AttentionMask mask, AttentionMask srcKeyPaddingMask, Backend backend) {
        return run(src, mask, srcKeyPaddingMask, backend, null);
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
     * The encoder into {@code out}, a tensor the caller provides and keeps: live, F32, contiguous,
     * writable, of {@code src}'s shape and not overlapping it. Everything is checked before any
     * native call; the last layer (or the norm) writes {@code out}, the layers before it still
     * allocate their results per call.
     *
     * @param src the input sequence
     * @param mask an attention mask, or null
     * @param srcKeyPaddingMask keys to ignore, [N, S], or null
     * @param out where the result goes (not closed by the call)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if a shape, mask or dtype does not fit, or {@code out} does not fit
     * @throws IllegalStateException    if this encoder is closed or a tensor's memory was freed
     */
    public void forwardInto(Tensor src, AttentionMask mask, AttentionMask srcKeyPaddingMask, Tensor out, Backend backend) {
        if (out == null) throw new IllegalArgumentException(this + ": out must not be null");
        run(src, mask, srcKeyPaddingMask, backend, out);
    }

    /** Every layer, then the norm; the result in {@code into} (returned) when not null, else in a new tensor. */
    private Tensor run(Tensor src, AttentionMask mask, AttentionMask srcKeyPaddingMask, Backend backend, Tensor into) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        calls.enter(this);
        try {
            TransformerEncoderLayer first = layers.get(0);
            TransformerEncoderLayer.checkSource(toString(), src, first.dModel(), first.batchFirst());
            if (into != null) LayerOutputs.check(toString(), into, src.shape(), src);
            // every layer's output but the result in this call's memory (Scratch: no JDK handshake to free it)
            try (Scratch scratch = new Scratch()) {
                Tensor x = src;
                for (int i = 0; i < layers.size(); i++) {
                    TransformerEncoderLayer l = layers.get(i);
                    if (norm == null && i == layers.size() - 1) {
                        if (into == null) return l.forward(x, mask, srcKeyPaddingMask, backend);
                        l.forwardInto(x, mask, srcKeyPaddingMask, into, backend);
                        return into;
                    }
                    Tensor next = scratch.allocate(src.shape());
                    l.forwardInto(x, mask, srcKeyPaddingMask, next, backend);
                    scratch.free(x);   // (the caller's src is not the scratch's: nothing happens)
                    x = next;
                }
                if (into == null) return norm.forward(x, backend);
                norm.forwardInto(x, into, backend);
                return into;
            }
        } finally {
            calls.exit();
        }
    }

    /** Marks closed, waits for calls in flight, then closes every layer and the norm; idempotent. */
    @Override
    public void close() {
        if (!calls.close()) return;
        for (TransformerEncoderLayer l : layers) l.close();
        if (norm != null) norm.close();
    }

    @Override
    public String toString() {
        return "TransformerEncoder(num_layers=" + layers.size() + ", layer=" + layers.get(0) + ", norm=" + norm + ")";
    }
}
