package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape rules of ONNX's {@code LSTM}, {@code GRU} and {@code RNN} (opset 14): inputs {@code X, W, R, [B],
 * [sequence_lens], [initial_h], [initial_c] (LSTM), [P] (LSTM)}; outputs {@code Y, [Y_h], [Y_c] (LSTM)}.
 * With D directions (2 for {@code bidirectional}), G gates (LSTM 4, GRU 3, RNN 1) and H = hidden_size:
 * <pre>
 *             layout 0          layout 1
 * X           [T, N, I]         [N, T, I]
 * W           [D, G*H, I]       (gates: LSTM i, o, f, c; GRU z, r, h)
 * R           [D, G*H, H]
 * B           [D, 2*G*H]        (Wb then Rb)
 * sequence_lens [N] (I32)
 * initial_h/c [D, N, H]         [N, D, H]
 * P           [D, 3*H]          (peepholes i, o, f)
 * Y           [T, D, N, H]      [N, T, D, H]
 * Y_h, Y_c    [D, N, H]         [N, D, H]
 * </pre>
 * Only ONNX's default activations are accepted ({@code activations}, ours: one comma-separated
 * string, LSTM {@code Sigmoid,Tanh,Tanh} and GRU {@code Sigmoid,Tanh}, per direction; an RNN's one of
 * {@code Tanh} (the default), {@code Relu}, {@code Sigmoid}, the same for both directions), without
 * {@code clip} or {@code input_forget} ({@code activation_alpha}/{@code _beta} are unknown attributes):
 * anything else is refused here, naming it, rather than computed wrongly later.
 */
final class RecurrentShapes {
    private RecurrentShapes() {}

    static List<IndexShapes.Out> lstm(Node n, List<Value> in, Known k) {
        return infer(n, in, 4);
    }

    static List<IndexShapes.Out> gru(Node n, List<Value> in, Known k) {
        return infer(n, in, 3);
    }

    static List<IndexShapes.Out> rnn(Node n, List<Value> in, Known k) {
        return infer(n, in, 1);
    }

    /** The activations an RNN node may name (ONNX's, case-insensitive), the same in both directions. */
    static final List<String> RNN_ACTIVATIONS = List.of("Tanh", "Relu", "Sigmoid");

    private static List<IndexShapes.Out> infer(Node n, List<Value> in, int gates) {
        boolean lstm = gates == 4;
        Attributes a = n.attributes();
        if (!a.has("hidden_size")) throw new GraphException("attribute hidden_size is required");
        long hidden = a.integer("hidden_size");
        if (hidden < 1) throw new GraphException("hidden_size must be >= 1, got " + hidden);
        String direction = a.string("direction", "forward");
        int dirs = switch (direction) {
            case "forward", "reverse" -> 1;
            case "bidirectional" -> 2;
            default -> throw new GraphException("direction must be forward, reverse or bidirectional, got '" + direction + "'");
        };
        long layout = a.integer("layout", 0);
        if (layout != 0 && layout != 1) throw new GraphException("layout must be 0 or 1, got " + layout);
        if (gates == 1) refuseRnnActivations(a, dirs);
        else refuseNonDefaults(a, lstm);
        for (int i = 0; i < in.size(); i++) {
            Value v = in.get(i);
            DataType want = i == 4 ? DataType.I32 : DataType.F32;
            if (v != null && v.dtype() != want) throw new GraphException("input " + i + " (" + NAMES[i] + ") " + v + " must be " + want);
        }
        Shape x = Ops.rank(in.get(0), 3, "X");
        Dim steps = x.dim(layout == 0 ? 0 : 1), batch = x.dim(layout == 0 ? 1 : 0), features = x.dim(2);
        expect(in, 1, Shape.of(Dim.of(dirs), Dim.of(gates * hidden), features), n);
        expect(in, 2, Shape.of(dirs, gates * hidden, hidden), n);
        expect(in, 3, Shape.of(dirs, 2 * gates * hidden), n);
        expect(in, 4, Shape.of(batch), n);
        Shape state = layout == 0 ? Shape.of(Dim.of(dirs), batch, Dim.of(hidden)) : Shape.of(batch, Dim.of(dirs), Dim.of(hidden));
        expect(in, 5, state, n);
        if (lstm) {
            expect(in, 6, state, n);
            expect(in, 7, Shape.of(dirs, 3 * hidden), n);
        }
        int maxOutputs = lstm ? 3 : 2;
        if (n.outputs().size() > maxOutputs) {
            throw new GraphException("expected at most " + maxOutputs + " outputs (Y, Y_h" + (lstm ? ", Y_c" : "") + "), got " + n.outputs().size());
        }
        Shape y = layout == 0 ? Shape.of(steps, Dim.of(dirs), batch, Dim.of(hidden)) : Shape.of(batch, steps, Dim.of(dirs), Dim.of(hidden));
        List<IndexShapes.Out> outs = new ArrayList<>();
        for (int o = 0; o < n.outputs().size(); o++) outs.add(new IndexShapes.Out(DataType.F32, o == 0 ? y : state, null));
        return outs;
    }

