/**
 * Layers named and behaving like PyTorch's {@code torch.nn} modules, with PyTorch's weight
 * layouts and state_dict names: {@link dev.panamadnn.nn.Linear}, the activations
 * ({@link dev.panamadnn.nn.ReLU}, {@link dev.panamadnn.nn.LeakyReLU}, {@link dev.panamadnn.nn.Sigmoid},
 * {@link dev.panamadnn.nn.Tanh}, {@link dev.panamadnn.nn.GELU}, {@link dev.panamadnn.nn.SiLU},
 * {@link dev.panamadnn.nn.ELU}, {@link dev.panamadnn.nn.Softmax}), {@link dev.panamadnn.nn.Flatten}
 * and {@link dev.panamadnn.nn.Sequential}.
 *
 * <p>Every layer has a native path (oneDNN, or OpenBLAS where that measures faster) and a
 * plain-Java reference path, chosen per call with {@link dev.panamadnn.nn.Backend}. Input is
 * checked completely in Java before any native call. Layers may be called from many threads at
 * once.
 */
package dev.panamadnn.nn;
