package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Native paths against the plain-Java reference on random inputs (fixed seeds) and shapes the
 * goldens do not cover: larger dot products, batches on both sides of AUTO's crossover, strided
 * and heap inputs. Tolerance as in {@link LayerConformanceTest}: {@code 1e-5 + 1e-4 |ref|}, with
 * values of order 1 and dot products up to 300 long (same reasoning: summation order, a few ulps).
 */
class NativeVsReferenceTest {

    static Stream<Arguments> layers() {
        return Stream.of(
                Arguments.of("Linear 300->200, 3 rows", (Supplier) () -> new Linear(300, 200, true), new long[] {3, 300}),
                Arguments.of("Linear 64->64, 200 rows (AUTO: oneDNN)", (Supplier) () -> new Linear(64, 64, true), new long[] {200, 64}),
                Arguments.of("Linear 33->17, [2,5,33]", (Supplier) () -> new Linear(33, 17, false), new long[] {2, 5, 33}),
                Arguments.of("Linear+GELU 257->129", (Supplier) () -> new Linear(257, 129, true, Activation.gelu("none")), new long[] {9, 257}),
                Arguments.of("Linear+LeakyReLU 40->30", (Supplier) () -> new Linear(40, 30, false, Activation.leakyRelu(0.05f)), new long[] {40}),
                Arguments.of("Linear+ELU 12->12", (Supplier) () -> new Linear(12, 12, true, Activation.elu(2f)), new long[] {131, 12}),
                Arguments.of("SiLU [4,1000]", (Supplier) SiLU::new, new long[] {4, 1000}),
                Arguments.of("GELU tanh [3,7,11]", (Supplier) () -> new GELU("tanh"), new long[] {3, 7, 11}),
                Arguments.of("Sigmoid rank 0", (Supplier) Sigmoid::new, new long[] {}),
                Arguments.of("Softmax dim 0 [300, 3]", (Supplier) () -> new Softmax(0), new long[] {300, 3}),
                Arguments.of("Softmax dim -2 [2,3,4,5,6]", (Supplier) () -> new Softmax(-2), new long[] {2, 3, 4, 5, 6}),
                Arguments.of("Softmax rank 0", (Supplier) () -> new Softmax(-1), new long[] {}),
                Arguments.of("MLP", (Supplier) () -> new Sequential(new Flatten(), new Linear(60, 40, true, Activation.relu()),
                        new Sequential(new Linear(40, 20, true), new Tanh()), new Linear(20, 10, false), new Softmax(1)),
                        new long[] {7, 3, 4, 5}));
    }

    interface Supplier extends java.util.function.Supplier<Module> {}

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void everyNativeBackendMatchesTheReference(String name, Supplier make, long[] shape) {
        try (Layer layer = (Layer) make.get(); Tensor x = random(shape, 11)) {
            randomiseParameters(layer, 12);
            try (Tensor ref = layer.forwardReference(x)) {
                for (Backend b : new Backend[] {Backend.AUTO, Backend.ONEDNN, Backend.OPENBLAS}) {
                    try (Tensor y = layer.forward(x, b)) {
                        assertClose(name + " on " + b, ref, y);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void offsetStridedAndHeapInputsGiveTheReferenceResult(String name, Supplier make, long[] shape) {
        if (shape.length == 0) return;
        long[] tall = shape.clone(), wide = shape.clone();
        tall[0] += 2;                   // rows 1..n of a taller tensor: contiguous, at an offset
        wide[wide.length - 1] += 3;     // columns 1..n of a wider one: strided
        try (Layer layer = (Layer) make.get(); Tensor t = random(tall, 13); Tensor w = random(wide, 15)) {
            randomiseParameters(layer, 14);
            Tensor offset = t.slice(0, 1, tall[0] - 1);
            Tensor strided = w.slice(-1, 1, wide[wide.length - 1] - 2);
            Tensor heap = Tensor.wrap(java.lang.foreign.MemorySegment.ofArray(offset.toFloatArray()), offset.dtype(), offset.shape());
            for (Tensor x : new Tensor[] {offset, strided, heap}) {
                try (Tensor ref = layer.forwardReference(x); Tensor y = layer.forward(x, Backend.ONEDNN);
                     Tensor z = layer.forward(x, Backend.OPENBLAS)) {
                    assertClose(name + " on " + x + (x == heap ? " (heap)" : ""), ref, y);
                    assertClose(name + " on " + x + (x == heap ? " (heap)" : ""), ref, z);
                }
            }
        }
    }

    static Tensor random(long[] shape, long seed) {
        Tensor t = Tensor.zeros(shape);
        var r = new SplittableRandom(seed);
        for (long i = 0; i < t.numel(); i++) t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextGaussian() * 2));
        return t;
    }

    static void randomiseParameters(Module m, long seed) {
        var r = new SplittableRandom(seed);
        for (Tensor p : m.parameters().values()) {
            double bound = 1 / Math.sqrt(p.dim(-1));
            for (long i = 0; i < p.numel(); i++) p.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-bound, bound));
        }
    }

    static void assertClose(String what, Tensor ref, Tensor y) {
        assertArrayEquals(ref.shape(), y.shape(), what + ": shape");
        float[] want = ref.toFloatArray(), got = y.toFloatArray();
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs((double) got[i] - want[i]);
            if (!(err <= LayerConformanceTest.ATOL + LayerConformanceTest.RTOL * Math.abs(want[i]))) {
                fail(what + ": element " + i + " of " + Arrays.toString(y.shape()) + " is " + got[i] + ", reference " + want[i]);
            }
        }
    }
}
