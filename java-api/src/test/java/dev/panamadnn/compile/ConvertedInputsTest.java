package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * U8, I8, U16, I16 and F16 graph inputs in a plan: converted to exact F32 values by the plan's first step, so a uint8
 * image or a half-precision input reaches a Cast and the network behind it. Each plan is checked against the same network
 * compiled on an F32 input holding the same values (every U8, I8, U16, I16 and F16 value is a float): equal results.
 * U32 and U64 inputs (not all exact in F32) are refused by every reader but shape computations.
 */
class ConvertedInputsTest {
    private final SplittableRandom random = new SplittableRandom(29);

    /** x ({@code dtype}) -> Cast(F32) if needed -> Conv 3x3 -> Relu, with fixed random weights. */
    private Graph net(DataType dtype, float[] w) {
        GraphBuilder g = Graph.builder("net-" + dtype);
        String x = g.input("x", dtype, Shape.batched("N", 3, 6, 6));
        if (dtype != DataType.F32) x = g.node("Cast", "cast", Attributes.of("to", 1L), x);
        String c = g.node("Conv", "conv", Attributes.of("pads", new long[] {1, 1, 1, 1}), x, g.initializer("w", Tensor.of(w, 4, 3, 3, 3)));
        return g.output(g.node("Relu", "relu", Attributes.empty(), c)).build();
    }

    @Test
    void smallIntegerAndHalfInputsGiveTheF32PlansResults() {
        float[] w = new float[4 * 27];
        for (int i = 0; i < w.length; i++) w[i] = (float) random.nextDouble(-0.5, 0.5);
        long[] shape = {2, 3, 6, 6};
        int n = 2 * 3 * 36;
        for (DataType dtype : new DataType[] {DataType.U8, DataType.I8, DataType.U16, DataType.I16, DataType.F16}) {
            float[] values = new float[n];
            Tensor in = Tensor.allocate(Arena.ofAuto(), dtype, shape);
            for (int i = 0; i < n; i++) {
                switch (dtype) {
                    case U8 -> {
                        int v = random.nextInt(256);
                        in.segment().set(ValueLayout.JAVA_BYTE, i, (byte) v);
                        values[i] = v;
                    }
                    case I8 -> {
                        int v = random.nextInt(-128, 128);
                        in.segment().set(ValueLayout.JAVA_BYTE, i, (byte) v);
                        values[i] = v;
                    }
                    case U16, I16 -> {   // the type's bounds first, then random values of its range
                        boolean u = dtype == DataType.U16;
                        int v = i == 0 ? (u ? 65535 : Short.MIN_VALUE) : i == 1 ? (u ? 0 : Short.MAX_VALUE) : u ? random.nextInt(65536) : random.nextInt(-32768, 32768);
                        in.segment().setAtIndex(ValueLayout.JAVA_SHORT, i, (short) v);
                        values[i] = v;
                    }
                    default -> {
                        short h = Float.floatToFloat16((float) random.nextDouble(-70000, 70000));   // beyond F16's range too: +-inf
                        in.segment().setAtIndex(ValueLayout.JAVA_SHORT, i, h);
                        values[i] = Float.float16ToFloat(h);
                    }
                }
            }
            try (CompiledModel plan = CompiledModel.compile(net(dtype, w), CompileOptions.defaults(), Map.of("x", shape));
                 CompiledModel reference = CompiledModel.compile(net(DataType.F32, w), CompileOptions.defaults(), Map.of("x", shape));
                 Tensor x32 = Tensor.of(values, shape)) {
                assertTrue(plan.steps().get(0).startsWith("java " + dtype + " input x as F32"), plan.describe());
                Map<String, Tensor> got = plan.run(Map.of("x", in)), want = reference.run(Map.of("x", x32));
                // equal values; the sign of a zero may differ (the F32 plan's bounded input runs oneDNN's own relu: docs/numerics.md)
                assertArrayEquals(want.get("relu").toFloatArray(), got.get("relu").toFloatArray(), 0f, dtype + " input");
                assertThrows(IllegalArgumentException.class, () -> plan.run(Map.of("x", x32)), "an F32 tensor for the " + dtype + " input");
            }
        }
    }

