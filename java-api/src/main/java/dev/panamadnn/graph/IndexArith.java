package dev.panamadnn.graph;

import static dev.panamadnn.internal.Integers.narrow;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.IndexShapes.Out;
import dev.panamadnn.graph.Known.Data;
import java.util.ArrayList;
import java.util.List;

/**
 * The element-wise and value-making rules of the shape computations (ONNX semantics, NumPy
 * broadcasting): Equal/Less/Greater (BOOL out), Where, Not, Add/Sub/Mul/Div on integers, Reshape
 * of an integer vector, Transpose, Cast, ConstantOfShape, Range; values computed when known, symbolic elements ({@code N}) kept where the result
 * holds for every value of the symbol ({@code N * 2}, {@code N == -1} is false), unknown otherwise.
 */
final class IndexArith {
    private IndexArith() {}

    /** The integer dtypes whose known values are computed here (held as longs: {@link Known.Data}). */
    static final java.util.Set<DataType> INTEGERS = java.util.EnumSet.of(DataType.I64, DataType.I32, DataType.I16, DataType.I8,
            DataType.U64, DataType.U32, DataType.U16, DataType.U8);

    /** Equal/Less/Greater (BOOL out), Add/Sub/Mul/Div/Mod/Max/Min on integers, Where, Not, And/Or/Xor (BOOL): broadcast, values when known. */
    static List<Out> elementwise(Node n, List<Value> in, Known k) {
        String op = n.op();
        boolean compare = op.equals("Equal") || op.equals("Less") || op.equals("Greater");
        int first = op.equals("Where") ? 1 : 0;
        if (op.equals("Where")) IndexShapes.require(in.get(0), "condition", DataType.BOOL);
        boolean logic = op.equals("And") || op.equals("Or") || op.equals("Xor");
        if (op.equals("Not") || logic) IndexShapes.require(in.get(0), "A", DataType.BOOL);
        DataType t = in.get(first).dtype();
        if ((op.equals("Max") || op.equals("Min")) && in.size() == 1) return IndexShapes.one(t, in.get(0).shape(), k.get(in.get(0)));
        boolean picks = op.equals("Max") || op.equals("Min");   // exact in any wider type: the result is one of the inputs
        if (t == DataType.F16 && !picks || t == DataType.BF16) throw new GraphException(op + " of " + t + " values is not supported (a Cast to F32 first is)");
        for (int i = first; i < in.size(); i++) {
            if (in.get(i).dtype() != t) throw new GraphException("input " + i + " " + in.get(i) + " must be " + t + " as input " + first);
        }
        Shape s = in.get(0).shape();
        for (int i = 1; i < in.size(); i++) s = TensorShapes.broadcast(s, in.get(i).shape());
        DataType outType = compare || op.equals("Not") ? DataType.BOOL : t;
        List<Data> vals = new ArrayList<>();
        for (Value v : in) vals.add(k.get(v));
        if (vals.contains(null) || !s.isFixed() || IndexShapes.numel(s.sizes()) > Known.MAX_ELEMENTS) return IndexShapes.one(outType, s, null);
        long[] os = s.sizes();
        List<int[]> idx = new ArrayList<>();
        for (Value v : in) idx.add(IndexShapes.broadcastIndex(v.shape().sizes(), os));
        int size = (int) IndexShapes.numel(os);
        long[] ints = outType == DataType.F32 ? null : new long[size];
        float[] floats = outType == DataType.F32 ? new float[size] : null;
        String[] sym = new String[size];
        for (int o = 0; o < size; o++) {
            if (floats != null && !op.equals("Where")) return IndexShapes.one(outType, s, null);   // float arithmetic: foldFloats, from the math ops' own rule
            Data a = vals.get(0);
            int ia = idx.get(0)[o];
            if (op.equals("Where")) {
                boolean c = a.ints()[ia] != 0;
                Data from = vals.get(c ? 1 : 2);
                int j = idx.get(c ? 1 : 2)[o];
                if (ints != null) ints[o] = from.ints()[j];
                else floats[o] = from.floats()[j];
                sym[o] = from.symbols() == null ? null : from.symbols()[j];
                continue;
            }
            if (op.equals("Not")) {
                ints[o] = a.ints()[ia] == 0 ? 1 : 0;
                continue;
            }
            Data b = vals.get(1);
            int ib = idx.get(1)[o];
            if (op.equals("Mod")) {   // integers only (float Mod is not folded: floats returned unknown above)
                if (a.symbols() != null && a.symbols()[ia] != null || b.symbols() != null && b.symbols()[ib] != null) {
                    return IndexShapes.one(outType, s, null);
                }
                long x = a.ints()[ia], y = b.ints()[ib];
                if (y == 0) throw new GraphException("integer Mod by zero");
                long r = t == DataType.U64 ? Long.remainderUnsigned(x, y)   // unsigned: no sign to take (x, y from 2^63 are negative longs)
                        : n.attributes().integer("fmod", 0) != 0 ? x % y : Math.floorMod(x, y);   // fmod: the dividend's sign; else the divisor's
                ints[o] = narrow(t, r);
                continue;
            }
            if (logic) {
                boolean x = a.ints()[ia] != 0, y = b.ints()[ib] != 0;
                ints[o] = (op.equals("And") ? x && y : op.equals("Or") ? x || y : x ^ y) ? 1 : 0;
                continue;
            }
            String sa = a.symbols() == null ? null : a.symbols()[ia], sb = b.symbols() == null ? null : b.symbols()[ib];
            long[] r = compare ? compare(op, a, ia, sa, b, ib, sb) : arith(op, t, a.ints()[ia], sa, b.ints()[ib], sb);
            if (r == null) return IndexShapes.one(outType, s, null);   // not decidable for every value of a symbol
            ints[o] = compare ? r[0] : narrow(t, r[0]);
            sym[o] = r.length > 1 ? (r[1] == 0 ? sa : sb) : null;
        }
        return IndexShapes.one(outType, s, new Data(outType, os, ints, floats, sym));
    }

