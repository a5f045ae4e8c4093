package dev.panamadnn.internal.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Arg} and {@link Args}: the ids are oneDNN's, an absent argument (null descriptor) is
 * skipped by {@link Primitive#execute(Arg...)} and {@link Execution} alike, and warm calls with an
 * absent argument still reuse their bound call. Uses a 6-element eltwise ReLU (oneDNN ignores an
 * argument it does not take, so a bias-shaped absent argument is a fair probe).
 */
class ArgsTest {
    private static final float[] IN = {-2f, -1f, 0f, 1f, 2f, 3f};
    /** {@link Ops#eltwise(String, float)}'s NaN-keeping ReLU is elu with alpha 0: {@code 0 * (e^x - 1)} is -0.0 for x < 0. */
    private static final float[] RELU = {-0f, -0f, 0f, 1f, 2f, 3f};

    private static Primitive relu(MemoryDescriptor md) {
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = Ops.eltwise(Ops.eltwise("RELU", 0f), md, attr, "ArgsTest relu")) {
            return Primitive.create(pd);
        }
    }

    @Test
    void idsAreOneDnns() {
        assertEquals(dnnl_h.DNNL_ARG_SRC(), Args.SRC);
        assertEquals(dnnl_h.DNNL_ARG_WEIGHTS(), Args.WEIGHTS);
        assertEquals(Args.SRC, Args.FROM, "oneDNN's reorder source is an alias of src");
        assertEquals(Args.DST, Args.TO, "and its destination of dst");
        assertEquals(dnnl_h.DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE() * 2 | dnnl_h.DNNL_ARG_SRC_1(), Args.postOpSrc1(1));
        assertTrue(Args.isWriteTarget(Args.DST));
        assertFalse(Args.isWriteTarget(Args.SRC));
        assertFalse(Args.isWriteTarget(Args.BIAS));
        assertEquals("post-op 0 src1", Args.name(Args.postOpSrc1(0)));
        assertEquals("weights", Args.name(Args.WEIGHTS));
    }

    @Test
    void aBufferWithoutADescriptorIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(4);
            var e = assertThrows(IllegalArgumentException.class, () -> Args.bias(null, b));
            assertTrue(e.getMessage().contains("bias"), e.getMessage());
        }
        assertFalse(Args.bias(null, null).present());
    }

    @Test
    void anAbsentArgumentIsSkippedAndWarmCallsStillReuseTheirBoundCall() {
        try (Arena arena = Arena.ofConfined(); MemoryDescriptor md = MemoryDescriptor.f32(Ops.plain1d(), IN.length);
             Primitive p = relu(md)) {
            MemorySegment x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, IN), y = arena.allocate(4L * IN.length, 64);
            p.execute(Args.src(md, x), Args.bias(null, null), Args.dst(md, y));
            assertArrayEquals(RELU, y.toArray(ValueLayout.JAVA_FLOAT));
            long memories = Execution.memoryObjectsCreated();
            for (int i = 0; i < 5; i++) {
                y.fill((byte) 0);
                p.execute(Args.src(md, x), Args.bias(null, null), Args.dst(md, y));
                assertArrayEquals(RELU, y.toArray(ValueLayout.JAVA_FLOAT), "call " + i);
            }
            // The same signature without the absent argument is the same bound call.
            p.execute(Args.src(md, x), Args.dst(md, y));
            assertEquals(memories, Execution.memoryObjectsCreated(), "no new oneDNN memory objects for warm calls");
        }
    }

    @Test
    void aPresentArgumentWithoutABufferOrAReadOnlyDestinationIsRefused() {
        try (Arena arena = Arena.ofConfined(); MemoryDescriptor md = MemoryDescriptor.f32(Ops.plain1d(), IN.length);
             Primitive p = relu(md)) {
            MemorySegment x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, IN), y = arena.allocate(4L * IN.length, 64);
            var e = assertThrows(IllegalArgumentException.class, () -> p.execute(Args.src(md, null), Args.dst(md, y)));
            assertTrue(e.getMessage().contains("argument src"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.execute(Args.src(md, x), Args.dst(md, y.asReadOnly())));
            assertTrue(e.getMessage().contains("destination (dst) must be writable"), e.getMessage());
        }
    }

    @Test
    void executionSkipsAbsentArgumentsAndBindsByPosition() {
        try (Arena arena = Arena.ofShared(); MemoryDescriptor md = MemoryDescriptor.f32(Ops.plain1d(), IN.length);
             Primitive p = relu(md); Stream stream = Stream.create(Engine.cpu())) {
            MemorySegment x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, IN), y = arena.allocate(4L * IN.length, 64);
            MemorySegment pad = arena.allocate(Math.max(1, p.scratchpadBytes()), 64);
            try (Execution e = new Execution(p, List.of(Args.src(md, x), Args.bias(null, null), Args.dst(md, null)), null, arena)) {
                e.bind(2, y);     // dst: its position in the list, counting the absent bias
                e.bind(3, pad);   // the scratchpad: the list's size
                assertThrows(IllegalArgumentException.class, () -> e.bind(1, y), "the absent bias has nothing to bind");
                e.execute(stream, x, y);
                stream.await();
                assertArrayEquals(RELU, y.toArray(ValueLayout.JAVA_FLOAT));
            }
        }
    }
}
