package dev.panamadnn.demo;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool1d;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Broadcast;
import dev.panamadnn.nn.Conv1d;
import dev.panamadnn.nn.FiLM;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Folding;
import dev.panamadnn.nn.GRU;
import dev.panamadnn.nn.KMaxPool1d;
import dev.panamadnn.nn.LSTM;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.RecurrentOutput;
import dev.panamadnn.nn.Sequential;
import dev.panamadnn.nn.Tanh;
import dev.panamadnn.nn.TransformerEncoder;
import dev.panamadnn.nn.TransformerEncoderLayer;
import dev.panamadnn.nn.WideConv1d;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The five sequence models of {@code scripts/train/train_sequences.py}, built from our layers with
 * the PyTorch modules' state_dict names, so the trained weights load strictly by name. Every model
 * reads the digits row by row: input {@code [N, 8 steps, 8 features]}, output logits {@code [N, 10]}.
 * The few steps between layers that torch writes as tensor expressions (the last step of an RNN's
 * output, a mean over steps, a transpose) are plain Java here, the same code on every backend.
 */
public final class SequenceModels {
    private SequenceModels() {}

    /** The model names, in the table's order; also the suffixes of the resource files. */
    public static final java.util.List<String> NAMES = java.util.List.of("lstm", "gru", "transformer", "dcnn", "film");

    /**
     * A model made of named child modules (their state_dict prefixes) and, for the transformer, a
     * tensor of its own; {@link #forward(Tensor, Tensor, Backend)} is the PyTorch model's forward.
     */
    public abstract static class Model implements Module {
        private final Map<String, Module> children = new LinkedHashMap<>();
        private final Map<String, Tensor> tensors = new LinkedHashMap<>();

        /** Adds a child under {@code name}; its parameters become {@code name.*}. */
        protected final <M extends Module> M child(String name, M module) {
            children.put(name, module);
            return module;
        }

        /** Adds a parameter of the model itself (torch's {@code nn.Parameter} attribute). */
        protected final Tensor tensor(String name, Tensor t) {
            tensors.put(name, t);
            return t;
        }

        /**
         * Logits {@code [N, 10]} for the sequences {@code x [N, 8, 8]} on {@code backend}; {@code task}
         * is the FiLM model's one-hot task {@code [N, 2]} (null for the others).
         */
        public abstract Tensor forward(Tensor x, Tensor task, Backend backend);

        /**
         * The same model as graph ops, for a compiled plan: the sequences {@code x [N, 8, 8]} and (FiLM model) the task
         * {@code [N, 2]} are graph values; returns the logits' value. The plain-Java steps of {@code forward} become graph
         * ops (a {@code Transpose}, a {@code ReduceMean}, a {@code Reshape} of the final state).
         */
        public abstract String lower(GraphBuilder graph, String x, String task);

        /** True for the model that takes a task input. */
        public boolean conditioned() {
            return false;
        }

        @Override
        public Tensor forward(Tensor x) {
            return forward(x, null, Backend.AUTO);
        }

        @Override
        public Map<String, Tensor> parameters() {
            Map<String, Tensor> all = new LinkedHashMap<>(tensors);
            children.forEach((name, m) -> m.parameters().forEach((k, v) -> all.put(name + "." + k, v)));
            return all;
        }

        @Override
        public void close() {
            children.values().forEach(Module::close);
            tensors.values().forEach(Tensor::close);
        }
    }

    /** The model called {@code name} (one of {@link #NAMES}) with fresh parameters. */
    public static Model create(String name) {
        return switch (name) {
            case "lstm" -> new Recurrent(new LSTM(8, 32, 1, true, true, 0.0, false, 0));
            case "gru" -> new Recurrent(new GRU(8, 32, 1, true, true, 0.0, false));
            case "transformer" -> new Transformer();
            case "dcnn" -> new Dcnn();
            case "film" -> new FiLMed();
            default -> throw new IllegalArgumentException("no sequence model named '" + name + "'; expected one of " + NAMES);
        };
    }

    /** {@code rnn} = LSTM or GRU(8, 32, batch_first), {@code fc} = Linear(32, 10) on the last step's output. */
    static final class Recurrent extends Model {
        private final Module rnn;
        private final Linear fc;

        Recurrent(Module rnn) {
            this.rnn = child("rnn", rnn);
            this.fc = child("fc", new Linear(32, 10, true));
        }

        @Override
        public Tensor forward(Tensor x, Tensor task, Backend backend) {
            // One layer, one direction: h_n is the last step's output (torch: output[:, -1]).
            try (RecurrentOutput r = rnn instanceof LSTM lstm ? lstm.forward(x, null, null, null, backend)
                    : ((GRU) rnn).forward(x, null, null, backend)) {
                return fc.forward(r.hN().reshape(x.dim(0), 32), backend);
            }
        }

        @Override
        public String lower(GraphBuilder graph, String x, String task) {
            dev.panamadnn.nn.RecurrentLayer.Lowered r = ((dev.panamadnn.nn.RecurrentLayer) rnn).lower(graph, x, null, null, "rnn");
            String last = graph.node("Reshape", "last_step", Attributes.empty(), r.hN(), graph.constant("last_step.shape", -1, 32));
            return fc.lower(graph, last, "fc");
        }
    }

