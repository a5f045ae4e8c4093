package dev.panamadnn.onnx;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.graph.Value;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link OnnxModel#run} for a model that cannot be compiled while its integer inputs are run-time
 * values: a Reshape's target shape, a Slice's starts, an Unsqueeze's axes, a Gather's indices fed
 * as graph inputs (as ONNX's backend suite feeds them). Each run binds every I64/U64/I32/U32/BOOL graph input (and every
 * U8/I8/U16/I16 one an op other than a Cast reads)
 * as a constant from the call's values (copied), imports and compiles the model for those values
 * and the call's input shapes, and keeps that plan for the next call with the same values and
 * shapes (the {@value #MAX_BINDINGS} most recently used are kept; TensorRT treats shape tensors
 * alike). Float inputs stay inputs, except scalars (rank 0) and those read only as a Resize's
 * roi/scales or an Upsample's scales, which fix the output shape as sizes do: those are bound too. Runs are serialized (this path is for one-off calls; a hot
 * path compiles a model whose shapes and axes are constants). Closed by its {@link OnnxModel}.
 */
final class BoundInputs implements AutoCloseable {
    static final int MAX_BINDINGS = 16;

    private record Binding(Arena arena, Importer.Result imported, CompiledModel plan) {}

    private final ModelProto proto;
    /** The initializers' raw_data that {@link Detached} moved out of {@link #proto} (by index), or null. */
    private final MemorySegment[] raw;
    private final Path baseDir;
    private final String source;
    private final List<Value> inputs;
    private final Set<String> bindable;   // the inputs bound: integer and bool ones, and floats that fix a shape (scaleInputs)
    private final LinkedHashMap<String, Binding> plans = new LinkedHashMap<>(16, 0.75f, true);   // by values and shapes, LRU

    BoundInputs(Detached model, Path baseDir, String source, List<Value> inputs) {
        this.proto = model.proto();
        this.raw = model.raw();
        this.baseDir = baseDir;
        this.source = source;
        this.inputs = inputs;
        this.bindable = bindable(proto, inputs);
    }

    /** The dtypes of inputs always bound; those of {@link #CONVERTED} only where an op other than a Cast reads them. */
    private static final Set<DataType> BOUND = java.util.EnumSet.of(DataType.I64, DataType.U64, DataType.I32, DataType.U32, DataType.BOOL),
            CONVERTED = java.util.EnumSet.of(DataType.U8, DataType.I8, DataType.U16, DataType.I16);

    /** Whether {@code inputs} (of {@code proto}) has an input this path would bind. */
    static boolean applies(ModelProto proto, List<Value> inputs) {
        return !bindable(proto, inputs).isEmpty();
    }

    /**
     * The inputs bound per call: every I64/U64/I32/U32/BOOL one (plans compute on F32 only, which holds these inexactly
     * beyond 2^24), every U8/I8/U16/I16 one that an op other than a Cast reads (a plan converts such inputs to their exact
     * F32 values, which only Cast and the comparisons read: a uint8 image cast to float stays an input of its plan, uint8
     * arithmetic is computed from bound values), every F32
     * scalar (rank 0: a Clip bound, an exponent, a pad value; plans take no rank-0 input), and every F32 one read only
     * as a Resize's roi or scales or an Upsample's scales (they fix the output shape, as sizes do).
     */
    static Set<String> bindable(ModelProto proto, List<Value> inputs) {
        Set<String> scales = new HashSet<>(), other = new HashSet<>(), notCast = new HashSet<>();
        for (NodeProto n : proto.getGraph().getNodeList()) {
            for (int i = 0; i < n.getInputCount(); i++) {
                boolean scale = n.getOpType().equals("Resize") && (i == 1 || i == 2) || n.getOpType().equals("Upsample") && i == 1;
                (scale ? scales : other).add(n.getInput(i));
                if (!n.getOpType().equals("Cast")) notCast.add(n.getInput(i));
            }
        }
        for (ValueInfoProto o : proto.getGraph().getOutputList()) other.add(o.getName());
        Set<String> out = new HashSet<>();
        for (Value v : inputs) {
            boolean integer = BOUND.contains(v.dtype()) || CONVERTED.contains(v.dtype()) && notCast.contains(v.name());
            boolean scalar = v.dtype() == DataType.F32 && v.shape().rank() == 0;   // a bound, an exponent, a ratio: plans take no rank-0 input
            if (integer || scalar || v.dtype() == DataType.F32 && scales.contains(v.name()) && !other.contains(v.name())) out.add(v.name());
        }
        return out;
    }

