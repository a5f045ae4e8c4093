package dev.panamadnn.nn;

import java.util.List;

/**
 * The plain-Java reference of the recurrent family, written from PyTorch's formulas (the oracle):
 * <pre>
 *   LSTM: i = σ(W_ii x + b_ii + W_hi h + b_hi), f = σ(..f..), g = tanh(..g..), o = σ(..o..)
 *         c' = f c + i g,  h' = o tanh(c'),  then h' = W_hr h' with a projection
 *   GRU:  r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(..z..),
 *         n = tanh(W_in x + b_in + r (W_hn h + b_hn)),  h' = (1 - z) n + z h
 * </pre>
 * Each step sums in double and stores h and c as float, as PyTorch keeps them. A sequence of
 * length {@code len < T} runs steps {@code 0..len-1} (the reverse direction from {@code len-1} down),
 * leaves its later outputs 0 and reports the state after its last valid step.
 */
final class RecurrentReference {
    private RecurrentReference() {}

    /** One direction's parameters as arrays (biases and projection null when absent). */
    record Weights(float[] wih, float[] whh, float[] bih, float[] bhh, float[] whr) {
        static Weights of(RecurrentSpec.DirectionWeights w) {
            return new Weights(w.wih().toFloatArray(), w.whh().toFloatArray(), w.bih() == null ? null : w.bih().toFloatArray(),
                    w.bhh() == null ? null : w.bhh().toFloatArray(), w.whr() == null ? null : w.whr().toFloatArray());
        }
    }

    /** Output {@code [T][N][D * out]} rows (laid out as {@code seq} says), h_n {@code [L*D][N][out]}, c_n {@code [L*D][N][hidden]}. */
    record Result(float[] output, float[] hn, float[] cn) {}

    /**
     * Runs the whole stack. {@code x} is laid out as {@code seq} says; {@code h0}/{@code c0} are
     * {@code [L*D, N, *]} or null for zeros; {@code lengths} null means every sequence is full.
     */
    static Result run(RecurrentSpec s, List<RecurrentSpec.DirectionWeights> params, float[] x, RecurrentCore.Sequence seq,
                      float[] h0, float[] c0, int[] lengths) {
        int steps = (int) seq.steps(), batch = (int) seq.batch(), dirs = s.directions(), out = s.outSize(), hidden = s.hiddenSize();
        float[] hn = new float[s.numLayers() * dirs * batch * out], cn = new float[s.numLayers() * dirs * batch * hidden];
        // layer input in [T][N][features] order
        float[] in = new float[steps * batch * s.inputSize()];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                System.arraycopy(x, (int) seq.row(t, b) * s.inputSize(), in, (t * batch + b) * s.inputSize(), s.inputSize());
        for (int k = 0; k < s.numLayers(); k++) {
            int features = s.layerInput(k), width = dirs * out;
            float[] next = new float[steps * batch * width];
            for (int d = 0; d < dirs; d++) {
                int sd = k * dirs + d;
                Weights w = Weights.of(params.get(sd));
                for (int b = 0; b < batch; b++) {
                    int len = lengths == null ? steps : lengths[b];
                    float[] h = new float[out], c = new float[hidden];
                    if (h0 != null) System.arraycopy(h0, (sd * batch + b) * out, h, 0, out);
                    if (c0 != null) System.arraycopy(c0, (sd * batch + b) * hidden, c, 0, hidden);
                    for (int i = 0; i < len; i++) {
                        int t = d == 0 ? i : len - 1 - i;
                        if (s.lstm()) lstmStep(w, in, (t * batch + b) * features, features, hidden, out, h, c);
                        else gruStep(w, in, (t * batch + b) * features, features, hidden, h);
                        System.arraycopy(h, 0, next, (t * batch + b) * width + d * out, out);
                    }
                    System.arraycopy(h, 0, hn, (sd * batch + b) * out, out);
                    System.arraycopy(c, 0, cn, (sd * batch + b) * hidden, hidden);
                }
            }
            in = next;
        }
        int width = dirs * out;
        float[] y = new float[steps * batch * width];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                System.arraycopy(in, (t * batch + b) * width, y, (int) seq.row(t, b) * width, width);
        return new Result(y, hn, s.lstm() ? cn : null);
    }

    /** One LSTM step on {@code x[xAt .. xAt+features)}: updates {@code h} (size out) and {@code c} (size hidden) in place. */
    static void lstmStep(Weights w, float[] x, int xAt, int features, int hidden, int out, float[] h, float[] c) {
        double[] full = new double[hidden];
        float[] cNew = new float[hidden];
        for (int j = 0; j < hidden; j++) {
            double i = sigmoid(gate(w, x, xAt, features, h, 0, hidden, j, true));
            double f = sigmoid(gate(w, x, xAt, features, h, 1, hidden, j, true));
            double g = Math.tanh(gate(w, x, xAt, features, h, 2, hidden, j, true));
            double o = sigmoid(gate(w, x, xAt, features, h, 3, hidden, j, true));
            cNew[j] = (float) (f * c[j] + i * g);
            full[j] = o * Math.tanh(cNew[j]);
        }
        System.arraycopy(cNew, 0, c, 0, hidden);
        if (w.whr() == null) {
            for (int j = 0; j < hidden; j++) h[j] = (float) full[j];
            return;
        }
        float[] hidden32 = new float[hidden];
        for (int j = 0; j < hidden; j++) hidden32[j] = (float) full[j];
        for (int p = 0; p < out; p++) {
            double sum = 0;
            for (int j = 0; j < hidden; j++) sum += (double) w.whr()[p * hidden + j] * hidden32[j];
            h[p] = (float) sum;
        }
    }

    /** One GRU step on {@code x[xAt .. xAt+features)}: updates {@code h} in place. */
    static void gruStep(Weights w, float[] x, int xAt, int features, int hidden, float[] h) {
        float[] hNew = new float[hidden];
        for (int j = 0; j < hidden; j++) {
            double r = sigmoid(gate(w, x, xAt, features, h, 0, hidden, j, true));
            double z = sigmoid(gate(w, x, xAt, features, h, 1, hidden, j, true));
            double n = Math.tanh(gate(w, x, xAt, features, h, 2, hidden, j, false)
                    + r * recurrent(w, h, 2, hidden, j));
            hNew[j] = (float) ((1 - z) * n + z * h[j]);
        }
        System.arraycopy(hNew, 0, h, 0, hidden);
    }

    /** Gate {@code g}, unit {@code j}: {@code W_i x + b_i}, plus {@code W_h h + b_h} when {@code withRecurrent}. */
    private static double gate(Weights w, float[] x, int xAt, int features, float[] h, int g, int hidden, int j, boolean withRecurrent) {
        int row = g * hidden + j;
        double sum = w.bih() == null ? 0 : w.bih()[row];
        for (int i = 0; i < features; i++) sum += (double) w.wih()[row * features + i] * x[xAt + i];
        return withRecurrent ? sum + recurrent(w, h, g, hidden, j) : sum;
    }

    /** {@code W_h h + b_h} of gate {@code g}, unit {@code j}. */
    private static double recurrent(Weights w, float[] h, int g, int hidden, int j) {
        int row = g * hidden + j;
        double sum = w.bhh() == null ? 0 : w.bhh()[row];
        for (int m = 0; m < h.length; m++) sum += (double) w.whh()[row * h.length + m] * h[m];
        return sum;
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }
}
