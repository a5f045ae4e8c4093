package dev.panamadnn.onnx;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.graph.Value;
import dev.panamadnn.onnx.proto.ModelProto;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A loaded ONNX model: its inputs and outputs (ONNX names, dtypes, shapes with symbolic dims such
 * as a dynamic batch), opsets and producer, its {@link #toGraph() graph} in our IR, and
 * {@link #compile} for a plan set serving any batch size. Owns the weights (memory-mapped from the
 * file, or copied): {@link #close()} frees them, so close the model only after every plan set
 * compiled from it (a plan set reads the weights again for each new batch size).
 *
 * <p>Thread-safe: {@link #run} may be called from any number of threads; {@link #close()} waits
 * for the runs in flight, and later calls fail with an {@link IllegalStateException}.
 */
public final class OnnxModel implements AutoCloseable {
    private final Arena arena;
    private final Importer.Result imported;
    private final String source;
    private final ReadWriteLock lifetime = new ReentrantReadWriteLock();
    private volatile boolean closed;   // set under lifetime's write lock; read by runs under its read lock, by compile() without
    private PlanSet plans;    // run()'s plan set, made on first use (guarded by this)
    private CompiledModel fixedPlan;   // run()'s plan for a model without a symbolic batch (guarded by this)
    private final List<List<Value>> declared;   // inputs and outputs as declared, when imported is null
    private final OnnxException deferred;   // why the model cannot be imported without its integer inputs' values, or null
    private BoundInputs bound;   // run()'s plans with integer inputs bound to the call's values (guarded by this), or null
    private BoundInputs emptyRuns;   // run()'s imports for calls with an empty input (a batch of 0), made on first use (guarded by this)

    private final Detached model;   // kept to import again with integer inputs bound
    private final Path baseDir;

    private OnnxModel(Arena arena, Importer.Result imported, String source, Detached model, Path baseDir,
                      List<List<Value>> declared, OnnxException deferred, BoundInputs bound) {
        this.arena = arena;
        this.model = model;
        this.baseDir = baseDir;
        this.imported = imported;
        this.source = source;
        this.declared = declared;
        this.deferred = deferred;
        this.bound = bound;
    }

    /** Imports {@code model} (from a file: the initializers' weights slices of the mapping, {@link Detached#read}). */
    static OnnxModel create(Detached model, Arena arena, Path baseDir, String source) {
        ModelProto proto = model.proto();
        try {
            return new OnnxModel(arena, Importer.run(model, arena, baseDir), source, model, baseDir, null, null, null);
        } catch (OnnxException e) {
            OnnxException why = e.getMessage().startsWith(source) ? e : e.prefixed(source + ": ");
            if (!(e.getCause() instanceof GraphException)) throw why;   // refused before shapes were inferred: values would not help
            Importer.Declared declared;
            try {
                declared = Importer.declared(proto);
            } catch (OnnxException | IllegalArgumentException notDeclared) {
                throw why;
            }
            long symbols = declared.inputs().stream().flatMap(v -> v.shape().dims().stream()).filter(d -> !d.isFixed()).map(Dim::symbol).distinct().count();
            // Shape inference needs a value an integer input gives (a Reshape's shape fed as an input), or concrete dims (a
            // reshape over two symbols, e.g. batch and sequence; a Pad or Slice of the batch itself): run() binds the call's
            // shapes, and values where needed. With one symbol and no value to bind, only if a concrete size (1, 2, 3, 4 or 8)
            // makes it import.
            BoundInputs bound = new BoundInputs(model, baseDir, source, declared.inputs());
            boolean values = BoundInputs.applies(proto, declared.inputs());
            List<Value> outputs = declared.outputs();
            if (!values && (symbols == 1 || symbols > 1 && !declared.shapeless().isEmpty())) {
                // Imports at concrete sizes: whether it runs at any (one symbol), and, for an output declared without a
                // shape, its rank and which of its dims move with the inputs' (three sizes that import)
                List<List<Value>> trials = new java.util.ArrayList<>();
                for (long size : TRIAL_SIZES) {
                    List<Value> o = bound.outputsWithSymbolsAt(size);
                    if (o != null) trials.add(o);
                    if (trials.size() == (declared.shapeless().isEmpty() ? 1 : 3)) break;
                }
                if (trials.isEmpty() && symbols == 1) {
                    bound.close();
                    throw why;
                }
                if (!trials.isEmpty()) outputs = shapesOfUndeclared(declared, trials);
            } else if (values && !declared.shapeless().isEmpty()) {
                // The values bound per call decide the sizes, not the rank (a Pad, Slice, Resize or Tile keeps its input's; a
                // Reshape takes its shape input's length): the rank from an import with zeros, ones or [-1, 1, ...] bound,
                // every dim a symbol
                trials:
                for (long size : new long[] {1, 2}) {
                    for (int fill : new int[] {0, 1, -1}) {
                        List<Value> o = bound.outputsWithValuesAt(size, fill);
                        if (o == null) continue;
                        outputs = shapesOfUndeclared(declared, List.of(o));
                        break trials;
                    }
                }
            }
            if (symbols == 0 && !values) {
                bound.close();
                throw why;
            }
            if (unresolved(declared, outputs)) {
                bound.close();
                throw new OnnxException(why.getMessage() + " (and graph output(s) " + names(declared, outputs) + " declare no shape, and no"
                        + " import at concrete sizes, or with zeros, ones or [-1, 1, ...] for the inputs bound per call, tells their rank:"
                        + " declare it in the file, e.g. with dim_params for the dims that vary)", why);
            }
            return new OnnxModel(arena, null, source, model, baseDir, List.of(declared.inputs(), outputs), why, bound);
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {   // a check of our IR's (Value, Dim, Tensor)
            throw new OnnxException(source + ": cannot import the model: " + e.getMessage(), e);
        }
    }

    /** The concrete sizes every symbolic input dim takes in a trial import (a model that runs at none of them is refused). */
    private static final long[] TRIAL_SIZES = {1, 2, 3, 4, 8};

    /**
     * The declared outputs, each declared without a shape given the rank the trial imports inferred: a dim of the same
     * size in every trial (at least two, at different sizes) is that size, any other (or every dim, with one trial) a
     * symbol of its own, named after the output ({@code y_d0}, ...). Outputs declared with a shape are kept as declared.
     */
    private static List<Value> shapesOfUndeclared(Importer.Declared declared, List<List<Value>> trials) {
        java.util.Set<String> taken = new java.util.HashSet<>();
        for (Value v : declared.inputs()) for (Dim d : v.shape().dims()) if (!d.isFixed()) taken.add(d.symbol());
        List<Value> out = new java.util.ArrayList<>(declared.outputs());
        for (int i : declared.shapeless()) {
            if (i >= trials.get(0).size()) continue;
            Shape a = trials.get(0).get(i).shape();
            List<Dim> dims = new java.util.ArrayList<>();
            for (int d = 0; d < a.rank(); d++) {
                boolean same = trials.size() > 1 && a.dim(d).isFixed();
                for (List<Value> t : trials) {
                    Shape b = i < t.size() ? t.get(i).shape() : null;
                    same &= b != null && b.rank() == a.rank() && b.dim(d).isFixed() && b.dim(d).size() == a.dim(d).size();
                }
                if (same) {
                    dims.add(a.dim(d));
                    continue;
                }
                String symbol = Importer.symbolName(out.get(i).name() + "_d" + d);
                while (!taken.add(symbol)) symbol += "_";
                dims.add(Dim.symbol(symbol));
            }
            out.set(i, new Value(out.get(i).name(), out.get(i).dtype(), new Shape(dims)));
        }
        return List.copyOf(out);
    }

    /** Whether an output declared without a shape is still the rank-0 placeholder (no trial import told its shape). */
    private static boolean unresolved(Importer.Declared declared, List<Value> outputs) {
        for (int i : declared.shapeless()) if (outputs.get(i) == declared.outputs().get(i)) return true;
        return false;
    }

    /** The names of the outputs declared without a shape that no trial import told, quoted. */
    private static String names(Importer.Declared declared, List<Value> outputs) {
        StringBuilder sb = new StringBuilder();
        for (int i : declared.shapeless()) {
            if (outputs.get(i) != declared.outputs().get(i)) continue;
            sb.append(sb.isEmpty() ? "" : ", ").append('\'').append(outputs.get(i).name()).append('\'');
        }
        return sb.toString();
    }

    /** {@return the graph inputs (not the initializers), with ONNX names, dtypes and shapes; unnamed dynamic dims get a fresh symbol} */
    public List<Value> inputs() {
        return imported == null ? declared.get(0) : imported.inputs();
    }

    /** {@return the graph outputs with ONNX names and the dtypes and shapes our import infers (as declared, for a model {@link #run} binds)} */
    public List<Value> outputs() {
        return imported == null ? declared.get(1) : imported.outputs();
    }

    /** {@return the opsets imported, by domain ("" for the default ONNX domain)} */
    public Map<String, Long> opsetImports() {
        if (imported != null) return imported.opsets();
        Map<String, Long> opsets = new java.util.LinkedHashMap<>();
        for (var o : model.proto().getOpsetImportList()) opsets.put(o.getDomain().equals("ai.onnx") ? "" : o.getDomain(), o.getVersion());
        return opsets;
    }

    /** {@return the producer's name and version (e.g. "pytorch 1.13.1"), or "" if the file gives none} */
    public String producer() {
        if (imported != null) return imported.producer();
        ModelProto proto = model.proto();
        return proto.getProducerName() + (proto.getProducerVersion().isEmpty() ? "" : " " + proto.getProducerVersion());
    }

    /**
     * The model in our IR. Its initializers are this model's weights: valid until {@link #close()}.
     * Output names may differ from the ONNX ones ({@link #outputs()} keeps those), and an output empty by its fixed
     * shape (a Slice past the end) is no output of the graph unless every one is ({@link #run} returns it empty).
     *
     * @return the graph, sharing this model's weights
     */
    public Graph toGraph() {
        if (imported == null) throw needsValues();
        return imported.graph();
    }

    /** The refusal of a model whose shapes depend on its integer inputs' values or on concrete dims: only {@link #run} takes it. */
    private OnnxException needsValues() {
        return new OnnxException(deferred.getMessage() + " (its shapes cannot be inferred from the declared inputs: they depend on the values of"
                + " integer inputs or on more than one symbolic dim; run(Map) binds the call's shapes, and values where needed, per call;"
                + " a graph or plan set needs them constant)", deferred);
    }

    /**
     * A plan set for this model on inputs {@code [N, ...]} with a symbolic batch {@code N}: one plan
     * per batch size, built on first use; its results are keyed by the model's output names, as {@link #run}'s. The
     * caller closes it, before closing this model.
     *
     * @param options how to compile ({@link CompileOptions#defaults()} for the fastest plan)
     * @return the plan set, owned by the caller
     * @throws OnnxException if the model's inputs are not all {@code [N, fixed sizes...]} with one
     *                       batch symbol (what a plan set takes), or it cannot be compiled
     */
    public PlanSet compile(CompileOptions options) {
        checkOpen();
        if (imported == null) throw needsValues();
        try {
            return PlanSet.of(toGraph(), options, PlanSet.DEFAULT_MAX_PLANS);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            boolean fixed = toGraph().inputs().stream().allMatch(v -> v.shape().isFixed());
            throw new OnnxException(source + ": cannot compile: " + e.getMessage() + (fixed ? " (the model's inputs have fixed shapes,"
                    + " as torch.onnx.export writes without dynamic_axes: plan(options) compiles one plan for them)" : ""), e);
        }
    }

    /**
     * One plan for the model's input shapes as declared, every dim fixed: a file exported without dynamic axes
     * ({@code torch.onnx.export}'s default: a batch of 1, a sequence-first RNN's {@code [T, N, I]}), or one whose symbolic
     * dims were fixed at load ({@link OnnxOptions#withDim}, {@link OnnxOptions#withInputShape}). The caller closes it, before
     * closing this model. For a symbolic batch, {@link #compile} gives a plan set over every batch size.
     *
     * @param options how to compile ({@link CompileOptions#defaults()} for the fastest plan)
     * @return the plan, owned by the caller
     * @throws OnnxException if an input has a symbolic dim (naming it and how to fix it), or the model cannot be compiled
     */
    public CompiledModel plan(CompileOptions options) {
        return plan(options, null);
    }

    /**
     * As {@link #plan(CompileOptions)}, holding the plan's large constants in {@code store} (null: a store of its own),
     * which plans of this model at other shapes may share ({@link dev.panamadnn.compile.ConstantStore}): the weights held
     * about once however many shapes are compiled.
     *
     * @param options how to compile
     * @param store   the store for the plan's constants, or null
     * @return the plan, owned by the caller
     * @throws OnnxException as {@link #plan(CompileOptions)}
     */
    public CompiledModel plan(CompileOptions options, dev.panamadnn.compile.ConstantStore store) {
        checkOpen();
        if (imported == null) throw needsValues();
        Graph graph = toGraph();
        Map<String, long[]> shapes = new java.util.LinkedHashMap<>();
        for (Value in : graph.inputs()) {
            for (int i = 0; i < in.shape().rank(); i++) {
                Dim d = in.shape().dim(i);
                if (!d.isFixed()) {
                    throw new OnnxException(source + ": input '" + in.name() + "' " + in.shape() + ": dim " + i + " is symbolic (" + d
                            + "); plan(options) compiles for fixed shapes: fix it at load (OnnxOptions.withDim(\"" + d.symbol()
                            + "\", size)), or compile(options) for a plan set over a symbolic batch");
                }
            }
            shapes.put(in.name(), in.shape().sizes());
        }
        try {
            return store == null ? CompiledModel.compile(graph, options, shapes) : CompiledModel.compile(graph, options, shapes, store);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            throw new OnnxException(source + ": cannot compile: " + e.getMessage(), e);
        }
    }

    /**
     * This model imported again with {@code options} (an input's shape, a dim's size, as {@link Onnx#load(Path,
     * OnnxOptions)} takes them, applied over this model's own), from the file as this model read it: the file is not
     * read again (a file replaced on disk since does not change it), and the weights are this model's (slices of its
     * mapping, not copied). For a model served at several sizes of a dynamic dim: one import per size, all of the same
     * bytes. The new model is the caller's: close it before this one; once this one is closed, whatever the new one still
     * has to read of the weights (a plan for a new batch size) is refused with an exception naming the freed weight, never
     * a crash, while plans built before keep running.
     *
     * @param options input shapes and dim sizes
     * @return the model imported with them, owned by the caller
     * @throws OnnxException         as {@link Onnx#load(Path, OnnxOptions)}: an option that names nothing the model has or
     *                               contradicts it, or a model that does not import with those shapes
     * @throws IllegalStateException if this model is closed
     */
    public OnnxModel withOptions(OnnxOptions options) {
        if (options == null) throw new IllegalArgumentException(source + ": withOptions: options must not be null");
        lifetime.readLock().lock();
        try {
            checkOpen();
            Arena own = Arena.ofShared();   // what the new import allocates (copied tensors, external data); the weights stay this model's
            try {
                return create(options.apply(model, source), own, baseDir, source);
            } catch (RuntimeException | Error e) {
                own.close();
                throw e;
            }
        } finally {
            lifetime.readLock().unlock();
        }
    }

    /**
     * Runs the model once on {@code inputs} (by ONNX input name) and returns its outputs by ONNX
     * output name, new tensors the caller owns. The first call compiles (a plan set when every
     * input is {@code [N, fixed...]} with one batch symbol, kept for the next calls; a plan for
     * fixed shapes, kept; else a plan per call); for a hot path use {@link #compile}.
     *
     * @param inputs every graph input by ONNX name
     * @return every graph output by ONNX name, new tensors owned by the caller (close them)
     * <p>An input may be empty (a symbolic dim given as 0, an empty axes list): outputs empty by their shapes come back
     * as empty tensors; one that a plan would compute from an empty value is refused, naming it.
     *
     * @throws OnnxException if an input is missing, unknown, freed, or of the wrong dtype or shape
     *                       (naming it), or the model cannot be compiled
     * @throws IllegalStateException if the model's file was truncated while mapped and this call had to read it
     *                       (to compile for new shapes): reopen the file; plans built before keep running
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        lifetime.readLock().lock();
        try {
            checkOpen();
            checkInputs(inputs);
            BoundInputs b;
            synchronized (this) {
                b = bound;
            }
            if (b != null) return b.run(inputs);
            Map<String, Tensor> known = BoundInputs.knownOutputs(imported);   // every output known when importing: no plan
            if (known != null) return known;
            if (inputs.values().stream().anyMatch(t -> t.numel() == 0)) return runEmpty(inputs);
            Map<String, Tensor> ours;
            try {
                ours = runAll(inputs);
            } catch (UnsupportedOperationException e) {   // e.g. a Conv's weights: maybe an integer input's value would make it constant
                if (!BoundInputs.applies(model.proto(), imported.inputs())) throw new OnnxException(source + ": " + e.getMessage(), e);
                return runBound(inputs, e);
            } catch (IllegalArgumentException e) {
                if (imported.inputs().stream().anyMatch(v -> v.shape().rank() == 0) && BoundInputs.applies(model.proto(), imported.inputs())) {
                    return runBound(inputs, null);   // plans take no rank-0 input: bind it (its refusal, if any, is the one to tell)
                }
                throw new OnnxException(source + ": " + e.getMessage(), e);
            }
            return BoundInputs.outputs(imported, ours);
        } catch (InternalError e) {
            throw truncated(e);
        } finally {
            lifetime.readLock().unlock();
        }
    }

    /**
     * A Java read of this model's mapped file that faulted (the JVM's {@link InternalError} for the lost pages of a
     * file truncated while mapped: re-importing it with a call's shapes reads it again) as an exception naming the
     * file; any other {@code InternalError} is rethrown. Native code never reads the mapping: plans copy what they use.
     */
    private IllegalStateException truncated(InternalError e) {
        return new IllegalStateException(source + ": its memory-mapped file was truncated while mapped (" + mappedFault(e) + "); reopen the file", e);
    }

    /**
     * {@return the message of {@code e}} where it is the JVM's report of a Java read faulting on mapped memory (its message
     * names an "unsafe memory access operation": a file truncated while mapped); any other {@code InternalError} is rethrown.
     */
    static String mappedFault(InternalError e) {
        String m = e.getMessage();
        if (m == null || !m.contains("unsafe memory access operation")) throw e;
        return m;
    }

    /**
     * After {@code failure} compiling as is: binds the integer inputs (kept for the next calls if that compiles), else the
     * first refusal, the bound one suppressed in it; with no {@code failure} (a rank-0 input, which no plan takes), the
     * bound refusal itself.
     */
    private Map<String, Tensor> runBound(Map<String, Tensor> inputs, UnsupportedOperationException failure) {
        BoundInputs b = new BoundInputs(model, baseDir, source, imported.inputs());
        Map<String, Tensor> out;
        try {
            out = b.run(inputs);
        } catch (OnnxException e) {
            b.close();
            if (failure == null) throw e;
            OnnxException first = new OnnxException(source + ": " + failure.getMessage(), failure);
            first.addSuppressed(e);
            throw first;
        }
        synchronized (this) {
            if (bound == null) bound = b;
            else b.close();
        }
        return out;
    }

    /**
     * A call with an empty input (a symbolic dim given as 0, e.g. a batch of none): imported again with the call's
     * shapes, whose outputs are then empty or known (no plan), else refused (a plan computes on no empty tensors).
     */
    private Map<String, Tensor> runEmpty(Map<String, Tensor> inputs) {
        BoundInputs b;
        synchronized (this) {
            if (emptyRuns == null) emptyRuns = new BoundInputs(model, baseDir, source, imported.inputs());
            b = emptyRuns;
        }
        return b.run(inputs);
    }

    private Map<String, Tensor> runAll(Map<String, Tensor> inputs) {
        if (batched()) {
            PlanSet p;
            synchronized (this) {
                if (plans == null) plans = PlanSet.of(toGraph(), CompileOptions.defaults(), PlanSet.DEFAULT_MAX_PLANS);
                p = plans;
            }
            return p.run(inputs);
        }
        Map<String, long[]> shapes = new HashMap<>();
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) shapes.put(e.getKey(), e.getValue().shape());
        if (imported.inputs().stream().allMatch(v -> v.shape().isFixed())) {
            CompiledModel p;
            synchronized (this) {
                if (fixedPlan == null) fixedPlan = CompiledModel.compile(toGraph(), CompileOptions.defaults(), shapes);
                p = fixedPlan;
            }
            return p.run(inputs);
        }
        try (CompiledModel p = CompiledModel.compile(toGraph(), CompileOptions.defaults(), shapes)) {   // other symbolic dims
            return p.run(inputs);
        }
    }

    /**
     * Whether every input is {@code [N, fixed sizes...]} with the same plain batch symbol and every output keeps that
     * batch as its first dim (what a plan set takes). A model that reduces over the batch, or moves it, runs through a
     * plan for each call's shapes instead.
     */
    private boolean batched() {
        String symbol = null;
        for (Value in : imported.inputs()) {
            if (in.shape().rank() < 1 || in.shape().dim(0).isFixed() || in.shape().dim(0).factor() != 1) return false;
            if (symbol != null && !symbol.equals(in.shape().dim(0).symbol())) return false;
            symbol = in.shape().dim(0).symbol();
            for (int i = 1; i < in.shape().rank(); i++) if (!in.shape().dim(i).isFixed()) return false;
        }
        if (symbol == null) return false;
        for (Value out : imported.outputs()) {
            Dim d = out.shape().rank() < 1 ? null : out.shape().dim(0);
            if (d == null || d.isFixed() || d.factor() != 1 || !symbol.equals(d.symbol())) return false;
        }
        return true;
    }

    /** Checks names, dtypes and shapes (symbols bound consistently across inputs). */
    private void checkInputs(Map<String, Tensor> given) {
        if (given == null) throw new OnnxException(source + ": inputs must not be null");
        for (String k : given.keySet()) {
            if (inputs().stream().noneMatch(v -> v.name().equals(k))) {
                throw new OnnxException(source + ": no input named '" + k + "' (inputs: " + inputs() + ")");
            }
        }
        Map<String, Long> bound = new HashMap<>();
        for (Value v : inputs()) {
            Tensor t = given.get(v.name());
            if (t == null) throw new OnnxException(source + ": input '" + v.name() + "' " + v + " is missing");
            if (!t.isAlive()) throw new OnnxException(source + ": input '" + v.name() + "' was freed (closed)");
            if (t.dtype() != v.dtype()) throw new OnnxException(source + ": input '" + v.name() + "' must be " + v.dtype() + ", got " + t.dtype());
            long[] s = t.shape();
            boolean fits = s.length == v.shape().rank();
            for (int d = 0; fits && d < s.length; d++) {
                Dim dim = v.shape().dim(d);
                if (dim.isFixed()) fits = dim.size() == s[d];
                else if (s[d] < 0 || s[d] % dim.factor() != 0) fits = false;   // 0 too: an empty batch
                else {   // a symbol takes one size across all inputs
                    Long before = bound.putIfAbsent(dim.symbol(), s[d] / dim.factor());
                    fits = before == null || before == s[d] / dim.factor();
                }
            }
            if (!fits) throw new OnnxException(source + ": input '" + v.name() + "' expects " + v.shape() + ", got " + Arrays.toString(s));
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(this + " is closed");
    }

    /** Waits for the runs in flight, closes run()'s plans, and frees the weights (unmaps the file). Idempotent. */
    @Override
    public void close() {
        lifetime.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            synchronized (this) {
                if (plans != null) plans.close();
                if (fixedPlan != null) fixedPlan.close();
                if (bound != null) bound.close();
                if (emptyRuns != null) emptyRuns.close();
            }
            arena.close();
        } finally {
            lifetime.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "OnnxModel(" + source + ", " + inputs() + " -> " + outputs() + ")";
    }
}