    /**
     * Add, Sub, Mul and Div of F32 values and Relu of one, where every operand is known when shapes are inferred (at most
     * {@link Known#MAX_ELEMENTS} results): the value, in float arithmetic as the plan's kernels compute it (IEEE binary32,
     * each result rounded to nearest: infinities and NaN as they give them); null otherwise. ONNX's expansion of a Range
     * divides the span by the step in F32 and takes the Ceil and Relu of the quotient as a Loop's trip count, which is
     * known when importing only if these are. Relu of NaN is NaN and of a negative value +0, as PyTorch's.
     */
    static Data foldFloats(Node n, List<Value> in, Known k, Shape out) {
        String op = n.op();
        boolean relu = op.equals("Relu");
        if (!relu && !op.equals("Add") && !op.equals("Sub") && !op.equals("Mul") && !op.equals("Div")) return null;
        if (!out.isFixed() || IndexShapes.numel(out.sizes()) > Known.MAX_ELEMENTS) return null;
        int operands = relu ? 1 : 2;
        Data[] d = new Data[operands];
        for (int i = 0; i < operands; i++) {
            if (in.get(i) == null || in.get(i).dtype() != DataType.F32 || !in.get(i).shape().isFixed()) return null;
            d[i] = k.get(in.get(i));
            if (d[i] == null || d[i].floats() == null) return null;
        }
        long[] os = out.sizes();
        int size = (int) IndexShapes.numel(os);
        float[] f = new float[size];
        if (relu) {
            for (int i = 0; i < size; i++) {
                float x = d[0].floats()[i];
                f[i] = x > 0 || Float.isNaN(x) ? x : 0f;
            }
        } else {
            int[] ia = IndexShapes.broadcastIndex(in.get(0).shape().sizes(), os), ib = IndexShapes.broadcastIndex(in.get(1).shape().sizes(), os);
            for (int o = 0; o < size; o++) {
                float x = d[0].floats()[ia[o]], y = d[1].floats()[ib[o]];
                f[o] = switch (op) {
                    case "Add" -> x + y;
                    case "Sub" -> x - y;
                    case "Mul" -> x * y;
                    default -> x / y;
                };
            }
        }
        return new Data(DataType.F32, os, null, f, null);
    }

