package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import org.junit.jupiter.api.Test;

/**
 * Layers refuse sizes they cannot hold with an IllegalArgumentException naming the layer, the
 * shape and the limit, before any allocation or native call (issue 11, defect 6). Nothing here
 * allocates more than a few bytes: every case fails in validation.
 */
class SizeLimitsTest {
    private static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
    }

    @Test
    void convWeightsPastTheLimitNameTheLayer() {
        // Before: ArithmeticException("long overflow") from the weight's element count.
        var e = assertThrows(IllegalArgumentException.class, () -> Conv2d.builder(65536, 65536, 65536, 65536).build());
        assertMentions(e, "Conv2d: weight", "[65536, 65536, 65536, 65536]", "281474976710656");
    }

    @Test
    void linearWeightsPastTheLimitNameTheLayer() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Linear(Integer.MAX_VALUE, Integer.MAX_VALUE, true));
        assertMentions(e, "Linear(in_features=2147483647", "weight", "281474976710656");
    }

    @Test
    void layerNormPast2To31NormalizedElementsIsAcceptedOrRefusedByTheLimitNotByAnIntCast() {
        // Before: ArithmeticException("integer overflow") from a float[] of ones for normalized size 2^31.
        // 2^47 elements are 2^49 bytes: refused by the byte limit, naming the layer.
        var e = assertThrows(IllegalArgumentException.class, () -> new LayerNorm(new long[] {1L << 47}, 1e-5, true));
        assertMentions(e, "LayerNorm: normalized_shape", "281474976710656");
        // Without affine parameters nothing is allocated: a normalized size past 2^31 is a valid layer.
        try (LayerNorm norm = new LayerNorm(new long[] {1L << 32}, 1e-5, false)) {
            assertArrayEquals(new long[] {2, 1L << 32}, norm.outputShape(2, 1L << 32));
        }
    }

    @Test
    void replicatePaddingPastAJavaArrayNamesTheLayerAndThePaddedInput() {
        // Before: an (int) cast in the padding code wrapped, and Tensor.of complained about its own shape.
        // A padded width of 2^31 - 6: within oneDNN's int, past a Java array (the padding copy is one).
        try (Conv1d conv = Conv1d.builder(1, 1, 1).padding(new int[] {2}, new int[] {Integer.MAX_VALUE - 12})
                .paddingMode(PaddingMode.REPLICATE).build();
             Tensor x = Tensor.zeros(1, 1, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> conv.forward(x));
            assertMentions(e, "Conv1d(1, 1", "replicate-padded input", "2147483639");
        }
        // The case, padding (2, 2^31 - 1): a padded width past what oneDNN takes.
        try (Conv1d conv = Conv1d.builder(1, 1, 1).padding(new int[] {2}, new int[] {Integer.MAX_VALUE})
                .paddingMode(PaddingMode.REPLICATE).build();
             Tensor x = Tensor.zeros(1, 1, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> conv.forward(x));
            assertMentions(e, "Conv1d(1, 1", "2147483653", "2147483647");
        }
    }

    @Test
    void kMaxPoolPastAJavaArrayNamesTheLayer() {
        // Before: ArithmeticException("integer overflow") from the dynamic k, (L - l) * S, and
        // from int casts of S. The k arithmetic no longer forms that product:
        try (KMaxPool1d pool = KMaxPool1d.dynamic(3, 1, 2)) {
            // ceil((L - l) * S / L) for S = 2^46: (L - l) * S no longer needs to fit a long.
            assertEquals(1L << 45, pool.k(1L << 46));
            assertArrayEquals(new long[] {1, 1L << 45}, pool.outputShape(1, 1L << 46));
        }
        try (KMaxPool1d wide = KMaxPool1d.dynamic(3, 1, Integer.MAX_VALUE)) {
            long s = 1L << 40;   // before: multiplyExact((L - l) * S) overflowed for this
            assertEquals(s - Math.floorDiv(s, Integer.MAX_VALUE), wide.k(s));
        }
        // ...and an input past a Java array (both paths select in one) is refused naming the layer.
        try (KMaxPool1d pool = new KMaxPool1d(2); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            var big = Tensor.wrap(arena.allocate(4).reinterpret(4L << 32), dev.panamadnn.DataType.F32, 1, 1L << 32);
            var e = assertThrows(IllegalArgumentException.class, () -> pool.forward(big));
            assertMentions(e, "KMaxPool1d(k=2)", "2147483639");
        }
    }

    @Test
    void convTransposeOutputShapeNearTheLongRangeIsRefusedNotWrapped() {
        // Before: (in - 1) * stride wrapped silently past Long.MAX_VALUE.
        try (ConvTranspose2d up = ConvTranspose2d.builder(1, 1, 3).stride(1 << 30).build()) {
            var e = assertThrows(IllegalArgumentException.class, () -> up.outputShape(1, 1, 1L << 40, 1));
            assertMentions(e, "ConvTranspose2d(1, 1", "(in - 1) * stride on a spatial dim", "281474976710656");
        }
    }

    @Test
    void convBatchBeyondOneDnnsIntIsRefusedBeforeThePrimitiveIsCreated() {
        // oneDNN 3.13 truncates a batch of 2^32 to 0 and divides by it while creating the primitive
        // (SIGFPE, measured): refused in Java, by outputShape and by compile alike.
        try (Conv2d conv = new Conv2d(1, 1, 1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> conv.outputShape(1L << 32, 1, 1, 1));
            assertMentions(e, "Conv2d(1, 1", "2147483647");
            try (Sequential model = new Sequential(new Conv2d(1, 1, 1))) {
                assertThrows(IllegalArgumentException.class, () -> CompiledModel.compile(model, 1L << 32, 1, 1, 1));
            }
        }
    }

    @Test
    void aGraphsBatchBeyondOneDnnsIntIsRefusedBeforeAnyPrimitiveIsCreated() {
        // the same SIGFPE through a graph (an imported model's path), with one thread and with two (where the batch could run in parts)
        var g = dev.panamadnn.graph.Graph.builder("g");
        g.input("x", dev.panamadnn.graph.Shape.batched("N", 1, 1, 1));
        try (Tensor w = Tensor.of(new float[] {1f}, 1, 1, 1, 1)) {
            g.node("Conv", "y", dev.panamadnn.graph.Attributes.empty(), "x", g.initializer("w", w));
            var graph = g.output("y").build();
            for (int threads : new int[] {1, 2}) {
                var e = assertThrows(IllegalArgumentException.class, () -> CompiledModel.compile(graph,
                        dev.panamadnn.compile.CompileOptions.defaults().withThreads(threads), java.util.Map.of("x", new long[] {1L << 32, 1, 1, 1})));
                assertMentions(e, "graph g, input x", "4294967296", "2147483647");
            }
        }
    }

    @Test
    void outputShapeOfAClosedLayerIsAnIllegalState() {
        Linear linear = new Linear(4, 2, true);
        linear.close();
        // Before: Linear.outputShape answered on a closed layer.
        var e = assertThrows(IllegalStateException.class, () -> linear.outputShape(1, 4));
        assertMentions(e, "Linear(in_features=4", "closed");
    }

    @Test
    void anOutputPastTheLimitIsRefusedNamingTheLayerBeforeItIsAllocated() {
        // A 2^40-float input view over memory that is never read: forward refuses the 2^60-float output first.
        try (Linear linear = new Linear(1, 1 << 20, false); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            var big = Tensor.wrap(arena.allocate(4).reinterpret(4L << 40), dev.panamadnn.DataType.F32, 1L << 40, 1);
            var e = assertThrows(IllegalArgumentException.class, () -> linear.forward(big));
            assertMentions(e, "Linear(in_features=1, out_features=1048576", "output", "[1099511627776, 1048576]", "281474976710656");
        }
    }

    @Test
    void theReferencePathRefusesWhatAJavaArrayCannotHoldNamingTheLayer() {
        try (ReLU relu = new ReLU(); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            // A 2^31-element view over memory that is never read: validation refuses it first.
            var big = Tensor.wrap(arena.allocate(4).reinterpret(4L << 31), dev.panamadnn.DataType.F32, 1L << 31);
            var e = assertThrows(IllegalArgumentException.class, () -> relu.forward(big, Backend.REFERENCE));
            assertMentions(e, "ReLU", "2147483639");
        }
    }
}
