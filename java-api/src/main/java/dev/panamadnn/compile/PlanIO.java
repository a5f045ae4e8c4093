package dev.panamadnn.compile;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Value;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.lifetime.NativeAccess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The checks of a plan's inputs and outputs before any native call (names, dtypes, shapes,
 * layouts, writability, overlap) and the copies around a run whose tensors lie in memory-mapped
 * files. Every refusal names the tensor, what was expected and what was given. Stateless.
 */
final class PlanIO {
    private PlanIO() {}

    /**
     * Checks {@code t} as the plan's input or output {@code v} ({@code what}: "input" or "output") of
     * concrete shape {@code expected}. Allocation-free when it passes (messages are built on failure only).
     */
    static void check(String plan, String what, Tensor t, Value v, long[] expected) {
        if (t == null) throw new IllegalArgumentException(label(plan, what, v) + " must not be null");
        if (!t.isAlive()) throw new IllegalStateException(label(plan, what, v) + ": the tensor's memory was freed");
        if (t.dtype() != v.dtype()) {
            throw new IllegalArgumentException(label(plan, what, v) + ": expected " + v.dtype() + " (" + v.type() + "), got " + t.dtype());
        }
        boolean same = t.rank() == expected.length;   // rank() and dim(): shape() would copy
        for (int i = 0; same && i < expected.length; i++) same = t.dim(i) == expected[i];
        if (!same) {
            throw new IllegalArgumentException(label(plan, what, v) + ": expected shape " + Arrays.toString(expected) + ", got "
                    + Arrays.toString(t.shape()) + " (compile another plan for another shape)");
        }
        if (!t.isContiguous() || !t.segment().isNative()) {
            throw new IllegalArgumentException(label(plan, what, v) + ": expected a contiguous off-heap (plain row-major) tensor, got " + t);
        }
        if (!t.segment().isAccessibleBy(Thread.currentThread())) {   // was the JDK's bare WrongThreadException from the first access
            throw new IllegalArgumentException(label(plan, what, v) + ": its memory belongs to a confined arena of another thread"
                    + " (Arena.ofConfined); run on that thread, or allocate it in a shared or automatic arena (Tensor.zeros)");
        }
        if (what.equals("output") && t.segment().isReadOnly()) {
            throw new IllegalArgumentException(label(plan, what, v) + ": expected a writable tensor, got " + t + " over read-only memory");
        }
    }

    private static String label(String plan, String what, Value v) {
        return plan + " (compiled): " + what + " '" + v.name() + "'";
    }

    /**
     * The tensors of {@code given} in the order of {@code expected}, each checked; an unknown or
     * missing name is refused naming it and the expected names.
     */
    static Tensor[] byName(String plan, String what, Map<String, Tensor> given, List<Value> expected, long[][] shapes, Tensor[] into) {
        if (given == null) throw new IllegalArgumentException(plan + " (compiled): the " + what + "s must not be null");
        if (given.size() != expected.size()) unknown(plan, what, given, expected);
        for (int i = 0; i < expected.size(); i++) {
            Value v = expected.get(i);
            Tensor t = given.get(v.name());
            if (t == null) {
                unknown(plan, what, given, expected);   // a misspelt name is named as such
                throw new IllegalArgumentException(plan + " (compiled): missing " + what + " '" + v.name() + "' (" + v.type() + ")");
            }
            check(plan, what, t, v, shapes[i]);
            into[i] = t;
        }
        return into;
    }

    /** Refuses a name of {@code given} that is not one of {@code expected}. */
    private static void unknown(String plan, String what, Map<String, Tensor> given, List<Value> expected) {
        for (String k : given.keySet()) {
            boolean known = false;
            for (Value v : expected) known |= v.name().equals(k);
            if (!known) throw new IllegalArgumentException(plan + " (compiled): unknown " + what + " '" + k + "' (expected " + names(expected) + ")");
        }
    }

    /** Refuses an output overlapping an input or another output. */
    static void checkOverlap(String plan, Tensor[] inputs, Tensor[] outputs, List<Value> in, List<Value> out) {
        for (int o = 0; o < outputs.length; o++) {
            MemorySegment b = outputs[o].segment();
            for (int i = 0; i < inputs.length; i++) {
                if (overlap(inputs[i].segment(), b)) {
                    throw new IllegalArgumentException(plan + " (compiled): input '" + in.get(i).name() + "' and output '" + out.get(o).name()
                            + "' must not overlap");
                }
            }
            for (int p = 0; p < o; p++) {
                if (overlap(outputs[p].segment(), b)) {
                    throw new IllegalArgumentException(plan + " (compiled): outputs '" + out.get(p).name() + "' and '" + out.get(o).name()
                            + "' must not overlap");
                }
            }
        }
    }

    private static boolean overlap(MemorySegment a, MemorySegment b) {
        return a.address() < b.address() + b.byteSize() && b.address() < a.address() + a.byteSize();
    }

    static boolean anyMapped(Tensor[] inputs, Tensor[] outputs) {
        for (Tensor t : inputs) if (t.segment().isMapped()) return true;
        for (Tensor t : outputs) if (t.segment().isMapped()) return true;
        return false;
    }

    /** What {@code run} does on tensors in plain memory. */
    interface Runner {
        void run(Tensor[] inputs, Tensor[] outputs);
    }

