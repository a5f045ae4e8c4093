package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Feature-wise linear modulation (Perez et al., "FiLM: Visual Reasoning with a General
 * Conditioning Layer", AAAI 2018): {@code y = gamma(z) * x + beta(z)} for features
 * {@code x [N, C, *]} (conv features {@code [N, C, H, W]}, sequences {@code [N, C, L]}, or
 * {@code [N, C]}) and a conditioning input {@code z [N, D]}, where {@code gamma} and {@code beta} are
 * each a {@link Linear}{@code (D, C)} and their {@code [N, C]} outputs are broadcast over every
 * position. State_dict names {@code gamma.weight, gamma.bias, beta.weight, beta.bias} (the
 * equivalent torch module of {@code scripts/goldens/generate_layers14.py}). The output has x's shape.
 *
 * <p>Two inputs, so not a {@link Layer}: call {@link #forward(Tensor, Tensor)} (a {@link Module} for its state_dict only). Native: the two
 * Linears on oneDNN, then {@link Broadcast#apply} multiply and add (oneDNN binary). Reference: the
 * same steps in plain Java. Thread-safe; {@link #close()} waits for calls in flight and closes both Linears.
 * Lowers to the graph ({@link #lower(dev.panamadnn.graph.GraphBuilder, String, String, String)}): two {@code Gemm}s, a
 * {@code Reshape} of each to {@code [N, C, 1, ...]}, {@code Mul} and {@code Add} with NumPy broadcasting.
 */
public final class FiLM implements ConditionedModule {
    private final int condDim, channels;
    private final Linear gamma, beta;
    private final InFlightCalls calls = new InFlightCalls();

    /**
     * A {@code FiLM} layer with the arguments below.
     *
     * @param conditionDim features of the conditioning vector
     * @param channels the number of channels
     * @throws IllegalArgumentException if a size is {@code < 1}
     */
    public FiLM(int conditionDim, int channels) {
        if (conditionDim < 1 || channels < 1) {
            throw new IllegalArgumentException("FiLM: condition_dim and channels must be >= 1, got " + conditionDim + " and " + channels);
        }
        this.condDim = conditionDim;
        this.channels = channels;
        this.gamma = new Linear(conditionDim, channels, true);
        Linear b = null;
        try {
            b = new Linear(conditionDim, channels, true);
        } catch (RuntimeException | Error e) {
            gamma.close();
            throw e;
        }
        this.beta = b;
    }

    /** {@return the {@code conditionDim} setting this layer was built with (PyTorch's name)} */
    public int conditionDim() {
        return condDim;
    }

    /** {@return the {@code channels} setting this layer was built with (PyTorch's name)} */
    public int channels() {
        return channels;
    }

    /** {@return the Linear giving gamma(z)} */
    public Linear gamma() {
        return gamma;
    }

    /** {@return the Linear giving beta(z)} */
    public Linear beta() {
        return beta;
    }

    /** {@code gamma.weight, gamma.bias, beta.weight, beta.bias}. */
    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        Modules.addParameters(m, "gamma", gamma);
        Modules.addParameters(m, "beta", beta);
        return Collections.unmodifiableMap(m);
    }

    /**
     * {@code gamma(z) * x + beta(z)}; a new tensor the caller owns.
     *
     * @param x the feature maps, [N, C, ...]
     * @param z the conditioning vectors, [N, conditionDim]
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if an input is null or not f32, x is not {@code [N, C, *]},
     *                                  or z is not {@code [N, D]} with x's N
     * @throws IllegalStateException    if an input's memory was freed or this FiLM is closed
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

    /** The module into {@code out}, or into a new tensor it returns when {@code out} is null. */
    private Tensor run(Tensor x, Tensor z, Tensor out, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        calls.enter(this);
        try {
            check("features", x);
            check("conditioning", z);
            long[] shape = outputShape(x.shape(), z.shape());
            if (out != null) LayerOutputs.check(toString(), out, shape, x, z);
            long[] perChannel = new long[x.rank()];
            Arrays.fill(perChannel, 1);
            perChannel[0] = x.dim(0);
            perChannel[1] = channels;
            // gamma(z), beta(z) and gamma * x in confined memory of this call (Scratch: no JDK handshake to free them)
            try (Scratch scratch = new Scratch()) {
                Tensor g = scratch.temporary(gamma, z, backend), b = scratch.temporary(beta, z, backend);
                Tensor scaled = scratch.allocate(shape);
                Broadcast.applyInto(Broadcast.Op.MUL, g.reshape(perChannel), x, scaled, backend);
                if (out == null) return Broadcast.apply(Broadcast.Op.ADD, scaled, b.reshape(perChannel), backend);
                Broadcast.applyInto(Broadcast.Op.ADD, scaled, b.reshape(perChannel), out, backend);
                return out;
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * x's shape, after checking both shapes.
     *
     * @param x the feature maps, [N, C, ...]
     * @param z the conditioning vectors, [N, conditionDim]
     * @throws IllegalArgumentException if x is not {@code [N, C, *]} or z not {@code [N, D]}
     * @return the output shape
     */
    public long[] outputShape(long[] x, long[] z) {
        if (x == null || z == null) throw new IllegalArgumentException(this + ": input shapes must not be null");
        if (x.length < 2 || x[1] != channels || Arrays.stream(x).anyMatch(d -> d < 1)) {
            throw new IllegalArgumentException(this + ": expected features [N, " + channels + ", *], got " + Arrays.toString(x));
        }
        if (z.length != 2 || z[0] != x[0] || z[1] != condDim) {
            throw new IllegalArgumentException(this + ": expected a conditioning input [" + x[0] + ", " + condDim + "] (N of the features "
                    + Arrays.toString(x) + "), got " + Arrays.toString(z));
        }
        return x.clone();
    }

    private void check(String which, Tensor t) {
        if (t == null) throw new IllegalArgumentException(this + ": the " + which + " input must not be null");
        if (!t.isAlive()) throw new IllegalStateException(this + ": expected a live " + which + " input, got " + t + " whose memory was freed");
        if (t.dtype() != DataType.F32) {
            throw new IllegalArgumentException(this + ": expected an F32 " + which + " input, got " + t.dtype() + " (shape "
                    + Arrays.toString(t.shape()) + ")");
        }
    }

    @Override
    public String lower(dev.panamadnn.graph.GraphBuilder graph, String x, String z, String path) {
        if (graph == null || x == null || z == null || path == null) throw new IllegalArgumentException(this + ": graph, x, z and path must not be null");
        dev.panamadnn.graph.Shape xs = graph.value(x).shape(), zs = graph.value(z).shape();
        String where = Lowering.where(path);
        if (xs.rank() < 2 || !xs.dim(1).equals(dev.panamadnn.graph.Dim.of(channels))) {
            throw new dev.panamadnn.graph.GraphException(where + ": " + this + ": expected features [N, " + channels + ", *], got " + graph.value(x));
        }
        if (zs.rank() != 2 || !zs.dim(0).equals(xs.dim(0)) || !zs.dim(1).equals(dev.panamadnn.graph.Dim.of(condDim))) {
            throw new dev.panamadnn.graph.GraphException(where + ": " + this + ": expected a conditioning input [" + xs.dim(0) + ", " + condDim
                    + "] (N of the features " + xs + "), got " + graph.value(z));
        }
        java.util.List<dev.panamadnn.graph.Dim> broadcast = new java.util.ArrayList<>(java.util.List.of(xs.dim(0), dev.panamadnn.graph.Dim.of(channels)));
        for (int i = 2; i < xs.rank(); i++) broadcast.add(dev.panamadnn.graph.Dim.of(1));
        dev.panamadnn.graph.Shape perChannel = new dev.panamadnn.graph.Shape(broadcast);
        String g = Lowering.reshape(graph, gamma.lower(graph, z, Lowering.join(path, "gamma")), Lowering.join(path, "gamma_per_channel"), perChannel);
        String b = Lowering.reshape(graph, beta.lower(graph, z, Lowering.join(path, "beta")), Lowering.join(path, "beta_per_channel"), perChannel);
        dev.panamadnn.graph.Attributes none = dev.panamadnn.graph.Attributes.empty();
        return graph.node("Add", Lowering.join(path, "shift"), none, graph.node("Mul", Lowering.join(path, "scale"), none, x, g), b);
    }

    /** Closes both Linears once calls in flight have returned; idempotent. */
    @Override
    public void close() {
        if (calls.close()) {
            gamma.close();
            beta.close();
        }
    }

    @Override
    public String toString() {
        return "FiLM(condition_dim=" + condDim + ", channels=" + channels + ")";
    }
}
