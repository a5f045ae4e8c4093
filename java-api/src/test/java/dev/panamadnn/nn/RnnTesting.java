package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/** The recurrent tests' shared helpers: modules from golden specs, running a case, comparing with NaN/Inf as PyTorch. */
final class RnnTesting {
    private RnnTesting() {}

    /** The module a spec of scripts/goldens/generate_rnn.py describes (default-initialised parameters). */
    static Layer build(GoldenFile.Case c) {
        Map<String, String> f = c.fields();
        int in = Integer.parseInt(f.get("input_size")), hidden = Integer.parseInt(f.get("hidden_size"));
        boolean bias = f.get("bias").equals("1");
        return switch (f.get("layer")) {
            case "LSTM" -> new LSTM(in, hidden, layers(f), bias, flag(f, "batch_first"), 0, flag(f, "bidirectional"),
                    Integer.parseInt(f.get("proj_size")));
            case "GRU" -> new GRU(in, hidden, layers(f), bias, flag(f, "batch_first"), 0, flag(f, "bidirectional"));
            case "LSTMCell" -> new LSTMCell(in, hidden, bias);
            case "GRUCell" -> new GRUCell(in, hidden, bias);
            default -> throw new IllegalArgumentException("unknown layer in " + c.spec());
        };
    }

    private static int layers(Map<String, String> f) {
        return Integer.parseInt(f.get("num_layers"));
    }

    private static boolean flag(Map<String, String> f, String key) {
        return f.get(key).equals("1");
    }

    /** Copies the case's state_dict into the module, insisting on PyTorch's names in PyTorch's order and shapes. */
    static void load(Layer m, GoldenFile.Case c) {
        Map<String, Tensor> mine = m.parameters();
        assertEquals(List.copyOf(c.params().keySet()), List.copyOf(mine.keySet()), c + ": state_dict names and order");
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            Tensor src = c.params().get(e.getKey());
            assertArrayEquals(src.shape(), e.getValue().shape(), c + ": shape of " + e.getKey());
            MemorySegment.copy(src.segment(), 0, e.getValue().segment(), 0, src.segment().byteSize());
        }
    }

    /** The case's lengths (stored as floats), or null. */
    static int[] lengths(GoldenFile.Case c) {
        Tensor t = c.extras().get("lengths");
        if (t == null) return null;
        float[] v = t.toFloatArray();
        int[] l = new int[v.length];
        for (int i = 0; i < v.length; i++) l[i] = (int) v[i];
        return l;
    }

    /** Runs the case: output, h_n (cells: h'), c_n (LSTM and LSTMCell; else null). */
    static RecurrentOutput run(Layer m, GoldenFile.Case c, Backend backend) {
        Tensor x = c.input(), h0 = c.extras().get("h0"), c0 = c.extras().get("c0");
        return switch (m) {
            case LSTM l -> l.forward(x, h0, c0, lengths(c), backend);
            case GRU g -> g.forward(x, h0, lengths(c), backend);
            case LSTMCell l -> {
                RecurrentState s = l.forward(x, h0, c0, backend);
                yield new RecurrentOutput(Tensor.of(s.h().toFloatArray(), s.h().shape()), s.h(), s.c());
            }
            case GRUCell g -> {
                Tensor h = g.forward(x, h0, backend);
                yield new RecurrentOutput(Tensor.of(h.toFloatArray(), h.shape()), h, null);
            }
            default -> throw new IllegalArgumentException(m.toString());
        };
    }

    /**
     * Largest |got - want|; fails unless every element is within {@code abs + rel * |want|}, a NaN
     * exactly where PyTorch has one, and an infinity exactly equal.
     */
    static double compare(String what, Tensor got, Tensor want, double abs, double rel) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        float[] g = got.toFloatArray(), w = want.toFloatArray();
        double worst = 0;
        for (int i = 0; i < w.length; i++) {
            if (Float.isNaN(w[i]) || Float.isNaN(g[i])) {
                if (Float.isNaN(w[i]) != Float.isNaN(g[i])) throw new AssertionError(what + ": element " + i + " = " + g[i] + ", expected " + w[i]);
                continue;
            }
            if (Float.isInfinite(w[i]) || Float.isInfinite(g[i])) {
                if (g[i] != w[i]) throw new AssertionError(what + ": element " + i + " = " + g[i] + ", expected " + w[i]);
                continue;
            }
            double err = Math.abs((double) g[i] - w[i]);
            worst = Math.max(worst, err);
            if (!(err <= abs + rel * Math.abs(w[i]))) {
                throw new AssertionError(what + ": element " + i + " = " + g[i] + ", expected " + w[i] + ", error " + err);
            }
        }
        return worst;
    }
}
