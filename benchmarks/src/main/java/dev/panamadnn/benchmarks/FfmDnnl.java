package dev.panamadnn.benchmarks;

import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.Engine;
import dev.panamadnn.internal.dnnl.Execution;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.Stream;
import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One oneDNN primitive through our FFM bindings, run the way compiled models run theirs
 * ({@link Execution}: memory objects created once and bound, per call {@code
 * dnnl_primitive_execute} + {@code dnnl_stream_wait}, both status-checked): the FFM side of the
 * binding comparison, built exactly like {@link JniDnnl} builds the JNI side (user scratchpad,
 * weights reordered once into the layout the primitive chose). Uses java-api's internal oneDNN
 * wrappers (public classes in an unexported package, reachable on the class path) so the
 * benchmark measures our code, not a copy of it.
 */
final class FfmDnnl implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Stream stream;
    private Execution execution;
    private String kernel;
    /** The output buffer. */
    MemorySegment dst;

    private FfmDnnl() {
        ThreadControl.applyToCurrentThread();
        stream = own(Stream.create(Engine.cpu()));
        LoadedLibraries.record("FFM (ours)");
    }

    /** An eltwise ReLU over the floats of {@code src}. */
    static FfmDnnl relu(float[] src) {
        FfmDnnl f = new FfmDnnl();
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            MemoryDescriptor md = f.own(MemoryDescriptor.f32(Ops.plain(1), src.length));
            // oneDNN's own eltwise_relu, the kernel the JNI and C harnesses call (the layers use another formulation, see Ops.eltwise)
            Ops.EltwiseOp relu = new Ops.EltwiseOp(dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_eltwise_relu(), 0f, 0f);
            try (PrimitiveDescriptor pd = Ops.eltwise(relu, md, attr, "ReLU f32[" + src.length + "]")) {
                f.bind(pd, Args.src(md, f.arena.allocateFrom(ValueLayout.JAVA_FLOAT, src)), Args.dst(md, null));
            }
            return f;
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** A conv2d {@link LayerSpec} with bias on nchw {@code x}, PyTorch-layout {@code w} and {@code bias} ({@link ConvSpot}). */
    static FfmDnnl conv(LayerSpec s, float[] x, float[] w, float[] bias) {
        ConvSpot g = ConvSpot.of(s);
        FfmDnnl f = new FfmDnnl();
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            MemoryDescriptor src = f.own(MemoryDescriptor.f32(ConvOps.rowMajor(4), g.n(), g.in(), g.size(), g.size()));
            MemoryDescriptor dst = f.own(MemoryDescriptor.f32(ConvOps.rowMajor(4), g.n(), g.out(), g.outSize(), g.outSize()));
            MemoryDescriptor biasMd = f.own(MemoryDescriptor.f32(ConvOps.rowMajor(1), g.out()));
            long[] strides = {g.stride(), g.stride()}, pad = {g.pad(), g.pad()};
            try (MemoryDescriptor user = MemoryDescriptor.f32(ConvOps.rowMajor(4), g.out(), g.in(), g.k(), g.k());
                 MemoryDescriptor any = MemoryDescriptor.f32(ConvOps.anyFormat(), g.out(), g.in(), g.k(), g.k());
                 PrimitiveDescriptor pd = ConvOps.convolution(src, any, biasMd, dst, strides, new long[] {0, 0}, pad, pad, attr, s.label())) {
                MemoryDescriptor chosen = f.own(ConvOps.chosenWeights(pd));
                MemorySegment weights = f.arena.allocate(Math.max(1, chosen.byteSize()), 64);
                try (PrimitiveDescriptor rpd = ConvOps.reorder(user, chosen, attr, "weights reorder");
                     Primitive reorder = Primitive.create(rpd)) {
                    reorder.execute(Args.from(user, f.arena.allocateFrom(ValueLayout.JAVA_FLOAT, w)), Args.to(chosen, weights));
                }
                f.bind(pd, Args.src(src, f.arena.allocateFrom(ValueLayout.JAVA_FLOAT, x)), Args.weights(chosen, weights),
                        Args.bias(biasMd, f.arena.allocateFrom(ValueLayout.JAVA_FLOAT, bias)), Args.dst(dst, null));
            }
            return f;
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Creates the primitive and binds it once; the argument with a null buffer is the output, allocated here as {@link #dst}. */
    private void bind(PrimitiveDescriptor pd, Arg... args) {
        kernel = pd.implementation();
        Primitive primitive = own(Primitive.create(pd));
        List<Arg> bound = new ArrayList<>();
        for (Arg a : args) {
            if (a.buf() == null) a = new Arg(a.id(), a.md(), dst = arena.allocate(Math.max(1, a.md().byteSize()), 64));
            bound.add(a);
        }
        MemorySegment scratchpad = arena.allocate(Math.max(1, primitive.scratchpadBytes()), 64);
        execution = own(new Execution(primitive, bound, scratchpad, arena));
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    /** One execution, waited for. */
    void run() {
        execution.execute(stream);
        stream.await();
    }

    /** The implementation oneDNN chose, e.g. {@code brg_conv_fwd:avx512_core}. */
    String kernel() {
        return kernel;
    }

    @Override
    public void close() {
        // Reverse order: the execution's memory objects before the primitive, descriptors last.
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + owned.get(i), e);
            }
        }
        arena.close();
    }
}