    /**
     * Runs on {@code given} (checked by the caller against the declared inputs); returns outputs by ONNX name. First
     * with only the inputs' shapes bound (the call's dims in place of the symbols, every input still an input of the
     * plan: one plan per shape, whatever the values, as for a text model whose batch and sequence length are both
     * dynamic), else with the bindable inputs' values bound as well.
     */
    synchronized Map<String, Tensor> run(Map<String, Tensor> given) {
        String shapes = shapeKey(given);
        Binding b = plans.get(shapes);
        if (b == null && !shapesRefused.contains(shapes)) {
            try {
                b = remember(shapes, bindShapes(given));
            } catch (OnnxException e) {   // shapes alone do not make it compile: bind values too
                if (bindable.isEmpty()) throw e;   // (no values to bind: an empty float input, say)
                if (shapesRefused.size() >= 4 * MAX_BINDINGS) shapesRefused.clear();
                shapesRefused.add(shapes);
            }
        }
        if (b == null) {
            String key = key(given);
            b = plans.get(key);
            if (b == null) b = remember(key, bind(given));
        }
        if (b.plan() == null) return knownOutputs(b.imported());
        Map<String, Tensor> feed = new HashMap<>();
        for (Value v : b.imported().inputs()) feed.put(v.name(), given.get(v.name()));
        try {
            return outputs(b.imported(), b.plan().run(feed));
        } catch (IllegalArgumentException e) {   // a value the plan cannot compute (an integer beyond 2^24): as run() reports it
            throw new OnnxException(source + ": " + e.getMessage(), e);
        }
    }

    /** Keeps {@code b} under {@code key}, closing the least recently used binding beyond {@link #MAX_BINDINGS}. */
    private Binding remember(String key, Binding b) {
        plans.put(key, b);
        if (plans.size() > MAX_BINDINGS) {
            Iterator<Binding> eldest = plans.values().iterator();
            close(eldest.next());
            eldest.remove();
        }
        return b;
    }

    /** The shape keys whose shape-only binding did not compile (values are bound for them). */
    private final Set<String> shapesRefused = new HashSet<>();

    /** Every input's name, dtype and shape (the key of a shape-only binding). */
    private String shapeKey(Map<String, Tensor> given) {
        StringBuilder sb = new StringBuilder("shapes ");
        for (Value v : inputs) {
            Tensor t = given.get(v.name());
            sb.append(v.name()).append(':').append(t.dtype()).append(Arrays.toString(t.shape())).append(';');
        }
        return sb.toString();
    }

    /** The model imported with the call's input shapes in place of its symbolic dims, and a plan for them; inputs stay inputs. */
    private Binding bindShapes(Map<String, Tensor> given) {
        Arena arena = Arena.ofShared();
        Map<String, Tensor> empty = new HashMap<>();   // an empty input is known by its shape alone: a constant (an empty KV cache)
        for (Value v : inputs) {
            Tensor t = given.get(v.name());
            if (t.numel() == 0) empty.put(v.name(), Tensor.allocate(arena, t.dtype(), t.shape()));
        }
        return compiled(withShapes(given), empty, given, arena, " (input shapes bound to this call's)");
    }

    /** The model with every graph input's declared shape replaced by the call's. */
    private ModelProto withShapes(Map<String, Tensor> given) {
        GraphProto.Builder g = proto.getGraph().toBuilder();
        for (int i = 0; i < g.getInputCount(); i++) {
            ValueInfoProto in = g.getInput(i);
            Tensor t = given.get(in.getName());
            if (t == null || !in.getType().hasTensorType()) continue;   // an initializer listed as an input
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            for (long d : t.shape()) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            g.setInput(i, in.toBuilder().setType(in.getType().toBuilder().setTensorType(in.getType().getTensorType().toBuilder().setShape(shape))));
        }
        return proto.toBuilder().setGraph(g).build();
    }

    /**
     * The model's outputs (ONNX names, the dtypes and shapes the import infers) once every symbolic input dim is
     * {@code size}, or null if it does not import so: a model refused over a symbolic dim (a Pad or Slice of the batch, a
     * Resize scaling it, a legacy Softmax flattening it) that {@link #run} serves by binding each call's shapes. Nothing
     * is kept.
     */
    List<Value> outputsWithSymbolsAt(long size) {
        try (Arena arena = Arena.ofShared()) {
            return Importer.run(new Detached(withSymbolsAt(size), raw), arena, baseDir, Map.of()).outputs();
        } catch (OnnxException | IllegalArgumentException | IllegalStateException | ArithmeticException e) {
            return null;
        }
    }

