package dev.panamadnn.benchmarks;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxException;
import dev.panamadnn.onnx.OnnxModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The differential probe of {@code scripts/ort-probe}: each case directory (from {@code scripts/probe/random_onnx_graphs.py})
 * through ONNX Runtime Java (no graph optimization, one thread; {@code model_ref.onnx} where the case has one) and through
 * {@code Onnx.load} + {@code run(Map)} on the same inputs: X random normal (seeded by the case's path; {@code --nonfinite}:
 * an eighth NaN or an infinity), every other input from its {@code .raw} file, a symbolic dim given {@code --batch}. One
 * line per case: {@code PASS}, {@code MISMATCH} (an output's shape, or a value beyond {@code 1e-4 + 1e-4 |ort|}, NaN only
 * against NaN, an infinity only against itself; the worst element named), {@code REFUSED} (our exception: an
 * {@link OnnxException} or UnsupportedOperationException, its message), {@code ORTFAIL} (ONNX Runtime refused the model,
 * so nothing to compare), or {@code ERROR} (any other exception of ours, with its stack: a defect). A JVM crash ends the
 * run; the script restarts it after the case that crashed it. {@code --ours-only}: ONNX Runtime only reads the inputs'
 * shapes and does not run the model (for the cases where its run crashed the JVM), our side runs as always and a case
 * reports {@code OURS} with its outputs' shapes and how many of their values are NaN or infinite. {@code --dump}: each
 * case directory also gets {@code dump/}: every input as {@code <name>.in} and every output as {@code <name>.ours} and
 * {@code <name>.ort} (raw little-endian; outputs as float64), listed with dtypes and shapes in {@code dump/index.txt}, for a
 * third source to judge a mismatch ({@code scripts/probe/resize_reference.py} runs ONNX's own Resize reference).
 */
public final class OrtDiffMain {
    private OrtDiffMain() {}

    public static void main(String[] args) throws Exception {
        long batch = 2;
        boolean nonFinite = false, oursOnly = false, dump = false;
        List<String> cases = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> batch = Long.parseLong(args[++i]);
                case "--nonfinite" -> nonFinite = true;
                case "--ours-only" -> oursOnly = true;
                case "--dump" -> dump = true;
                default -> cases.add(args[i]);
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (String dir : cases) System.out.println(probe(env, Path.of(dir), batch, nonFinite, oursOnly, dump));
    }

    /** One input's name, shape and raw little-endian bytes (F32, I64, I32 or BOOL). */
    private record Input(String name, OnnxJavaType type, long[] shape, byte[] raw) {}

    private static String probe(OrtEnvironment env, Path dir, long batch, boolean nonFinite, boolean oursOnly, boolean dump) {
        Path model = dir.resolve("model.onnx"), ref = dir.resolve("model_ref.onnx");
        Map<String, double[]> expected = new LinkedHashMap<>();
        Map<String, long[]> expectedShapes = new LinkedHashMap<>();
        List<Input> inputs = new ArrayList<>();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession((Files.exists(ref) ? ref : model).toString(), options)) {
                for (var e : s.getInputInfo().entrySet()) {
                    TensorInfo info = (TensorInfo) e.getValue().getInfo();
                    long[] shape = info.getShape();
                    for (int i = 0; i < shape.length; i++) if (shape[i] < 0) shape[i] = batch;
                    byte[] raw = e.getKey().equals("X") ? randomX(dir.toString(), shape, nonFinite) : Files.readAllBytes(dir.resolve(e.getKey() + ".raw"));
                    inputs.add(new Input(e.getKey(), info.type, shape, raw));
                }
                Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
                if (!oursOnly) try {
                    for (Input in : inputs) feeds.put(in.name, ortTensor(env, in));
                    try (OrtSession.Result result = s.run(feeds)) {
                        for (var e : result) {
                            OnnxTensor t = (OnnxTensor) e.getValue();
                            expectedShapes.put(e.getKey(), t.getInfo().getShape());
                            expected.put(e.getKey(), values(t));
                        }
                    }
                } finally {
                    for (OnnxTensor t : feeds.values()) t.close();
                }
            }
        } catch (OrtException e) {
            return "ORTFAIL " + dir + " " + oneLine(e.getMessage());
        } catch (Exception e) {
            return "ORTFAIL " + dir + " " + e.getClass().getSimpleName() + ": " + oneLine(e.getMessage());
        }
        try (Arena arena = Arena.ofConfined(); OnnxModel m = Onnx.load(model)) {
            Map<String, Tensor> feeds = new LinkedHashMap<>();
            for (Input in : inputs) {
                Tensor t = Tensor.allocate(arena, switch (in.type) {
                    case FLOAT -> DataType.F32;
                    case INT64 -> DataType.I64;
                    case INT32 -> DataType.I32;
                    default -> DataType.BOOL;
                }, in.shape);
                MemorySegment.copy(MemorySegment.ofArray(in.raw), 0, t.segment(), 0, in.raw.length);
                feeds.put(in.name, t);
            }
            Map<String, Tensor> ours = m.run(feeds);
            try {
                if (oursOnly) {
                    StringBuilder out = new StringBuilder("OURS " + dir);
                    for (var e : ours.entrySet()) {
                        long special = Arrays.stream(values(e.getValue())).filter(v -> !Double.isFinite(v)).count();
                        out.append(' ').append(e.getKey()).append(Arrays.toString(e.getValue().shape())).append(" non-finite ").append(special);
                    }
                    return out.toString();
                }
                if (dump) dump(dir.resolve("dump"), inputs, ours, expected, expectedShapes);
                StringBuilder bad = new StringBuilder();
                for (var e : expected.entrySet()) bad.append(compare(e.getKey(), ours.get(e.getKey()), expectedShapes.get(e.getKey()), e.getValue()));
                return (bad.isEmpty() ? "PASS " : "MISMATCH ") + dir + bad;
            } finally {
                ours.values().forEach(Tensor::close);
            }
        } catch (OnnxException | UnsupportedOperationException e) {
            return "REFUSED " + dir + " " + e.getClass().getSimpleName() + ": " + oneLine(e.getMessage());
        } catch (Throwable e) {
            StringBuilder stack = new StringBuilder();
            for (StackTraceElement f : e.getStackTrace()) stack.append("\n\tat ").append(f);
            return "ERROR " + dir + " " + e.getClass().getName() + ": " + oneLine(e.getMessage()) + stack;
        }
    }

    /** The case's inputs and both sides' outputs as raw files in {@code out} (see {@code --dump}). */
    private static void dump(Path out, List<Input> inputs, Map<String, Tensor> ours, Map<String, double[]> ort, Map<String, long[]> ortShapes)
            throws java.io.IOException {
        Files.createDirectories(out);
        StringBuilder index = new StringBuilder();
        for (Input in : inputs) {
            Files.write(out.resolve(in.name + ".in"), in.raw);
            index.append(in.name).append(".in ").append(in.type).append(' ').append(Arrays.toString(in.shape)).append('\n');
        }
        for (var e : ours.entrySet()) {
            Files.write(out.resolve(e.getKey() + ".ours"), doubles(values(e.getValue())));
            index.append(e.getKey()).append(".ours DOUBLE ").append(Arrays.toString(e.getValue().shape())).append('\n');
        }
        for (var e : ort.entrySet()) {
            Files.write(out.resolve(e.getKey() + ".ort"), doubles(e.getValue()));
            index.append(e.getKey()).append(".ort DOUBLE ").append(Arrays.toString(ortShapes.get(e.getKey()))).append('\n');
        }
        Files.writeString(out.resolve("index.txt"), index);
    }

    private static byte[] doubles(double[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) b.putDouble(d);
        return b.array();
    }

    /** "" if ours matches ONNX Runtime's output {@code name}, else " name: ..." naming the difference. */
    private static String compare(String name, Tensor ours, long[] shape, double[] want) {
        if (ours == null) return " " + name + ": missing";
        if (!Arrays.equals(ours.shape(), shape)) return " " + name + ": shape " + Arrays.toString(ours.shape()) + " vs ONNX Runtime's " + Arrays.toString(shape);
        double[] got = values(ours);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            double d;
            if (Double.isNaN(want[i]) || Double.isNaN(got[i])) d = Double.isNaN(want[i]) && Double.isNaN(got[i]) ? 0 : Double.POSITIVE_INFINITY;
            else if (Double.isInfinite(want[i]) || Double.isInfinite(got[i])) d = want[i] == got[i] ? 0 : Double.POSITIVE_INFINITY;
            else d = Math.abs(want[i] - got[i]) / (1e-4 + 1e-4 * Math.abs(want[i]));
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        return worst <= 1 ? "" : String.format(" %s: element %d of %d %s: ours %s, ONNX Runtime %s", name, at, want.length, Arrays.toString(shape), got[at], want[at]);
    }

    private static byte[] randomX(String seed, long[] shape, boolean nonFinite) {
        long n = 1;
        for (long d : shape) n *= d;
        SplittableRandom r = new SplittableRandom(seed.hashCode());
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (long i = 0; i < n; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            float x = (float) (Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
            b.putFloat(nonFinite && r.nextInt(8) == 0 ? special[r.nextInt(3)] : x);
        }
        return b.array();
    }

    private static OnnxTensor ortTensor(OrtEnvironment env, Input in) throws OrtException {
        ByteBuffer b = ByteBuffer.wrap(in.raw).order(ByteOrder.LITTLE_ENDIAN);
        return switch (in.type) {
            case FLOAT -> OnnxTensor.createTensor(env, b.asFloatBuffer(), in.shape);
            case INT64 -> OnnxTensor.createTensor(env, b.asLongBuffer(), in.shape);
            case INT32 -> OnnxTensor.createTensor(env, b.asIntBuffer(), in.shape);
            case BOOL -> OnnxTensor.createTensor(env, ByteBuffer.allocateDirect(in.raw.length).put(in.raw).flip(), in.shape, OnnxJavaType.BOOL);
            default -> throw new IllegalArgumentException("input " + in.name + " of type " + in.type + " is not generated");
        };
    }

    private static double[] values(OnnxTensor t) {
        double[] d;
        switch (t.getInfo().type) {
            case FLOAT -> {
                FloatBuffer b = t.getFloatBuffer();
                d = new double[b.remaining()];
                for (int i = 0; i < d.length; i++) d[i] = b.get(i);
            }
            case INT64 -> {
                var b = t.getLongBuffer();
                d = new double[b.remaining()];
                for (int i = 0; i < d.length; i++) d[i] = b.get(i);
            }
            case INT32 -> {
                var b = t.getIntBuffer();
                d = new double[b.remaining()];
                for (int i = 0; i < d.length; i++) d[i] = b.get(i);
            }
            case BOOL, UINT8, INT8 -> {
                ByteBuffer b = t.getByteBuffer();
                d = new double[b.remaining()];
                for (int i = 0; i < d.length; i++) d[i] = b.get(i);
            }
            default -> throw new IllegalArgumentException("ONNX Runtime output of type " + t.getInfo().type + " is not compared");
        }
        return d;
    }

    /** Our output's values (run(Map) returns new contiguous tensors). */
    private static double[] values(Tensor t) {
        if (!t.isContiguous()) throw new IllegalStateException("run(Map) returned a view, not a new contiguous tensor: " + t);
        double[] d = new double[Math.toIntExact(t.numel())];
        MemorySegment s = t.segment();
        for (int i = 0; i < d.length; i++) {
            d[i] = switch (t.dtype()) {
                case F32 -> s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                case I64 -> s.getAtIndex(ValueLayout.JAVA_LONG, i);
                case I32 -> s.getAtIndex(ValueLayout.JAVA_INT, i);
                case BOOL, U8, I8 -> s.get(ValueLayout.JAVA_BYTE, i);
                default -> throw new IllegalArgumentException("our output of dtype " + t.dtype() + " is not compared");
            };
        }
        return d;
    }

    private static String oneLine(String s) {
        if (s == null) return "null";
        s = s.replace('\n', ' ');
        return s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }
}
