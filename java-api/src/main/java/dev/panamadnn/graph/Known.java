package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The values known while a graph's shapes are inferred: its initializers and {@code Constant}
 * outputs (tensors, read lazily) and what the shape-computing ops computed from them
 * ({@link Data}). An I64 vector may be known only symbolically: {@code Shape} of an
 * {@code [N, 3, 4]} value is {@code [N, 3, 4]} with N a symbol, and Gather/Concat/Slice/Mul...
 * carry such elements, so a Reshape reading {@code [N, -1]} still gets an output shape before
 * the batch is bound. Single-threaded (one per inference pass).
 */
final class Known {
    /** Values with more elements are never read or computed here (a shape computation has a handful). */
    static final int MAX_ELEMENTS = 1 << 16;

    /**
     * A known value: integer (I64, I32, I16, I8, U32, U16, U8, BOOL as 0/1: the value itself; U64: its 64 bits, so
     * values from 2^63 are negative longs) elements in {@code ints}, or F32 ones in
     * {@code floats}; for an I64 value, {@code symbols[i]} non-null makes element i the symbolic
     * {@code ints[i] * symbols[i]} (a dim of a symbolic shape). {@code symbols} is null when all are fixed.
     */
    record Data(DataType dtype, long[] shape, long[] ints, float[] floats, String[] symbols) {
        static Data ints(DataType dtype, long[] shape, long[] v) {
            return new Data(dtype, shape, v, null, null);
        }

        boolean isFixed() {
            if (symbols == null) return true;
            for (String s : symbols) if (s != null) return false;
            return true;
        }

        int size() {
            return ints != null ? ints.length : floats.length;
        }

        /** Element i as a double (floats) or a long (ints; a U64 one unsigned); only for fixed data. */
        double real(int i) {
            if (floats != null) return floats[i];
            return dtype == DataType.U64 && ints[i] < 0 ? Math.scalb((double) (ints[i] >>> 1 | ints[i] & 1), 1) : ints[i];
        }

        /** Element i of an I64 vector as a dim, or null if it is negative (e.g. -1 in a reshape target). */
        Dim dim(int i) {
            if (symbols != null && symbols[i] != null) return new Dim(ints[i], symbols[i]);
            return ints[i] >= 0 ? Dim.of(ints[i]) : null;
        }

        /** The value as a tensor of its own (memory freed by the garbage collector). */
        Tensor toTensor() {
            if (!isFixed()) throw new IllegalStateException("a symbolic value has no tensor");
            MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, (long) size() * dtype.byteSize()), 8)
                    .asSlice(0, (long) size() * dtype.byteSize());
            for (int i = 0; i < size(); i++) {
                switch (dtype) {
                    case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, floats[i]);
                    case I64 -> seg.setAtIndex(ValueLayout.JAVA_LONG, i, ints[i]);
                    case I32 -> seg.setAtIndex(ValueLayout.JAVA_INT, i, (int) ints[i]);
                    case BOOL -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) (ints[i] != 0 ? 1 : 0));
                    case U8, I8 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) ints[i]);
                    case U16, I16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) ints[i]);
                    case U32 -> seg.setAtIndex(ValueLayout.JAVA_INT, i, (int) ints[i]);
                    case U64 -> seg.setAtIndex(ValueLayout.JAVA_LONG, i, ints[i]);
                    case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(floats[i]));
                    default -> throw new IllegalStateException("no constant of dtype " + dtype);
                }
            }
            return Tensor.wrap(seg, dtype, shape);
        }

        /** The elements, e.g. {@code [N, -1]} (the first 8). */
        String elements() {
            return toString().substring(toString().indexOf(" [") + 1);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(dtype + Arrays.toString(shape) + " [");
            for (int i = 0; i < Math.min(size(), 8); i++) {
                sb.append(i == 0 ? "" : ", ");
                if (floats != null) sb.append(floats[i]);
                else if (symbols != null && symbols[i] != null) sb.append(dim(i));
                else sb.append(ints[i]);
            }
            return sb.append(size() > 8 ? ", ...]" : "]").toString();
        }
    }

    private final Map<String, Tensor> tensors;
    private final Map<String, Data> computed = new HashMap<>();

    /** Over {@code tensors} (initializers and Constant outputs), shared: later Constant outputs are added to it. */
    Known(Map<String, Tensor> tensors) {
        this.tensors = tensors;
    }

    Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The computed values (symbolic or fixed), by name. */
    Map<String, Data> computed() {
        return computed;
    }

    void put(String name, Data d) {
        computed.put(name, d);
    }

    /** The known value of {@code v} (null if unknown, too large, or of a dtype not read here). */
    Data get(Value v) {
        if (v == null) return null;
        Data d = computed.get(v.name());
        if (d != null) return d;
        Tensor t = tensors.get(v.name());
        if (t == null || !t.isAlive() || !t.isContiguous() || t.numel() > MAX_ELEMENTS) return null;
        int n = (int) t.numel();
        MemorySegment s = t.segment();
        return switch (t.dtype()) {
            case F32 -> {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) f[i] = s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                yield new Data(DataType.F32, t.shape(), null, f, null);
            }
            case I64, I32, BOOL, U8, I8, I16, U16, U32, U64 -> {
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = switch (t.dtype()) {
                        case I64, U64 -> s.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                        case I32 -> s.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                        case U32 -> s.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i) & 0xffffffffL;
                        case I16 -> s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i);
                        case U16 -> s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) & 0xffff;
                        case U8 -> s.get(ValueLayout.JAVA_BYTE, i) & 0xff;
                        case I8 -> s.get(ValueLayout.JAVA_BYTE, i);
                        default -> s.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
                    };
                }
                yield Data.ints(t.dtype(), t.shape(), l);
            }
            default -> null;
        };
    }

    /** The fixed integer values of {@code v} (a 1-D or scalar I64/I32 value), or a GraphException naming {@code what}. */
    long[] longs(Value v, String what) {
        Data d = get(v);
        if (d == null || d.ints() == null) {
            throw new GraphException(what + " '" + v.name() + "' must be known when shapes are inferred (a constant, or computed from "
                    + "constants and fixed dims), got " + v);
        }
        if (!d.isFixed()) throw new GraphException(what + " '" + v.name() + "' is symbolic (" + d + "): bind the graph's symbols first");
        if (d.shape().length > 1) throw new GraphException(what + " must be 1-D, got " + v);
        return d.ints().clone();
    }
}
