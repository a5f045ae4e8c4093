package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.Integers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Integer and bool values computed at run time (ArgMax/ArgMin's indices, comparisons, Cast), held
 * in a plan's F32 buffers as exact values: an index below 2^24 (ArgMax refuses a longer axis), 0 or 1
 * for a bool, and for a Cast from F32 the float truncated toward zero (an integer every float can
 * hold exactly), so no value is ever rounded. Only the ops in {@link #READERS} read such values
 * ({@link Compiler#in} refuses the others: integer arithmetic at run time is not compiled), and a
 * graph output of such a dtype is converted when it is written into the caller's tensor (a Java
 * step: I64/I32 by {@code (long)}/{@code (int)}, BOOL as 0/1 bytes). All are Java steps over
 * plain buffers, index maps computed once.
 */
final class LowerCarried {
    private LowerCarried() {}

    /** The ops that read integer or bool values computed at run time. */
    static final Set<String> READERS = Set.of("Identity", "Squeeze", "Unsqueeze", "Cast", "Where", "Not", "And", "Or", "Xor", "Equal", "Less",
            "Greater", "Reshape", "Flatten", "Expand", "Transpose", "Slice", "Concat", "Tile", "Gather", "GatherND", "GatherElements", "OneHot", "MaxUnpool", "RoiAlign",   // these move (or index by) values, exactly
            "Max", "Min", "Clip", "ArgMax", "ArgMin",   // and these pick one of their inputs' values (or a bound, or an index), exact too
            "Add", "Sub", "Mul", "Div", "Mod", "ReduceSum", "CumSum",   // integer arithmetic: computed in long, refused at run time beyond 2^24
            "Abs", "Neg", "Sign");   // exact on values within 2^24

    /**
     * The graph input dtypes a plan converts to exact F32 values as its first steps (every U8, I8, U16, I16 and F16 value
     * is a float; a BOOL becomes 0 or 1): a uint8 image, a half-precision input or an attention mask then reaches a Cast
     * (or another reader of {@link #READERS}). U32, U64 (and I32, I64) values are not all exact in F32: such an input is
     * read only by shape computations known when compiling ({@link Compiler#in} refuses any other reader).
     */
    static final Set<DataType> CONVERTED_INPUTS = Set.of(DataType.U8, DataType.I8, DataType.U16, DataType.I16, DataType.F16, DataType.BOOL);

    /** Graph input {@code k} ({@code v}, a dtype of {@link #CONVERTED_INPUTS}) as exact F32 values: a Java step each run. */
    static Value convertInput(Compiler plan, int k, dev.panamadnn.graph.Value v) {
        long[] shape = v.shape().sizes();
        long size = LowerIndex.prod(shape, 0, shape.length);
        DataType t = v.dtype();
        JavaStep.MultiKernel kernel = switch (t) {   // one loop per dtype: no per-element dispatch in a per-run step
            case U8 -> (src, dst) -> {
                for (long i = 0; i < size; i++) dst[0].setAtIndex(JAVA_FLOAT, i, src[0].get(ValueLayout.JAVA_BYTE, i) & 0xff);
            };
            case I8 -> (src, dst) -> {
                for (long i = 0; i < size; i++) dst[0].setAtIndex(JAVA_FLOAT, i, src[0].get(ValueLayout.JAVA_BYTE, i));
            };
            case U16 -> (src, dst) -> {
                for (long i = 0; i < size; i++) dst[0].setAtIndex(JAVA_FLOAT, i, src[0].getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) & 0xffff);
            };
            case I16 -> (src, dst) -> {
                for (long i = 0; i < size; i++) dst[0].setAtIndex(JAVA_FLOAT, i, src[0].getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
            };
            case BOOL -> (src, dst) -> {
                for (long i = 0; i < size; i++) dst[0].setAtIndex(JAVA_FLOAT, i, src[0].get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0);
            };
            case F16 -> (src, dst) -> {
                for (long i = 0; i < size; i++) dst[0].setAtIndex(JAVA_FLOAT, i, Float.float16ToFloat(src[0].getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i)));
            };
            // I64 and I32 inputs are read where they are (a Gather's indices); converted only for a reader of held values (a Cast
            // to float of an int64 attention mask or lengths), each value checked to be exact in F32
            case I64 -> (src, dst) -> {
                for (long i = 0; i < size; i++) dst[0].setAtIndex(JAVA_FLOAT, i, exact(v.name(), i, src[0].getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i)));
            };
            case I32 -> (src, dst) -> {
                for (long i = 0; i < size; i++) dst[0].setAtIndex(JAVA_FLOAT, i, exact(v.name(), i, src[0].getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i)));
            };
            default -> throw new IllegalStateException("a " + t + " input is not converted to F32 (" + CONVERTED_INPUTS + " are)");
        };
        return PlanOutputs.javaStep(plan, List.of(new Value(null, PlanArg.inputId(k), shape)), List.of(shape), kernel,
                "java " + t + " input " + v.name() + " as F32").get(0);
    }

    /** {@code value}, element {@code i} of integer input {@code name}, as the F32 that holds it exactly; else an exception naming it. */
    private static float exact(String name, long i, long value) {
        if (Math.abs(value) > MAX_EXACT) {
            throw new IllegalArgumentException("CompiledModel: input '" + name + "' element " + i + " is " + value + ": a plan holds integer values"
                    + " it computes with as exact F32 values, up to 2^24 in magnitude");
        }
        return value;
    }

    /** The largest axis ArgMax/ArgMin index in a plan: its indices are exact in F32. */
    static final long MAX_EXACT = 1L << 24;

    static boolean reads(String op) {
        return READERS.contains(op);
    }

    /** Lowers {@code n} if it computes an integer or bool value at run time (or reads one, Where, Cast), else null. */
    static Value lower(Compiler plan, Node n) {
        return switch (n.op()) {
            case "ArgMax", "ArgMin" -> LowerCarriedSelect.argMinMax(plan, n);
            case "TopK" -> LowerCarriedSelect.topK(plan, n).get(0);
            case "Equal", "Less", "Greater", "And", "Or", "Xor" -> binary(plan, n);
            case "Not" -> unary(plan, n, v -> v == 0 ? 1 : 0, "not");
            // integer Abs/Neg/Sign computed at run time, in long and wrapped to the type: the most negative integer (a Cast of
            // NaN gives it, as x86 and torch do) stays itself, as in C
            case "Abs" -> integerOutput(plan, n) ? unary(plan, n, wrapped(dtype(plan, n.output()), Math::abs), "abs") : null;
            case "Neg" -> integerOutput(plan, n) ? unary(plan, n, wrapped(dtype(plan, n.output()), v -> -v), "neg") : null;
            case "Sign" -> integerOutput(plan, n) ? unary(plan, n, Math::signum, "sign") : null;
            case "Cast" -> cast(plan, n);
            case "Where" -> plan.graph.isConstant(n.input(0)) ? null : where(plan, n);
            case "Add", "Sub", "Mul", "Div", "Mod" -> integerOutput(plan, n) ? arithmetic(plan, n) : null;
            case "ReduceSum" -> integerOutput(plan, n) && !plan.graph.isConstant(n.input(0)) ? LowerCarriedSelect.reduceSum(plan, n) : null;
            case "CumSum" -> integerOutput(plan, n) && !plan.graph.isConstant(n.input(0)) ? LowerCarriedSelect.cumSum(plan, n) : null;
            default -> null;
        };
    }

    /** {@code f} on a held integer value, in long and wrapped to type {@code t} (its dtype read now: the plan's graph is gone at run time). */
    private static Unary wrapped(DataType t, java.util.function.LongUnaryOperator f) {
        return v -> (float) Integers.narrow(t, f.applyAsLong((long) v));
    }

    private static boolean integerOutput(Compiler plan, Node n) {
        DataType t = dtype(plan, n.output());
        return t == DataType.I64 || t == DataType.I32;
    }

    /** {@code r}, a result of node {@code n} held as an exact F32 value; beyond 2^24 in magnitude an exception naming the node. */
    static float held(String label, long r) {
        if (Math.abs(r) > MAX_EXACT) {
            throw new IllegalArgumentException("CompiledModel: node " + label + ": integer result " + r + " is beyond 2^24, the integers a plan"
                    + " computes with exactly");
        }
        return r;
    }

    /**
     * Add, Sub, Mul, Div and Mod of integer values computed at run time (an attention mask's cumulative sum minus one, as
     * position ids; a token index halved): in long, each result checked to be exact in F32. Broadcast as NumPy. Div
     * truncates toward zero (C's and ONNX Runtime's integer division, and the import's folding); Mod takes the divisor's
     * sign (fmod = 0, Python's %) or the dividend's (fmod = 1, C's fmod); a zero divisor is an exception naming the node.
     */
    private static Value arithmetic(Compiler plan, Node n) {
        long[] y = LowerIndex.out(plan, n, 0);
        int size = Math.toIntExact(LowerIndex.prod(y, 0, y.length));
        Operands in = Operands.of(plan, n, 2, y);
        if (in.xs.isEmpty()) return null;   // both constant: folded
        String label = n.label();
        boolean fmod = n.attributes().integer("fmod", 0) != 0;
        java.util.function.LongBinaryOperator op = switch (n.op()) {
            case "Add" -> Long::sum;
            case "Sub" -> (a, b) -> a - b;
            case "Div" -> (a, b) -> a / nonZero(label, b);
            case "Mod" -> fmod ? (a, b) -> a % nonZero(label, b) : (a, b) -> Math.floorMod(a, nonZero(label, b));
            default -> (a, b) -> a * b;
        };
        return PlanOutputs.javaStep(plan, in.xs, List.of(y), (src, dst) -> {
            for (int o = 0; o < size; o++) dst[0].setAtIndex(JAVA_FLOAT, o, held(label, op.applyAsLong((long) in.at(src, 0, o), (long) in.at(src, 1, o))));
        }, "java integer " + n.op().toLowerCase(java.util.Locale.ROOT) + " " + n.name()).get(0);
    }

    private static long nonZero(String label, long divisor) {
        if (divisor == 0) throw new IllegalArgumentException("CompiledModel: node " + label + ": integer division by zero");
        return divisor;
    }

    static DataType dtype(Compiler plan, String value) {
        return plan.graph.value(value).dtype();
    }

    /** A binary op over two broadcast operands, each an activation or a constant (read as exact floats). */
    private static Value binary(Compiler plan, Node n) {
        long[] y = LowerIndex.out(plan, n, 0);
        int size = Math.toIntExact(LowerIndex.prod(y, 0, y.length));
        Operands in = Operands.of(plan, n, 2, y);
        if (in.xs.isEmpty()) return null;   // folded, or refused as before
        Op op = switch (n.op()) {
            case "Equal" -> (a, b) -> a == b ? 1 : 0;
            case "Less" -> (a, b) -> a < b ? 1 : 0;
            case "Greater" -> (a, b) -> a > b ? 1 : 0;
            case "And" -> (a, b) -> a != 0 && b != 0 ? 1 : 0;
            case "Or" -> (a, b) -> a != 0 || b != 0 ? 1 : 0;
            default -> (a, b) -> (a != 0) != (b != 0) ? 1 : 0;   // Xor
        };
        return PlanOutputs.javaStep(plan, in.xs, List.of(y), (src, dst) -> {
            for (int o = 0; o < size; o++) {
                dst[0].setAtIndex(JAVA_FLOAT, o, op.apply(in.at(src, 0, o), in.at(src, 1, o)));
            }
        }, "java " + n.op().toLowerCase(java.util.Locale.ROOT) + " " + n.name()).get(0);
    }

    /**
     * A node's first {@code count} inputs broadcast to {@code y}: each an activation (the step's
     * {@code xs}, in input order) or a constant read once as exact floats, with its broadcast index map.
     */
    private record Operands(List<Value> xs, float[][] constant, long[][] index, int[] slot) {
        static Operands of(Compiler plan, Node n, int count, long[] y) {
            List<Value> xs = new ArrayList<>();
            float[][] constant = new float[count][];
            long[][] index = new long[count][];
            int[] slot = new int[count];
            for (int k = 0; k < count; k++) {
                String name = n.input(k);
                index[k] = LowerIndex.broadcast(LowerIndex.shape(plan, name), y);
                slot[k] = -1;
                if (plan.graph.isConstant(name)) constant[k] = exact(plan, n, name);
                else {
                    slot[k] = xs.size();
                    xs.add(LowerIndex.input(plan, n, k));
                }
            }
            return new Operands(xs, constant, index, slot);
        }

        /** Operand {@code k}'s value for output element {@code o}, {@code src} being the step's inputs. */
        float at(MemorySegment[] src, int k, int o) {
            return slot[k] < 0 ? constant[k][(int) index[k][o]] : src[slot[k]].getAtIndex(JAVA_FLOAT, index[k][o]);
        }
    }

    private interface Op {
        float apply(float a, float b);
    }

    private interface Unary {
        float apply(float v);
    }

    private static Value unary(Compiler plan, Node n, Unary f, String what) {
        if (plan.graph.isConstant(n.input(0))) return null;
        long[] y = LowerIndex.out(plan, n, 0);
        long size = LowerIndex.prod(y, 0, y.length);
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y), (src, dst) -> {
            for (long o = 0; o < size; o++) dst[0].setAtIndex(JAVA_FLOAT, o, f.apply(src[0].getAtIndex(JAVA_FLOAT, o)));
        }, "java " + what + " " + n.name()).get(0);
    }

    /** A constant operand as floats: F32 as is, integers and bools only where every value is exact in F32. */
    private static float[] exact(Compiler plan, Node n, String name) {
        Tensor t = plan.graph.tensor(name);
        float[] f = exactValues(plan.graph, name);
        if (f != null) return f;
        if (t.dtype() == DataType.F32 || t.dtype() == DataType.F16 || t.dtype() == DataType.BF16 || t.dtype() == DataType.F64) {
            throw Compiler.unsupported(n, "constant '" + name + "' of dtype " + t.dtype() + " is not read at run time");
        }
        throw Compiler.unsupported(n, "constant '" + name + "' holds a value beyond the integers a plan computes with exactly (2^24)");
    }

    /**
     * A constant's values as floats: F32 as is (or computed by a rule), integers and BOOL when every value is exact in F32
     * ({@code |v| <= 2^24}; a U64 one from 2^63, a negative long, never is); null otherwise. Shared with {@link FoldConstants}.
     */
    static float[] exactValues(PlanGraph g, String name) {
        Tensor t = g.tensor(name);
        if (t == null || t.dtype() == DataType.F32) return g.floats(name);   // (null: computed by a rule, F32)
        float[] f = new float[Math.toIntExact(t.numel())];
        for (int i = 0; i < f.length; i++) {
            long v = switch (t.dtype()) {
                case I64 -> t.segment().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                case U64 -> {
                    long u = t.segment().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                    yield u < 0 ? Long.MAX_VALUE : u;   // from 2^63: far beyond 2^24
                }
                case I32 -> t.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                case U32 -> t.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i) & 0xffffffffL;
                case I16 -> t.segment().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i);
                case U16 -> t.segment().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) & 0xffff;
                case I8 -> t.segment().get(ValueLayout.JAVA_BYTE, i);
                case U8 -> t.segment().get(ValueLayout.JAVA_BYTE, i) & 0xff;
                case BOOL -> t.segment().get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
                default -> Long.MAX_VALUE;
            };
            if (Math.abs(v) > MAX_EXACT) return null;
            f[i] = v;
        }
        return f;
    }

    /**
     * Cast between F32 and the values held as F32: to F32 the value itself; to F16 rounded to half precision; to an
     * integer the value itself from an integer or bool, truncated toward zero from F32 or F16; to BOOL 0 or 1.
     */
    private static Value cast(Compiler plan, Node n) {
        DataType from = dtype(plan, n.input(0)), to = dtype(plan, n.output());
        if (from == DataType.F32 && to == DataType.F32) return null;   // LowerIndex: the value itself
        if (plan.graph.isConstant(n.input(0))) return null;
        boolean fromFloat = from == DataType.F32 || from == DataType.F16;
        if (to == DataType.F16) {   // rounded to half precision (nearest even; beyond its range: infinity), held as that exact F32 value
            return from == DataType.F16 ? plan.in(n, 0) : unary(plan, n, v -> Float.float16ToFloat(Float.floatToFloat16((float) v)), "cast to f16");
        }
        if (from != to && (to == DataType.U8 || to == DataType.I8 || to == DataType.U16 || to == DataType.I16)) {   // truncated, then wrapped
            return unary(plan, n, v -> (float) (fromFloat ? Integers.truncate(to, v) : Integers.narrow(to, (long) v)),
                    "cast to " + to.toString().toLowerCase(java.util.Locale.ROOT));
        }
        if (to == DataType.F32 || from == to || from == DataType.BOOL || to != DataType.BOOL && !fromFloat) {
            return plan.in(n, 0);   // the values held are already those of the target dtype (integers or 0/1 are exact floats)
        }
        if (to == DataType.BOOL) return unary(plan, n, v -> v != 0 ? 1 : 0, "cast to bool");
        // F32 or F16 to an integer: truncated toward zero; NaN and values beyond the type's range (undefined in ONNX) give its
        // most negative integer as x86, torch, numpy and ONNX Runtime do (Integers.truncate; -2^63 and -2^31 are exact floats)
        return unary(plan, n, v -> (float) Integers.truncate(to, v), "cast to " + to.toString().toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * Where with a condition computed at run time (a bool held as 0/1); X and Y activations or constants, F32 or integer
     * values held as exact F32 values (position ids masked where a mask is 0).
     */
    private static Value where(Compiler plan, Node n) {
        long[] y = LowerIndex.out(plan, n, 0);
        int size = Math.toIntExact(LowerIndex.prod(y, 0, y.length));
        DataType t = dtype(plan, n.output());   // F32, or integer and bool values held as exact F32 values (it picks them, exactly)
        if (t == DataType.F16 || t == DataType.BF16 || t == DataType.F64) {
            throw Compiler.unsupported(n, "a Where of " + t + " values at run time is not compiled");
        }
        Operands in = Operands.of(plan, n, 3, y);
        return PlanOutputs.javaStep(plan, in.xs, List.of(y), (src, dst) -> {
            for (int o = 0; o < size; o++) {
                dst[0].setAtIndex(JAVA_FLOAT, o, in.at(src, in.at(src, 0, o) != 0 ? 1 : 2, o));
            }
        }, "java where " + n.name() + " (condition computed at run time)").get(0);
    }

    /** Writes graph output {@code k} ({@code o}, an integer or bool dtype) from {@code v} (held as F32) into the caller's tensor. */
    static void writeOutput(Compiler c, int k, dev.panamadnn.graph.Value o, Value v) {
        long[] shape = o.shape().sizes();
        Value x = PlanOutputs.javaInput(c, c.asShape(v, shape, "output " + o.name()), "output " + o.name());
        long size = LowerIndex.prod(shape, 0, shape.length);
        DataType t = o.dtype();
        if (t == DataType.BF16 || t == DataType.F64) {
            throw new UnsupportedOperationException("CompiledModel: graph output " + o + " is " + t + "; a plan writes F32, F16, integer and BOOL outputs");
        }
        JavaStep.MultiKernel kernel = (src, dst) -> {
            for (long i = 0; i < size; i++) {
                float f = src[0].getAtIndex(JAVA_FLOAT, i);
                switch (t) {
                    case I64 -> dst[0].setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, (long) f);
                    case I32 -> dst[0].setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, (int) f);
                    case F16 -> dst[0].setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(f));   // exact: f is an F16 value
                    case U8, I8 -> dst[0].set(ValueLayout.JAVA_BYTE, i, (byte) f);
                    case U16, I16 -> dst[0].setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) f);
                    case U32 -> dst[0].setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, (int) (long) f);
                    case U64 -> dst[0].setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, (long) f);
                    case BOOL -> dst[0].set(ValueLayout.JAVA_BYTE, i, (byte) (f != 0 ? 1 : 0));
                    default -> throw new IllegalStateException("unreachable: " + t + " refused above");
                }
            }
        };
        c.touch(x.buffer());
        c.steps.add(new PlanStep(null, List.of(), "java " + t + " output " + o.name(), null,
                new JavaStep(kernel, new int[] {x.buffer()}, new long[][] {x.shape()}, new int[] {PlanArg.outputId(k)}, new long[][] {shape})));
    }
}
