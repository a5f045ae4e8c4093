package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code ...Into} calls of the modules that are not one-input {@link Layer}s (Add, the
 * broadcast ops, cat, Embedding, FiLM, FiLMBlock, MultiheadAttention, TransformerEncoderLayer,
 * TransformerEncoder): what they refuse before any native call (a wrong shape naming module,
 * expected and given; an out overlapping an input; a freed, read-only or strided out), and that a
 * heap out receives by copy exactly what an off-heap out gets from the kernel.
 */
class ModuleForwardIntoValidationTest {
    /** One module's into call: its label, output shape, inputs, and the call itself into a given out. */
    record Case(String name, long[] shape, List<Tensor> inputs, Consumer<Tensor> into) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<AutoCloseable> OWNED = new ArrayList<>();
    private static List<Case> cases;

    private static Tensor ramp(long... shape) {
        int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 37) % 23 - 11) / 8f;
        Tensor t = Tensor.of(v, shape);
        OWNED.add(t);
        return t;
    }

    private static <T extends AutoCloseable> T own(T m) {
        OWNED.add(m);
        return m;
    }

    private static void build() {
        List<Case> c = new ArrayList<>();
        Tensor a = ramp(2, 3, 4), b = ramp(2, 3, 4), row = ramp(1, 3, 1);
        Add add = own(new Add());
        c.add(new Case("Add", new long[] {2, 3, 4}, List.of(a, b), out -> add.forwardInto(a, b, out)));
        c.add(new Case("Broadcast.MUL", new long[] {2, 3, 4}, List.of(a, row),
                out -> Broadcast.applyInto(Broadcast.Op.MUL, a, row, out, Backend.AUTO)));
        Tensor c2 = ramp(2, 2, 4);
        c.add(new Case("cat", new long[] {2, 5, 4}, List.of(a, c2), out -> Concat.catInto(1, out, a, c2)));
        Embedding emb = own(new Embedding(10, 4, null));
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
        OWNED.add(arena);
        Tensor ids = Tensor.allocate(arena, DataType.I64, 2, 3);
        for (int i = 0; i < 6; i++) ids.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, i + 1);
        c.add(new Case("Embedding", new long[] {2, 3, 4}, List.of(ids), out -> emb.forwardInto(ids, out)));
        FiLM film = own(new FiLM(5, 3));
        Tensor x = ramp(2, 3, 4, 4), z = ramp(2, 5);
        c.add(new Case("FiLM", new long[] {2, 3, 4, 4}, List.of(x, z), out -> film.forwardInto(x, z, out)));
        FiLMBlock block = own(new FiLMBlock(3, 3, 5));
        c.add(new Case("FiLMBlock", new long[] {2, 3, 4, 4}, List.of(x, z), out -> block.forwardInto(x, z, out)));
        MultiheadAttention mha = own(new MultiheadAttention(8, 2, 0.0, true, false, false, null, null, true));
        Tensor q = ramp(2, 3, 8), kv = ramp(2, 5, 8);
        c.add(new Case("MultiheadAttention", new long[] {2, 3, 8}, List.of(q, kv), out -> mha.forwardInto(q, kv, kv, out)));
        TransformerEncoderLayer layer = own(new TransformerEncoderLayer(8, 2, 16, 0.0, "relu", 1e-5, true, false));
        c.add(new Case("TransformerEncoderLayer", new long[] {2, 3, 8}, List.of(q), out -> layer.forwardInto(q, out)));
        TransformerEncoder enc = own(new TransformerEncoder(() -> new TransformerEncoderLayer(8, 2, 16, 0.0, "gelu", 1e-5, true, true), 2,
                new LayerNorm(new long[] {8}, 1e-5, true)));
        c.add(new Case("TransformerEncoder", new long[] {2, 3, 8}, List.of(q), out -> enc.forwardInto(q, out)));
        cases = c;
    }

    @AfterAll
    static void close() throws Exception {
        for (int i = OWNED.size() - 1; i >= 0; i--) OWNED.get(i).close();
    }

    /** Built afresh for each test method (closed after all). */
    static List<Case> cases() {
        build();
        return cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void wrongShapeIsRefusedNamingExpectedAndGiven(Case c) {
        long[] wrong = c.shape().clone();
        wrong[wrong.length - 1]++;
        try (Tensor out = Tensor.zeros(wrong)) {
            var e = assertThrows(IllegalArgumentException.class, () -> c.into().accept(out));
            assertTrue(e.getMessage().contains("expected out of shape " + Arrays.toString(c.shape())) && e.getMessage().contains(
                    "got " + Arrays.toString(wrong)), e.getMessage());
            assertTrue(out.toFloatArray()[0] == 0f, "a refused out is untouched");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void anOutOverlappingAnInputIsRefused(Case c) {
        Tensor input = c.inputs().get(0);
        if (input.dtype() != DataType.F32 || !Arrays.equals(input.shape(), c.shape())) return;   // no input of out's kind to alias
        var e = assertThrows(IllegalArgumentException.class, () -> c.into().accept(input));
        assertTrue(e.getMessage().contains("overlaps input 0") && e.getMessage().contains("cannot run in place"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void freedReadOnlyAndStridedOutsAreRefused(Case c) {
        Tensor freed = Tensor.zeros(c.shape());
        freed.close();
        var s = assertThrows(IllegalStateException.class, () -> c.into().accept(freed));
        assertTrue(s.getMessage().contains("expected a live out tensor"), s.getMessage());
        var n = assertThrows(IllegalArgumentException.class, () -> c.into().accept(null));
        assertTrue(n.getMessage().contains("out must not be null"), n.getMessage());
        try (Tensor backing = Tensor.zeros(c.shape())) {
            Tensor readOnly = Tensor.wrap(backing.segment().asReadOnly(), DataType.F32, c.shape());
            var r = assertThrows(IllegalArgumentException.class, () -> c.into().accept(readOnly));
            assertTrue(r.getMessage().contains("expected a writable out"), r.getMessage());
        }
        long[] wide = c.shape().clone();
        wide[wide.length - 1] *= 2;
        try (Tensor w = Tensor.zeros(wide)) {
            Tensor strided = w.slice(wide.length - 1, 0, c.shape()[c.shape().length - 1]);
            var e = assertThrows(IllegalArgumentException.class, () -> c.into().accept(strided));
            assertTrue(e.getMessage().contains("expected a contiguous out"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aHeapOutReceivesWhatTheKernelWritesOffHeap(Case c) {
        try (Tensor direct = Tensor.zeros(c.shape())) {
            direct.segment().fill((byte) 0xFF);   // NaN: an element left unwritten fails
            c.into().accept(direct);
            float[] heap = new float[(int) direct.numel()];
            Arrays.fill(heap, Float.NaN);
            c.into().accept(Tensor.wrap(MemorySegment.ofArray(heap), DataType.F32, c.shape()));
            float[] want = direct.toFloatArray();
            for (float v : want) assertTrue(!Float.isNaN(v), c + ": an element was left unwritten");
            assertArrayEquals(want, heap, c + ": a heap out gets the same values, by copy");
        }
    }
}
