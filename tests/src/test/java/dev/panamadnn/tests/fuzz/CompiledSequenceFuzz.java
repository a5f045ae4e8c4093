package dev.panamadnn.tests.fuzz;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.nn.AdaptiveMaxPool1d;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Conv1d;
import dev.panamadnn.nn.Embedding;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.GRU;
import dev.panamadnn.nn.GroupNorm;
import dev.panamadnn.nn.LSTM;
import dev.panamadnn.nn.LayerNorm;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import dev.panamadnn.nn.TransformerEncoder;
import dev.panamadnn.nn.TransformerEncoderLayer;
import dev.panamadnn.nn.Upsample;
import dev.panamadnn.tests.fuzz.FuzzCheck.Call;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Random sequence models of the wave-2 layers compiled into plans: token ids through an Embedding into an LSTM or GRU
 * (layers, directions, projection) and a Linear head; features through a TransformerEncoderLayer or TransformerEncoder
 * (pre/post norm, relu/gelu) and a Linear; a Conv1d, GroupNorm, ReLU, Upsample (nearest/linear), AdaptiveMaxPool1d,
 * Flatten and Linear chain. Each lowered to the graph and compiled (random layout and fusions, 1 thread), its plan's
 * output compared with the eager native forward and with the plain-Java reference.
 */
final class CompiledSequenceFuzz {
    private CompiledSequenceFuzz() {}

