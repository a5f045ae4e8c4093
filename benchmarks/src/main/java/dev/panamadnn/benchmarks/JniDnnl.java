package dev.panamadnn.benchmarks;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;

/**
 * One oneDNN primitive through JNI: the JavaCPP presets' Java classes for oneDNN
 * ({@code org.bytedeco:dnnl}, the C API in {@code org.bytedeco.dnnl.global.dnnl}), built like
 * {@link FfmDnnl} builds it through our FFM bindings and the C harness builds it in C: same
 * descriptors, user scratchpad, weights reordered once into the layout the primitive chose, the
 * memory objects created once and bound; {@link #run} is {@code dnnl_primitive_execute} +
 * {@code dnnl_stream_wait}, both status-checked like ours.
 *
 * <p>JavaCPP extracts and loads its own copy of {@code libdnnl.so.3} and {@code libgomp.so.1}
 * from the same carrier jar ({@code dnnl-3.13-1.5.14-linux-x86_64.jar}) our native module
 * repackages; {@link LoadedLibraries} records which file the fork mapped and its sha256. The
 * preset's JNI library was built against JavaCPP 1.5.14 and runs here on JavaCPP 1.5.13 (the
 * version the OpenBLAS preset needs); only JNI method names and {@code Pointer} fields cross
 * that line. The intra-op thread count is set on JavaCPP's libgomp ({@code omp_set_num_threads},
 * called once through FFM: the preset has no binding for it) before anything runs.
 * Load it only in a JVM that never loads our natives: JMH forks one JVM per benchmark method.
 */
final class JniDnnl implements AutoCloseable {
    private final dnnl_engine engine;
    private final dnnl_stream stream;
    private final dnnl_primitive primitive;
    private final dnnl_memory[] memories;
    private final Pointer[] buffers;
    private final dnnl_exec_arg_t args;
    private final int count;
    private final String kernel;
    /** The output, {@link #floats()} long. */
    final FloatPointer dst;
    private final long dstFloats;

    private JniDnnl(Build b) {
        this.count = b.count;
        this.memories = b.memories;
        this.buffers = b.buffers;
        this.args = b.args;
        this.kernel = b.kernel;
        this.dst = b.dst;
        this.dstFloats = b.dstFloats;
        this.engine = b.engine;
        this.stream = b.stream;
        this.primitive = b.primitive;
    }

