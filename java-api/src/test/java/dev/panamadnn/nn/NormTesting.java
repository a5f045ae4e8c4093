package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/** Shared helpers of the normalization and residual tests: building golden modules, random data. */
final class NormTesting {
    private NormTesting() {}

    /** The module a golden case's spec describes (parameters still at their defaults). */
    static Module build(GoldenFile.Case c) {
        Map<String, String> f = c.fields();
        return switch (f.get("layer")) {
            case "BatchNorm1d" -> new BatchNorm1d(i(f, "features"), Double.parseDouble(f.get("eps")), i(f, "affine") == 1);
            case "BatchNorm2d" -> new BatchNorm2d(i(f, "features"), Double.parseDouble(f.get("eps")), i(f, "affine") == 1);
            case "LayerNorm" -> new LayerNorm(Arrays.stream(f.get("shape").split(",")).mapToLong(Long::parseLong).toArray(),
                    Double.parseDouble(f.get("eps")), i(f, "affine") == 1);
            case "Residual" -> residual(f);
            case "BasicBlock" -> {
                int in = i(f, "inplanes"), planes = i(f, "planes"), stride = i(f, "stride");
                yield new BasicBlock(in, planes, stride, i(f, "downsample") == 1 ? BasicBlock.downsample(in, planes, stride) : null);
            }
            case "Bottleneck" -> {
                int in = i(f, "inplanes"), planes = i(f, "planes"), stride = i(f, "stride");
                yield new Bottleneck(in, planes, stride,
                        i(f, "downsample") == 1 ? Bottleneck.downsample(in, planes * Bottleneck.EXPANSION, stride) : null,
                        i(f, "groups"), i(f, "base_width"), i(f, "dilation"));
            }
            default -> throw new IllegalArgumentException("unknown layer in golden spec " + c.spec());
        };
    }

    private static Residual residual(Map<String, String> f) {
        int in = i(f, "in"), out = i(f, "out");
        Module body = switch (f.get("f")) {
            case "conv_bn_relu" -> new Sequential(Conv2d.builder(in, out, 3).stride(i(f, "stride")).padding(1).build(),
                    new BatchNorm2d(out), new ReLU());
            case "linear" -> new Linear(in, out, true);
            case "linear_relu" -> new Sequential(new Linear(in, out, true), new ReLU());
            default -> throw new IllegalArgumentException("unknown residual f " + f.get("f"));
        };
        return switch (f.get("projection")) {
            case "none" -> new Residual(body);
            case "conv1x1" -> new Residual(body, Conv2d.builder(in, out, 1).stride(i(f, "stride")).build());
            case "linear" -> new Residual(body, new Linear(in, out, false));
            default -> throw new IllegalArgumentException("unknown projection " + f.get("projection"));
        };
    }

    private static int i(Map<String, String> f, String key) {
        String v = f.get(key);
        if (v == null) throw new IllegalArgumentException("golden spec lacks " + key + ": " + f);
        return Integer.parseInt(v);
    }

    /** Copies the golden parameters into the module, requiring exactly the same names, shapes and dtypes. */
    static void loadParams(Module m, GoldenFile.Case c) {
        Map<String, Tensor> mine = m.parameters();
        assertEquals(new java.util.TreeSet<>(c.params().keySet()), new java.util.TreeSet<>(mine.keySet()), c + ": state_dict keys");
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            Tensor src = c.params().get(e.getKey()), dst = e.getValue();
            assertArrayEquals(src.shape(), dst.shape(), c + ": shape of " + e.getKey());
            assertEquals(src.dtype(), dst.dtype(), c + ": dtype of " + e.getKey());
            MemorySegment.copy(src.segment(), 0, dst.segment(), 0, src.segment().byteSize());
        }
    }

    /** Random parameters: running_var in [0.5, 2], other f32 parameters in [-0.5, 0.5] (BN weights [0.5, 1.5]). */
    static void randomise(Module m, SplittableRandom rnd) {
        for (Map.Entry<String, Tensor> e : m.parameters().entrySet()) {
            Tensor t = e.getValue();
            if (t.dtype() != DataType.F32) continue;
            boolean bnWeight = e.getKey().matches("(.*\\.)?bn\\d\\.weight|.*downsample\\.1\\.weight");
            double lo = e.getKey().endsWith("running_var") ? 0.5 : bnWeight ? 0.5 : -0.5;
            double hi = e.getKey().endsWith("running_var") ? 2 : bnWeight ? 1.5 : 0.5;
            for (long i = 0; i < t.numel(); i++) t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(lo, hi));
        }
    }

    static Tensor random(SplittableRandom rnd, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return Tensor.of(v, shape);
    }

    /** Largest |got - want|; fails on the first element past {@code abs + rel * |want|}. */
    static double compare(String what, float[] got, float[] want, double abs, double rel) {
        assertEquals(want.length, got.length, what + ": element count");
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs((double) got[i] - want[i]);
            worst = Math.max(worst, err);
            if (!(err <= abs + rel * Math.abs(want[i]))) {
                throw new AssertionError(what + ": element " + i + " = " + got[i] + ", expected " + want[i] + ", error " + err);
            }
        }
        return worst;
    }
}