    /**
     * Floor, Ceil and Round (half to even, as ONNX) of F32 values: the input's shape; the values when known, so that a
     * size an exporter computes as {@code floor(size * scale)} of constants (torch's interpolate with
     * recompute_scale_factor) is known when shapes are inferred. Other values are the math ops' at run time.
     */
    static List<Out> roundFloats(Node n, List<Value> in, Known k) {
        IndexShapes.require(in.get(0), "X", DataType.F32);
        Shape s = in.get(0).shape();
        Data a = k.get(in.get(0));
        if (a == null || a.floats() == null) return IndexShapes.one(DataType.F32, s, null);
        float[] f = new float[a.floats().length];
        for (int i = 0; i < f.length; i++) {
            double v = a.floats()[i];
            f[i] = (float) switch (n.op()) {
                case "Floor" -> Math.floor(v);
                case "Ceil" -> Math.ceil(v);
                default -> Math.rint(v);   // Round: half to even
            };
        }
        return IndexShapes.one(DataType.F32, s, new Data(DataType.F32, a.shape(), null, f, null));
    }

    /**
     * Abs, Neg and Sign of integer values (a relative position's distance, as T5's position buckets compute it): the
     * input's dtype and shape; the values when known (wrapping as the dtype does: Abs and Neg of the most negative value
     * are that value, as numpy's; an unsigned value is its own Abs, its Neg wraps, its Sign is 0 or 1). A symbolic value
     * (a dim of the batch) leaves the result unknown; computed at run time by the plan (LowerCarried).
     */
    static List<Out> unaryInteger(Node n, List<Value> in, Known k) {
        DataType t = in.get(0).dtype();
        if (!INTEGERS.contains(t)) throw new GraphException(n.op() + " of " + t + " values is not supported (F32 or an integer type)");
        Shape s = in.get(0).shape();
        Data a = k.get(in.get(0));
        if (a == null || a.symbols() != null && java.util.Arrays.stream(a.symbols()).anyMatch(java.util.Objects::nonNull)) {
            return IndexShapes.one(t, s, null);
        }
        boolean unsigned = t == DataType.U64 || t == DataType.U32 || t == DataType.U16 || t == DataType.U8;
        long[] ints = new long[a.ints().length];
        for (int i = 0; i < ints.length; i++) {
            long v = a.ints()[i];
            ints[i] = narrow(t, switch (n.op()) {
                case "Abs" -> unsigned ? v : Math.abs(v);
                case "Neg" -> -v;
                default -> unsigned ? (v != 0 ? 1 : 0) : Long.signum(v);   // Sign
            });
        }
        return IndexShapes.one(t, s, new Data(t, a.shape(), ints, null, null));
    }