    /** A U16 / I16 input reshaped to an output of its dtype: written back as the same 16-bit values (no rounding through F32). */
    @Test
    void sixteenBitValuesAreWrittenBackExactly() {
        for (DataType dtype : new DataType[] {DataType.U16, DataType.I16}) {
            GraphBuilder g = Graph.builder("reshape-" + dtype);
            String x = g.input("x", dtype, Shape.of(2, 3));
            g.output(g.node("Reshape", "flat", Attributes.empty(), x, g.constant("shape", 6)));
            short[] v = {-1, Short.MIN_VALUE, Short.MAX_VALUE, 0, 12345, -2};   // as U16: 65535, 32768, 32767, 0, 12345, 65534
            Tensor in = Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_SHORT, v), dtype, 2, 3);
            try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 3}))) {
                Tensor out = plan.run(Map.of("x", in)).get("flat");
                assertEquals(dtype, out.dtype());
                assertArrayEquals(v, out.segment().toArray(ValueLayout.JAVA_SHORT), dtype + " output");
            }
        }
    }

    /** U32 and U64 values beyond 2^24 are inexact in F32: a plan reading such an input at run time is refused, naming it. */
    @Test
    void wideUnsignedInputsAreRefusedByPlans() {
        for (DataType dtype : new DataType[] {DataType.U32, DataType.U64}) {
            GraphBuilder g = Graph.builder("wide-" + dtype);
            String x = g.input("x", dtype, Shape.of(4));
            g.output(g.node("Cast", "f", Attributes.of("to", 1L), x));
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {4})).close());
            assertTrue(e.getMessage().contains("input 'x' is " + dtype + " and computed at run time"), e.getMessage());
        }
    }

    /** numpy 1.24: {@code np.array([2.7, -2.7, 0.5, 1000.5], np.float16).astype(np.int64)} and {@code np.float16(np.int64(4097))}. */
    @Test
    void halfToIntegerTruncatesAndIntegerToHalfRounds() {
        GraphBuilder g = Graph.builder("half-int");
        String x = g.input("x", DataType.F16, Shape.of(4));
        String ints = g.node("Cast", "ints", Attributes.of("to", 7L), x);
        g.output(ints, g.node("Equal", "same", Attributes.empty(), ints, g.constant("want", 2, -2, 0, 1000)));   // read as held, not as written
        Tensor in = Tensor.allocate(Arena.ofAuto(), DataType.F16, 4);
        float[] v = {2.7f, -2.7f, 0.5f, 1000.5f};
        for (int i = 0; i < 4; i++) in.segment().setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(v[i]));
        try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {4}))) {
            Map<String, Tensor> out = plan.run(Map.of("x", in));
            assertArrayEquals(new long[] {2, -2, 0, 1000}, out.get("ints").segment().toArray(ValueLayout.JAVA_LONG));
            assertArrayEquals(new byte[] {1, 1, 1, 1}, out.get("same").segment().toArray(ValueLayout.JAVA_BYTE), "the held values are the integers");
        }
        GraphBuilder h = Graph.builder("index-half");   // an index computed at run time (ArgMax: 4097), cast to F16
        String y = h.input("y", Shape.of(1, 5000));
        h.output(h.node("Cast", "back", Attributes.of("to", 1L), h.node("Cast", "half", Attributes.of("to", 10L), h.node("ArgMax", "at", Attributes.of("axis", 1L), y))));
        float[] row = new float[5000];
        row[4097] = 1;
        try (CompiledModel plan = CompiledModel.compile(h.build(), CompileOptions.defaults(), Map.of("y", new long[] {1, 5000}));
             Tensor t = Tensor.of(row, 1, 5000)) {
            assertEquals(4096f, plan.run(Map.of("y", t)).get("back").toFloatArray()[0], "4097 as F16, back to F32");
        }
    }

    @Test
    void castToHalfRoundsAndWritesHalfOutputs() {
        GraphBuilder g = Graph.builder("to-half");
        String x = g.input("x", Shape.of(6));
        g.output(g.node("Cast", "half", Attributes.of("to", 10L), x));
        float[] v = {0.1f, 1f / 3, 65504f, 65520f, -1e-8f, Float.NaN};   // 65520 rounds up beyond F16's largest: inf
        try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {6}));
             Tensor in = Tensor.of(v, 6)) {
            Tensor out = plan.run(Map.of("x", in)).get("half");
            assertEquals(DataType.F16, out.dtype());
            // numpy 1.24: np.array(v, np.float32).astype(np.float16).view(np.uint16) (nearest even; 65520 -> inf; -1e-8 -> -0)
            int[] want = {11878, 13653, 31743, 31744, 32768, 32256};
            for (int i = 0; i < v.length; i++) {
                short h = out.segment().getAtIndex(ValueLayout.JAVA_SHORT, i);
                if (i == 5) assertTrue(Float.isNaN(Float.float16ToFloat(h)), "NaN stays NaN");
                else assertEquals(want[i], h & 0xffff, "element " + i);
            }
        }
    }

    /** Max and Min of two F16 inputs: computed on their exact F32 values, the result is one of them, an exact F16. */
    @Test
    void maxAndMinOfHalfInputsAreExact() {
        GraphBuilder g = Graph.builder("half max");
        String a = g.input("a", DataType.F16, Shape.of(6)), b = g.input("b", DataType.F16, Shape.of(6));
        String max = g.node("Max", "max", Attributes.empty(), a, b), min = g.node("Min", "min", Attributes.empty(), a, b);
        g.output(max, min);
        // numpy 1.24 float16: a = [1.5, -2, nan, 65504, -0.0, 3], b = [0.25, -3, 1, 1, 0, nan]
        short[] av = {0x3e00, (short) 0xc000, 0x7e00, 0x7bff, (short) 0x8000, 0x4200}, bv = {0x3400, (short) 0xc200, 0x3c00, 0x3c00, 0, 0x7e00};
        Tensor ta = Tensor.allocate(Arena.ofAuto(), DataType.F16, 6), tb = Tensor.allocate(Arena.ofAuto(), DataType.F16, 6);
        for (int i = 0; i < 6; i++) {
            ta.segment().setAtIndex(ValueLayout.JAVA_SHORT, i, av[i]);
            tb.segment().setAtIndex(ValueLayout.JAVA_SHORT, i, bv[i]);
        }
        try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("a", new long[] {6}, "b", new long[] {6}))) {
            Map<String, Tensor> out = plan.run(Map.of("a", ta, "b", tb));
            try {
                assertEquals(DataType.F16, out.get(max).dtype());
                // np.maximum(a, b).view(np.uint16): 3e00 c000 7e00 7bff 8000 7e00; np.minimum: 3400 c200 7e00 3c00 8000 7e00
                assertHalves(new short[] {0x3e00, (short) 0xc000, 0x7e00, 0x7bff, (short) 0x8000, 0x7e00}, out.get(max));
                assertHalves(new short[] {0x3400, (short) 0xc200, 0x7e00, 0x3c00, (short) 0x8000, 0x7e00}, out.get(min));
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    /** Equal as numbers (-0 equals 0: which zero Max returns for equal zeros is the kernel's), NaN for NaN. */
    private static void assertHalves(short[] expected, Tensor actual) {
        for (int i = 0; i < expected.length; i++) {
            float e = Float.float16ToFloat(expected[i]), a = Float.float16ToFloat(actual.segment().getAtIndex(ValueLayout.JAVA_SHORT, i));
            assertTrue(Float.isNaN(e) ? Float.isNaN(a) : e == a, "element " + i + ": " + a + ", expected " + e);
        }
    }
}
