package dev.panamadnn.onnx;

import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How {@link Onnx#load(java.nio.file.Path, OnnxOptions)} reads a model's graph inputs: shapes for inputs the file
 * declares without one, and sizes for dims it leaves dynamic. Immutable; each {@code with...} returns a new instance.
 * <pre>{@code
 * OnnxOptions o = OnnxOptions.defaults()
 *         .withInputShape("input_ids", Shape.of(Dim.symbol("N"), Dim.of(128)))   // a shape, or some of its dims fixed
 *         .withDim("sequence", 128);                                             // every input dim named "sequence"
 * }</pre>
 * A fixed size where the file has a dynamic dim lets shape inference go where it otherwise cannot (a Reshape
 * over both a dynamic batch and a dynamic sequence length): the model then imports as a graph and compiles
 * to a plan set over its remaining symbol, usually the batch. ONNX Runtime's session options do the same
 * ({@code addFreeDimensionOverrideByName}); an input given no shape here and none in the file is refused at load.
 */
public final class OnnxOptions {
    private static final OnnxOptions DEFAULTS = new OnnxOptions(Map.of(), Map.of());

    private final Map<String, Shape> shapes;   // by input name, in the order given
    private final Map<String, Long> dims;   // by dim_param, in the order given

    private OnnxOptions(Map<String, Shape> shapes, Map<String, Long> dims) {
        this.shapes = shapes;
        this.dims = dims;
    }

    /** {@return the options that read the model as its file declares it} */
    public static OnnxOptions defaults() {
        return DEFAULTS;
    }

    /**
     * These options with {@code input}'s shape given: for an input the file declares without a shape, its shape; for
     * one declared with a shape, the same rank, each dim the file fixes equal, a dynamic one given a size or a symbol
     * (a symbol shared between inputs is one size, as the batch).
     *
     * @param input the graph input's name
     * @param shape its shape: fixed sizes and plain symbols ({@code Dim.symbol("N")}; not multiples such as {@code 2*N})
     * @return new options
     * @throws IllegalArgumentException if a name or the shape is null or empty, a dim is a multiple of a symbol, or
     *                                  {@code input} was given a shape already
     */
    public OnnxOptions withInputShape(String input, Shape shape) {
        if (input == null || input.isEmpty()) throw new IllegalArgumentException("OnnxOptions.withInputShape: expected an input name, got " + (input == null ? "null" : "''"));
        if (shape == null) throw new IllegalArgumentException("OnnxOptions.withInputShape: input '" + input + "': expected a shape, got null");
        for (Dim d : shape.dims()) {
            if (!d.isFixed() && d.factor() != 1) {
                throw new IllegalArgumentException("OnnxOptions.withInputShape: input '" + input + "' " + shape
                        + ": a dim must be a size or a plain symbol, got " + d);
            }
        }
        if (shapes.containsKey(input)) {
            throw new IllegalArgumentException("OnnxOptions.withInputShape: input '" + input + "' was given a shape already (" + shapes.get(input) + ")");
        }
        Map<String, Shape> s = new LinkedHashMap<>(shapes);
        s.put(input, shape);
        return new OnnxOptions(Collections.unmodifiableMap(s), dims);
    }

    /**
     * These options with every graph input dim the file names {@code dimParam} (its {@code dim_param}, e.g.
     * {@code "batch_size"} or {@code "sequence"}) fixed to {@code size}.
     *
     * @param dimParam the name as the file spells it
     * @param size the size, at least 0
     * @return new options
     * @throws IllegalArgumentException if the name is null or empty, the size negative, or the name given already
     */
    public OnnxOptions withDim(String dimParam, long size) {
        if (dimParam == null || dimParam.isEmpty()) throw new IllegalArgumentException("OnnxOptions.withDim: expected a dim name, got " + (dimParam == null ? "null" : "''"));
        if (size < 0) throw new IllegalArgumentException("OnnxOptions.withDim: dim '" + dimParam + "': expected a size >= 0, got " + size);
        if (dims.containsKey(dimParam)) {
            throw new IllegalArgumentException("OnnxOptions.withDim: dim '" + dimParam + "' was given a size already (" + dims.get(dimParam) + ")");
        }
        Map<String, Long> d = new LinkedHashMap<>(dims);
        d.put(dimParam, size);
        return new OnnxOptions(shapes, Collections.unmodifiableMap(d));
    }

    /** {@return the input shapes given, by input name} */
    public Map<String, Shape> inputShapes() {
        return shapes;
    }

    /** {@return the dim sizes given, by the file's dim name} */
    public Map<String, Long> dims() {
        return dims;
    }

    /**
     * {@code model} with these options applied to its graph inputs' (and outputs') declared shapes; every problem (an
     * unknown input or dim name, a rank or size that contradicts the file) listed in one exception.
     */
    Detached apply(Detached model, String source) {
        if (shapes.isEmpty() && dims.isEmpty()) return model;
        ModelProto proto = model.proto();
        GraphProto.Builder g = proto.getGraph().toBuilder();
        Set<String> inits = new HashSet<>();
        for (var t : g.getInitializerList()) inits.add(t.getName());
        List<String> problems = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>(), params = new LinkedHashSet<>();
        for (int i = 0; i < g.getInputCount(); i++) {
            ValueInfoProto in = g.getInput(i);
            if (inits.contains(in.getName())) continue;   // an initializer an old exporter lists as an input too
            names.add(in.getName());
            if (!in.getType().hasTensorType()) continue;   // refused by the import, naming it
            TensorShapeProto declared = in.getType().getTensorType().hasShape() ? in.getType().getTensorType().getShape() : null;
            Shape given = shapes.get(in.getName());
            TensorShapeProto shape = given == null ? declared : merge(in.getName(), declared, given, problems);
            for (TensorShapeProto s : new TensorShapeProto[] {declared, shape}) {   // the file's dim names, and the symbols given
                if (s != null) for (var d : s.getDimList()) if (d.hasDimParam() && !d.getDimParam().isEmpty()) params.add(d.getDimParam());
            }
            if (shape == null) continue;
            shape = fix(shape);
            g.setInput(i, in.toBuilder().setType(in.getType().toBuilder().setTensorType(in.getType().getTensorType().toBuilder().setShape(shape))));
        }
        for (int i = 0; i < g.getOutputCount(); i++) {   // so a model run() binds shows its outputs' fixed dims too
            ValueInfoProto out = g.getOutput(i);
            if (!out.getType().hasTensorType() || !out.getType().getTensorType().hasShape()) continue;
            TensorShapeProto shape = fix(out.getType().getTensorType().getShape());
            g.setOutput(i, out.toBuilder().setType(out.getType().toBuilder().setTensorType(out.getType().getTensorType().toBuilder().setShape(shape))));
        }
        for (String name : shapes.keySet()) {
            if (inits.contains(name)) problems.add("input '" + name + "' is an initializer (a weight), not an input a shape can be given to");
            else if (!names.contains(name)) problems.add("input '" + name + "' is not a graph input of the model; its inputs are " + names);
        }
        for (String param : dims.keySet()) {
            if (!params.contains(param)) {
                problems.add("dim '" + param + "' is not a dim name of the model's inputs; they name " + (params.isEmpty() ? "none" : params));
            }
        }
        if (!problems.isEmpty()) throw new OnnxException(source + ": the load options do not fit the model", problems);
        return new Detached(proto.toBuilder().setGraph(g).build(), model.raw());
    }

    /** {@code declared} (or null: none) with {@code given}'s dims where it is dynamic; a contradiction is a problem and null. */
    private static TensorShapeProto merge(String input, TensorShapeProto declared, Shape given, List<String> problems) {
        if (declared != null && declared.getDimCount() != given.rank()) {
            problems.add("input '" + input + "': the model declares rank " + declared.getDimCount() + " " + show(declared) + ", the options give rank "
                    + given.rank() + " " + given);
            return null;
        }
        TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
        for (int d = 0; d < given.rank(); d++) {
            Dim want = given.dim(d);
            TensorShapeProto.Dimension was = declared == null ? null : declared.getDim(d);
            if (was != null && was.hasDimValue() && (!want.isFixed() || want.size() != was.getDimValue())) {
                problems.add("input '" + input + "': dim " + d + " is " + was.getDimValue() + " in the model " + show(declared)
                        + ", the options give " + want + " " + given);
                return null;
            }
            b.addDim(want.isFixed() ? TensorShapeProto.Dimension.newBuilder().setDimValue(want.size())
                    : TensorShapeProto.Dimension.newBuilder().setDimParam(want.symbol()));
        }
        return b.build();
    }

    /** {@code shape} with each dim named in {@link #dims} fixed to its size. */
    private TensorShapeProto fix(TensorShapeProto shape) {
        if (dims.isEmpty()) return shape;
        TensorShapeProto.Builder b = shape.toBuilder();
        for (int d = 0; d < b.getDimCount(); d++) {
            TensorShapeProto.Dimension dim = b.getDim(d);
            Long size = dim.hasDimParam() ? dims.get(dim.getDimParam()) : null;
            if (size != null) b.setDim(d, TensorShapeProto.Dimension.newBuilder().setDimValue(size));
        }
        return b.build();
    }

    private static String show(TensorShapeProto s) {
        List<String> d = new ArrayList<>();
        for (var x : s.getDimList()) d.add(x.hasDimValue() ? Long.toString(x.getDimValue()) : x.hasDimParam() && !x.getDimParam().isEmpty() ? x.getDimParam() : "?");
        return d.toString();
    }

    @Override
    public String toString() {
        return "OnnxOptions{inputShapes=" + shapes + ", dims=" + dims + "}";
    }
}
