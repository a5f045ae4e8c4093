package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The hyperparameters of a recurrent stack (an {@link LSTM}, a {@link GRU}, or a cell: one layer,
 * one direction), validated once, and the sizes derived from them. {@code projSize} 0 means no
 * projection (always 0 for a GRU).
 */
record RecurrentSpec(String layer, boolean lstm, int inputSize, int hiddenSize, int numLayers, boolean bias,
                     boolean bidirectional, int projSize) {

    /** One direction of one layer: PyTorch's parameter tensors (bias ones null without bias, whr null without projection). */
    record DirectionWeights(Tensor wih, Tensor whh, Tensor bih, Tensor bhh, Tensor whr) {}

    RecurrentSpec {
        if (inputSize <= 0) throw new IllegalArgumentException(layer + ": input_size must be > 0, got " + inputSize);
        if (hiddenSize <= 0) throw new IllegalArgumentException(layer + ": hidden_size must be > 0, got " + hiddenSize);
        if (numLayers <= 0) throw new IllegalArgumentException(layer + ": num_layers must be > 0, got " + numLayers);
        if (projSize < 0) throw new IllegalArgumentException(layer + ": proj_size must be >= 0, got " + projSize);
        if (projSize > 0 && !lstm) throw new IllegalArgumentException(layer + ": proj_size is only supported by LSTM, got " + projSize);
        if (projSize >= hiddenSize && projSize > 0) {
            throw new IllegalArgumentException(layer + ": proj_size must be smaller than hidden_size (" + hiddenSize + "), got " + projSize);
        }
        // Every weight's element count fits a Java array (the reference holds them as float[]) and oneDNN's bounds.
        long widest = Math.max(inputSize, (long) (projSize > 0 ? projSize : hiddenSize) * (bidirectional ? 2 : 1));
        Sizes.arrayLength(layer, "a weight [" + (lstm ? 4 : 3) + " * " + hiddenSize + ", " + widest + "]",
                (lstm ? 4L : 3L) * hiddenSize * widest);
    }

    /** Gates per step: LSTM i, f, g, o; GRU r, z, n (PyTorch's order). */
    int gates() {
        return lstm ? 4 : 3;
    }

    int directions() {
        return bidirectional ? 2 : 1;
    }

    /** The size of h (the projection's, with one). */
    int outSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    /** Features of layer {@code k}'s input. */
    int layerInput(int k) {
        return k == 0 ? inputSize : outSize() * directions();
    }

    /**
     * Creates the parameters, PyTorch's order and names ({@code weight_ih<sfx>}, {@code weight_hh<sfx>},
     * {@code bias_ih<sfx>}, {@code bias_hh<sfx>}, {@code weight_hr<sfx>}, with {@code sfx} = {@code _l<k>[_reverse]}
     * for a stack and empty for a cell), each U(-1/sqrt(hidden), 1/sqrt(hidden)) as PyTorch initialises them;
     * returns them per (layer, direction), index {@code k * directions + d}.
     */
    List<DirectionWeights> createParameters(Map<String, Tensor> into, boolean cell) {
        SplittableRandom random = new SplittableRandom();
        double bound = 1 / Math.sqrt(hiddenSize);
        List<DirectionWeights> all = new ArrayList<>();
        long gh = (long) gates() * hiddenSize;
        for (int k = 0; k < numLayers; k++) {
            for (int d = 0; d < directions(); d++) {
                String sfx = cell ? "" : "_l" + k + (d == 1 ? "_reverse" : "");
                Tensor wih = put(into, "weight_ih" + sfx, random, bound, gh, layerInput(k));
                Tensor whh = put(into, "weight_hh" + sfx, random, bound, gh, outSize());
                Tensor bih = bias ? put(into, "bias_ih" + sfx, random, bound, gh) : null;
                Tensor bhh = bias ? put(into, "bias_hh" + sfx, random, bound, gh) : null;
                Tensor whr = projSize > 0 ? put(into, "weight_hr" + sfx, random, bound, projSize, hiddenSize) : null;
                all.add(new DirectionWeights(wih, whh, bih, bhh, whr));
            }
        }
        return all;
    }

    private static Tensor put(Map<String, Tensor> into, String name, SplittableRandom random, double bound, long... shape) {
        Tensor t = Tensor.zeros(shape);
        Init.uniform(t, random, bound);
        into.put(name, t);
        return t;
    }
}
