package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AvgPool2d;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Winograd's guard: an input value that is not finite, or beyond {@link Winograd#GUARD_LIMIT} in
 * magnitude, must reach exactly the outputs it reaches in the direct convolution (which are the
 * ones it reaches in PyTorch: a 3x3 neighbourhood per layer). Without the guard a Winograd tile mixes
 * its 6x6 inputs before the products, so one NaN spread to the whole 4x4 output tile (up to 4 tiles
 * for a pixel on a tile border), a 3e38 input overflowed in the input transform, and a 1e37 input left
 * rounding errors of about 1e29 in every output of its tiles. The oracle is the same plan compiled
 * with Winograd off (oneDNN's direct convolutions): non-finite outputs must sit at the same places
 * with the same value (NaN, +Inf, -Inf), finite ones agree within {@code 1e-4 * S + 1e-5 * |direct|},
 * S the largest |output| of the direct plan on the same input without the injected values (the
 * tolerance CompiledModelTest uses for Winograd vs direct on ordinary inputs, plus a relative term
 * for the huge outputs near a huge input).
 *
 * <p>Every model starts with {@code AvgPool2d(1)} (an identity that gives the Winograd step a plan
 * buffer to read: a convolution reading the caller's input directly is never Winograd) and has no
 * activation between the input and the first Winograd step, so the injected value reaches that step as it is.
 */
class WinogradGuardTest {
    /** A model, the input shape it is compiled for, and how many Winograd steps it should have. */
    record Net(String name, Supplier<Module> model, long[] shape, int winogradSteps) {
        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    private static final Net SINGLE = new Net("one 3x3 conv, no activation",
            () -> new Sequential(new AvgPool2d(1), Conv2d.builder(16, 16, 3).padding(1).build()), new long[] {2, 16, 13, 15}, 1);
    private static final Net BLOCK = new Net("3x3 conv + ReLU, BasicBlock (bn + ReLU; bn + sum + ReLU)",
            () -> new Sequential(new AvgPool2d(1), Conv2d.builder(16, 16, 3).padding(1).build(), new ReLU(), new BasicBlock(16, 16)),
            new long[] {2, 16, 13, 15}, 3);
    /** 3 x 15 x 15 = 675 tiles in two chunks: the sum step's shortcut must survive until the guard has decided. */
    private static final Net CHUNKED = new Net("BasicBlock in two chunks of tiles",
            () -> new Sequential(new AvgPool2d(1), new BasicBlock(16, 16)), new long[] {3, 16, 60, 58}, 2);

    /** Element (n, c, y, x) of an NCHW input and the value put there. */
    record Poke(int n, int c, int y, int x, float value) {}

    static Stream<Arguments> cases() {
        // (1, 5, 4, 8): input row 4 and column 8 lie in two tiles each (tiles read rows 4t-1 .. 4t+4), the worst place for Winograd.
        List<Net> nets = List.of(SINGLE, BLOCK, CHUNKED);
        Stream.Builder<Arguments> all = Stream.builder();
        for (Net net : nets) {
            int last = (int) net.shape()[0] - 1;   // the last image: in the second chunk of CHUNKED
            for (float v : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e37f, -1e37f, 3e38f}) {
                all.add(Arguments.of(net, List.of(new Poke(last, 5, 4, 8, v)), Float.toString(v)));
            }
            all.add(Arguments.of(net, List.of(new Poke(0, 3, 0, 0, 3e38f), new Poke(last, 9, 7, 6, -3e38f), new Poke(last, 2, 12, 14, 3e38f)),
                    "3e38 pixels at a corner, inside and at the far edge"));
        }
        return all.build();
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("cases")
    void anExceptionalInputReachesTheOutputsItReachesInTheDirectPlan(Net net, List<Poke> pokes, String what) {
        Module m = net.model().get();
        CompiledModelTest.randomize(m, 31);
        long[] shape = net.shape();
        try (m; CompiledModel wino = CompiledModel.compile(m, shape).warmup();
             CompiledModel direct = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), shape);
             Tensor clean = CompiledModelTest.randomInput(32, shape); Tensor x = CompiledModelTest.randomInput(32, shape);
             Tensor cleanDirect = direct.run(clean)) {
            assertEquals(net.winogradSteps(), wino.steps().stream().filter(s -> s.contains("winograd")).count(), wino.steps().toString());
            if (net == CHUNKED && pokes.stream().anyMatch(p -> Float.isNaN(p.value()))) {
                // Here the NaN also reaches the sum step through its shortcut, which is added after the products: the Winograd
                // output transform's ReLU keeps it (Java's max, PyTorch's relu), oneDNN's relu post-op in the direct plan makes
                // it 0 until issue 11's ReLU part lands; the oracle is wrong there, not the guard.
                Assumptions.assumeTrue(directReluKeepsNaN(), "the direct plan's ReLU post-op maps NaN to 0 (issue 11, defect 7)");
            }
            for (Poke p : pokes) {
                long at = ((p.n() * shape[1] + p.c()) * shape[2] + p.y()) * shape[3] + p.x();
                x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, at, p.value());
            }
            float scale = 0;
            for (float v : cleanDirect.toFloatArray()) scale = Math.max(scale, Math.abs(v));
            try (Tensor ordinary = wino.run(clean)) {
                assertEquals(0, wino.winogradFallbacks(), "the guard fired on an ordinary input");
            }
            try (Tensor expected = direct.run(x); Tensor actual = wino.run(x)) {
                assertSameReach(expected.toFloatArray(), actual.toFloatArray(), 1e-4 * scale, shape, net + " with " + what);
                assertTrue(wino.winogradFallbacks() > 0, "the guard did not fire");
            }
        }
    }

    /**
     * The scan finds the largest magnitude wherever it sits (in a block of 8 vectors or in the tail, from an
     * offset), whatever its sign: the bits of |v|, with NaN of either sign and -Inf above every finite value.
     */
    @Test
    void theScanFindsTheLargestMagnitudeAnywhereWhateverItsSign() {
        int lanes = WinogradKernels.LANES;
        long from = lanes, to = from + 8 * lanes * 2 + 3 * lanes;   // two blocks of 8 vectors, then 3 single ones
        float[] values = {1e37f, -1e37f, -3e38f, 1025f, -1025f, Float.NaN, Float.intBitsToFloat(0xffc00001), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, -0f, -Float.MIN_VALUE};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment x = a.allocate(to * 4, 64);
            for (float v : values) {
                int expected = Float.floatToRawIntBits(v) & 0x7fffffff;
                for (long at = from; at < to; at++) {
                    x.fill((byte) 0);
                    x.setAtIndex(ValueLayout.JAVA_FLOAT, at, v);
                    x.setAtIndex(ValueLayout.JAVA_FLOAT, (at + 7) % (to - from) + from, -0.5f);   // a smaller value elsewhere
                    int bits = WinogradKernels.maxMagnitudeBits(x, from, to);
                    int want = Math.max(expected, Float.floatToRawIntBits(0.5f));
                    if (bits != want) {
                        assertEquals(want, bits, "|" + v + "| at float " + at + " of [" + from + ", " + to + ")");
                    }
                }
                x.fill((byte) 0);
                x.setAtIndex(ValueLayout.JAVA_FLOAT, 0, v);   // before the range: not seen
                assertEquals(0, WinogradKernels.maxMagnitudeBits(x, from, to), "a value before the range");
            }
        }
    }

    /** Whether oneDNN's ReLU post-op in a direct plan gives NaN for NaN, as PyTorch's relu does. */
    private static boolean directReluKeepsNaN() {
        try (Sequential m = new Sequential(new AvgPool2d(1), Conv2d.builder(16, 16, 1).build(), new ReLU());
             CompiledModel direct = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), 1, 16, 1, 1);
             Tensor x = Tensor.zeros(1, 16, 1, 1)) {
            x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, 0, Float.NaN);
            try (Tensor y = direct.run(x)) {
                return Float.isNaN(y.toFloatArray()[0]);
            }
        }
    }

    /** Ordinary inputs take the Winograd path: the guard does not fire and the result is Winograd's, not the direct one. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("nets")
    void ordinaryInputsStayOnTheWinogradPath(Net net) {
        Module m = net.model().get();
        CompiledModelTest.randomize(m, 33);
        long[] shape = net.shape();
        try (m; CompiledModel wino = CompiledModel.compile(m, shape).warmup();
             CompiledModel direct = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), shape);
             Tensor x = CompiledModelTest.randomInput(34, shape); Tensor expected = direct.run(x); Tensor actual = wino.run(x)) {
            assertTrue(wino.steps().stream().filter(s -> s.contains("winograd")).allMatch(s -> s.contains("guarded, else")),
                    wino.steps().toString());
            assertEquals(0, wino.winogradFallbacks(), "the guard fired on an ordinary input");
            CompiledModelTest.assertClose(expected.toFloatArray(), actual.toFloatArray(), net + ": Winograd vs direct");
            assertFalse(Arrays.equals(expected.toFloatArray(), actual.toFloatArray()),
                    "bit for bit the direct result: the Winograd arithmetic did not run");
        }
    }

    static Stream<Net> nets() {
        return Stream.of(SINGLE, BLOCK, CHUNKED);
    }

    /** The limit is on the step's input: |x| up to GUARD_LIMIT stays on the Winograd path, the next float up does not. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(floats = {1f, -1f})
    void theGuardFiresJustAboveItsLimit(float sign) {
        Module m = SINGLE.model().get();
        CompiledModelTest.randomize(m, 35);
        long[] shape = SINGLE.shape();
        try (m; CompiledModel wino = CompiledModel.compile(m, shape).warmup(); Tensor x = CompiledModelTest.randomInput(36, shape)) {
            x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, 1000, sign * Winograd.GUARD_LIMIT);
            wino.run(x).close();
            assertEquals(0, wino.winogradFallbacks(), "fired at |x| = the limit");
            x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, 1000, sign * Math.nextUp(Winograd.GUARD_LIMIT));
            wino.run(x).close();
            assertEquals(1, wino.winogradFallbacks(), "did not fire just above the limit");
        }
    }

    /**
     * Same non-finite outputs (NaN for NaN, each infinity for itself), finite ones within {@code abs + 1e-5 |expected|};
     * the message says how many differ and where the first few are (output n, c, y, x with the output's shape).
     */
    static void assertSameReach(float[] expected, float[] actual, double abs, long[] shape, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        long hw = shape[2] * shape[3];
        int nonFinite = 0, wrong = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (!Float.isFinite(e)) nonFinite++;
            boolean ok = Float.isFinite(e) ? Float.isFinite(a) && Math.abs(a - e) <= abs + 1e-5 * Math.abs(e)
                    : Float.compare(e, a) == 0;   // NaN == NaN, +Inf == +Inf
            if (!ok && wrong++ < 5) {
                long channels = expected.length / shape[0] / hw;   // the output's channels
                long n = i / (channels * hw), c = i / hw % channels, y = i % hw / shape[3], x = i % shape[3];
                first.append(String.format(" [%d,%d,%d,%d] direct %s winograd %s;", n, c, y, x, e, a));
            }
        }
        System.out.printf("%s: %d non-finite outputs in the direct plan, %d outputs differ (tolerance %.3g + 1e-5 |direct|)%n", what,
                nonFinite, wrong, abs);
        assertEquals(0, wrong, what + ": " + wrong + " of " + expected.length + " outputs differ from the direct plan ("
                + nonFinite + " non-finite there):" + first);
    }
}
