package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The FiLM-ed residual block of Perez et al. (2018, figure 3): on {@code x [N, C_in, H, W]} and a
 * conditioning input {@code z [N, D]},
 * <pre>
 *   h   = relu(conv1(x))                       conv1: 1x1, C_in -> C, with bias
 *   out = relu(film(bn(conv2(h)), z)) + h      conv2: 3x3, padding 1, C -> C, with bias;
 *                                              bn: BatchNorm2d(C) without affine (FiLM scales and shifts)
 * </pre>
 * giving {@code [N, C, H, W]}. State_dict names {@code conv1.*, conv2.*, bn.running_mean,
 * bn.running_var, bn.num_batches_tracked, film.gamma.*, film.beta.*} (the torch module of
 * {@code scripts/goldens/generate_layers14.py}). Each step runs natively or, with
 * {@link Backend#REFERENCE}, on its plain-Java reference. Thread-safe; {@link #close()} closes the
 * children (each waits for its calls in flight). Lowers to the graph
 * ({@link #lower(dev.panamadnn.graph.GraphBuilder, String, String, String)}) as its children's nodes and an {@code Add}.
 */
public final class FiLMBlock implements ConditionedModule {
    private final int inChannels, channels, condDim;
    private final Conv2d conv1, conv2;
    private final BatchNorm2d bn;
    private final FiLM film;
    private final ReLU relu = new ReLU();

    /**
     * A {@code FiLMBlock} with the arguments below.
     *
     * @param inChannels input channels
     * @throws IllegalArgumentException if a size is {@code < 1}
     *
     * @param channels the number of channels
     * @param conditionDim features of the conditioning vector
     */
    public FiLMBlock(int inChannels, int channels, int conditionDim) {
        if (inChannels < 1 || channels < 1 || conditionDim < 1) {
            throw new IllegalArgumentException("FiLMBlock: in_channels, channels and condition_dim must be >= 1, got " + inChannels + ", "
                    + channels + " and " + conditionDim);
        }
        this.inChannels = inChannels;
        this.channels = channels;
        this.condDim = conditionDim;
        this.conv1 = new Conv2d(inChannels, channels, 1);
        this.conv2 = Conv2d.builder(channels, channels, 3).padding(1).build();
        this.bn = new BatchNorm2d(channels, 1e-5, false);
        this.film = new FiLM(conditionDim, channels);
    }

    /** {@return the sub-module {@code conv1} (owned by this module: do not close it)} */
    public Conv2d conv1() {
        return conv1;
    }

    /** {@return the sub-module {@code conv2} (owned by this module: do not close it)} */
    public Conv2d conv2() {
        return conv2;
    }

    /** {@return the sub-module {@code bn} (owned by this module: do not close it)} */
    public BatchNorm2d bn() {
        return bn;
    }

    /** {@return the sub-module {@code film} (owned by this module: do not close it)} */
    public FiLM film() {
        return film;
    }

    /** By PyTorch state_dict name, in its order. */
    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        Modules.addParameters(m, "conv1", conv1);
        Modules.addParameters(m, "conv2", conv2);
        Modules.addParameters(m, "bn", bn);
        for (Map.Entry<String, Tensor> e : film.parameters().entrySet()) m.put("film." + e.getKey(), e.getValue());
        return Collections.unmodifiableMap(m);
    }

    /**
     * The block on {@code x [N, C_in, H, W]} conditioned on {@code z [N, D]}; a new tensor the caller owns.
     * Both shapes are checked before any native call.
     *
     * @param x the feature maps, [N, C, H, W]
     * @param z the conditioning vectors, [N, conditionDim]
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if an input is null, not f32 or of the wrong shape
     * @throws IllegalStateException    if an input's memory was freed or the block is closed
     * @return a new tensor owned by the caller (close it)
     */
    @Override
    public Tensor forward(Tensor x, Tensor z, Backend backend) {
        return run(x, z, null, backend);
    }

    @Override
    public void forwardInto(Tensor x, Tensor z, Tensor out, Backend backend) {
        if (out == null) throw new IllegalArgumentException(this + ": out must not be null");
        run(x, z, out, backend);
    }

    /** The block into {@code out}, or into a new tensor it returns when {@code out} is null. */
    private Tensor run(Tensor x, Tensor z, Tensor out, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        if (x == null || z == null) throw new IllegalArgumentException(this + ": inputs must not be null");
        if (x.rank() != 4 || x.dim(1) != inChannels) {
            throw new IllegalArgumentException(this + ": expected x [N, " + inChannels + ", H, W], got " + Arrays.toString(x.shape()));
        }
        long[] hShape = conv1.outputShape(x.shape());
        film.outputShape(hShape, z.shape());
        if (out != null) LayerOutputs.check(toString(), out, hShape, x, z);
        // every intermediate in confined memory of this call (Scratch: no JDK handshake to free them); only the result is new
        try (Scratch scratch = new Scratch()) {
            Tensor h = scratch.temporary(relu, scratch.temporary(conv1, x, backend), backend);
            Tensor normed = scratch.temporary(bn, scratch.temporary(conv2, h, backend), backend);
            Tensor filmed = scratch.allocate(hShape);
            film.forwardInto(normed, z, filmed, backend);
            Tensor activated = scratch.temporary(relu, filmed, backend);
            if (out == null) return Broadcast.apply(Broadcast.Op.ADD, activated, h, backend);
            Broadcast.applyInto(Broadcast.Op.ADD, activated, h, out, backend);
            return out;
        }
    }

    @Override
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String x, String z, String path) {
        if (graph == null || x == null || z == null || path == null) throw new IllegalArgumentException(this + ": graph, x, z and path must not be null");
        dev.panamadnn.graph.Shape xs = graph.value(x).shape();
        if (xs.rank() != 4 || !xs.dim(1).equals(dev.panamadnn.graph.Dim.of(inChannels))) {
            throw new dev.panamadnn.graph.GraphException(Lowering.where(path) + ": " + this + ": expected x [N, "
                    + inChannels + ", H, W], got " + graph.value(x));
        }
        String h = relu.lower(graph, conv1.lower(graph, x, Lowering.join(path, "conv1")), Lowering.join(path, "relu1"));
        String normed = bn.lower(graph, conv2.lower(graph, h, Lowering.join(path, "conv2")), Lowering.join(path, "bn"));
        String activated = relu.lower(graph, film.lower(graph, normed, z, Lowering.join(path, "film")), Lowering.join(path, "relu2"));
        return graph.node("Add", Lowering.join(path, "residual"), dev.panamadnn.graph.Attributes.empty(), activated, h);
    }

    @Override
    public void close() {
        conv1.close();
        conv2.close();
        bn.close();
        film.close();
        relu.close();
    }

    @Override
    public String toString() {
        return "FiLMBlock(in_channels=" + inChannels + ", channels=" + channels + ", condition_dim=" + condDim + ")";
    }
}