    /**
     * Pow's types (ONNX 12+): the base F32, I32 or I64 gives the result's dtype, the exponent F32 or any integer type. The
     * result of an integer base is computed here when both operands are known (exactly: integer exponents by repeated
     * multiplication, wrapping as the dtype does; a float exponent through {@code Math.pow}, truncated toward zero, as
     * ONNX's reference casts); a float result is the math ops' (not folded here).
     */
    static List<Out> pow(Node n, List<Value> in, Known k) {
        DataType t = in.get(0).dtype(), e = in.get(1).dtype();
        if (t != DataType.F32 && t != DataType.I32 && t != DataType.I64) {
            throw new GraphException("input 0 " + in.get(0) + " must be F32, I32 or I64, got " + t);
        }
        if (e != DataType.F32 && !INTEGERS.contains(e)) {
            throw new GraphException("input 1 " + in.get(1) + " must be F32 or an integer type " + INTEGERS + ", got " + e);
        }
        Shape s = TensorShapes.broadcast(in.get(0).shape(), in.get(1).shape());
        Data a = k.get(in.get(0)), b = k.get(in.get(1));
        if (t == DataType.F32 || a == null || b == null || !a.isFixed() || !b.isFixed() || !s.isFixed()
                || IndexShapes.numel(s.sizes()) > Known.MAX_ELEMENTS) {
            return IndexShapes.one(t, s, null);
        }
        long[] os = s.sizes();
        int[] ia = IndexShapes.broadcastIndex(in.get(0).shape().sizes(), os), ib = IndexShapes.broadcastIndex(in.get(1).shape().sizes(), os);
        long[] ints = new long[ia.length];
        for (int o = 0; o < ints.length; o++) {
            long x = a.ints()[ia[o]];
            long r;
            if (e == DataType.F32) {
                r = (long) Math.pow(x, b.floats()[ib[o]]);
            } else {
                long y = b.ints()[ib[o]];
                if (y < 0 && e != DataType.U64) {
                    r = (long) Math.pow(x, y);   // 1, -1 or 0 (and x = 0: infinite, saturating as the cast does)
                } else {   // y's bits as an unsigned count (a U64 exponent from 2^63 is a negative long)
                    r = 1;
                    for (long m = x, q = y; q != 0; q >>>= 1, m *= m) if ((q & 1) != 0) r *= m;
                }
            }
            ints[o] = narrow(t, r);
        }
        return IndexShapes.one(t, s, new Data(t, os, ints, null, null));
    }

    /**
     * Equal/Less/Greater of two elements, {0} or {1}; a symbolic element ({@code f*N}, N >= 1) is known to
     * be above any fixed value {@code <= 0} and equal to the same multiple of the same symbol; null otherwise.
     */
    private static long[] compare(String op, Data a, int ia, String sa, Data b, int ib, String sb) {
        int c;
        if (sa == null && sb == null) {
            boolean ints = a.ints() != null && b.ints() != null;
            c = !ints ? Double.compare(a.real(ia), b.real(ib))
                    : a.dtype() == DataType.U64 ? Long.compareUnsigned(a.ints()[ia], b.ints()[ib]) : Long.compare(a.ints()[ia], b.ints()[ib]);
            if (!ints && a.real(ia) == b.real(ib)) c = 0;   // -0.0 == 0.0
        } else if (sa != null && sb != null) {
            if (!sa.equals(sb) || a.ints()[ia] != b.ints()[ib]) return null;
            c = 0;
        } else if (sa != null) {
            if (b.ints()[ib] > 0) return null;
            c = 1;
        } else {
            if (a.ints()[ia] > 0) return null;
            c = -1;
        }
        boolean r = switch (op) {
            case "Equal" -> c == 0;
            case "Less" -> c < 0;
            default -> c > 0;
        };
        return new long[] {r ? 1 : 0};
    }

