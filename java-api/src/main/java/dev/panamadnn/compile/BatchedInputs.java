package dev.panamadnn.compile;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.graph.Value;
import dev.panamadnn.internal.Sizes;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The inputs of a graph {@link PlanSet}: each {@code [N, fixed sizes...]} with the one symbolic
 * batch N they share. Gives the shapes of a batch size's plan, and reads the batch size of a
 * run's inputs (every input must agree on it). Immutable.
 */
final class BatchedInputs {
    private final String owner;
    private final List<Value> inputs;
    private final long[][] samples;

    private BatchedInputs(String owner, List<Value> inputs, long[][] samples) {
        this.owner = owner;
        this.inputs = inputs;
        this.samples = samples;
    }

    /**
     * The inputs of {@code graph}. @throws IllegalArgumentException if an input is not
     * {@code [N, fixed sizes...]} or two use different symbols for their batch
     */
    static BatchedInputs of(Graph graph) {
        if (graph.inputs().isEmpty()) {
            throw new IllegalArgumentException("PlanSet: graph " + graph.name() + " has no inputs, so no batch to plan for; compile it once with "
                    + "CompiledModel.compile(graph, options, Map.of())");
        }
        long[][] samples = new long[graph.inputs().size()][];
        String symbol = null;
        for (int k = 0; k < samples.length; k++) {
            Value v = graph.inputs().get(k);
            Shape in = v.shape();
            boolean batched = in.rank() >= 1 && !in.dim(0).isFixed() && in.dim(0).factor() == 1;
            for (int i = 1; i < in.rank(); i++) batched &= in.dim(i).isFixed();
            if (!batched) {
                throw new IllegalArgumentException("PlanSet: expected every graph input to be [N, fixed sizes...] with a symbolic batch N, got " + v);
            }
            if (symbol != null && !symbol.equals(in.dim(0).symbol())) {
                throw new IllegalArgumentException("PlanSet: the graph's inputs must share one batch symbol, got " + graph.inputs().get(0) + " and " + v);
            }
            symbol = in.dim(0).symbol();
            samples[k] = new long[in.rank() - 1];
            for (int i = 0; i < samples[k].length; i++) samples[k][i] = in.dim(i + 1).size();
        }
        checkFirstOutputKeepsBatch(graph, symbol);
        return new BatchedInputs(graph.name(), graph.inputs(), samples);
    }

    /**
     * A plan set's plans must map {@code [N, ...]} to a first output {@code [N, ...]} (each plan checks it when built):
     * where the graph's inferred shape already says it does not (rank 0, a fixed first dim, or a multiple of the batch
     * there, e.g. a sequence-first output {@code [T, N, C]}), refused now rather than at the first run. A first dim of
     * another symbol is left to the plans.
     */
    private static void checkFirstOutputKeepsBatch(Graph graph, String symbol) {
        if (graph.outputs().isEmpty()) return;
        Value out = graph.value(graph.outputs().get(0));
        Shape shape = out.shape();
        boolean not = shape.rank() == 0 || shape.dim(0).isFixed() || symbol.equals(shape.dim(0).symbol()) && shape.dim(0).factor() != 1;
        if (not) {
            throw new IllegalArgumentException("PlanSet(" + graph.name() + "): the graph maps input " + graph.inputs().get(0) + " to " + out
                    + ", not to [" + symbol + ", ...]: a plan set needs a model whose first output keeps the batch dimension first (compile one"
                    + " plan per shape with CompiledModel.compile instead)");
        }
    }

    /** Input 0's sample shape. */
    long[] firstSample() {
        return samples[0];
    }

    /** The shape of every input, by name, at batch {@code batch}. */
    Map<String, long[]> shapes(long batch) {
        Map<String, long[]> m = new HashMap<>();
        for (int k = 0; k < samples.length; k++) {
            long[] s = new long[samples[k].length + 1];
            s[0] = batch;
            System.arraycopy(samples[k], 0, s, 1, samples[k].length);
            m.put(inputs.get(k).name(), s);
        }
        return m;
    }

