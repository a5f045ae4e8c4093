package dev.panamadnn.graph;

import dev.panamadnn.Module;
import dev.panamadnn.nn.Layer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shape rule of a {@code Layer} node: the layer's own {@link Layer#outputShape}. With a symbolic
 * input (one symbol, e.g. the batch {@code N}) the layer is asked at several sizes of the symbol;
 * each output dim must be the same at all of them (fixed) or proportional to the symbol
 * ({@code k*N}). A layer whose output is anything else in the symbol (a strided convolution over a
 * symbolic length) is refused rather than guessed from two points.
 */
final class LayerShapes {
    /** The symbol's probe sizes: small ones, then a larger prime, so that a strided floor/ceil step (stride <= 96) shows. */
    private static final long[] PROBES = {1, 2, 3, 5, 97};

    private LayerShapes() {}

    static Shape infer(Module m, Shape x) {
        if (!(m instanceof Layer layer)) {
            throw new GraphException("module " + (m == null ? "null" : m.getClass().getSimpleName()) + " is not a Layer, whose output shape is known");
        }
        if (x.isFixed()) return Shape.of(outputShape(layer, x.sizes(), x, null, 0));
        String sym = null;
        for (Dim d : x.dims()) {
            if (d.symbol() == null) continue;
            if (sym != null && !sym.equals(d.symbol())) throw new GraphException("cannot infer " + layer + " on " + x + ": more than one symbol");
            sym = d.symbol();
        }
        long[] first = outputShape(layer, bind(x, PROBES[0]), x, sym, PROBES[0]);
        long[] second = outputShape(layer, bind(x, PROBES[1]), x, sym, PROBES[1]);
        if (first.length != second.length) throw notLinear(layer, x, sym, "its rank changes with " + sym);
        List<Dim> out = new ArrayList<>(first.length);
        for (int i = 0; i < first.length; i++) {
            if (first[i] == second[i]) out.add(Dim.of(first[i]));
            else if (second[i] == 2 * first[i]) out.add(new Dim(first[i], sym));
            else throw notLinear(layer, x, sym, "output dim " + i + " is " + first[i] + " at " + sym + " = 1 and " + second[i] + " at 2");
        }
        Shape result = new Shape(out);
        for (int p = 2; p < PROBES.length; p++) {
            long[] got = outputShape(layer, bind(x, PROBES[p]), x, sym, PROBES[p]);
            long[] want = result.bind(java.util.Map.of(sym, PROBES[p])).sizes();
            if (!Arrays.equals(got, want)) {
                throw notLinear(layer, x, sym, "at " + sym + " = " + PROBES[p] + " the output is " + Arrays.toString(got) + ", not "
                        + Arrays.toString(want));
            }
        }
        return result;
    }

    /** {@code layer.outputShape(sizes)}, its refusals as GraphExceptions (naming the probe for a symbolic input). */
    private static long[] outputShape(Layer layer, long[] sizes, Shape x, String sym, long probe) {
        try {
            return layer.outputShape(sizes);
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            String where = sym == null ? "" : " (inferring " + x + " symbolically, at " + sym + " = " + probe + ")";
            throw new GraphException(e.getMessage() + where, e);
        }
    }

    private static GraphException notLinear(Layer layer, Shape x, String sym, String why) {
        return new GraphException("cannot infer " + layer + " on " + x + " symbolically: " + why + ", not proportional to " + sym);
    }

    private static long[] bind(Shape x, long v) {
        long[] s = new long[x.rank()];
        for (int i = 0; i < s.length; i++) s[i] = x.dim(i).isFixed() ? x.dim(i).factor() : Math.multiplyExact(x.dim(i).factor(), v);
        return s;
    }
}
