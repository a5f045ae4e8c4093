package dev.panamadnn.compile;

import dev.panamadnn.Tensor;
import java.util.Arrays;

/**
 * Per-step times of a plan, for finding which op a model loses time in (scripts/bench --onnx puts
 * them beside ONNX Runtime's profiler). Runs the plan on a borrowed context with the stream awaited
 * after every step, so each step's time is its own (oneDNN's CPU stream is synchronous: the wait
 * costs a call, not an overlap). Not a hot path: it allocates a few arrays per call.
 */
final class StepProfiler {
    private StepProfiler() {}

    /** Runs the plan {@code runs} times on the caller's tensors (checked by the caller) and returns each step's median in ms. */
    static double[] medians(ContextPool pool, int steps, Tensor[] in, Tensor[] out, int runs) {
        if (runs < 1) throw new IllegalArgumentException("profileSteps: runs must be at least 1, got " + runs);
        long[][] perRun = new long[runs][];
        for (int r = 0; r < runs; r++) {
            ExecutionContext c = pool.borrow();
            long[] nanos = new long[steps];
            for (int i = 0; i < in.length; i++) c.caller[i] = in[i].segment();
            for (int i = 0; i < out.length; i++) c.caller[in.length + i] = out[i].segment();
            c.stepNanos = nanos;   // the run reads and clears it before the context is given back
            pool.execute(c);
            perRun[r] = nanos;
        }
        double[] ms = new double[steps];
        long[] column = new long[runs];
        for (int s = 0; s < steps; s++) {
            for (int r = 0; r < runs; r++) column[r] = perRun[r][s];
            Arrays.sort(column);
            ms[s] = (runs % 2 == 1 ? column[runs / 2] : (column[runs / 2 - 1] + column[runs / 2]) / 2.0) / 1e6;
        }
        return ms;
    }
}