    /**
     * Integer Add/Sub/Mul/Div of two elements (exact, Div truncating as ONNX does): {value} when fixed, or
     * {factor, 0 or 1} for a multiple of the symbol of operand a (0) or b (1): {@code N * 2}, {@code 2N / 2},
     * {@code N + 0}; null where the result is not a multiple of one symbol.
     */
    /**
     * Clip of an integer tensor (opset 12+: min and max are optional inputs of the same type): the result when every
     * operand is known (values a model binds, e.g. an I8 input given to {@code OnnxModel.run}), else unknown (a plan
     * computes on F32 values only, so such a Clip at run time is refused when compiling).
     */
    static List<Out> clip(Node n, List<Value> in, Known k) {
        DataType t = in.get(0).dtype();
        for (int i = 1; i < in.size(); i++) {
            if (in.get(i) != null && in.get(i).dtype() != t) throw new GraphException("input " + i + " " + in.get(i) + " must be " + t + " as input 0");
            if (in.get(i) != null && in.get(i).shape().rank() != 0) throw new GraphException("input " + i + " " + in.get(i) + " must be a scalar");
        }
        Shape s = in.get(0).shape();
        Data x = k.get(in.get(0));
        Data lo = in.size() > 1 && in.get(1) != null ? k.get(in.get(1)) : null, hi = in.size() > 2 && in.get(2) != null ? k.get(in.get(2)) : null;
        boolean known = x != null && x.isFixed() && (lo != null || in.size() < 2 || in.get(1) == null) && (hi != null || in.size() < 3 || in.get(2) == null);
        if (!known) return IndexShapes.one(t, s, null);
        boolean unsigned = t == DataType.U64;   // compared as unsigned 64-bit values (from 2^63 held as negative longs)
        long min = lo != null ? lo.ints()[0] : unsigned ? 0 : Long.MIN_VALUE, max = hi != null ? hi.ints()[0] : unsigned ? -1 : Long.MAX_VALUE;
        long[] ints = new long[x.size()];
        for (int i = 0; i < ints.length; i++) {   // numpy.clip: min first, then max
            long v = x.ints()[i];
            if (unsigned ? Long.compareUnsigned(v, min) < 0 : v < min) v = min;
            if (unsigned ? Long.compareUnsigned(v, max) > 0 : v > max) v = max;
            ints[i] = v;
        }
        return IndexShapes.one(t, s, new Data(t, s.sizes(), ints, null, null));
    }

    private static long[] arith(String op, DataType t, long x, String sa, long y, String sb) {
        if (sa == null && sb == null) {
            if (op.equals("Div") && y == 0) throw new GraphException("integer division by zero");
            // I64 (shape arithmetic) is exact: an overflow is an error. The other types wrap: the low bits of a long's
            // result are those of the type's, narrow() keeps them; U64 compares and divides unsigned.
            boolean exact = t == DataType.I64, unsigned = t == DataType.U64;
            return new long[] {switch (op) {
                case "Add" -> exact ? Math.addExact(x, y) : x + y;
                case "Sub" -> exact ? Math.subtractExact(x, y) : x - y;
                case "Mul" -> exact ? Math.multiplyExact(x, y) : x * y;
                case "Max" -> (unsigned ? Long.compareUnsigned(x, y) : Long.compare(x, y)) >= 0 ? x : y;
                case "Min" -> (unsigned ? Long.compareUnsigned(x, y) : Long.compare(x, y)) <= 0 ? x : y;
                default -> unsigned ? Long.divideUnsigned(x, y) : x / y;
            }};
        }
        if (op.equals("Mul") && (sa == null || sb == null)) {
            long f = Math.multiplyExact(x, y);
            return f < 1 ? null : new long[] {f, sa == null ? 1 : 0};
        }
        if (op.equals("Div") && sb == null && y > 0 && x % y == 0) return new long[] {x / y, 0};
        if (op.equals("Add") && sa == null && x == 0) return new long[] {y, 1};
        if ((op.equals("Add") || op.equals("Sub")) && sb == null && y == 0) return new long[] {x, 0};
        return null;
    }