    private static final String[] NAMES = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};

    private static void expect(List<Value> in, int i, Shape want, Node n) {
        Value v = i < in.size() ? in.get(i) : null;
        if (v == null) {
            if (i < 3) throw new GraphException("input " + i + " (" + NAMES[i] + ") is required");
            return;
        }
        if (!v.shape().equals(want)) {
            throw new GraphException("input " + i + " (" + NAMES[i] + ") must be " + want + " (hidden_size " + n.attributes().integer("hidden_size")
                    + ", direction " + n.attributes().string("direction", "forward") + ", layout " + n.attributes().integer("layout", 0)
                    + "), got " + v);
        }
    }

    /** An RNN's activations: one per direction, each Tanh, Relu or Sigmoid, both directions the same (oneDNN has one); no clip. */
    private static void refuseRnnActivations(Attributes a, int dirs) {
        if (a.has("activations")) {
            String given = a.string("activations");
            String[] each = given.split(",", -1);
            if (each.length != dirs) {
                throw new GraphException("activations '" + given + "' must name " + dirs + " activation" + (dirs == 1 ? "" : "s")
                        + " (one per direction), got " + each.length);
            }
            for (String f : each) {
                if (RNN_ACTIVATIONS.stream().noneMatch(f.trim()::equalsIgnoreCase)) {
                    throw new GraphException("activation '" + f.trim() + "' is not supported: only " + String.join(", ", RNN_ACTIVATIONS));
                }
            }
            if (dirs == 2 && !each[0].trim().equalsIgnoreCase(each[1].trim())) {
                throw new GraphException("activations '" + given + "' differ between the directions: oneDNN's RNN runs both with one");
            }
        }
        if (a.has("clip")) throw new GraphException("attribute clip is not supported (cell clipping), got " + a.real("clip"));
    }

    /** Refuses what this implementation does not compute: other activations, their parameters, clip, input_forget. */
    private static void refuseNonDefaults(Attributes a, boolean lstm) {
        if (a.has("activations")) {
            String given = a.string("activations");
            String one = lstm ? "Sigmoid,Tanh,Tanh" : "Sigmoid,Tanh";
            String dir = a.string("direction", "forward");
            String want = dir.equals("bidirectional") ? one + "," + one : one;
            if (!given.replace(" ", "").equalsIgnoreCase(want)) {
                throw new GraphException("activations '" + given + "' are not supported: only the defaults (" + want + ")");
            }
        }
        if (a.has("clip")) throw new GraphException("attribute clip is not supported (cell clipping), got " + a.real("clip"));
        if (lstm && a.integer("input_forget", 0) != 0) throw new GraphException("input_forget = 1 (coupled input-forget gate) is not supported");
    }
}
