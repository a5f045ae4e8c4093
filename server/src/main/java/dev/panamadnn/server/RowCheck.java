package dev.panamadnn.server;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Whether a batched ONNX model's first input dim is a batch: the batcher stacks requests along it and pads with zero rows,
 * which is right only if each output row depends on its own input row alone. A model exported sequence-first with a
 * dynamic length ({@code torch.onnx.export} of an RNN or a {@code TransformerEncoder} in torch's default {@code [T, N, E]}
 * layout, {@code dynamic_axes={0: "steps", 1: "batch"}}) has a symbolic first dim that is time: stacking two requests
 * along it would run one request's steps after another's, and padding would add steps. So before such a model serves,
 * its plans run two rows of seeded random inputs together and each row alone; if a row's outputs differ beyond float
 * noise (a 1e-3 relative bound: the same model at batch 1 and 2 differs by kernel choice only, ~1e-6), it is refused
 * by name, pointing at {@code "max_batch_size": 0}. Inputs a model cannot run on (random token ids out of its range, say)
 * leave it unchecked, as before this check.
 */
final class RowCheck {
    private static final System.Logger LOG = System.getLogger(RowCheck.class.getName());

    private RowCheck() {}

    /** A batched model refused because its first input dim is not a batch. */
    static final class NotABatch extends IllegalArgumentException {
        NotABatch(String message) {
            super(message);
        }
    }

    /**
     * Refuses {@code loaded} (a batched model of fixed sample shapes, {@code max_batch_size} >= 2) if its outputs for a
     * row depend on the other rows.
     *
     * @return whether the check ran (false: nothing to check, or the model could not run on random inputs)
     * @throws NotABatch naming the output, the row and the difference, and how to serve the model
     */
    static boolean check(ModelLoader.Loaded loaded) {
        ModelConfig config = loaded.config();
        if (!config.batched() || config.maxBatch() < 2) return false;
        String mismatch;
        try (Arena arena = Arena.ofShared()) {   // shared: a split plan's helper threads read the inputs
            SplittableRandom random = new SplittableRandom(20261206);
            Map<String, Tensor> both = new LinkedHashMap<>(), first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
            for (ModelConfig.TensorSpec in : config.inputs()) {
                Tensor two = Tensor.allocate(arena, in.dtype(), config.requestShape(in.sample(), 2));
                fill(two, random);
                long half = two.segment().byteSize() / 2;
                both.put(in.name(), two);
                first.put(in.name(), copy(arena, two, 0, half, config.requestShape(in.sample(), 1)));
                second.put(in.name(), copy(arena, two, half, half, config.requestShape(in.sample(), 1)));
            }
            mismatch = compare(loaded, both, first, second);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> config.name() + ": rows not checked for independence (random inputs refused: " + e.getMessage() + ")");
            return false;
        }
        if (mismatch != null) {
            throw new NotABatch(config.name() + ": its first input dim is not a batch: " + mismatch + ". The batcher stacks requests"
                    + " along that dim (and pads it with zero rows), which only a dim whose rows are computed each on its own allows, not a"
                    + " sequence-first model's time steps ([T, N, ...], torch's default RNN and transformer layout); serve it with"
                    + " \"max_batch_size\": 0 (each request its whole shapes, run alone), or export it batch-first");
        }
        return true;
    }

    /** The first output row that differs between the run of both rows and a run of that row alone, described; null if none. */
    private static String compare(ModelLoader.Loaded loaded, Map<String, Tensor> both, Map<String, Tensor> first, Map<String, Tensor> second) {
        Map<String, Tensor> all = loaded.run(both), one = null, two = null;
        try {
            one = loaded.run(first);
            two = loaded.run(second);
            for (ModelLoader.Output out : loaded.outputs()) {
                MemorySegment b = pick(all, out).segment();
                long row = b.byteSize() / 2;
                String d = differ(out, b.asSlice(0, row), pick(one, out).segment());
                if (d == null) d = differ(out, b.asSlice(row, row), pick(two, out).segment());
                if (d != null) return "output '" + out.name() + "' " + d;
            }
            return null;
        } finally {
            for (Map<String, Tensor> m : java.util.Arrays.asList(all, one, two)) if (m != null) m.values().forEach(Tensor::close);
        }
    }

    private static Tensor pick(Map<String, Tensor> outputs, ModelLoader.Output out) {
        return out.graphName() == null ? outputs.values().iterator().next() : outputs.get(out.graphName());
    }

    /** How row {@code together} (from the two-row run) differs from {@code alone}, or null when within float noise. */
    private static String differ(ModelLoader.Output out, MemorySegment together, MemorySegment alone) {
        DataType t = ModelConfig.DATATYPES.get(out.datatype());
        if (t != DataType.F32 && t != DataType.F16) {
            return together.mismatch(alone) < 0 ? null : "(" + out.datatype() + ") differs between a run of two rows and a run of each alone";
        }
        long n = together.byteSize() / t.byteSize();
        double scale = 0, worst = 0;
        for (long i = 0; i < n; i++) {
            double v = Math.abs(value(alone, t, i));
            if (Double.isFinite(v)) scale = Math.max(scale, v);
        }
        for (long i = 0; i < n; i++) {
            double a = value(together, t, i), b = value(alone, t, i);
            if (Double.isNaN(a) && Double.isNaN(b) || a == b) continue;   // equal infinities included
            worst = Math.max(worst, Double.isFinite(a) && Double.isFinite(b) ? Math.abs(a - b) : Double.POSITIVE_INFINITY);
        }
        return worst <= 1e-3 * scale + 1e-5 ? null : String.format(java.util.Locale.ROOT, "differs by up to %.3g (largest |value| %.3g) between a run"
                + " of two rows of random inputs and a run of each row alone", worst, scale);
    }

    private static double value(MemorySegment s, DataType t, long i) {
        return t == DataType.F32 ? s.getAtIndex(ValueLayout.JAVA_FLOAT, i) : Float.float16ToFloat(s.getAtIndex(ValueLayout.JAVA_SHORT, i));
    }

    /** Seeded random values: floats in [-1, 1), integers and booleans 0 or 1 (valid ids and indices for nearly any model). */
    private static void fill(Tensor t, SplittableRandom random) {
        MemorySegment s = t.segment();
        long n = s.byteSize() / t.dtype().byteSize();
        for (long i = 0; i < n; i++) {
            switch (t.dtype()) {
                case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() * 2 - 1));
                case F16 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16((float) (random.nextDouble() * 2 - 1)));
                case I64 -> s.setAtIndex(ValueLayout.JAVA_LONG, i, random.nextInt(2));
                case I32 -> s.setAtIndex(ValueLayout.JAVA_INT, i, random.nextInt(2));
                default -> s.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(2));   // BOOL, UINT8
            }
        }
    }

    private static Tensor copy(Arena arena, Tensor from, long offset, long bytes, long[] shape) {
        Tensor t = Tensor.allocate(arena, from.dtype(), shape);
        MemorySegment.copy(from.segment(), offset, t.segment(), 0, bytes);
        return t;
    }
}