    static void run(FuzzCheck c) {
        int kind = c.between(0, 2);
        List<Supplier<Module>> parts = new ArrayList<>();
        List<String> desc = new ArrayList<>();
        long[] x;
        DataType dtype = DataType.F32;
        int reduction;
        int n = c.between(1, 3), vocabulary = 0;
        if (kind == 0) {   // tokens -> Embedding -> LSTM/GRU -> Linear
            int vocab = c.between(2, 20);
            vocabulary = vocab;
            int dim = c.between(1, 8), t = c.between(1, 6), hidden = c.between(1, 8), layers = c.between(1, 2);
            boolean lstm = c.chance(0.5), bidirectional = c.chance(0.5), bias = c.chance(0.8);
            int proj = lstm && hidden > 1 && c.chance(0.3) ? c.between(1, hidden - 1) : 0;
            int out = (proj > 0 ? proj : hidden) * (bidirectional ? 2 : 1), classes = c.between(1, 6);
            Long pad = c.chance(0.3) ? (long) c.between(0, vocab - 1) : null;
            parts.add(() -> new Embedding(vocab, dim, pad));
            parts.add(() -> lstm ? new LSTM(dim, hidden, layers, bias, true, 0, bidirectional, proj) : new GRU(dim, hidden, layers, bias, true, 0, bidirectional));
            parts.add(() -> new Linear(out, classes, true));
            desc.add("Embedding(" + vocab + ", " + dim + ", padding_idx=" + pad + ")");
            desc.add((lstm ? "LSTM" : "GRU") + "(" + dim + ", " + hidden + ", layers=" + layers + ", bidirectional=" + bidirectional + ", bias=" + bias
                    + (lstm ? ", proj=" + proj : "") + ", batch_first)");
            desc.add("Linear(" + out + ", " + classes + ")");
            x = new long[] {n, t};
            dtype = c.pick(DataType.I64, DataType.I32);
            reduction = (dim + hidden) * t * layers + out;
        } else if (kind == 1) {   // features -> TransformerEncoder(Layer) -> Linear
            int heads = c.between(1, 3), d = heads * c.between(1, 4), ff = c.between(1, 16), len = c.between(1, 6), layers = c.between(0, 2);
            boolean normFirst = c.chance(0.5), finalNorm = layers > 0 && c.chance(0.5);
            String act = c.pick("relu", "gelu");
            double eps = c.pick(1e-5, 1e-6);
            int classes = c.between(1, 5);
            Supplier<TransformerEncoderLayer> layer = () -> new TransformerEncoderLayer(d, heads, ff, 0, act, eps, true, normFirst);
            parts.add(layers == 0 ? layer::get : () -> new TransformerEncoder(layer, layers, finalNorm ? new LayerNorm(new long[] {d}, eps, true) : null));
            parts.add(() -> new Linear(d, classes, true));
            desc.add((layers == 0 ? "TransformerEncoderLayer" : "TransformerEncoder(" + layers + ", final_norm=" + finalNorm + ") of ") + "(d=" + d
                    + ", heads=" + heads + ", ff=" + ff + ", " + act + ", norm_first=" + normFirst + ", eps=" + eps + ")");
            desc.add("Linear(" + d + ", " + classes + ")");
            x = new long[] {n, len, d};
            reduction = 8 * (d + ff + len) * Math.max(1, layers);
            // The Linear sums d products of layer-normalized (or residual) values and weights below 1: outputs that cancel to
            // 5e-4 from terms near 1 carry those terms' rounding (scripts/fuzz --long --seed 5708 --nonfinite, CompiledSequence
            // case 141: d = 2, 1.5e-7 absolute on an output of 5.4e-4, eager against the reference)
            c.termScale = 2;
        } else {   // [N, C, L] -> Conv1d -> GroupNorm -> ReLU -> Upsample -> AdaptiveMaxPool1d -> Flatten -> Linear
            int cin = c.between(1, 4), groups = c.between(1, 3), cout = groups * c.between(1, 3), k = c.between(1, 3), len = c.between(k, 12);
            String mode = c.pick("nearest", "linear");
            Boolean align = mode.equals("linear") ? c.chance(0.5) : null;
            double scale = c.pick(1.5, 2.0, 3.0);
            int pooled = c.between(1, 5), classes = c.between(1, 5);
            parts.add(() -> new Conv1d(cin, cout, k));
            parts.add(() -> new GroupNorm(groups, cout));
            parts.add(ReLU::new);
            parts.add(() -> Upsample.scale(mode, align, scale));
            parts.add(() -> new AdaptiveMaxPool1d(pooled));
            parts.add(Flatten::new);
            parts.add(() -> new Linear(cout * pooled, classes, true));
            desc.add("Conv1d(" + cin + ", " + cout + ", " + k + "), GroupNorm(" + groups + ", " + cout + "), ReLU, Upsample(" + mode + ", " + align
                    + ", " + scale + "), AdaptiveMaxPool1d(" + pooled + "), Flatten, Linear(" + cout * pooled + ", " + classes + ")");
            x = new long[] {n, cin, len};
            reduction = cin * k + 16 * cout * len + cout * pooled;
        }
        CompileOptions.Layout layout = c.pick(CompileOptions.Layout.values());
        boolean fold = c.chance(0.8), post = c.chance(0.8), sum = c.chance(0.8), winograd = c.chance(0.5);
        CompileOptions options = new CompileOptions(fold, post, sum, layout, 1, winograd);
        FuzzCheck.Values values = dtype == DataType.F32 ? c.values() : FuzzCheck.Values.NORMAL;
        int vocabularySize = vocabulary;
        c.config("CompiledSequence(" + String.join(", ", desc) + ") " + layout + (fold ? "" : " no-bn-fold") + (post ? "" : " no-post-ops")
                + (sum ? "" : " no-sum") + (winograd ? "" : " no-winograd") + " x=" + dtype + Arrays.toString(x) + " " + values);
        c.names.addAll(List.of("Sequential", "compiled", "CompiledModel", "Embedding", "LSTM", "GRU", "Linear", "TransformerEncoderLayer",
                "TransformerEncoder", "Conv1d", "GroupNorm", "Upsample", "AdaptiveMaxPool1d", "Flatten"));
        Sequential seq = CompiledFuzz.sequential(c, parts);
        if (seq == null) return;
        DataType inputType = dtype;
        Call<CompiledModel> plan = c.call("compile", () -> CompiledModel.compile(Graph.lower(seq, inputType, Shape.of(x)), options, x).warmup());
        if (!plan.ok()) {
            c.finding("compile refused a model of layers that lower: " + FuzzCheck.shortName(plan.rejected()));
            return;
        }
        Tensor input;
        if (dtype == DataType.F32) {
            input = c.tensor(x, FuzzCheck.Input.VALID, values);
        } else {
            input = Tensor.allocate(c.own(Arena.ofShared()), dtype, x);
            for (long i = 0; i < input.numel(); i++) {
                long v = c.between(0, vocabularySize - 1);
                if (dtype == DataType.I64) input.segment().setAtIndex(ValueLayout.JAVA_LONG, i, v);
                else input.segment().setAtIndex(ValueLayout.JAVA_INT, i, (int) v);
            }
        }
        Call<Tensor> eager = c.call("eager forward", () -> seq.forward(input, Backend.AUTO));
        Call<Tensor> ref = c.call("REFERENCE forward", () -> seq.forward(input, Backend.REFERENCE));
        c.agree("eager", "REFERENCE", eager, ref, null, reduction, 0);
        Call<Tensor> y = c.call("run", () -> plan.value().run(input));
        c.agree("compiled", "eager", y, eager, null, reduction, CompiledFuzz.DIRECT_RTOL);
    }
}
