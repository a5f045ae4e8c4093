package dev.panamadnn.tests.fuzz;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Layer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One fuzz case's context: its random source, the names an error message may use for the code
 * under test, and what happened. The only acceptable outcomes of a call are (a) a result equal
 * to the plain-Java reference within {@link #tolerance} or (b) an IllegalArgumentException /
 * IllegalStateException / UnsupportedOperationException whose message is non-empty and names the
 * layer; anything else is recorded as a finding.
 */
final class FuzzCheck implements AutoCloseable {
    /** How an input tensor is made; the non-VALID ones are misuse the API must refuse or survive. */
    enum Input { VALID, STRIDED, HEAP, READ_ONLY, WRONG_RANK, WRONG_CHANNELS, WRONG_SIZE, CLOSED, WRONG_DTYPE, SHAPE_ONLY, HUGE_WRAP }

    /** Input values: plain, sprinkled with NaN/Inf/huge/denormal/-0, or all huge. */
    enum Values { NORMAL, SPECIAL, HUGE }

    /** Above this many multiply-adds (outputs x reduction) the reference is not run: about 10 s of plain loops. */
    static final long REFERENCE_WORK_LIMIT = 300_000_000L;

    /**
     * Above this many bytes of input and output the reference is not run: it holds them (and a padded copy) in Java
     * arrays, and the child JVMs have 512 MB of heap (a 282 MB input padded in Java ran out of it: scripts/fuzz --long
     * --seed 5003 --threads 2 --family Conv2d --case 1573). The native path still runs, and must not need that heap.
     */
    static final long REFERENCE_HEAP_LIMIT = 128L << 20;

    final SplittableRandom r;
    final boolean compareNonFinite;
    /**
     * Whether inputs may be {@link Input#HUGE_WRAP}: 2^62 elements wrapped over a 0-byte segment
     * (issue 11 #5: the byte size wrapped to 0 and was accepted, and could crash the JVM). Tensor.wrap
     * refuses such shapes now (at most 2^48 bytes); a tensor it accepted anyway must be refused by every
     * call. Off by default, so that CI's seed draws the same cases as before.
     */
    boolean hugeWrap;
    final Set<String> names = new LinkedHashSet<>();
    final List<String> findings = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Arena arena = Arena.ofShared();   // wrong-dtype and heap-copy inputs
    /** Whether inputs or parameters hold non-finite or huge values (then, by default, non-finite outputs are not compared). */
    boolean special;
    /**
     * Whether an input held a finite value of magnitude 1e30 or more: then sums may overflow, and whether an output
     * is +-inf, NaN or finite depends on the order of the additions (docs/numerics.md, exception 5). Without such
     * values NaN and +-inf propagate the same in any order, so --nonfinite results must match exactly.
     */
    boolean overflowRange;
    /**
     * 0, or a bound on the magnitude of each term the outputs sum (a family that knows it sets it: Linear's ordinary
     * inputs are below 2 and its weights below 1). Then the tolerance is relative to at least the typical size of such a
     * sum before cancellation, {@code termScale * sqrt(K / 3)} (K uniform terms), not only to the outputs: a result
     * that cancels to 0.004 from terms of size 1 carries the rounding of those terms (scripts/fuzz --seed 5001 --family
     * Linear --case 1431 --nonfinite: 2.4e-7 absolute on a 0.0038 output, from 37 products).
     */
    double termScale;
    String config = "";
    /** Called once the configuration is stated, before anything runs (the fuzzer prints the RUN line, so a crash names its case). */
    Runnable onConfig = () -> {};
    int index;
    boolean announced;
    /** How many results were compared (0: every call was refused). */
    int compared;

    void config(String text) {
        config = text;
        announced = true;
        onConfig.run();
    }

    FuzzCheck(SplittableRandom r, boolean compareNonFinite) {
        this.r = r;
        this.compareNonFinite = compareNonFinite;
    }

    // ---------------------------------------------------------------- random choices

    int between(int lo, int hi) {
        return r.nextInt(lo, hi + 1);
    }

    boolean chance(double p) {
        return r.nextDouble() < p;
    }

    @SafeVarargs
    final <T> T pick(T... options) {
        return options[r.nextInt(options.length)];
    }

    /** A hyperparameter that is usually in {@code [lo, hi]} and with probability {@code pWeird} one of the bad values. */
    int hyper(int lo, int hi, double pWeird) {
        if (chance(pWeird)) return pick(0, -1, -3, 1 << 16, Integer.MAX_VALUE, Integer.MIN_VALUE);
        return between(lo, hi);
    }

    Input input() {
        double u = r.nextDouble();
        if (hugeWrap && chance(0.03)) return Input.HUGE_WRAP;
        if (u < 0.52) return Input.VALID;
        if (u < 0.60) return Input.STRIDED;
        if (u < 0.67) return Input.HEAP;
        if (u < 0.70) return Input.READ_ONLY;
        if (u < 0.76) return Input.WRONG_RANK;
        if (u < 0.82) return Input.WRONG_CHANNELS;
        if (u < 0.86) return Input.WRONG_SIZE;
        if (u < 0.89) return Input.CLOSED;
        if (u < 0.92) return Input.WRONG_DTYPE;
        return Input.SHAPE_ONLY;
    }

    Values values() {
        double u = r.nextDouble();
        return u < 0.8 ? Values.NORMAL : u < 0.95 ? Values.SPECIAL : Values.HUGE;
    }

    // ---------------------------------------------------------------- outcomes

    void finding(String what) {
        findings.add(what);
    }

    void note(String what) {
        notes.add(what);
    }

    /** What a call under test did: a value, an acceptable rejection, or a finding (already recorded). */
    record Call<T>(T value, Throwable rejected) {
        boolean ok() {
            return rejected == null && value != null;
        }
    }

    /** Runs {@code call}; classifies a throwable as acceptable or records it as a finding. */
    <T> Call<T> call(String what, Supplier<T> call) {
        try {
            T v = call.get();
            if (v instanceof AutoCloseable a) owned.add(a);
            return new Call<>(v, null);
        } catch (Throwable t) {
            String problem = problem(t);
            if (problem == null) {
                note(what + " rejected: " + shortName(t));
            } else {
                finding(what + ": " + problem);
            }
            return new Call<>(null, t);
        }
    }

    /** Null if {@code t} is an acceptable rejection, else why not. */
    String problem(Throwable t) {
        // A valid but too-large request may run out of memory: acceptable when the error says how
        // much was asked for and which limit applies (Sizes.allocate's hint), not a bare JDK message.
        if (t instanceof OutOfMemoryError && t.getMessage() != null && t.getMessage().contains("MaxDirectMemorySize")
                && t.getMessage().contains("could not allocate")) {
            return null;
        }
        boolean kind = t instanceof IllegalArgumentException || t instanceof IllegalStateException
                || t instanceof UnsupportedOperationException || t instanceof IndexOutOfBoundsException;   // the last: Embedding's index
        if (!kind) return "threw " + describe(t);
        String m = t.getMessage();
        if (m == null || m.isBlank()) return "threw " + describe(t) + " with an empty message";
        for (String n : names) if (m.contains(n)) return null;
        return "threw " + describe(t) + " whose message names none of " + names;
    }

    static String describe(Throwable t) {
        String s = t.getClass().getName() + ": " + oneLine(t.getMessage());
        StackTraceElement[] st = t.getStackTrace();
        for (StackTraceElement e : st) {
            if (e.getClassName().startsWith("dev.panamadnn") && !e.getClassName().startsWith("dev.panamadnn.tests")) {
                s += " at " + e.getClassName().substring(e.getClassName().lastIndexOf('.') + 1) + "." + e.getMethodName()
                        + ":" + e.getLineNumber();
                break;
            }
        }
        if (t.getCause() != null && t.getCause() != t) s += " (cause " + t.getCause().getClass().getSimpleName() + ")";
        return s;
    }

    static String shortName(Throwable t) {
        return t.getClass().getSimpleName() + "(" + oneLine(t.getMessage()) + ")";
    }

    static String oneLine(String s) {
        if (s == null) return "null";
        s = s.replace('\n', ' ').replace('\r', ' ');
        return s.length() > 240 ? s.substring(0, 240) + "..." : s;
    }

    /** Adds the names an error message may use for {@code layer}: its class's simple name and its repr's prefix. */
    <T> T named(T layer) {
        if (layer == null) return null;
        names.add(layer.getClass().getSimpleName());
        String s = String.valueOf(layer);
        int p = s.indexOf('(');
        if (p > 0) names.add(s.substring(0, p));
        return layer;
    }

    // ---------------------------------------------------------------- inputs

    /** A tensor of {@code shape} made as {@code how} says (the caller has already mutated the shape for WRONG_*), or null for SHAPE_ONLY. */
    Tensor tensor(long[] shape, Input how, Values values) {
        if (values != Values.NORMAL) special = true;
        switch (how) {
            case SHAPE_ONLY:
                return null;
            case HUGE_WRAP:
                try {
                    return Tensor.wrap(MemorySegment.NULL, DataType.F32, shape);
                } catch (IllegalArgumentException e) {   // what the library does since issue 11 #5: nothing to run then
                    note("Tensor.wrap refused the huge shape: " + shortName(e));
                    return null;
                }
            case WRONG_DTYPE: {
                DataType dt = pick(DataType.BF16, DataType.F16, DataType.I8, DataType.U8, DataType.I32, DataType.I64);
                return Tensor.allocate(arena, dt, shape);
            }
            case HEAP: {
                float[] data = new float[Math.toIntExact(numel(shape))];
                fill(data, values);
                return Tensor.wrap(MemorySegment.ofArray(data), DataType.F32, shape);
            }
            case READ_ONLY: {
                Tensor t = own(Tensor.zeros(shape));
                MemorySegment.copy(filled(shape, values), 0, t.segment(), ValueLayout.JAVA_FLOAT, 0, Math.toIntExact(numel(shape)));
                return Tensor.wrap(t.segment().asReadOnly(), DataType.F32, shape);
            }
            case STRIDED: {
                int d = r.nextInt(shape.length);
                long extra = between(1, 3), start = r.nextInt((int) extra + 1);
                long[] big = shape.clone();
                big[d] += extra;
                Tensor base = own(Tensor.of(filled(big, values), big));
                return base.slice(d, start, start + shape[d]);
            }
            case CLOSED: {
                Tensor t = Tensor.of(filled(shape, values), shape);
                t.close();
                return t;
            }
            default:
                return own(Tensor.of(filled(shape, values), shape));
        }
    }

    /** The shape a WRONG_* input gets from the layer's valid {@code shape}; {@code channelDim} < 0 if the layer has none. */
    long[] mutate(long[] shape, Input how, int channelDim) {
        switch (how) {
            case WRONG_RANK: {
                if (shape.length > 1 && chance(0.5)) return Arrays.copyOf(shape, shape.length - 1);
                long[] s = Arrays.copyOf(shape, shape.length + 1);
                s[shape.length] = between(1, 3);
                if (chance(0.5)) {   // a leading dimension instead
                    System.arraycopy(shape, 0, s, 1, shape.length);
                    s[0] = between(1, 3);
                }
                return s;
            }
            case WRONG_CHANNELS: {
                long[] s = shape.clone();
                int d = channelDim >= 0 && channelDim < s.length ? channelDim : r.nextInt(s.length);
                s[d] = s[d] + pick(1, 2, 5) * (chance(0.5) || s[d] <= 5 ? 1 : -1);
                return s;
            }
            case WRONG_SIZE: {
                long[] s = shape.clone();
                s[r.nextInt(s.length)] = between(1, 20);
                return s;
            }
            case HUGE_WRAP: {   // 2^62 elements: 2^64 bytes, which wraps to 0
                long[] s = new long[shape.length];
                Arrays.fill(s, 1);
                s[r.nextInt(s.length)] = 1L << 62;
                return s;
            }
            case SHAPE_ONLY: {
                long[] s = shape.clone();
                s[r.nextInt(s.length)] = pick(0L, -1L, -5L, 1L << 31, 1L << 40, (1L << 62) + 1, Long.MAX_VALUE, Long.MIN_VALUE);
                return s;
            }
            default:
                return shape;
        }
    }

    float[] filled(long[] shape, Values values) {
        float[] data = new float[Math.toIntExact(numel(shape))];
        fill(data, values);
        return data;
    }

    void fill(float[] data, Values values) {
        for (int i = 0; i < data.length; i++) data[i] = value(values);
    }

    float value(Values values) {
        switch (values) {
            case SPECIAL:
                if (chance(0.12)) {
                    float v = pick(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3e38f, -3e38f, 1e30f, Float.MIN_VALUE, -0.0f,
                            Float.MAX_VALUE, -Float.MAX_VALUE);
                    if (Float.isFinite(v) && Math.abs(v) >= 1e30f) overflowRange = true;
                    return v;
                }
                return (float) r.nextDouble(-2, 2);
            case HUGE:
                overflowRange = true;
                return (float) ((chance(0.5) ? 1 : -1) * Math.pow(10, r.nextDouble(30, 38.4)));
            default:
                return (float) r.nextDouble(-2, 2);
        }
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    <T extends AutoCloseable> T own(T t) {
        owned.add(t);
        return t;
    }

    /** Writes deterministic random values into every F32 parameter (variances positive), so a case replays bit for bit. */
    void randomizeParameters(dev.panamadnn.Module m, double pSpecialVar) {
        for (var e : m.parameters().entrySet()) {
            Tensor t = e.getValue();
            if (t.dtype() != DataType.F32 || !t.isAlive()) continue;
            boolean var = e.getKey().endsWith("running_var");
            long n = t.numel();
            for (long i = 0; i < n; i++) {
                float v;
                if (var) {
                    v = (float) r.nextDouble(0.1, 2);
                    if (chance(pSpecialVar)) {
                        v = pick(0f, -0.5f, 1e-30f);
                        special = true;
                    }
                } else {
                    v = (float) r.nextDouble(-1, 1);
                }
                t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
            }
        }
    }

    // ---------------------------------------------------------------- the layer check

    /**
     * The whole check of one layer on one input: outputShape, then {@code nativeBackend} and the
     * reference, which must agree on accepting the input and, when they do, on the values.
     *
     * @param reduction how many products or terms each output sums (sets the tolerance)
     */
    void layer(Layer layer, long[] validShape, int channelDim, Backend nativeBackend, int reduction) {
        Input how = input();
        Values values = values();
        long[] shape = mutate(validShape, how, channelDim);
        note("input " + how + " " + Arrays.toString(shape) + " " + values);
        Call<long[]> expected = call("outputShape", () -> layer.outputShape(shape));
        if (expected.ok()) {
            for (long d : expected.value()) {
                if (d <= 0) finding("outputShape(" + Arrays.toString(shape) + ") returned " + Arrays.toString(expected.value()));
            }
        }
        if (how == Input.SHAPE_ONLY) return;
        Tensor x = tensor(shape, how, values);
        if (x == null) return;   // a huge wrap refused by Tensor.wrap
        if (how == Input.HUGE_WRAP) {   // nothing may run on 2^62 elements over 0 bytes
            Call<Tensor> y = call(nativeBackend + " forward of a 2^62-element tensor over 0 bytes", () -> layer.forward(x, nativeBackend));
            if (y.ok()) finding(nativeBackend + " forward accepted " + x + " over a 0-byte segment, returned " + y.value());
            return;
        }
        float[] before = x.isAlive() && x.dtype() == DataType.F32 ? x.toFloatArray() : null;
        Call<Tensor> nat = call(nativeBackend + " forward", () -> layer.forward(x, nativeBackend));
        long work = expected.ok() ? numel(expected.value()) * (long) Math.max(1, reduction) : 0;
        if (work > REFERENCE_WORK_LIMIT) {   // a huge hyperparameter with a valid input: minutes of plain loops
            note("REFERENCE skipped: " + work + " multiply-adds");
            return;
        }
        long heap = 4 * (numel(shape) + (expected.ok() ? numel(expected.value()) : 0));
        if (heap > REFERENCE_HEAP_LIMIT) {   // the reference holds its operands in Java arrays (documented); the child's heap is 512 MB
            note("REFERENCE skipped: its arrays would take " + heap + " bytes of heap");
            return;
        }
        Call<Tensor> ref = call("REFERENCE forward", () -> layer.forward(x, Backend.REFERENCE));
        if (before != null && x.isAlive() && !Arrays.equals(before, x.toFloatArray())) finding("forward modified its input " + x);
        agree(nativeBackend.toString(), "REFERENCE", nat, ref, expected, reduction, 0);
        if (chance(0.05)) {   // a closed layer must refuse with IllegalStateException naming it
            layer.close();
            Call<Tensor> after = call("forward after close", () -> layer.forward(x, nativeBackend));
            if (after.ok()) finding("forward on a closed layer returned " + after.value());
            else if (x.isAlive() && !(after.rejected() instanceof IllegalStateException) && problemless(after.rejected())) {
                finding("forward on a closed layer threw " + shortName(after.rejected()) + ", expected IllegalStateException");
            }
        }
    }

    private boolean problemless(Throwable t) {
        return problem(t) == null;
    }

    /** Both paths must accept or both refuse; accepted results must have the expected shape and match. */
    void agree(String what, String refName, Call<Tensor> nat, Call<Tensor> ref, Call<long[]> expected, int reduction, double extraRtol) {
        if (nat.ok() != ref.ok()) {
            if (nat.rejected() != null && problem(nat.rejected()) != null) return;   // already a finding
            if (ref.rejected() != null && problem(ref.rejected()) != null) return;
            // The plain-Java reference holds tensors in Java arrays (at most 2^31 - 9 elements), a
            // documented limit the native path does not have: its refusal for that reason is no disagreement.
            if (nat.ok() && ref.rejected() != null && String.valueOf(ref.rejected().getMessage()).contains("the reference path holds")) return;
            finding(what + " " + (nat.ok() ? "accepted" : "refused (" + shortName(nat.rejected()) + ")") + " but " + refName + " "
                    + (ref.ok() ? "accepted" : "refused (" + shortName(ref.rejected()) + ")"));
            return;
        }
        if (!nat.ok()) return;
        if (expected != null && expected.ok() && !Arrays.equals(expected.value(), nat.value().shape())) {
            finding(what + " output shape " + Arrays.toString(nat.value().shape()) + " != outputShape " + Arrays.toString(expected.value()));
        }
        if (!Arrays.equals(nat.value().shape(), ref.value().shape())) {
            finding(what + " output shape " + Arrays.toString(nat.value().shape()) + " != " + refName + " " + Arrays.toString(ref.value().shape()));
            return;
        }
        compared++;
        if (special && !compareNonFinite) {
            note("values not compared (non-finite or huge inputs; --nonfinite compares them)");
            return;
        }
        String diff = compare(ref.value().toFloatArray(), nat.value().toFloatArray(), reduction, extraRtol);
        if (diff != null) finding(what + " vs " + refName + ": " + diff);
    }

    /**
     * The tolerance relative to the largest finite reference magnitude S: {@code 1e-5 + 4e-7 * K}
     * (K terms per output). f32 sums in a different order (oneDNN's blocking and vector lanes vs
     * the reference's loop) differ by about sqrt(K) ulps of the partial sums, whose size is up to
     * S; 4e-7 * K covers the worst linear growth of the rounding error with K (K * 2^-23 = 1.2e-7
     * K) with a margin, and 1e-5 covers transcendental approximations (GELU, ELU, sigmoid,
     * softmax's exp). A wrong index, a missing term or a wrong padding value gives an error of
     * order S itself, far above this.
     */
    static double tolerance(int reduction) {
        return 1e-5 + 4e-7 * Math.max(1, reduction);
    }

    /** Whether a finding is a difference of values (from {@link #compare}), not a crash, refusal or shape. */
    static boolean isValueDifference(String finding) {
        return finding.contains(" values differ (tolerance ");
    }

    /** Null if {@code got} matches {@code ref}, else what differs and where. */
    String compare(float[] ref, float[] got, int reduction, double extraRtol) {
        if (ref.length != got.length) return "length " + got.length + " != " + ref.length;
        double scale = Float.MIN_NORMAL;
        for (float v : ref) if (Float.isFinite(v)) scale = Math.max(scale, Math.abs(v));
        scale = Math.max(scale, termScale * Math.sqrt(Math.max(1, reduction) / 3.0));
        double tol = scale * (tolerance(reduction) + extraRtol);
        int bad = 0, nonFinite = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            float a = ref[i], b = got[i];
            boolean fa = Float.isFinite(a), fb = Float.isFinite(b);
            if (!fa || !fb) {
                boolean same = (Float.isNaN(a) && Float.isNaN(b)) || a == b;
                if (!same) {
                    nonFinite++;
                    bad++;
                    if (first < 0) first = i;
                }
                continue;
            }
            double e = Math.abs((double) a - b);
            if (e > tol) {
                bad++;
                if (first < 0 || e > worst) first = i;
                worst = Math.max(worst, e);
            }
        }
        if (bad == 0) return null;
        return bad + " of " + ref.length + " values differ (tolerance " + String.format("%.3g", tol) + " = S " + String.format("%.3g", scale)
                + " x " + String.format("%.2g", tolerance(reduction) + extraRtol) + "); e.g. [" + first + "] got " + got[first]
                + " expected " + ref[first] + (nonFinite > 0 ? "; " + nonFinite + " of them NaN/Inf where the other is not" : "");
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Throwable t) {
                finding("close " + owned.get(i).getClass().getSimpleName() + ": " + describe(t));
            }
        }
        try {
            arena.close();
        } catch (Throwable t) {
            finding("closing the case's arena: " + describe(t));
        }
    }
}
