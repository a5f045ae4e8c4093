package dev.panamadnn;

import java.util.Map;

/**
 * A layer or a composition of layers, named and behaving like its PyTorch counterpart.
 *
 * <p>Parameters are exposed under PyTorch {@code state_dict} names ({@code "weight"},
 * {@code "bias"}, {@code "0.weight"} inside a Sequential, ...) so that a PyTorch checkpoint maps
 * one to one. A module owns its parameter tensors and frees them on {@link #close()}.
 * Thread safety: {@link #forward} may be called from many threads at once.
 */
public interface Module extends AutoCloseable {

    /**
     * Eager inference on {@code input}; returns a new tensor owned by the caller (close it).
     *
     * @throws IllegalArgumentException if the input's rank, sizes or dtype do not fit, naming
     *                                  the module, the expected and the actual value
     * @throws IllegalStateException    if the input's memory or this module was freed
     */
    Tensor forward(Tensor input);

    /** Parameters (and buffers such as running statistics) by state_dict name, in PyTorch's order. */
    Map<String, Tensor> parameters();

    /** Frees the parameters and any native objects; idempotent. */
    @Override
    void close();
}
