package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;

/**
 * A module of two inputs: features {@code x} and a conditioning input {@code z} ({@link FiLM},
 * {@link FiLMBlock}). It is a {@link Module} so that its state_dict loads like any other's
 * ({@code SafeTensors.loadInto}); the one-input {@link #forward(Tensor)} and {@link #lower} are
 * refused, since neither can pass {@code z}.
 */
public interface ConditionedModule extends Module {
    /**
     * The module on features {@code x} conditioned on {@code z}; a new tensor the caller owns.
     *
     * @param x       the features, {@code [N, C, ...]}
     * @param z       the conditioning vectors, {@code [N, D]}
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @return a new tensor owned by the caller (close it)
     * @throws IllegalArgumentException if an input is null, not f32 or of a shape the module does not take
     * @throws IllegalStateException    if an input's memory was freed or the module is closed
     */
    Tensor forward(Tensor x, Tensor z, Backend backend);

    /**
     * {@link #forward(Tensor, Tensor, Backend)} on {@link Backend#AUTO}.
     *
     * @param x the features, {@code [N, C, ...]}
     * @param z the conditioning vectors, {@code [N, D]}
     * @return a new tensor owned by the caller (close it)
     */
    default Tensor forward(Tensor x, Tensor z) {
        return forward(x, z, Backend.AUTO);
    }

    /**
     * The module on features {@code x} conditioned on {@code z}, into {@code out}, a tensor the
     * caller provides and keeps: live, F32, contiguous, writable, of the output shape and
     * overlapping neither input. Everything is checked before any native call; the module's
     * last step writes {@code out} (its intermediate results are still allocated per call).
     *
     * @param x       the features, {@code [N, C, ...]}
     * @param z       the conditioning vectors, {@code [N, D]}
     * @param out     where the result goes (not closed by the call)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if an input is null, not f32 or of a shape the module does not take, or {@code out} does not fit
     * @throws IllegalStateException    if an input's or {@code out}'s memory was freed or the module is closed
     */
    void forwardInto(Tensor x, Tensor z, Tensor out, Backend backend);

    /**
     * {@link #forwardInto(Tensor, Tensor, Tensor, Backend)} on {@link Backend#AUTO}.
     *
     * @param x   the features, {@code [N, C, ...]}
     * @param z   the conditioning vectors, {@code [N, D]}
     * @param out where the result goes (not closed by the call)
     */
    default void forwardInto(Tensor x, Tensor z, Tensor out) {
        forwardInto(x, z, out, Backend.AUTO);
    }

    /**
     * Not available: this module takes two inputs; call {@link #forward(Tensor, Tensor)}.
     *
     * @param input ignored
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    default Tensor forward(Tensor input) {
        throw new UnsupportedOperationException(this + " takes two inputs (features x and conditioning z): call forward(x, z)");
    }

    /**
     * Not available: two inputs; use {@link #lower(GraphBuilder, String, String, String)}.
     *
     * @param graph ignored
     * @param input ignored
     * @param path  the module's path, for the message
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    default String lower(GraphBuilder graph, String input, String path) {
        throw new UnsupportedOperationException(this + " at " + Lowering.where(path)
                + " takes two inputs (features x and conditioning z): lower it with lower(graph, x, z, path)");
    }

    /**
     * {@link #forward(Tensor, Tensor)} as graph ops, on features {@code x} and conditioning {@code z} (graph values), so a
     * model around it compiles; returns the output's value name.
     *
     * @param graph the graph being built
     * @param x     the features' value, {@code [N, C, ...]}
     * @param z     the conditioning vectors' value, {@code [N, D]}
     * @param path  this module's path in the model (node names; its parameters' state_dict prefix)
     * @return the output's value name
     * @throws dev.panamadnn.graph.GraphException if a shape does not fit (naming the module, expected and given)
     */
    String lower(GraphBuilder graph, String x, String z, String path);
}
