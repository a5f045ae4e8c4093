package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.DataType;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * OneHot and CumSum computed at run time, as Java steps over plain F32 buffers (what {@link FoldConstants} left: their
 * inputs not all known). OneHot's indices may be held integer values ({@link LowerCarried}: an ArgMax's) or F32, its
 * values a constant or computed; CumSum runs on F32 (an integer one is folded where its values are known). No allocation per run.
 */
final class LowerEncode {
    private LowerEncode() {}

    static Value lower(Compiler plan, Node n) {
        return switch (n.op()) {
            case "OneHot" -> oneHot(plan, n);
            case "CumSum" -> cumSum(plan, n);
            default -> null;
        };
    }

    /**
     * OneHot: output element {@code (a, c, b)} (c along {@code axis}) is on where index {@code (a, b)}, truncated toward
     * zero and counted from the end when negative, is c; off otherwise (an index outside [-depth, depth) gives a line of off).
     */
    private static Value oneHot(Compiler plan, Node n) {
        long[] is = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        int axis = (int) Math.floorMod(n.attributes().integer("axis", -1), (long) y.length);
        long depth = y[axis], inner = LowerIndex.prod(y, axis + 1, y.length), outer = LowerIndex.prod(y, 0, axis);
        DataType t = plan.graph.value(n.output()).dtype();
        List<Value> xs = new ArrayList<>();
        boolean constIdx = plan.graph.isConstant(n.input(0)), constValues = plan.graph.isConstant(n.input(2));
        float[] idx = constIdx ? exact(plan, n, 0) : null, values = constValues ? exact(plan, n, 2) : null;
        if (!constIdx) xs.add(LowerIndex.input(plan, n, 0));
        if (!constValues) xs.add(LowerIndex.input(plan, n, 2));
        if (xs.isEmpty()) throw Compiler.unsupported(n, "every input is a constant (it should have been folded)");
        return PlanOutputs.javaStep(plan, xs, List.of(y), (src, dst) -> {
            MemorySegment v = constValues ? null : src[constIdx ? 0 : 1];
            float off = v == null ? values[0] : v.getAtIndex(JAVA_FLOAT, 0), on = v == null ? values[1] : v.getAtIndex(JAVA_FLOAT, 1);
            for (long a = 0; a < outer; a++) {
                for (long b = 0; b < inner; b++) {
                    long i = a * inner + b;
                    float f = idx != null ? idx[(int) i] : src[0].getAtIndex(JAVA_FLOAT, i);
                    long j = Float.isNaN(f) ? -1 : (long) f;   // truncated toward zero, as ONNX casts non-integer indices
                    if (j < 0) j += depth;
                    for (long c = 0; c < depth; c++) dst[0].setAtIndex(JAVA_FLOAT, (a * depth + c) * inner + b, c == j ? on : off);
                }
            }
        }, "java one_hot " + n.name() + " (depth " + depth + " on axis " + axis + (t == DataType.F32 ? ")" : ", " + t + " values held exactly)")).get(0);
    }

    /**
     * CumSum of F32 values along {@code axis} (a constant): each output the sum of the inputs up to it (exclusive: before
     * it; reverse: from the end), accumulated in double and rounded once; NaN and infinities propagate as in any sum.
     */
    private static Value cumSum(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0));
        if (plan.graph.value(n.output()).dtype() != DataType.F32) {
            throw Compiler.unsupported(n, "a CumSum of " + plan.graph.value(n.output()).dtype() + " values at run time is not compiled (integer sums "
                    + "are computed where the values are known when compiling: constants, bound inputs)");
        }
        dev.panamadnn.Tensor axisValue = plan.graph.tensor(n.input(1));   // known (EncodeShapes checked): a constant once folded
        if (axisValue == null) throw Compiler.unsupported(n, "the axis (input 1) must be a constant");
        long[] a = LowerIndex.longs(axisValue);
        int axis = (int) Math.floorMod(a[0], (long) x.length);
        long outer = LowerIndex.prod(x, 0, axis), size = x[axis], inner = LowerIndex.prod(x, axis + 1, x.length);
        boolean exclusive = n.attributes().integer("exclusive", 0) != 0, reverse = n.attributes().integer("reverse", 0) != 0;
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(x), (src, dst) -> {
            for (long o = 0; o < outer; o++) {
                for (long b = 0; b < inner; b++) {
                    double sum = 0;
                    for (long s = 0; s < size; s++) {
                        long at = (o * size + (reverse ? size - 1 - s : s)) * inner + b;
                        float v = src[0].getAtIndex(JAVA_FLOAT, at);
                        if (!exclusive) sum += v;
                        dst[0].setAtIndex(JAVA_FLOAT, at, (float) sum);
                        if (exclusive) sum += v;
                    }
                }
            }
        }, "java cumsum " + n.name() + " on axis " + axis + (exclusive ? ", exclusive" : "") + (reverse ? ", reverse" : "")).get(0);
    }

    /** A constant input as floats: F32 as is, integers where each is exact in F32 ({@link LowerCarried#exactValues}); else refused. */
    private static float[] exact(Compiler plan, Node n, int i) {
        float[] f = LowerCarried.exactValues(plan.graph, n.input(i));
        if (f == null) throw Compiler.unsupported(n, "constant '" + n.input(i) + "' holds a value beyond the integers a plan computes with exactly (2^24)");
        return f;
    }
}