    /**
     * ReduceSum/ReduceProd/ReduceMax/ReduceMin of an integer tensor (torch's {@code var} and {@code std} export the
     * count they divide by as {@code ReduceProd} of a {@code Shape}'s dims): the shape as for F32, the values computed
     * when known. I64 is exact (an overflow is an error, as in shape arithmetic); the other types wrap as they do. An
     * empty reduction gives the identity (0, 1) or, for Max/Min, the type's least/greatest value. Unknown values (an
     * integer tensor computed at run time) are refused by the plan, which computes on F32.
     */
    static List<Out> reduce(Node n, List<Value> in, Known k) {
        DataType t = in.get(0).dtype();
        if (!INTEGERS.contains(t) || n.op().equals("ReduceMean")) {
            throw new GraphException(n.op() + " of " + t + " values is not supported (" + (INTEGERS.contains(t)
                    ? "an integer mean rounds; a Cast to F32 first is supported)" : "a Cast to F32 first is)"));
        }
        Shape s = MathShapes.reduce(n, in, k);
        Data d = k.get(in.get(0));
        Shape from = in.get(0).shape();
        if (d == null || !d.isFixed() || !from.isFixed() || !s.isFixed()) return IndexShapes.one(t, s, null);
        long[] x = from.sizes();
        int[] axes = MathShapes.reduceAxes(n, in, k);
        boolean[] reduced = new boolean[x.length];
        for (int a : axes) reduced[a] = true;
        int size = (int) IndexShapes.numel(s.sizes());
        boolean exact = t == DataType.I64, unsigned = t == DataType.U64 || t == DataType.U32 || t == DataType.U16 || t == DataType.U8;
        long identity = switch (n.op()) {
            case "ReduceSum" -> 0;
            case "ReduceProd" -> 1;
            case "ReduceMax" -> unsigned ? 0 : minOf(t);
            default -> unsigned ? narrow(t, -1) : maxOf(t);
        };
        long[] out = new long[size];
        java.util.Arrays.fill(out, identity);
        long[] at = new long[x.length];
        for (int i = 0; i < d.size(); i++) {   // input element i (row-major) into output element o: the kept dims' index
            long o = 0;
            for (int j = 0; j < x.length; j++) if (!reduced[j]) o = o * x[j] + at[j];
            long v = d.ints()[i], acc = out[(int) o];
            out[(int) o] = switch (n.op()) {
                case "ReduceSum" -> exact ? Math.addExact(acc, v) : narrow(t, acc + v);
                case "ReduceProd" -> exact ? Math.multiplyExact(acc, v) : narrow(t, acc * v);
                case "ReduceMax" -> (unsigned ? Long.compareUnsigned(v, acc) : Long.compare(v, acc)) > 0 ? v : acc;
                default -> (unsigned ? Long.compareUnsigned(v, acc) : Long.compare(v, acc)) < 0 ? v : acc;
            };
            for (int j = x.length - 1; j >= 0 && ++at[j] == x[j]; j--) at[j] = 0;
        }
        return IndexShapes.one(t, s, new Data(t, s.sizes(), out, null, null));
    }

    /** The least value of a signed integer type. */
    private static long minOf(DataType t) {
        return -(1L << (8 * t.byteSize() - 1));
    }

    /** The greatest value of a signed integer type. */
    private static long maxOf(DataType t) {
        return (1L << (8 * t.byteSize() - 1)) - 1;
    }

    /** Reshape of an integer value (a shape vector): the shape as {@link TensorShapes#reshape}, the value kept. */
    static List<Out> reshape(Node n, List<Value> in, Known k) {
        IndexShapes.require(in.get(1), "shape", DataType.I64);
        Shape s = TensorShapes.reshape(in.get(0), in.get(1), k, n.attributes().integer("allowzero", 0) != 0);
        return IndexShapes.one(in.get(0).dtype(), s, s.isFixed() ? IndexShapes.reshaped(k.get(in.get(0)), s.sizes()) : null);
    }