    /**
     * A run whose tensors lie in memory-mapped files: native code never touches a mapping (another
     * process truncating the file would kill the JVM with SIGBUS there), so the mapped tensors are
     * copied by Java, which turns a truncated mapping into an exception.
     */
    static void runMapped(String plan, Tensor[] inputs, Tensor[] outputs, Runner runner) {
        try (Arena tmp = Arena.ofConfined()) {
            Tensor[] x = new Tensor[inputs.length], y = new Tensor[outputs.length];
            for (int i = 0; i < x.length; i++) {
                MemorySegment s = inputs[i].segment();
                x[i] = s.isMapped() ? Tensor.wrap(NativeAccess.copyOfMapped(s, tmp, plan + " (compiled) input"), inputs[i].dtype(), inputs[i].shape())
                        : inputs[i];
            }
            for (int i = 0; i < y.length; i++) {
                MemorySegment s = outputs[i].segment();
                y[i] = s.isMapped() ? Tensor.wrap(tmp.allocate(Math.max(1, s.byteSize()), 64).asSlice(0, s.byteSize()), outputs[i].dtype(),
                        outputs[i].shape()) : outputs[i];
            }
            runner.run(x, y);
            for (int i = 0; i < y.length; i++) {
                if (y[i] != outputs[i]) NativeAccess.copyToMapped(y[i].segment(), outputs[i].segment(), plan + " (compiled) output");
            }
        }
    }

    /** New zeroed output tensors (the caller owns them), by name in output order; on failure none is left open. */
    static Map<String, Tensor> newOutputs(List<Value> outputs, Tensor[] into) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        try {
            for (int i = 0; i < outputs.size(); i++) {
                Value v = outputs.get(i);
                long[] shape = v.shape().sizes();
                into[i] = v.dtype() == dev.panamadnn.DataType.F32 ? Tensor.zeros(shape)   // an integer or bool output: freed when unreachable
                        : Tensor.allocate(java.lang.foreign.Arena.ofAuto(), v.dtype(), shape);
                m.put(outputs.get(i).name(), into[i]);
            }
        } catch (RuntimeException | Error e) {
            m.values().forEach(Tensor::close);
            throw e;
        }
        return m;
    }

    static void checkShape(long[] inputShape) {
        checkShape("", inputShape);
    }

    /** Checks the shape of input {@code name} ("" for a module's one input): sizes >= 1 and bounded bytes. */
    private static void checkShape(String name, long[] inputShape) {
        String what = name.isEmpty() ? "input" : "input '" + name + "'";
        if (inputShape == null || inputShape.length == 0) {
            throw new IllegalArgumentException("CompiledModel.compile: expected an input shape, got none");
        }
        for (long d : inputShape) {
            if (d == 0) {
                throw new IllegalArgumentException("CompiledModel.compile: " + what + " of shape " + Arrays.toString(inputShape)
                        + " is empty (a size of 0): a plan computes on no empty tensors");
            }
            if (d < 0) throw new IllegalArgumentException("CompiledModel.compile: expected sizes > 0, got " + Arrays.toString(inputShape));
        }
        Sizes.f32Bytes("CompiledModel.compile: input", inputShape);   // layers check the buffers they derive
    }

    /**
     * Refuses node {@code n} if one of its outputs or F32 inputs is empty (a fixed size of 0: a Slice past
     * the end, a Split of size 0, an empty initializer): no oneDNN primitive or plan buffer is made for zero elements. Checked before the
     * node is lowered, so the refusal names it rather than a descriptor or a buffer.
     */
    static void refuseEmpty(PlanGraph g, dev.panamadnn.graph.Node n) {
        for (String o : n.outputs()) {
            if (isEmpty(g, o)) {
                throw Compiler.unsupported(n, "output '" + o + "' of shape " + g.shape(o) + " is empty (a size of 0): a plan computes on no"
                        + " empty tensors (a model whose every output is empty or known runs without one)");
            }
        }
        for (String i : n.inputs()) {   // F32 data (a rule's constants are); an empty I64 one is a shape or axes, read when compiling
            if (isEmpty(g, i) && (!g.source.values().containsKey(i) || g.value(i).dtype() == dev.panamadnn.DataType.F32)) {
                throw Compiler.unsupported(n, "input '" + i + "' of shape " + g.shape(i) + " is empty (a size of 0): a plan computes on no"
                        + " empty tensors");
            }
        }
    }

    /** Whether {@code value} has a fixed shape with a size of 0. */
    static boolean isEmpty(PlanGraph g, String value) {
        if (value == null || value.isEmpty() || !g.has(value)) return false;
        dev.panamadnn.graph.Shape s = g.shape(value);
        if (!s.isFixed()) return false;
        for (dev.panamadnn.graph.Dim d : s.dims()) if (d.size() == 0) return true;
        return false;
    }

    /** The shape of every input of {@code graph} from {@code shapes} (by name, no other), each checked. */
    static long[][] shapesByName(dev.panamadnn.graph.Graph graph, Map<String, long[]> shapes) {
        long[][] out = new long[graph.inputs().size()][];
        for (String k : shapes.keySet()) {
            boolean known = false;
            for (dev.panamadnn.graph.Value v : graph.inputs()) known |= v.name().equals(k);
            if (!known) {
                throw new IllegalArgumentException("CompiledModel.compile: unknown input '" + k + "' (graph " + graph.name() + " has "
                        + names(graph.inputs()) + ")");
            }
        }
        for (int i = 0; i < out.length; i++) {
            long[] s = shapes.get(graph.inputs().get(i).name());
            if (s == null) throw new IllegalArgumentException("CompiledModel.compile: missing a shape for input " + graph.inputs().get(i));
            checkShape(graph.inputs().get(i).name(), s);
            out[i] = s.clone();
        }
        return out;
    }

    static String names(List<Value> values) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (Value v : values) j.add(v.toString());
        return j.toString();
    }
}
