package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Integer values computed at run time (a float input scaled, rounded and cast to INT64, as an exporter computes token
 * positions or bucket indices) read by Div, Mod (both fmod forms), Clip with integer bounds, ArgMax, and a Where with an
 * integer constant branch. A plan refused all five before (Div and Mod: "only [...] read such values"; Clip and Where:
 * "'d' is I64, not F32", naming no node; ArgMax: "data must be F32"); found by a differential probe against ONNX Runtime
 * 1.23.2 (2,000 random integer graphs: 727 refused, now 0, all equal to it). Expected values: ONNX Runtime 1.23.2 on this
 * model and input (Div truncates toward zero; Mod with fmod 0 takes the divisor's sign, with fmod 1 the dividend's).
 */
class IntegerRunTimeOpsTest {
    private static final float[] X = {-2.5f, -1.2f, 0.4f, 1.7f, 2.2f, -0.3f, 1.0f, -1.9f};   // x 3, rounded: -8 -4 1 5 / 7 -1 3 -6

    private static TensorProto i64(String name, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE);
        if (v.length > 1) t.addDims(v.length);
        for (long x : v) t.addInt64Data(x);
        return t.build();
    }

    private static TensorProto f32(String name, float v) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(v).build();
    }

    private static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static GraphProto.Builder graph(long... divisor) {
        return GraphProto.newBuilder().setName("ints").addInput(TestModels.f32("x", 2, 4))
                .addInitializer(f32("three", 3)).addInitializer(i64("d", divisor)).addInitializer(i64("lo", -3)).addInitializer(i64("hi", 4))
                .addInitializer(f32("zero", 0))
                .addNode(TestModels.node("m", "Mul", new String[] {"x", "three"}, new String[] {"m"}))
                .addNode(TestModels.node("r", "Round", new String[] {"m"}, new String[] {"r"}))
                .addNode(TestModels.node("c", "Cast", new String[] {"r"}, new String[] {"xi"}, integer("to", TensorProto.DataType.INT64_VALUE)));
    }

    /** Adds {@code op} over the integers, cast back to float as output {@code name}. */
    private static void output(GraphProto.Builder g, String name, String op, String[] ins, AttributeProto... attrs) {
        g.addNode(TestModels.node(name, op, ins, new String[] {name + "_i"}, attrs))
                .addNode(TestModels.node(name + "_f", "Cast", new String[] {name + "_i"}, new String[] {name}, integer("to", TensorProto.DataType.FLOAT_VALUE)))
                .addOutput(TestModels.f32(name));
    }

    @Test
    void divModClipArgMaxAndWhereOfIntegersComputedAtRunTime() {
        GraphProto.Builder g = graph(-2, 3, -3, 5);
        output(g, "div", "Div", new String[] {"xi", "d"});
        output(g, "mod", "Mod", new String[] {"xi", "d"});
        output(g, "fmod", "Mod", new String[] {"xi", "d"}, integer("fmod", 1));
        output(g, "clip", "Clip", new String[] {"xi", "lo", "hi"});
        output(g, "argmax", "ArgMax", new String[] {"xi"}, integer("axis", 1));
        g.addNode(TestModels.node("gt", "Greater", new String[] {"x", "zero"}, new String[] {"c"}));
        output(g, "where", "Where", new String[] {"c", "xi", "d"});
        try (OnnxModel m = Onnx.load(TestModels.model(13, g.build()).toByteArray()); Tensor in = Tensor.of(X, 2, 4)) {
            Map<String, Tensor> out = m.run(Map.of("x", in));
            try {
                assertArrayEquals(new float[] {4, -1, 0, 1, -3, 0, -1, -1}, out.get("div").toFloatArray(), "Div");
                assertArrayEquals(new float[] {0, 2, -2, 0, -1, 2, 0, 4}, out.get("mod").toFloatArray(), "Mod, fmod 0");
                assertArrayEquals(new float[] {0, -1, 1, 0, 1, -1, 0, -1}, out.get("fmod").toFloatArray(), "Mod, fmod 1");
                assertArrayEquals(new float[] {-3, -3, 1, 4, 4, -1, 3, -3}, out.get("clip").toFloatArray(), "Clip");
                assertArrayEquals(new float[] {3, 0}, out.get("argmax").toFloatArray(), "ArgMax");
                assertArrayEquals(new float[] {-2, 3, 1, 5, 7, 3, 3, 5}, out.get("where").toFloatArray(), "Where");
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void anIntegerDivisionByZeroIsAnExceptionNamingTheNode() {
        GraphProto.Builder g = graph(-2, 0, -3, 5);
        output(g, "div", "Div", new String[] {"xi", "d"});
        try (OnnxModel m = Onnx.load(TestModels.model(13, g.build()).toByteArray()); Tensor in = Tensor.of(X, 2, 4)) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> m.run(Map.of("x", in)).values().forEach(Tensor::close));
            assertTrue(e.getMessage().contains("div") && e.getMessage().contains("division by zero"), e.getMessage());
        }
    }

    /**
     * A float cast to INT64 or INT32 where ONNX leaves the result undefined (NaN, infinities, beyond the type's range),
     * at run time and folded from a constant: the most negative integer, as x86's truncating conversion gives it and so
     * torch 1.13 ({@code x.long()}, {@code x.int()}), numpy's astype and ONNX Runtime (Java's casts saturate and gave 0 for
     * NaN, Long.MAX_VALUE for +inf: found by the differential probe on NaN/inf inputs); Abs and Neg of that integer wrap
     * to itself as in C and torch ({@code x.long().abs()}, {@code x.int().neg()}).
     */
    @Test
    void floatsBeyondTheIntegerRangeCastAsTorchAndTheirAbsAndNegWrap() {
        float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
        float[] x = {nan, inf, -inf, 3e9f, -2.7f};
        TensorProto.Builder c = TensorProto.newBuilder().setName("c").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(5);
        for (float v : x) c.addFloatData(v);
        GraphProto.Builder g = GraphProto.newBuilder().setName("casts").addInput(TestModels.f32("x", 5)).addInitializer(c.build())
                .addNode(TestModels.node("l", "Cast", new String[] {"x"}, new String[] {"l"}, integer("to", TensorProto.DataType.INT64_VALUE)))
                .addNode(TestModels.node("i", "Cast", new String[] {"x"}, new String[] {"i"}, integer("to", TensorProto.DataType.INT32_VALUE)))
                .addNode(TestModels.node("labs", "Abs", new String[] {"l"}, new String[] {"labs"}))
                .addNode(TestModels.node("ineg", "Neg", new String[] {"i"}, new String[] {"ineg"}))
                .addNode(TestModels.node("k", "Cast", new String[] {"c"}, new String[] {"k"}, integer("to", TensorProto.DataType.INT64_VALUE)));
        for (String o : new String[] {"l", "i", "labs", "ineg", "k"}) g.addOutput(TestModels.f32(o));
        for (int i = 0; i < 5; i++) g.getOutputBuilder(i).getTypeBuilder().getTensorTypeBuilder()
                .setElemType(i == 1 || i == 3 ? TensorProto.DataType.INT32_VALUE : TensorProto.DataType.INT64_VALUE);
        long min64 = Long.MIN_VALUE, min32 = Integer.MIN_VALUE;
        try (OnnxModel m = Onnx.load(TestModels.model(13, g.build()).toByteArray()); Tensor in = Tensor.of(x, 5)) {
            Map<String, Tensor> out = m.run(Map.of("x", in));
            try {
                assertArrayEquals(new long[] {min64, min64, min64, 3000000000L, -2}, longs(out.get("l")), "Cast to INT64");
                assertArrayEquals(new long[] {min32, min32, min32, min32, -2}, longs(out.get("i")), "Cast to INT32");
                assertArrayEquals(new long[] {min64, min64, min64, 3000000000L, 2}, longs(out.get("labs")), "Abs of INT64");
                assertArrayEquals(new long[] {min32, min32, min32, min32, 2}, longs(out.get("ineg")), "Neg of INT32");
                assertArrayEquals(new long[] {min64, min64, min64, 3000000000L, -2}, longs(out.get("k")), "Cast of a constant, folded");
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    private static long[] longs(Tensor t) {
        long[] v = new long[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.dtype() == dev.panamadnn.DataType.I32 ? t.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i)
                    : t.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i);
        }
        return v;
    }

    /**
     * An integer product beyond 2^24 at run time (what a plan cannot hold exactly) in a model with an integer input bound
     * per call: an OnnxException naming the node, as run() reports it for other models (it escaped as a bare
     * IllegalArgumentException from the bound plan; found by scripts/ort-probe --runtime-inputs 0.2 --nonfinite).
     */
    @Test
    void anIntegerBeyondTwoToThe24AtRunTimeIsAnOnnxExceptionWithInputsBound() {
        // the Reshape's shape fed as an input makes run() bind it (a plan needs it constant)
        GraphProto g = GraphProto.newBuilder().setName("big").addInput(TestModels.f32("x", 2))
                .addInput(dev.panamadnn.onnx.proto.ValueInfoProto.newBuilder().setName("shape").setType(dev.panamadnn.onnx.proto.TypeProto.newBuilder()
                        .setTensorType(dev.panamadnn.onnx.proto.TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT64_VALUE)
                                .setShape(dev.panamadnn.onnx.proto.TensorShapeProto.newBuilder().addDim(
                                        dev.panamadnn.onnx.proto.TensorShapeProto.Dimension.newBuilder().setDimValue(1))))))
                .addInitializer(i64("k", 4, 4))
                .addNode(TestModels.node("c", "Cast", new String[] {"x"}, new String[] {"xi"}, integer("to", TensorProto.DataType.INT64_VALUE)))
                .addNode(TestModels.node("times", "Mul", new String[] {"xi", "k"}, new String[] {"p"}))
                .addNode(TestModels.node("r", "Reshape", new String[] {"p", "shape"}, new String[] {"q"}))
                .addNode(TestModels.node("f", "Cast", new String[] {"q"}, new String[] {"y"}, integer("to", TensorProto.DataType.FLOAT_VALUE)))
                .addOutput(TestModels.f32("y", 2)).build();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined(); OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray());
             Tensor in = Tensor.of(new float[] {3, 1e7f}, 2)) {
            Tensor shape = TensorProtos.longs(arena, new long[] {2}, 1);
            OnnxException e = assertThrows(OnnxException.class, () -> m.run(Map.of("x", in, "shape", shape)).values().forEach(Tensor::close));
            assertTrue(e.getMessage().contains("(Mul)") && e.getMessage().contains("beyond 2^24"), e.getMessage());
        }
    }
}