    /**
     * Transpose of an integer or bool tensor (torch's F.pad export permutes its [rank, 2] pads table): the shape as for
     * F32, the values permuted when known.
     */
    static List<Out> transpose(Node n, List<Value> in, Known k) {
        Shape from = in.get(0).shape(), s = TensorShapes.transpose(n, from);
        Data d = k.get(in.get(0));
        if (d == null || !from.isFixed()) return IndexShapes.one(in.get(0).dtype(), s, null);
        long[] x = from.sizes(), y = s.sizes();
        int r = x.length;
        long[] perm = n.attributes().integers("perm", null);
        if (perm == null) {
            perm = new long[r];
            for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        }
        long[] inStride = new long[r];
        for (int i = r - 1, st = 1; i >= 0; i--) {
            inStride[i] = st;
            st *= (int) x[i];
        }
        int size = d.size();
        long[] ints = d.ints() == null ? null : new long[size];
        float[] floats = d.floats() == null ? null : new float[size];
        String[] symbols = d.symbols() == null ? null : new String[size];
        long[] at = new long[r];
        for (int o = 0; o < size; o++) {   // output element o at multi-index at (row-major over y) reads input index sum at[i] * inStride[perm[i]]
            int from0 = 0;
            for (int i = 0; i < r; i++) from0 += (int) (at[i] * inStride[(int) perm[i]]);
            if (ints != null) ints[o] = d.ints()[from0];
            if (floats != null) floats[o] = d.floats()[from0];
            if (symbols != null) symbols[o] = d.symbols()[from0];
            for (int i = r - 1; i >= 0; i--) {
                if (++at[i] < y[i]) break;
                at[i] = 0;
            }
        }
        return IndexShapes.one(in.get(0).dtype(), s, new Data(d.dtype(), y, ints, floats, symbols));
    }

    /**
     * ScatterND (reduction none, add or mul): the data's dtype and shape. {@code updates} must have the shape
     * {@code indices.shape[:-1] + data.shape[depth:]} (checked when both are fixed). Its values are not computed
     * here: compile.FoldConstants folds it when all three inputs are constants (torch's Swin export builds its
     * shifted-window mask so), and a plan runs it as a step with constant indices otherwise.
     */
    static List<Out> scatterNd(Node n, List<Value> in, Known k) {
        String reduction = n.attributes().string("reduction", "none");
        if (!List.of("none", "add", "mul").contains(reduction)) {
            throw new GraphException("reduction '" + reduction + "' is not supported (none, add, mul: ScatterND-16)");
        }
        Value data = in.get(0), indices = in.get(1), updates = in.get(2);
        IndexShapes.require(indices, "indices", DataType.I64);
        if (updates.dtype() != data.dtype()) throw new GraphException("updates " + updates + " must be " + data.dtype() + " as data");
        if (data.shape().isFixed() && indices.shape().isFixed() && updates.shape().isFixed()) {
            long[] ds = data.shape().sizes(), is = indices.shape().sizes();
            if (is.length < 1) throw new GraphException("indices " + indices + " must have rank >= 1");
            int depth = (int) is[is.length - 1];
            if (depth < 1 || depth > ds.length) {
                throw new GraphException("indices' last dim " + depth + " must be in [1, " + ds.length + "] (the data's rank)");
            }
            long[] want = new long[is.length - 1 + ds.length - depth];
            System.arraycopy(is, 0, want, 0, is.length - 1);
            System.arraycopy(ds, depth, want, is.length - 1, ds.length - depth);
            if (!java.util.Arrays.equals(want, updates.shape().sizes())) {
                throw new GraphException("updates " + updates + " must have shape " + java.util.Arrays.toString(want) + " (indices' leading dims, "
                        + "then the data's dims after the index depth " + depth + ")");
            }
        }
        return IndexShapes.one(data.dtype(), data.shape(), null);
    }

