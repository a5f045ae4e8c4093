package dev.panamadnn.tests.fuzz;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.nn.*;
import dev.panamadnn.tests.fuzz.FuzzCheck.Call;
import dev.panamadnn.tests.fuzz.FuzzCheck.Input;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The compiled family: a small random Sequential CNN (Conv2d with optional BatchNorm2d and ReLU,
 * max pooling, a BasicBlock, an optional AdaptiveAvgPool2d-Flatten-Linear head) compiled with
 * Winograd on and off (random layout and fusions, 1 thread), each plan's output compared with
 * eager native execution, and eager with the reference; then one misuse of {@code run} (wrong
 * shape, dtype or layout, freed, heap, strided, read-only or overlapping output, closed plan),
 * which must be refused naming the plan.
 */
final class CompiledFuzz {
    /**
     * Extra relative tolerance for a plan vs eager: Winograd F(4x4,3x3) multiplies the rounding
     * error of the transformed tiles by its transform matrices (entries up to 8 in G and up to
     * 5 in B^T, about two decimal orders over a direct sum), and BatchNorm folding rounds the
     * folded weights once more. Direct plans differ from eager only by summation order.
     */
    static final double WINOGRAD_RTOL = 1e-3, DIRECT_RTOL = 1e-5;

    private CompiledFuzz() {}

