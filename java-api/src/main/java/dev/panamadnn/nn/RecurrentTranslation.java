package dev.panamadnn.nn;

import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.RnnOps;
import dev.panamadnn.internal.lowering.RnnWeights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * PyTorch's recurrent parameters translated into oneDNN's plain layouts, per layer (both
 * directions in one buffer each), in one arena this object owns (docs/rnn.md):
 * <ul>
 * <li>weights {@code [G*H, I]} (rows gate by gate) become {@code ldigo} {@code [1, D, I, G, H]};
 * <li>gates are reordered ({@link RnnWeights}, shared with the compiled LSTM/GRU nodes): oneDNN's LSTM
 *     order i, f, c~, o is PyTorch's i, f, g, o (kept); its GRU order u, r, o is PyTorch's z, r, n
 *     (so oneDNN gate 0 is PyTorch gate 1 and back);
 * <li>the bias {@code ldgo} is {@code b_ih + b_hh} per gate (summed in float), except the GRU's
 *     fourth row, {@code b_hn}, kept apart because linear-before-reset multiplies it by r;
 *     zeros without bias;
 * <li>the projection {@code W_hr [P, H]} becomes {@code ldio} {@code [1, D, H, P]}.
 * </ul>
 */
record RecurrentTranslation(Arena arena, List<LayerArgs> layers) implements AutoCloseable {

    /** One layer's constant arguments (projection absent without one). */
    record LayerArgs(Arg weightsLayer, Arg weightsIter, Arg projection, Arg bias) {}

    static MemoryDescriptor weightsLayerDescriptor(RecurrentSpec s, int features) {
        return MemoryDescriptor.f32(RnnOps.ldigo(), 1, s.directions(), features, s.gates(), s.hiddenSize());
    }

    static MemoryDescriptor weightsIterDescriptor(RecurrentSpec s) {
        return MemoryDescriptor.f32(RnnOps.ldigo(), 1, s.directions(), s.outSize(), s.gates(), s.hiddenSize());
    }

    /** Four rows for both: the LSTM's four gates, the GRU's three plus {@code b_hn}. */
    static MemoryDescriptor biasDescriptor(RecurrentSpec s) {
        return MemoryDescriptor.f32(RnnOps.ldgo(), 1, s.directions(), 4, s.hiddenSize());
    }

    static MemoryDescriptor projectionDescriptor(RecurrentSpec s) {
        return MemoryDescriptor.f32(RnnOps.ldio(), 1, s.directions(), s.hiddenSize(), s.projSize());
    }

    /** Translates every layer's parameters as they are now (read once; {@link RecurrentPrimitives#clear()} drops this). */
    static RecurrentTranslation of(RecurrentSpec s, List<RecurrentSpec.DirectionWeights> params) {
        Arena arena = Arena.ofShared();
        List<LayerArgs> layers = new ArrayList<>();
        try {
            for (int k = 0; k < s.numLayers(); k++) {
                int features = s.layerInput(k), dirs = s.directions(), hidden = s.hiddenSize(), gates = s.gates();
                MemorySegment wl = arena.allocate((long) dirs * features * gates * hidden * Float.BYTES, 64);
                MemorySegment wi = arena.allocate((long) dirs * s.outSize() * gates * hidden * Float.BYTES, 64);
                MemorySegment b = arena.allocate((long) dirs * 4 * hidden * Float.BYTES, 64);
                MemorySegment p = s.projSize() > 0 ? arena.allocate((long) dirs * hidden * s.projSize() * Float.BYTES, 64) : null;
                for (int d = 0; d < dirs; d++) {
                    RecurrentSpec.DirectionWeights w = params.get(k * dirs + d);
                    transposeGates(s, w.wih().toFloatArray(), features, wl, (long) d * features * gates * hidden);
                    transposeGates(s, w.whh().toFloatArray(), s.outSize(), wi, (long) d * s.outSize() * gates * hidden);
                    if (w.bih() != null) bias(s, w.bih().toFloatArray(), w.bhh().toFloatArray(), b, (long) d * 4 * hidden);
                    if (p != null) {
                        float[] whr = w.whr().toFloatArray();
                        for (int i = 0; i < hidden; i++)
                            for (int o = 0; o < s.projSize(); o++)
                                set(p, ((long) d * hidden + i) * s.projSize() + o, whr[o * hidden + i]);
                    }
                }
                layers.add(new LayerArgs(Args.weights(weightsLayerDescriptor(s, features), wl),
                        Args.of(Args.WEIGHTS_ITER, weightsIterDescriptor(s), wi),
                        Args.of(Args.WEIGHTS_PROJECTION, p == null ? null : projectionDescriptor(s), p),
                        Args.bias(biasDescriptor(s), b)));
            }
            return new RecurrentTranslation(arena, layers);
        } catch (RuntimeException | Error e) {
            new RecurrentTranslation(arena, layers).close();
            throw e;
        }
    }

    private static int[] gateOf(RecurrentSpec s) {
        return s.lstm() ? RnnWeights.LSTM_FROM_PYTORCH : RnnWeights.GRU_FROM_PYTORCH;
    }

    /** {@code w [G*H, I]} (PyTorch gate order) into {@code ldigo} {@code [I][G][H]} at {@code base} (oneDNN gate order). */
    private static void transposeGates(RecurrentSpec s, float[] w, int features, MemorySegment to, long base) {
        float[] t = new float[w.length];
        RnnWeights.ldigo(w, 0, s.hiddenSize(), features, gateOf(s), t, 0);
        MemorySegment.copy(t, 0, to, ValueLayout.JAVA_FLOAT, base * Float.BYTES, t.length);
    }

    private static void bias(RecurrentSpec s, float[] bih, float[] bhh, MemorySegment to, long base) {
        float[] t = new float[4 * s.hiddenSize()];
        RnnWeights.bias(bih, 0, bhh, 0, s.hiddenSize(), gateOf(s), s.lstm() ? RnnWeights.Bias.LSTM : RnnWeights.Bias.LBR_GRU, t, 0);
        MemorySegment.copy(t, 0, to, ValueLayout.JAVA_FLOAT, base * Float.BYTES, t.length);
    }

    private static void set(MemorySegment s, long index, float v) {
        s.setAtIndex(ValueLayout.JAVA_FLOAT, index, v);
    }

    @Override
    public void close() {
        for (LayerArgs l : layers) {
            for (Arg a : new Arg[] {l.weightsLayer(), l.weightsIter(), l.projection(), l.bias()}) if (a.present()) a.md().close();
        }
        arena.close();
    }
}
