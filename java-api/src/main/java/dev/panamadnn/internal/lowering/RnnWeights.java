package dev.panamadnn.internal.lowering;

/**
 * Recurrent weights from the gate-major layouts PyTorch and ONNX store ({@code [G*H, I]}: gate by
 * gate, rows of the input features) into oneDNN's plain {@code ldigo} ({@code [I][G][H]} per
 * direction) and {@code ldgo} bias, with the gate order translated; one place for the eager layers
 * (from PyTorch's order) and the compiled {@code LSTM}/{@code GRU}/{@code RNN} nodes (from ONNX's). docs/rnn.md.
 *
 * <p>A gate map {@code from[g]} names, for oneDNN's gate {@code g}, the source's gate:
 * oneDNN's LSTM order is i, f, c~, o (PyTorch's i, f, g, o; ONNX's i, o, f, c), its GRU order
 * u, r, o (PyTorch's r, z, n read as z, r, n; ONNX's z, r, h); the vanilla RNN has one gate.
 */
public final class RnnWeights {
    private RnnWeights() {}

    public static final int[] LSTM_FROM_PYTORCH = {0, 1, 2, 3};
    public static final int[] LSTM_FROM_ONNX = {0, 2, 3, 1};
    public static final int[] GRU_FROM_PYTORCH = {1, 0, 2};
    public static final int[] GRU_FROM_ONNX = {0, 1, 2};
    /** The vanilla RNN's one gate. */
    public static final int[] RNN_FROM_ONNX = {0};
    /** ONNX's gate {@code j} is PyTorch's gate {@code ONNX_FROM_PYTORCH[j]}: LSTM i, o, f, c from i, f, g, o; GRU z, r, h from r, z, n. */
    public static final int[] LSTM_ONNX_FROM_PYTORCH = {0, 3, 1, 2};
    public static final int[] GRU_ONNX_FROM_PYTORCH = {1, 0, 2};

    /**
     * The bias layout: LSTM (4 rows, summed), GRU linear-before-reset (3 summed rows but o, + the recurrent o apart), GRU (3
     * summed), vanilla RNN (1 row, summed).
     */
    public enum Bias { LSTM, LBR_GRU, GRU, RNN }

    /**
     * One direction's {@code w [G*H, features]} (at {@code from}) into {@code ldigo} {@code [features][G][H]}
     * (at {@code at}), oneDNN's gate {@code g} taken from the source's gate {@code gateOf[g]}.
     */
    public static void ldigo(float[] w, int from, int hidden, int features, int[] gateOf, float[] to, int at) {
        int gates = gateOf.length;
        for (int i = 0; i < features; i++)
            for (int g = 0; g < gates; g++)
                for (int o = 0; o < hidden; o++) to[at + (i * gates + g) * hidden + o] = w[from + (gateOf[g] * hidden + o) * features + i];
    }

    /** Rows of the {@code ldgo} bias per direction: 4 but for the plain GRU's 3 and the vanilla RNN's 1. */
    public static int biasRows(Bias kind) {
        return switch (kind) {
            case GRU -> 3;
            case RNN -> 1;
            default -> 4;
        };
    }

    /**
     * One direction's bias {@code [biasRows, H]} (at {@code at}) from the input-side {@code wb} and
     * recurrent {@code rb} biases ({@code [G*H]} each, at {@code wbFrom} / {@code rbFrom}), summed per gate in
     * float; the linear-before-reset GRU keeps its candidate gate's recurrent bias apart in the fourth row,
     * since the reset gate multiplies it.
     */
    public static void bias(float[] wb, int wbFrom, float[] rb, int rbFrom, int hidden, int[] gateOf, Bias kind, float[] to, int at) {
        for (int g = 0; g < gateOf.length; g++) {
            boolean apart = kind == Bias.LBR_GRU && g == 2;
            for (int o = 0; o < hidden; o++) {
                float in = wb[wbFrom + gateOf[g] * hidden + o], rec = rb[rbFrom + gateOf[g] * hidden + o];
                to[at + g * hidden + o] = apart ? in : in + rec;
            }
        }
        if (kind == Bias.LBR_GRU) for (int o = 0; o < hidden; o++) to[at + 3 * hidden + o] = rb[rbFrom + gateOf[2] * hidden + o];
    }

    /** {@code w} ({@code G} blocks of {@code hidden * width} values) with block {@code j} taken from block {@code order[j]}. */
    public static float[] permuteGates(float[] w, int hidden, int width, int[] order) {
        float[] out = new float[w.length];
        int block = hidden * width;
        for (int j = 0; j < order.length; j++) System.arraycopy(w, order[j] * block, out, j * block, block);
        return out;
    }
}
