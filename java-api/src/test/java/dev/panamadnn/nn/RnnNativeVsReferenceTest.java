package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random configurations beyond the goldens (sizes down to 1, up to 3 layers, every flag,
 * projections, unbatched inputs, random initial states and unsorted lengths), the native path
 * against the reference (itself checked against PyTorch by {@link RnnGoldenTest}); each case prints
 * its configuration on failure. Tolerance as the goldens': 1e-5 + 1e-4 * |reference| (values O(1)).
 */
class RnnNativeVsReferenceTest {
    private static final double ABS = 1e-5, REL = 1e-4;

    static IntStream seeds() {
        return IntStream.range(0, 60);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void nativeMatchesReference(int seed) {
        SplittableRandom r = new SplittableRandom(1000 + seed);
        boolean lstm = r.nextBoolean(), batchFirst = r.nextBoolean(), bidirectional = r.nextBoolean(), bias = r.nextInt(4) != 0;
        int in = 1 + r.nextInt(6), hidden = 1 + r.nextInt(7), layers = 1 + r.nextInt(3);
        int proj = lstm && hidden > 1 && r.nextBoolean() ? 1 + r.nextInt(hidden - 1) : 0;
        int steps = 1 + r.nextInt(6), batch = 1 + r.nextInt(4), dirs = bidirectional ? 2 : 1, out = proj > 0 ? proj : hidden;
        boolean unbatched = r.nextInt(5) == 0, states = r.nextBoolean(), padded = !unbatched && r.nextBoolean();
        long[] xShape = unbatched ? new long[] {steps, in} : batchFirst ? new long[] {batch, steps, in} : new long[] {steps, batch, in};
        long[] hShape = unbatched ? new long[] {(long) layers * dirs, out} : new long[] {(long) layers * dirs, batch, out};
        long[] cShape = unbatched ? new long[] {(long) layers * dirs, hidden} : new long[] {(long) layers * dirs, batch, hidden};
        int[] lengths = padded ? r.ints(batch, 1, steps + 1).toArray() : null;
        String config = (lstm ? "LSTM" : "GRU") + " in=" + in + " hidden=" + hidden + " layers=" + layers + " bias=" + bias + " batch_first="
                + batchFirst + " bidirectional=" + bidirectional + " proj=" + proj + " x=" + java.util.Arrays.toString(xShape) + " states=" + states
                + " lengths=" + java.util.Arrays.toString(lengths);
        try (RecurrentLayer m = lstm ? new LSTM(in, hidden, layers, bias, batchFirst, 0, bidirectional, proj)
                : new GRU(in, hidden, layers, bias, batchFirst, 0, bidirectional);
             Tensor x = random(r, xShape); Tensor h0 = states ? random(r, hShape) : null;
             Tensor c0 = states && lstm ? random(r, cShape) : null) {
            for (Map.Entry<String, Tensor> p : m.parameters().entrySet()) fill(r, p.getValue());
            try (RecurrentOutput a = call(m, x, h0, c0, lengths, Backend.AUTO); RecurrentOutput b = call(m, x, h0, c0, lengths, Backend.REFERENCE)) {
                RnnTesting.compare(config + " output", a.output(), b.output(), ABS, REL);
                RnnTesting.compare(config + " h_n", a.hN(), b.hN(), ABS, REL);
                if (lstm) RnnTesting.compare(config + " c_n", a.cN(), b.cN(), ABS, REL);
            }
        }
    }

    private static RecurrentOutput call(RecurrentLayer m, Tensor x, Tensor h0, Tensor c0, int[] lengths, Backend backend) {
        return m instanceof LSTM l ? l.forward(x, h0, c0, lengths, backend) : ((GRU) m).forward(x, h0, lengths, backend);
    }

    private static Tensor random(SplittableRandom r, long... shape) {
        Tensor t = Tensor.zeros(shape);
        fill(r, t);
        return t;
    }

    private static void fill(SplittableRandom r, Tensor t) {
        MemorySegment s = t.segment();
        for (long i = 0; i < t.numel(); i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
    }
}