    static List<Out> cast(Node n, List<Value> in, Known k) {
        DataType to = IndexShapes.fromOnnx(n.attributes().integer("to"));
        Data d = k.get(in.get(0));
        Data v = null;
        if (d != null && (d.isFixed() || to == DataType.I64)) {
            int size = d.size();
            if (to == DataType.F32 || to == DataType.F16) {   // F16: rounded to half precision, held as that exact float
                float[] f = new float[size];
                for (int i = 0; i < size; i++) f[i] = to == DataType.F16 ? Float.float16ToFloat(Float.floatToFloat16((float) d.real(i))) : (float) d.real(i);
                v = new Data(to, d.shape(), null, f, null);
            } else {
                long[] l = new long[size];
                for (int i = 0; i < size; i++) {
                    // a float truncated toward zero as x86 does (NaN and out-of-range: the most negative integer), then wrapped
                    l[i] = to == DataType.BOOL ? (d.real(i) != 0 ? 1 : 0)
                            : d.floats() != null ? dev.panamadnn.internal.Integers.truncate(to, d.floats()[i]) : narrow(to, d.ints()[i]);
                }
                v = new Data(to, d.shape(), l, null, to == DataType.I64 ? d.symbols() : null);
            }
        }
        return IndexShapes.one(to, in.get(0).shape(), v);
    }

    static List<Out> constantOfShape(Node n, List<Value> in, Known k) {
        IndexShapes.require(in.get(0), "input", DataType.I64);
        Data d = k.get(in.get(0));
        if (d == null) throw new GraphException("the shape '" + in.get(0).name() + "' must be known when shapes are inferred, got " + in.get(0));
        List<Dim> dims = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            Dim dim = d.dim(i);
            if (dim == null) throw new GraphException("shape " + d + " has a negative size");
            dims.add(dim);
        }
        Shape s = new Shape(dims);
        Tensor value = n.attributes().has("value") ? n.attributes().tensor("value") : null;
        DataType t = value == null ? DataType.F32 : value.dtype();
        Data fill = value == null ? new Data(DataType.F32, new long[] {1}, null, new float[1], null) : new Known(java.util.Map.of("v", value))
                .get(new Value("v", value.dtype(), Shape.of(value.shape())));
        if (fill == null || fill.size() != 1) throw new GraphException("value must be a one-element F32, I64, I32 or BOOL tensor");
        if (!s.isFixed() || IndexShapes.numel(s.sizes()) > Known.MAX_ELEMENTS) return IndexShapes.one(t, s, null);
        return IndexShapes.one(t, s, IndexShapes.pick(fill, t, s.sizes(), new int[(int) IndexShapes.numel(s.sizes())]));
    }

    static List<Out> range(Node n, List<Value> in, Known k) {
        DataType t = in.get(0).dtype();
        for (int i = 0; i < 3; i++) {
            if (in.get(i).dtype() != t) throw new GraphException("input " + i + " " + in.get(i) + " must be " + t + " as start");
            if (in.get(i).shape().rank() != 0) throw new GraphException("input " + i + " " + in.get(i) + " must be a scalar");
        }
        Data s = k.get(in.get(0)), l = k.get(in.get(1)), dl = k.get(in.get(2));
        if (s == null || l == null || dl == null || !s.isFixed() || !l.isFixed() || !dl.isFixed()) {
            throw new GraphException("start, limit and delta must be known when shapes are inferred (Range has a data-dependent size)");
        }
        double start = s.real(0), delta = dl.real(0);
        if (delta == 0) throw new GraphException("delta must not be 0");
        long count = (long) Math.max(0, Math.ceil((l.real(0) - start) / delta));
        if (count > Known.MAX_ELEMENTS) throw new GraphException("Range of " + count + " elements is too long (at most " + Known.MAX_ELEMENTS + ")");
        Data v;
        if (t == DataType.F32) {
            float[] f = new float[(int) count];
            for (int i = 0; i < count; i++) f[i] = (float) (start + i * delta);
            v = new Data(t, new long[] {count}, null, f, null);
        } else {
            long[] x = new long[(int) count];
            for (int i = 0; i < count; i++) x[i] = s.ints()[0] + i * dl.ints()[0];
            v = Data.ints(t, new long[] {count}, x);
        }
        return IndexShapes.one(t, Shape.of(count), v);
    }
}