    /**
     * The model's outputs once every symbolic input dim is {@code size} and every input this path binds holds {@code fill}
     * (0: zeros; 1: ones; -1: -1 first, then ones, as a Reshape's shape {@code [-1, 1, ...]} fits any element count), or
     * null if it does not import so: only their ranks mean anything (the values bound per call decide the sizes; a Pad,
     * Slice, Resize or Tile keeps its input's rank, a Reshape takes its shape input's length). Nothing is kept.
     */
    List<Value> outputsWithValuesAt(long size, int fill) {
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> values = new HashMap<>();
            for (Value v : inputs) {
                if (!bindable.contains(v.name())) continue;
                long[] shape = new long[v.shape().rank()];
                for (int d = 0; d < shape.length; d++) shape[d] = v.shape().dim(d).isFixed() ? v.shape().dim(d).size() : size;
                Tensor t = Tensor.allocate(arena, v.dtype(), shape);
                if (fill != 0) fillWithOnes(t);
                if (fill < 0 && t.numel() > 0) t.segment().asSlice(0, t.dtype().byteSize()).fill((byte) -1);   // -1 in a signed integer
                values.put(v.name(), t);
            }
            return Importer.run(new Detached(withSymbolsAt(size), raw), arena, baseDir, values).outputs();
        } catch (OnnxException | IllegalArgumentException | IllegalStateException | ArithmeticException e) {
            return null;
        }
    }

    /** Writes 1 in {@code t}'s dtype into each of its elements. */
    private static void fillWithOnes(Tensor t) {
        MemorySegment s = t.segment();
        for (long i = 0; i < t.numel(); i++) {
            switch (t.dtype()) {
                case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1f);
                case F64 -> s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, 1d);
                case F16 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) 0x3C00);
                case BF16 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) 0x3F80);
                case I64, U64 -> s.setAtIndex(ValueLayout.JAVA_LONG, i, 1L);
                case I32, U32 -> s.setAtIndex(ValueLayout.JAVA_INT, i, 1);
                case I16, U16 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) 1);
                case I8, U8, BOOL -> s.setAtIndex(ValueLayout.JAVA_BYTE, i, (byte) 1);
            }
        }
    }

    /** The model with every symbolic dim of its graph inputs' declared shapes set to {@code size}. */
    private ModelProto withSymbolsAt(long size) {
        GraphProto.Builder g = proto.getGraph().toBuilder();
        for (int i = 0; i < g.getInputCount(); i++) {
            ValueInfoProto in = g.getInput(i);
            if (!in.getType().hasTensorType() || !in.getType().getTensorType().hasShape()) continue;
            TensorShapeProto.Builder shape = in.getType().getTensorType().getShape().toBuilder();
            for (int d = 0; d < shape.getDimCount(); d++) {
                if (!shape.getDim(d).hasDimValue()) shape.setDim(d, TensorShapeProto.Dimension.newBuilder().setDimValue(size));
            }
            g.setInput(i, in.toBuilder().setType(in.getType().toBuilder().setTensorType(in.getType().getTensorType().toBuilder().setShape(shape))));
        }
        return proto.toBuilder().setGraph(g).build();
    }

    /** Every input's name, dtype and shape, and the integer inputs' values. */
    private String key(Map<String, Tensor> given) {
        StringBuilder sb = new StringBuilder();
        for (Value v : inputs) {
            Tensor t = given.get(v.name());
            sb.append(v.name()).append(':').append(t.dtype()).append(Arrays.toString(t.shape()));
            if (bindable.contains(v.name())) {
                for (long i = 0; i < t.numel(); i++) sb.append(i == 0 ? '=' : ',').append(element(t, i));
            }
            sb.append(';');
        }
        return sb.toString();
    }

    private static long element(Tensor t, long i) {
        return switch (t.dtype()) {
            case I64, U64 -> t.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
            case I32, U32 -> t.segment().getAtIndex(ValueLayout.JAVA_INT, i);
            case I16, U16 -> t.segment().getAtIndex(ValueLayout.JAVA_SHORT, i);
            case F32 -> Float.floatToRawIntBits(t.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i));
            case U8, I8, BOOL -> t.segment().get(ValueLayout.JAVA_BYTE, i);
            default -> throw new IllegalStateException("input of dtype " + t.dtype() + " is not bound");
        };
    }

    private Binding bind(Map<String, Tensor> given) {
        Arena arena = Arena.ofShared();
        Map<String, Tensor> bound = new HashMap<>();
        try {
            for (Value v : inputs) {
                Tensor t = given.get(v.name());
                if (!bindable.contains(v.name())) continue;
                if (!t.isContiguous()) throw new OnnxException(source + ": integer input '" + v.name() + "' must be contiguous");
                Tensor copy = Tensor.allocate(arena, t.dtype(), t.shape());
                MemorySegment.copy(t.segment(), 0, copy.segment(), 0, t.numel() * t.dtype().byteSize());
                bound.put(v.name(), copy);
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        return compiled(withShapes(given), bound, given, arena, " (integer inputs bound to this call's values)");
    }

    /**
     * {@code model} imported with the inputs in {@code bound} as constants, and a plan for {@code given}'s shapes of the
     * rest (none when every output is known); {@code how} qualifies the source in a refusal. Closes {@code arena} (which
     * holds the bound values and the import's) if that fails.
     */
    private Binding compiled(ModelProto model, Map<String, Tensor> bound, Map<String, Tensor> given, Arena arena, String how) {
        try {
            Importer.Result imported;
            try {
                imported = Importer.run(new Detached(model, raw), arena, baseDir, bound);   // same initializers, same indices
            } catch (OnnxException e) {
                throw e.prefixed(source + how + ": ");
            } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
                throw new OnnxException(source + how + ": cannot import the model: " + e.getMessage(), e);
            }
            if (knownOutputs(imported) != null) return new Binding(arena, imported, null);   // nothing left to compute
            Map<String, long[]> shapes = new HashMap<>();
            for (Value v : imported.inputs()) shapes.put(v.name(), given.get(v.name()).shape());
            try {
                return new Binding(arena, imported, CompiledModel.compile(imported.graph(), CompileOptions.defaults(), shapes));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                throw new OnnxException(source + how + ": " + e.getMessage(), e);
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * The outputs by ONNX name from a plan's ({@code ours}, by our names), and a new empty tensor for each output that
     * is empty by its shape (no output of the plan: see Importer).
     */
    static Map<String, Tensor> outputs(Importer.Result imported, Map<String, Tensor> ours) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Value o : imported.outputs()) {
            Tensor t = ours.get(imported.outputValues().get(o.name()));
            out.put(o.name(), t == null && isEmpty(o) ? empty(o) : t);
        }
        return out;
    }

    /** A new tensor of no elements with {@code v}'s dtype and fixed shape, owned by the caller. */
    private static Tensor empty(Value v) {
        if (v.dtype() == DataType.F32) return Tensor.zeros(v.shape().sizes());   // owned: the caller closes it
        return Tensor.wrap(Arena.ofAuto().allocate(0, 8), v.dtype(), v.shape().sizes());   // (nothing to free)
    }

    /**
     * Copies of the outputs by ONNX name when every one is known once shapes are inferred (a Shape
     * of a fixed-shape input, a ConstantOfShape of a bound shape) or empty (a fixed shape with a dim
     * of 0: a Slice past the end, a Split of size 0; it has no elements to compute, whatever its
     * inputs hold): no plan computes them. Else null.
     */
    static Map<String, Tensor> knownOutputs(Importer.Result imported) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Value o : imported.outputs()) {
            Tensor k = imported.graph().knownValue(imported.outputValues().get(o.name()));
            if (k == null && isEmpty(o)) k = Tensor.wrap(MemorySegment.NULL, o.dtype(), o.shape().sizes());   // copied below
            if (k == null || !k.isContiguous()) return null;
            out.put(o.name(), k);
        }
        for (Map.Entry<String, Tensor> e : out.entrySet()) {
            Tensor k = e.getValue();
            Tensor copy;
            if (k.dtype() == DataType.F32) copy = Tensor.zeros(k.shape());   // owned: the caller closes it
            else copy = Tensor.wrap(Arena.ofAuto().allocate(Math.max(1, k.numel() * k.dtype().byteSize()), 64)
                    .asSlice(0, k.numel() * k.dtype().byteSize()), k.dtype(), k.shape());   // freed when unreachable
            MemorySegment.copy(k.segment(), 0, copy.segment(), 0, k.numel() * k.dtype().byteSize());
            e.setValue(copy);
        }
        return out;
    }

    /** Whether {@code v}'s shape is fixed and has a dim of 0 (no elements). */
    static boolean isEmpty(Value v) {
        return v.shape().isFixed() && v.shape().dims().stream().anyMatch(d -> d.size() == 0);
    }

    private static void close(Binding b) {
        if (b.plan() != null) b.plan().close();
        b.arena().close();
    }

    /** Closes every kept plan and frees the bound values. */
    @Override
    public synchronized void close() {
        for (Binding b : plans.values()) close(b);
        plans.clear();
    }
}
