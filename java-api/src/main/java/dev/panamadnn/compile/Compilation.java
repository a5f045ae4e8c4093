package dev.panamadnn.compile;

import dev.panamadnn.Module;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.internal.lifetime.NativeAccess;
import dev.panamadnn.natives.ThreadControl;
import java.util.Arrays;
import java.util.Map;

/**
 * One call of {@link CompiledModel#compile}: checks its arguments, lowers a module to its graph, decides whether the
 * plan runs as single-threaded parts of the batch side by side ({@link BatchSplit}), applies the plan's intra-op
 * threads to the compiling thread (oneDNN sizes each primitive's work split by it), and has {@link LowerGraph} build
 * the steps into a {@link Compiler}, closing what it created if anything fails.
 */
final class Compilation {
    private Compilation() {}

    /** A plan's intra-op threads: its options' count, else the {@link ThreadControl} count (0: OpenMP's default). */
    private static int threads(CompileOptions options) {
        return options.threads() > 0 ? options.threads() : ThreadControl.threads();
    }

    /** {@link CompiledModel#compile(Module, CompileOptions, long...)}, sharing large constants through {@code shared} if not null. */
    static CompiledModel of(Module model, CompileOptions options, SharedConstants shared, long... inputShape) {
        if (options == null) throw new IllegalArgumentException("CompiledModel.compile: options must not be null (CompileOptions.defaults())");
        if (model == null) throw new IllegalArgumentException("CompiledModel.compile: model must not be null");
        PlanIO.checkShape(inputShape);
        Graph concrete = Graph.lower(model, Shape.of(inputShape));   // every layer checks its sizes at this shape
        int threads = threads(options);
        if (inputShape.length > 0 && BatchSplit.worthTrying(concrete, options, threads, inputShape[0])) {
            // the same model with axis 0 a symbol, so the batch can run in parts (BatchSplit binds it at N and at N / T)
            Graph symbolic;
            try {
                symbolic = Graph.lower(model, Shape.batched("N", Arrays.copyOfRange(inputShape, 1, inputShape.length)));
            } catch (RuntimeException notOnASymbolicBatch) {
                symbolic = null;
            }
            if (symbolic != null) return of(symbolic, options, shared, inputShape);
        }
        return of(concrete, options, shared, inputShape);
    }

    /** {@link CompiledModel#compile(Graph, CompileOptions, long...)}, sharing large constants through {@code shared} if not null. */
    static CompiledModel of(Graph graph, CompileOptions options, SharedConstants shared, long... inputShape) {
        if (graph == null) throw new IllegalArgumentException("CompiledModel.compile: graph must not be null");
        if (graph.inputs().size() != 1) {
            throw new IllegalArgumentException("CompiledModel.compile: graph " + graph.name() + " has " + graph.inputs().size()
                    + " inputs " + graph.inputs() + ": give a shape per input name (compile(graph, options, Map))");
        }
        PlanIO.checkShape(inputShape);
        return all(graph, options, new long[][] {inputShape.clone()}, shared);
    }

    /** {@link CompiledModel#compile(Graph, CompileOptions, Map)}, sharing large constants through {@code shared} if not null. */
    static CompiledModel of(Graph graph, CompileOptions options, Map<String, long[]> inputShapes, SharedConstants shared) {
        if (graph == null) throw new IllegalArgumentException("CompiledModel.compile: graph must not be null");
        if (inputShapes == null) throw new IllegalArgumentException("CompiledModel.compile: inputShapes must not be null");
        return all(graph, options, PlanIO.shapesByName(graph, inputShapes), shared);
    }

    private static CompiledModel all(Graph graph, CompileOptions options, long[][] shapes, SharedConstants shared) {
        if (options == null) throw new IllegalArgumentException("CompiledModel.compile: options must not be null (CompileOptions.defaults())");
        try {
            return reading(graph, options, shapes, shared);
        } catch (InternalError e) {
            // The compiler reads the initializers by Java (never by native code), so a file truncated under a mapped
            // initializer (an imported ONNX model's weights are views of its file) faults here, not in oneDNN.
            throw NativeAccess.truncatedRead("graph " + graph.name() + ": an initializer", e);
        }
    }

    private static CompiledModel reading(Graph graph, CompileOptions options, long[][] shapes, SharedConstants shared) {
        int threads = threads(options);
        int parts = BatchSplit.parts(graph, options, threads, shapes);
        if (parts > 1) {
            long[][] partShapes = new long[shapes.length][];
            for (int k = 0; k < shapes.length; k++) {
                partShapes[k] = shapes[k].clone();
                partShapes[k][0] /= parts;
            }
            Graph bound = graph.bind(shapes);
            LowerGraph.refuseOversizedDims(bound);   // at the caller's sizes, not only the parts'
            CompiledModel part = all(graph, options.withThreads(1), partShapes, shared);
            try {
                CompiledModel whole = new CompiledModel(bound, options, part, parts, threads);
                if (SplitRuns.tiles(whole, part, parts)) return whole;
                whole.close();   // not expected (BatchSplit checked both sizes): compile it whole
            } catch (RuntimeException | Error e) {
                part.close();
                throw e;
            }
            options = options.withoutRule(BatchSplit.NAME);
        }
        Compiler c = new Compiler(options, threads, shared);
        try {
            // oneDNN sizes a primitive's work split by the creating thread's OpenMP team size.
            if (threads > 0) ThreadControl.applyToCurrentThread(threads);
            LowerGraph.compile(c, graph, shapes);
            return new CompiledModel(graph.name(), c, threads);
        } catch (RuntimeException | Error e) {
            c.closeAll();
            throw e;
        }
    }
}