    /** An eltwise ReLU over {@code n} floats of {@code src}. */
    static JniDnnl relu(float[] src) {
        Build b = new Build();
        dnnl_memory_desc md = b.md(dnnl_a, src.length);
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_eltwise_forward_primitive_desc_create(pd, b.engine, dnnl_forward_inference, dnnl_eltwise_relu, md, md, 0f, 0f,
                b.attr), "dnnl_eltwise_forward_primitive_desc_create");
        b.arg(DNNL_ARG_SRC, md, new FloatPointer(src));
        b.arg(DNNL_ARG_DST, md, null);
        return b.finish(pd);
    }

    /**
     * A conv2d {@link LayerSpec} (padding k/2, stride, bias) on nchw {@code x}, PyTorch-layout
     * weights {@code w} [out, in, k, k] and bias {@code bias}, as {@link ConvSpot} describes.
     */
    static JniDnnl conv(LayerSpec s, float[] x, float[] w, float[] bias) {
        ConvSpot g = ConvSpot.of(s);
        Build b = new Build();
        dnnl_memory_desc src = b.md(dnnl_abcd, g.n(), g.in(), g.size(), g.size());
        dnnl_memory_desc dst = b.md(dnnl_abcd, g.n(), g.out(), g.outSize(), g.outSize());
        dnnl_memory_desc biasMd = b.md(dnnl_a, g.out());
        dnnl_memory_desc user = b.md(dnnl_abcd, g.out(), g.in(), g.k(), g.k());
        dnnl_memory_desc any = b.md(dnnl_format_tag_any, g.out(), g.in(), g.k(), g.k());
        long[] strides = {g.stride(), g.stride()}, dilates = {0, 0}, pad = {g.pad(), g.pad()};
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_convolution_forward_primitive_desc_create(pd, b.engine, dnnl_forward_inference, dnnl_convolution_direct,
                src, any, biasMd, dst, strides, dilates, pad, pad, b.attr), "dnnl_convolution_forward_primitive_desc_create");
        dnnl_memory_desc chosen = new dnnl_memory_desc();
        check(dnnl_memory_desc_clone(chosen, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)), "dnnl_memory_desc_clone");
        b.descs.add(chosen);
        BytePointer weights = b.reorder(user, new FloatPointer(w), chosen);
        b.arg(DNNL_ARG_SRC, src, new FloatPointer(x));
        b.arg(DNNL_ARG_WEIGHTS, chosen, weights);
        b.arg(DNNL_ARG_BIAS, biasMd, new FloatPointer(bias));
        b.arg(DNNL_ARG_DST, dst, null);
        return b.finish(pd);
    }

    /** One execution, waited for. */
    void run() {
        int status = dnnl_primitive_execute(primitive, stream, count, args);
        if (status != dnnl_success) check(status, "dnnl_primitive_execute");
        status = dnnl_stream_wait(stream);
        if (status != dnnl_success) check(status, "dnnl_stream_wait");
    }

    /** The implementation oneDNN chose, e.g. {@code brg_conv_fwd:avx512_core}. */
    String kernel() {
        return kernel;
    }

    long floats() {
        return dstFloats;
    }

    @Override
    public void close() {
        for (dnnl_memory m : memories) dnnl_memory_destroy(m);
        for (Pointer p : buffers) if (p != null) p.close();
        dnnl_primitive_destroy(primitive);
        dnnl_stream_destroy(stream);
        dnnl_engine_destroy(engine);
        args.close();
    }

    static void check(int status, String function) {
        if (status != dnnl_success) throw new IllegalStateException(function + " failed: status " + status + " (JNI, JavaCPP dnnl)");
    }

    /** Loads the preset once per JVM and gives JavaCPP's libgomp the benchmark's thread count. */
    private static final class Loaded {
        static {
            Loader.load(org.bytedeco.dnnl.global.dnnl.class);
            setOpenMpThreads(BenchThreads.get());
            LoadedLibraries.record("JNI (JavaCPP dnnl)");
        }

        static void ensure() {}

        private static void setOpenMpThreads(int n) {
            String gomp = LoadedLibraries.mappedPath("libgomp.so.1");
            try (Arena arena = Arena.ofConfined()) {
                MethodHandle set = Linker.nativeLinker().downcallHandle(
                        SymbolLookup.libraryLookup(Path.of(gomp), arena).find("omp_set_num_threads").orElseThrow(),
                        FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
                set.invokeExact(n);
            } catch (Throwable t) {
                throw new IllegalStateException("could not set OpenMP threads in " + gomp, t);
            }
        }
    }

    /** Everything made while building, closed here if a step fails. */
    private static final class Build {
        final dnnl_engine engine = new dnnl_engine();
        final dnnl_stream stream = new dnnl_stream();
        final dnnl_primitive_attr attr = new dnnl_primitive_attr();
        final dnnl_primitive primitive = new dnnl_primitive();
        final java.util.List<dnnl_memory_desc> descs = new java.util.ArrayList<>();
        final java.util.List<Integer> ids = new java.util.ArrayList<>();
        final java.util.List<dnnl_memory_desc> argDescs = new java.util.ArrayList<>();
        final java.util.List<Pointer> argBuffers = new java.util.ArrayList<>();
        int count;
        dnnl_memory[] memories;
        Pointer[] buffers;
        dnnl_exec_arg_t args;
        String kernel;
        FloatPointer dst;
        long dstFloats;

        Build() {
            Loaded.ensure();
            check(dnnl_engine_create(engine, dnnl_cpu, 0), "dnnl_engine_create");
            check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "dnnl_stream_create");
            check(dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create");
            check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "dnnl_primitive_attr_set_scratchpad_mode");
        }

        dnnl_memory_desc md(int tag, long... dims) {
            dnnl_memory_desc md = new dnnl_memory_desc();
            check(dnnl_memory_desc_create_with_tag(md, dims.length, dims, dnnl_f32, tag), "dnnl_memory_desc_create_with_tag");
            descs.add(md);
            return md;
        }

        /** An argument; a null buffer means "the output": allocated here, {@link #dst}. */
        void arg(int id, dnnl_memory_desc md, Pointer buffer) {
            ids.add(id);
            argDescs.add(md);
            argBuffers.add(buffer);
        }

        /** The user-layout weights reordered into {@code chosen}, once. */
        BytePointer reorder(dnnl_memory_desc user, FloatPointer weights, dnnl_memory_desc chosen) {
            BytePointer out = new BytePointer(Math.max(1, dnnl_memory_desc_get_size(chosen)));
            dnnl_primitive_desc rpd = new dnnl_primitive_desc();
            dnnl_primitive reorder = new dnnl_primitive();
            dnnl_memory from = new dnnl_memory(), to = new dnnl_memory();
            check(dnnl_reorder_primitive_desc_create(rpd, user, engine, chosen, engine, null), "dnnl_reorder_primitive_desc_create");
            check(dnnl_primitive_create(reorder, rpd), "dnnl_primitive_create (reorder)");
            check(dnnl_memory_create(from, user, engine, weights), "dnnl_memory_create");
            check(dnnl_memory_create(to, chosen, engine, out), "dnnl_memory_create");
            try (dnnl_exec_arg_t a = new dnnl_exec_arg_t(2)) {
                a.position(0).arg(DNNL_ARG_FROM).memory(from);
                a.position(1).arg(DNNL_ARG_TO).memory(to);
                check(dnnl_primitive_execute(reorder, stream, 2, a.position(0)), "dnnl_primitive_execute (reorder)");
            }
            check(dnnl_stream_wait(stream), "dnnl_stream_wait");
            dnnl_memory_destroy(from);
            dnnl_memory_destroy(to);
            dnnl_primitive_destroy(reorder);
            dnnl_primitive_desc_destroy(rpd);
            weights.close();
            return out;
        }

        JniDnnl finish(dnnl_primitive_desc pd) {
            try (PointerPointer<BytePointer> impl = new PointerPointer<>(1)) {
                check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl), "dnnl_primitive_desc_query");
                kernel = impl.getString(0);
            }
            dnnl_memory_desc scratchMd = new dnnl_memory_desc();
            check(dnnl_memory_desc_clone(scratchMd, dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)), "dnnl_memory_desc_clone");
            descs.add(scratchMd);
            check(dnnl_primitive_create(primitive, pd), "dnnl_primitive_create");
            dnnl_primitive_desc_destroy(pd);
            count = ids.size() + 1;
            memories = new dnnl_memory[count];
            buffers = new Pointer[count];
            args = new dnnl_exec_arg_t(count);
            for (int i = 0; i < count; i++) {
                boolean scratch = i == count - 1;
                dnnl_memory_desc md = scratch ? scratchMd : argDescs.get(i);
                Pointer buffer = scratch ? null : argBuffers.get(i);
                if (buffer == null) {
                    long bytes = dnnl_memory_desc_get_size(md);
                    buffer = scratch ? new BytePointer(Math.max(1, bytes)) : new FloatPointer(Math.max(1, bytes / Float.BYTES));
                    if (!scratch) {
                        dst = (FloatPointer) buffer;
                        dstFloats = bytes / Float.BYTES;
                    }
                }
                buffers[i] = buffer;
                memories[i] = new dnnl_memory();
                check(dnnl_memory_create(memories[i], md, engine, buffer), "dnnl_memory_create");
                args.position(i).arg(scratch ? DNNL_ARG_SCRATCHPAD : ids.get(i)).memory(memories[i]);
            }
            args.position(0);
            for (dnnl_memory_desc d : descs) dnnl_memory_desc_destroy(d);
            dnnl_primitive_attr_destroy(attr);
            return new JniDnnl(this);
        }
    }
}
