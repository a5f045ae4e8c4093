package dev.panamadnn.bindings;

import static dev.panamadnn.bindings.RawDnnl.check;
import static dev.panamadnn.bindings.RawDnnl.dims;
import static dev.panamadnn.bindings.RawDnnl.execute;
import static dev.panamadnn.bindings.RawDnnl.memory;
import static dev.panamadnn.bindings.RawDnnl.out;
import static dev.panamadnn.bindings.RawDnnl.plainDesc;
import static dev.panamadnn.bindings.dnnl.dnnl_h.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.bindings.dnnl.dnnl_version_t;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** oneDNN primitives created and executed through the raw generated bindings only. */
class OneDnnRawTest {
    static MemorySegment engine, stream;

    @BeforeAll
    static void createEngineAndStream() {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment e = out(tmp), s = out(tmp);
            check(dnnl_engine_create(e, dnnl_cpu(), 0), "dnnl_engine_create");
            engine = e.get(ValueLayout.ADDRESS, 0);
            check(dnnl_stream_create(s, engine, dnnl_stream_default_flags()), "dnnl_stream_create");
            stream = s.get(ValueLayout.ADDRESS, 0);
        }
    }

    @AfterAll
    static void destroy() {
        check(dnnl_stream_destroy(stream), "dnnl_stream_destroy");
        check(dnnl_engine_destroy(engine), "dnnl_engine_destroy");
    }

    @Test
    void versionAndIsaAreReported() {
        MemorySegment v = dnnl_version();
        assertEquals(DNNL_VERSION_MAJOR(), dnnl_version_t.major(v), "header and library major versions");
        assertTrue(dnnl_version_t.minor(v) >= 0);
        String hash = dnnl_version_t.hash(v).getString(0);
        assertTrue(!hash.isEmpty(), "a build hash");
        int isa = dnnl_get_effective_cpu_isa();
        assertTrue(isa != dnnl_cpu_isa_default(), "effective ISA is resolved to a concrete one, got " + isa);
        assertEquals("success", dnnl_status2str(dnnl_success()).getString(0));
        assertEquals("invalid_arguments", dnnl_status2str(dnnl_invalid_arguments()).getString(0));
    }

    @Test
    void eltwiseReluWithUserScratchpadMatchesReference() {
        long[] shape = {2, 3, 4, 5};
        int count = 2 * 3 * 4 * 5;
        var rnd = new SplittableRandom(7);
        float[] x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float) (rnd.nextDouble() * 4 - 2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment desc = plainDesc(arena, dnnl_nchw(), shape);
            MemorySegment attr = out(arena);
            check(dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create");
            MemorySegment attrs = attr.get(ValueLayout.ADDRESS, 0);
            check(dnnl_primitive_attr_set_scratchpad_mode(attrs, dnnl_scratchpad_mode_user()), "set_scratchpad_mode");
            MemorySegment pd = out(arena);
            check(dnnl_eltwise_forward_primitive_desc_create(pd, engine, dnnl_forward_inference(), dnnl_eltwise_relu(),
                    desc, desc, 0f, 0f, attrs), "dnnl_eltwise_forward_primitive_desc_create");
            MemorySegment pdh = pd.get(ValueLayout.ADDRESS, 0);
            MemorySegment prim = out(arena);
            check(dnnl_primitive_create(prim, pdh), "dnnl_primitive_create");
            MemorySegment primitive = prim.get(ValueLayout.ADDRESS, 0);

            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment dst = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            MemorySegment scratchMd = dnnl_primitive_desc_query_md(pdh, dnnl_query_scratchpad_md(), 0);
            MemorySegment scratch = arena.allocate(Math.max(1, dnnl_memory_desc_get_size(scratchMd)), 64);
            MemorySegment srcMem = memory(arena, desc, engine, src);
            MemorySegment dstMem = memory(arena, desc, engine, dst);
            MemorySegment scratchMem = memory(arena, scratchMd, engine, scratch);
            execute(arena, primitive, stream, DNNL_ARG_SRC(), srcMem, DNNL_ARG_DST(), dstMem,
                    DNNL_ARG_SCRATCHPAD(), scratchMem);

            float[] y = dst.toArray(ValueLayout.JAVA_FLOAT);
            for (int i = 0; i < count; i++) {
                float expected = Math.max(x[i], 0f);
                if (y[i] != expected) fail("relu[" + i + "] of " + x[i] + " = " + y[i] + ", expected " + expected);
            }
            for (MemorySegment m : new MemorySegment[] {srcMem, dstMem, scratchMem}) check(dnnl_memory_destroy(m), "dnnl_memory_destroy");
            check(dnnl_primitive_destroy(primitive), "dnnl_primitive_destroy");
            check(dnnl_primitive_desc_destroy(pdh), "dnnl_primitive_desc_destroy");
            check(dnnl_primitive_attr_destroy(attrs), "dnnl_primitive_attr_destroy");
            check(dnnl_memory_desc_destroy(desc), "dnnl_memory_desc_destroy");
        }
    }

    /**
     * A 3x3 convolution, stride 2, padding 1, with bias, on plain NCHW/OIHW buffers.
     * Tolerance 1e-5 relative to sum|w*x|: each output is an 18-term float sum in another order.
     */
    @Test
    void convolutionWithBiasStrideAndPaddingMatchesReference() {
        int n = 2, ic = 2, ih = 7, iw = 6, oc = 3, kh = 3, kw = 3, stride = 2, pad = 1;
        int oh = (ih + 2 * pad - kh) / stride + 1, ow = (iw + 2 * pad - kw) / stride + 1;
        var rnd = new SplittableRandom(11);
        float[] x = randoms(rnd, n * ic * ih * iw), w = randoms(rnd, oc * ic * kh * kw), b = randoms(rnd, oc);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment srcMd = plainDesc(arena, dnnl_nchw(), n, ic, ih, iw);
            MemorySegment wMd = plainDesc(arena, dnnl_oihw(), oc, ic, kh, kw);
            MemorySegment bMd = plainDesc(arena, dnnl_x(), oc);
            MemorySegment dstMd = plainDesc(arena, dnnl_nchw(), n, oc, oh, ow);
            MemorySegment pd = out(arena);
            check(dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference(),
                    dnnl_convolution_direct(), srcMd, wMd, bMd, dstMd, dims(arena, stride, stride), dims(arena, 0, 0),
                    dims(arena, pad, pad), dims(arena, pad, pad), MemorySegment.NULL),
                    "dnnl_convolution_forward_primitive_desc_create");
            MemorySegment pdh = pd.get(ValueLayout.ADDRESS, 0);
            MemorySegment prim = out(arena);
            check(dnnl_primitive_create(prim, pdh), "dnnl_primitive_create");
            MemorySegment primitive = prim.get(ValueLayout.ADDRESS, 0);
            MemorySegment dst = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * oc * oh * ow);
            MemorySegment srcMem = memory(arena, srcMd, engine, arena.allocateFrom(ValueLayout.JAVA_FLOAT, x));
            MemorySegment wMem = memory(arena, wMd, engine, arena.allocateFrom(ValueLayout.JAVA_FLOAT, w));
            MemorySegment bMem = memory(arena, bMd, engine, arena.allocateFrom(ValueLayout.JAVA_FLOAT, b));
            MemorySegment dstMem = memory(arena, dstMd, engine, dst);
            execute(arena, primitive, stream, DNNL_ARG_SRC(), srcMem, DNNL_ARG_WEIGHTS(), wMem, DNNL_ARG_BIAS(), bMem,
                    DNNL_ARG_DST(), dstMem);
            float[] y = dst.toArray(ValueLayout.JAVA_FLOAT);
            for (int in = 0; in < n; in++)
                for (int o = 0; o < oc; o++)
                    for (int r = 0; r < oh; r++)
                        for (int c = 0; c < ow; c++) {
                            double sum = b[o], mag = Math.abs(b[o]);
                            for (int i = 0; i < ic; i++)
                                for (int p = 0; p < kh; p++)
                                    for (int q = 0; q < kw; q++) {
                                        int yy = r * stride - pad + p, xx = c * stride - pad + q;
                                        if (yy < 0 || yy >= ih || xx < 0 || xx >= iw) continue;
                                        double t = (double) w[((o * ic + i) * kh + p) * kw + q] * x[((in * ic + i) * ih + yy) * iw + xx];
                                        sum += t;
                                        mag += Math.abs(t);
                                    }
                            float got = y[((in * oc + o) * oh + r) * ow + c];
                            if (Math.abs(got - sum) > 1e-5 * mag + 1e-6) {
                                fail("conv out[" + in + "," + o + "," + r + "," + c + "] = " + got + ", reference " + sum);
                            }
                        }
            for (MemorySegment m : new MemorySegment[] {srcMem, wMem, bMem, dstMem}) check(dnnl_memory_destroy(m), "dnnl_memory_destroy");
            check(dnnl_primitive_destroy(primitive), "dnnl_primitive_destroy");
            check(dnnl_primitive_desc_destroy(pdh), "dnnl_primitive_desc_destroy");
            for (MemorySegment md : new MemorySegment[] {srcMd, wMd, bMd, dstMd}) check(dnnl_memory_desc_destroy(md), "dnnl_memory_desc_destroy");
        }
    }

    @Test
    void invalidArgumentsComeBackAsAStatusNotACrash() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment md = out(arena);
            // ndims beyond DNNL_MAX_NDIMS: oneDNN must refuse it with a status.
            int status = dnnl_memory_desc_create_with_tag(md, DNNL_MAX_NDIMS() + 1, dims(arena, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), dnnl_f32(), dnnl_a());
            assertEquals(dnnl_invalid_arguments(), status, () -> "status " + dnnl_status2str(status).getString(0));
        }
    }

    private static float[] randoms(SplittableRandom rnd, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }
}