    /**
     * The batch size the inputs agree on, read from their first dims (names, dtypes and the other
     * dims are checked by the plan, before any native call).
     *
     * @throws IllegalArgumentException if an input is missing or not {@code [N, sample...]}, or two disagree on N
     */
    long batchOf(String planSet, Map<String, Tensor> given) {
        if (given == null) throw new IllegalArgumentException(planSet + ": the inputs must not be null");
        long batch = -1;
        String first = null;
        for (int k = 0; k < samples.length; k++) {
            Value v = inputs.get(k);
            Tensor t = given.get(v.name());
            if (t == null) throw new IllegalArgumentException(planSet + ": missing input '" + v.name() + "' (" + v.type() + ")");
            boolean fits = t.rank() == samples[k].length + 1;
            for (int i = 0; fits && i < samples[k].length; i++) fits = t.dim(i + 1) == samples[k][i];
            if (!fits) {
                throw new IllegalArgumentException(planSet + ": input '" + v.name() + "': expected shape " + v.shape() + " (any batch N >= 1), got "
                        + Arrays.toString(t.shape()));
            }
            if (batch < 0) {
                batch = t.dim(0);
                first = v.name();
            } else if (t.dim(0) != batch) {
                throw new IllegalArgumentException(planSet + ": inputs '" + first + "' (N = " + batch + ") and '" + v.name() + "' (N = " + t.dim(0)
                        + ") disagree on the batch N");
            }
        }
        return batch;
    }

    // ---- the checks of a plan set's one-tensor runs (no allocation when they pass) ----

    /** The batch size of {@code input}, after checking that it is {@code [N, sampleShape...]}: no native call before this. */
    static int batchOf(Object planSet, long[] sampleShape, Tensor input) {
        if (input == null) throw new IllegalArgumentException(planSet + ": input must not be null");
        boolean fits = input.rank() == sampleShape.length + 1;   // rank() and dim(): shape() would copy
        for (int i = 0; fits && i < sampleShape.length; i++) fits = input.dim(i + 1) == sampleShape[i];
        if (!fits) {
            throw new IllegalArgumentException(planSet + ": expected input shape " + expected(sampleShape) + " (any batch N >= 1), got "
                    + Arrays.toString(input.shape()));
        }
        return batchInRange(planSet, input.dim(0));   // the tensor exists, so [N, sample...] is a size that can exist
    }

    static void checkOutput(Object planSet, long[] outputSample, Tensor output, int batch) {
        if (output == null) throw new IllegalArgumentException(planSet + ": output must not be null");
        long[] sample = outputSample;
        if (sample == null) return;   // not known before the first plan: that plan checks it
        boolean fits = output.rank() == sample.length + 1 && output.dim(0) == batch;
        for (int i = 0; fits && i < sample.length; i++) fits = output.dim(i + 1) == sample[i];
        if (!fits) {
            throw new IllegalArgumentException(planSet + ": expected output shape " + expected(sample).replace("[N", "[" + batch)
                    + " for an input of batch " + batch + ", got " + Arrays.toString(output.shape()));
        }
    }

    /** A batch size asked for by number: in range, and {@code [N, sample...]} a size that can exist. */
    static int checkBatch(Object planSet, long[] sampleShape, long batch) {
        int b = batchInRange(planSet, batch);
        Sizes.numel(planSet + ": input", withBatch(b, sampleShape));
        return b;
    }

    /** Refuses a batch size < 1 or past oneDNN's dimension limit; allocation-free when it fits. */
    static int batchInRange(Object planSet, long batch) {
        if (batch < 1 || batch > Sizes.MAX_DNNL_DIM) {
            throw new IllegalArgumentException(planSet + ": expected a batch size from 1 to " + Sizes.MAX_DNNL_DIM + " (2^31 - 1), got " + batch);
        }
        return (int) batch;
    }

    static long[] withBatch(long batch, long[] sampleShape) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = batch;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return shape;
    }

    static long[] sampleOf(long[] out) {
        return Arrays.copyOfRange(out, 1, out.length);
    }

    static String expected(long[] sample) {
        StringBuilder s = new StringBuilder("[N");
        for (long d : sample) s.append(", ").append(d);
        return s.append(']').toString();
    }

    @Override
    public String toString() {
        return owner + " " + inputs;
    }
}