    static void run(FuzzCheck c) {
        int channels = c.between(1, 8);
        long[] x = {c.between(1, 2), channels, c.between(4, 20), c.between(4, 20)};
        List<Supplier<Module>> parts = new ArrayList<>();
        List<String> desc = new ArrayList<>();
        int ch = channels, reduction = 0;
        int blocks = c.between(1, 3);
        for (int i = 0; i < blocks; i++) {
            int kind = c.between(0, 9);
            if (kind <= 6) {
                int out = c.between(1, 12);
                int k = kind <= 3 ? 3 : c.pick(1, 3, 5), stride = kind <= 3 ? 1 : c.pick(1, 2), pad = kind <= 3 ? 1 : c.between(0, k / 2);
                boolean bias = c.chance(0.5);
                final int in = ch;
                parts.add(() -> Conv2d.builder(in, out, k).stride(stride).padding(pad).bias(bias).build());
                desc.add("Conv2d(" + in + ", " + out + ", k=" + k + ", s=" + stride + ", p=" + pad + (bias ? "" : ", bias=False") + ")");
                reduction += in * k * k;
                ch = out;
                if (c.chance(0.5)) {
                    final int f = ch;
                    parts.add(() -> new BatchNorm2d(f));
                    desc.add("BatchNorm2d(" + f + ")");
                }
                if (c.chance(0.6)) {
                    parts.add(ReLU::new);
                    desc.add("ReLU()");
                }
            } else if (kind <= 8) {
                int k = c.pick(2, 3), s = c.pick(1, 2), p = c.between(0, k / 2);
                parts.add(() -> new MaxPool2d(k, s, p));
                desc.add("MaxPool2d(" + k + ", " + s + ", " + p + ")");
            } else {
                final int in = ch;
                parts.add(() -> new BasicBlock(in, in));
                desc.add("BasicBlock(" + in + ", " + in + ")");
                reduction += 2 * 9 * in;
            }
        }
        boolean head = c.chance(0.4);
        int classes = c.between(1, 10);
        if (head) {
            final int in = ch;
            parts.add(() -> new AdaptiveAvgPool2d(1));
            parts.add(Flatten::new);
            parts.add(() -> new Linear(in, classes, true));
            desc.add("AdaptiveAvgPool2d(1), Flatten(), Linear(" + in + ", " + classes + ")");
            reduction += in + 64;
        }
        CompileOptions.Layout layout = c.pick(CompileOptions.Layout.values());
        boolean fold = c.chance(0.8), post = c.chance(0.8), sum = c.chance(0.8);
        CompileOptions options = new CompileOptions(fold, post, sum, layout, 1, true);
        boolean badCompileShape = c.chance(0.08);
        long[] compileShape = badCompileShape ? c.mutate(x, c.pick(Input.WRONG_RANK, Input.WRONG_CHANNELS, Input.SHAPE_ONLY), 1) : x;
        Input misuse = c.input();
        FuzzCheck.Values values = c.values();
        c.config("Compiled(Sequential(" + String.join(", ", desc) + "), " + layout + (fold ? "" : " no-bn-fold") + (post ? "" : " no-post-ops")
                + (sum ? "" : " no-sum") + ") compile=" + Arrays.toString(compileShape) + " run-misuse=" + misuse + " " + values);
        c.names.add("Sequential");
        c.names.add("compiled");
        c.names.add("CompiledModel");
        // A refusal may come from a layer inside a block (e.g. the Conv2d of a BasicBlock, naming its own configuration).
        c.names.addAll(List.of("Conv2d", "BatchNorm2d", "Linear", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"));
        Sequential seq = sequential(c, parts);
        if (seq == null) return;
        // warmup(): a Winograd step runs its direct convolution until the transforms are JIT-compiled, and the fuzz is after Winograd's
        Call<CompiledModel> wino = c.call("compile(winograd)", () -> CompiledModel.compile(seq, options, compileShape).warmup());
        Call<CompiledModel> direct = c.call("compile(direct)", () -> CompiledModel.compile(seq, options.withWinograd(false), compileShape));
        if (wino.ok() != direct.ok()) c.finding("compile with Winograd " + (wino.ok() ? "accepted" : "refused") + " but without " + (direct.ok() ? "accepted" : "refused"));
        if (badCompileShape || !wino.ok() || !direct.ok()) return;
        c.note("steps " + wino.value().steps().size() + "/" + direct.value().steps().size() + (wino.value().steps().toString().contains("inograd") ? " winograd" : ""));

        Tensor input = c.tensor(x, Input.VALID, values);
        Call<Tensor> eager = c.call("eager forward", () -> seq.forward(input, Backend.AUTO));
        Call<Tensor> ref = c.call("REFERENCE forward", () -> seq.forward(input, Backend.REFERENCE));
        c.agree("eager", "REFERENCE", eager, ref, null, reduction, 0);
        for (Call<CompiledModel> plan : List.of(wino, direct)) {
            boolean w = plan == wino;
            Call<Tensor> y = c.call(w ? "run(winograd)" : "run(direct)", () -> plan.value().run(input));
            c.agree(w ? "compiled (winograd)" : "compiled (direct)", "eager", y, eager, null, reduction, w ? WINOGRAD_RTOL : DIRECT_RTOL);
        }
        misuse(c, wino.value(), misuse, values);
    }

    /** The parts built ({@link FuzzFamilies#build}), named, in a Sequential with random parameters; null if a build was refused. */
    static Sequential sequential(FuzzCheck c, List<Supplier<Module>> parts) {
        List<Module> modules = new ArrayList<>();
        for (Supplier<Module> p : parts) {
            Module m = FuzzFamilies.build(c, p);
            if (m == null) return null;
            modules.add(m);
        }
        Sequential seq = FuzzFamilies.build(c, () -> new Sequential(modules.toArray(Module[]::new)));
        if (seq == null) return null;
        for (Module m : modules) c.named(m);
        c.randomizeParameters(seq, 0.02);
        return seq;
    }

    /** One wrong call of {@code run}: it must be refused with an acceptable exception naming the plan. */
    private static void misuse(FuzzCheck c, CompiledModel plan, Input how, FuzzCheck.Values values) {
        long[] in = plan.inputShape(), out = plan.outputShape();
        Tensor output = c.own(Tensor.zeros(out));
        String what;
        Supplier<Object> call;
        boolean mustRefuse = true;
        switch (how) {
            case VALID -> {
                if (c.chance(0.5)) {   // overlapping input and output
                    Tensor both = c.own(Tensor.zeros(Math.max(FuzzCheck.numel(in), FuzzCheck.numel(out))));
                    Tensor i = both.slice(0, 0, FuzzCheck.numel(in)).reshape(in), o = both.slice(0, 0, FuzzCheck.numel(out)).reshape(out);
                    what = "run with overlapping input and output";
                    call = () -> run(plan, i, o);
                } else {
                    plan.close();
                    Tensor i = c.tensor(in, Input.VALID, values);
                    what = "run on a closed plan";
                    call = () -> run(plan, i, output);
                }
            }
            case READ_ONLY -> {
                Tensor i = c.tensor(in, Input.VALID, values);
                Tensor o = Tensor.wrap(output.segment().asReadOnly(), DataType.F32, out);
                what = "run into a read-only output";
                call = () -> run(plan, i, o);
            }
            case SHAPE_ONLY -> {
                Tensor i = c.tensor(in, Input.VALID, values);
                Tensor o;   // a freed output or one of another dtype
                if (c.chance(0.5)) {
                    o = Tensor.of(new float[(int) FuzzCheck.numel(out)], out);
                    o.close();
                } else {
                    o = Tensor.allocate(java.lang.foreign.Arena.ofAuto(), DataType.I32, out);
                }
                what = "run into a " + o;
                call = () -> run(plan, i, o);
            }
            default -> {
                long[] shape = c.mutate(in, how, 1);
                Tensor i = c.tensor(shape, how, values);
                if (i == null) return;   // a huge wrap refused by Tensor.wrap
                mustRefuse = how == Input.STRIDED ? !i.isContiguous()   // a slice of the outermost dimension is contiguous
                        : !Arrays.equals(shape, in) || how.compareTo(Input.WRONG_RANK) < 0 || how.compareTo(Input.WRONG_SIZE) > 0;
                what = "run on a " + how + " input " + i;
                call = () -> run(plan, i, output);
            }
        }
        Call<Object> r = c.call(what, call);
        if (r.ok() && mustRefuse) {
            c.finding(what + ": accepted (expected an IllegalArgumentException/IllegalStateException naming the plan)");
        }
    }

    private static Object run(CompiledModel plan, Tensor in, Tensor out) {
        plan.run(in, out);
        return Boolean.TRUE;
    }
}
