package dev.panamadnn.lifetime;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.GRU;
import dev.panamadnn.nn.LSTM;
import dev.panamadnn.nn.LSTMCell;
import dev.panamadnn.nn.RecurrentOutput;
import dev.panamadnn.nn.RecurrentState;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Lifetime races of the recurrent layers, run in a child JVM by {@link RnnRaceTest} with
 * {@link LifetimeRaces}' harness (a crash kills this process, not the suite): a forward with
 * initial states and padded lengths on one thread while another closes the layer, closes h0, or
 * drops the translated weights ({@code weightsChanged}, values unchanged: the call must complete
 * with the undisturbed result). Usage: {@code RnnRaces GROUP ITERATIONS SEED}; prints
 * {@code scenario NAME: N iterations, C completed, R refused, U unexpected} per scenario, exits 1 if
 * any outcome was unexpected.
 */
public final class RnnRaces {
    private RnnRaces() {}

    public static void main(String[] args) throws Exception {
        String which = args[0];
        int iterations = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        long ms = 1_000_000;
        List<LifetimeRaces.Scenario> all = new ArrayList<>();
        all.add(new LifetimeRaces.Scenario("rnn-layer-close/lstm", () -> lstm(Disrupt.LAYER, Backend.AUTO), ms, "is closed"));
        all.add(new LifetimeRaces.Scenario("rnn-layer-close/lstm-reference", () -> lstm(Disrupt.LAYER, Backend.REFERENCE), ms, "is closed"));
        all.add(new LifetimeRaces.Scenario("rnn-layer-close/gru", () -> gru(Disrupt.LAYER), ms, "is closed"));
        all.add(new LifetimeRaces.Scenario("rnn-layer-close/lstmcell", RnnRaces::cell, ms / 4, "is closed"));
        all.add(new LifetimeRaces.Scenario("rnn-state-close/lstm-h0", () -> lstm(Disrupt.STATE, Backend.AUTO), ms, "freed"));
        all.add(new LifetimeRaces.Scenario("rnn-state-close/gru-h0", () -> gru(Disrupt.STATE), ms, "freed"));
        all.add(new LifetimeRaces.Scenario("rnn-weights-changed/lstm", () -> lstm(Disrupt.WEIGHTS, Backend.AUTO), ms, "never refused"));
        int unexpected = 0;
        for (LifetimeRaces.Scenario s : all) {
            if (!which.equals("all") && !s.name().startsWith(which)) continue;
            unexpected += LifetimeRaces.run(s, iterations, new SplittableRandom(seed));
        }
        System.out.flush();
        System.exit(unexpected == 0 ? 0 : 1);
    }

    private enum Disrupt { LAYER, STATE, WEIGHTS }

    /** A 2-layer bidirectional LSTM with projection over 3 length groups, h0/c0 given. */
    private static LifetimeRaces.Iteration lstm(Disrupt disrupt, Backend backend) {
        LSTM lstm = LifetimeRaces.withWeights(new LSTM(48, 96, 2, true, false, 0, true, 32));
        Tensor x = Tensor.of(LifetimeRaces.pattern(24 * 4 * 48, 3), 24, 4, 48);
        Tensor h0 = Tensor.of(LifetimeRaces.pattern(4 * 4 * 32, 5), 4, 4, 32);
        Tensor c0 = Tensor.of(LifetimeRaces.pattern(4 * 4 * 96, 7), 4, 4, 96);
        int[] lengths = {24, 11, 24, 5};
        return new LifetimeRaces.Iteration() {
            public float[] call() {
                try (RecurrentOutput r = lstm.forward(x, h0, c0, lengths, backend)) {
                    return concat(r.output().toFloatArray(), r.hN().toFloatArray(), r.cN().toFloatArray());
                }
            }

            public void disrupt() {
                switch (disrupt) {
                    case LAYER -> lstm.close();
                    case STATE -> h0.close();
                    case WEIGHTS -> {
                        try {
                            lstm.weightsChanged();
                        } catch (IllegalStateException closedAlready) {
                            // the iteration ended and closed the layer first: nothing raced
                        }
                    }
                }
            }

            public void close() {
                lstm.close();
                x.close();
                h0.close();
                c0.close();
            }
        };
    }

    private static LifetimeRaces.Iteration gru(Disrupt disrupt) {
        GRU gru = LifetimeRaces.withWeights(new GRU(48, 96, 2, true, true, 0, true));
        Tensor x = Tensor.of(LifetimeRaces.pattern(4 * 24 * 48, 3), 4, 24, 48);
        Tensor h0 = Tensor.of(LifetimeRaces.pattern(4 * 4 * 96, 5), 4, 4, 96);
        int[] lengths = {7, 24, 24, 13};
        return new LifetimeRaces.Iteration() {
            public float[] call() {
                try (RecurrentOutput r = gru.forward(x, h0, lengths, Backend.AUTO)) {
                    return concat(r.output().toFloatArray(), r.hN().toFloatArray());
                }
            }

            public void disrupt() {
                if (disrupt == Disrupt.LAYER) gru.close();
                else h0.close();
            }

            public void close() {
                gru.close();
                x.close();
                h0.close();
            }
        };
    }

    private static LifetimeRaces.Iteration cell() {
        LSTMCell cell = LifetimeRaces.withWeights(new LSTMCell(256, 256));
        Tensor x = Tensor.of(LifetimeRaces.pattern(32 * 256, 3), 32, 256);
        Tensor h = Tensor.of(LifetimeRaces.pattern(32 * 256, 5), 32, 256);
        Tensor c = Tensor.of(LifetimeRaces.pattern(32 * 256, 7), 32, 256);
        return new LifetimeRaces.Iteration() {
            public float[] call() {
                try (RecurrentState s = cell.forward(x, h, c)) {
                    return concat(s.h().toFloatArray(), s.c().toFloatArray());
                }
            }

            public void disrupt() {
                cell.close();
            }

            public void close() {
                cell.close();
                x.close();
                h.close();
                c.close();
            }
        };
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] all = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