    /** {@code embed} = Linear(8, 32), + {@code pos} [8, 32], {@code encoder} (2 layers, d 32, 4 heads, ff 64), mean over steps, {@code fc}. */
    static final class Transformer extends Model {
        private final Linear embed, fc;
        private final Tensor pos;
        private final TransformerEncoder encoder;

        Transformer() {
            embed = child("embed", new Linear(8, 32, true));
            pos = tensor("pos", Tensor.zeros(8, 32));
            encoder = child("encoder",
                    new TransformerEncoder(() -> new TransformerEncoderLayer(32, 4, 64, 0.0, "relu", 1e-5, true, false), 2, null));
            fc = child("fc", new Linear(32, 10, true));
        }

        @Override
        public Tensor forward(Tensor x, Tensor task, Backend backend) {
            int n = Math.toIntExact(x.dim(0));
            float[] h;
            try (Tensor e = embed.forward(x, backend);
                 Tensor p = Broadcast.apply(Broadcast.Op.ADD, e, pos, backend);
                 Tensor y = encoder.forward(p, null, null, backend)) {
                h = y.toFloatArray();
            }
            float[] mean = new float[n * 32];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < 32; c++) {
                    float s = 0;   // torch's mean in float: sum, then divide
                    for (int t = 0; t < 8; t++) s += h[(i * 8 + t) * 32 + c];
                    mean[i * 32 + c] = s / 8;
                }
            }
            try (Tensor m = Tensor.of(mean, n, 32)) {
                return fc.forward(m, backend);
            }
        }

        @Override
        public String lower(GraphBuilder graph, String x, String task) {
            String e = embed.lower(graph, x, "embed");
            String p = graph.node("Add", "add_pos", Attributes.empty(), e, graph.initializer("pos", pos));
            String y = encoder.lower(graph, p, "encoder");
            String mean = graph.node("ReduceMean", "mean_over_steps", Attributes.of("axes", new long[] {1}, "keepdims", 0L), y);
            return fc.lower(graph, mean, "fc");
        }
    }

    /** The lecture's DCNN on {@code [N, features, steps]}: two wide convolutions, dynamic and fixed k-max pooling, folding. */
    static final class Dcnn extends Model {
        private final Sequential net;

        Dcnn() {
            net = child("net", new Sequential(WideConv1d.builder(8, 16, 3).build(), KMaxPool1d.dynamic(4, 1, 2), new Tanh(),
                    WideConv1d.builder(16, 16, 2).build(), new Folding(), new KMaxPool1d(4), new Tanh(), new Flatten(),
                    new Linear(32, 10, true)));
        }

        @Override
        public Tensor forward(Tensor x, Tensor task, Backend backend) {
            try (Tensor t = transposed(x)) {
                return net.forward(t, backend);
            }
        }

        @Override
        public String lower(GraphBuilder graph, String x, String task) {
            return net.lower(graph, transpose(graph, x), "net");
        }
    }

    /** {@code conv} = Conv1d(8, 32, 3, padding 1), ReLU, {@code film} = FiLM(2, 32) of the task, ReLU, {@code head}. */
    static final class FiLMed extends Model {
        private final Conv1d conv;
        private final FiLM film;
        private final ReLU relu = new ReLU();
        private final Sequential head;

        FiLMed() {
            conv = child("conv", Conv1d.builder(8, 32, 3).padding(1).build());
            film = child("film", new FiLM(2, 32));
            head = child("head", new Sequential(new AdaptiveAvgPool1d(1), new Flatten(), new Linear(32, 10, true)));
        }

        @Override
        public boolean conditioned() {
            return true;
        }

        @Override
        public Tensor forward(Tensor x, Tensor task, Backend backend) {
            if (task == null) throw new IllegalArgumentException("the FiLM model needs a task input [N, 2], got null");
            try (Tensor t = transposed(x);
                 Tensor c = conv.forward(t, backend);
                 Tensor r = relu.forward(c, backend);
                 Tensor f = film.forward(r, task, backend);
                 Tensor g = relu.forward(f, backend)) {
                return head.forward(g, backend);
            }
        }

        @Override
        public String lower(GraphBuilder graph, String x, String task) {
            if (task == null) throw new IllegalArgumentException("the FiLM model needs a task input [N, 2], got null");
            String r = relu.lower(graph, conv.lower(graph, transpose(graph, x), "conv"), "relu1");
            String g = relu.lower(graph, film.lower(graph, r, task, "film"), "relu2");
            return head.lower(graph, g, "head");
        }

        @Override
        public void close() {
            super.close();
            relu.close();
        }
    }

    /** {@link #transposed} as a graph op. */
    static String transpose(GraphBuilder graph, String x) {
        return graph.node("Transpose", "transpose", Attributes.of("perm", new long[] {0, 2, 1}), x);
    }

    /** {@code [N, steps, features]} to {@code [N, features, steps]} (torch's {@code x.transpose(1, 2)}, copied). */
    static Tensor transposed(Tensor x) {
        int n = Math.toIntExact(x.dim(0)), s = Math.toIntExact(x.dim(1)), f = Math.toIntExact(x.dim(2));
        float[] in = x.toFloatArray(), out = new float[in.length];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < s; t++) {
                for (int c = 0; c < f; c++) out[(i * f + c) * s + t] = in[(i * s + t) * f + c];
            }
        }
        return Tensor.of(out, n, f, s);
    }
}
