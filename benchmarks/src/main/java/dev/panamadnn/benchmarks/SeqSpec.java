package dev.panamadnn.benchmarks;

import dev.panamadnn.Module;
import dev.panamadnn.nn.GRU;
import dev.panamadnn.nn.LSTM;
import dev.panamadnn.nn.MultiheadAttention;
import dev.panamadnn.nn.TransformerEncoderLayer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A sequence model of scripts/bench's sequence jobs, as {@link SequenceBenchmark}'s {@code shape}
 * parameter and the C harness (dnnl_seq_bench.c) spell it; input {@code [T, N, E]} (sequence first,
 * torch's default), one layer, f32:
 * <ul>
 * <li>{@code lstm:512>512@128#32}: {@code LSTM(512, 512)} over 128 steps, batch 32; {@code gru:...} likewise</li>
 * <li>{@code mha:512h8@128#1}: {@code MultiheadAttention(512, 8)} as self-attention ({@code forward(x)})</li>
 * <li>{@code encoder:512h8f2048@128#1}: {@code TransformerEncoderLayer(512, 8, dim_feedforward 2048)}, post-norm, ReLU</li>
 * </ul>
 * FLOPs (multiply-add = 2): recurrent {@code 2 T N G H (I + H)} (G = 4 LSTM, 3 GRU); attention the four
 * projections {@code 8 T N E^2} plus {@code q k^T} and {@code p v}, {@code 4 N T^2 E}; the encoder adds
 * its feed-forward {@code 4 T N E F}. Element-wise work is not counted.
 */
public record SeqSpec(String spec, String kind, int in, int hidden, int heads, int ff, int steps, int batch) {
    private static final Pattern SPEC = Pattern.compile("(lstm|gru|mha|encoder):(\\d+)(?:>(\\d+))?(?:h(\\d+))?(?:f(\\d+))?@(\\d+)(?:#(\\d+))?");

    public static SeqSpec parse(String spec) {
        Matcher m = SPEC.matcher(spec);
        if (!m.matches()) throw new IllegalArgumentException("sequence shape: expected lstm:I>H@T#N, gru:I>H@T#N, mha:EhH@T#N or encoder:EhHfF@T#N, got " + spec);
        int in = Integer.parseInt(m.group(2));
        SeqSpec s = new SeqSpec(spec, m.group(1), in, m.group(3) == null ? in : Integer.parseInt(m.group(3)),
                m.group(4) == null ? 0 : Integer.parseInt(m.group(4)), m.group(5) == null ? 0 : Integer.parseInt(m.group(5)),
                Integer.parseInt(m.group(6)), m.group(7) == null ? 1 : Integer.parseInt(m.group(7)));
        boolean recurrent = s.recurrent();
        if (recurrent != (s.heads == 0) || s.kind.equals("encoder") != (s.ff > 0) || (!recurrent && s.hidden != in)) {
            throw new IllegalArgumentException("sequence shape: " + spec + " mixes recurrent (I>H) and attention (hH, fF) fields");
        }
        return s;
    }

    public boolean recurrent() {
        return kind.equals("lstm") || kind.equals("gru");
    }

    /** The module, torch's defaults otherwise (its weights are replaced by the exported model's when loaded). */
    public Module build() {
        return switch (kind) {
            case "lstm" -> new LSTM(in, hidden);
            case "gru" -> new GRU(in, hidden);
            case "mha" -> new MultiheadAttention(in, heads);
            case "encoder" -> new TransformerEncoderLayer(in, heads, ff, 0.1, "relu", 1e-5, false, false);
            default -> throw new IllegalStateException(kind);
        };
    }

    public long[] inputShape() {
        return new long[] {steps, batch, in};
    }

    /** The model file stem of scripts/goldens/export_sequence_models.py: lstm-512-512, mha-512h8, encoder-512h8f2048. */
    public String modelName() {
        return switch (kind) {
            case "lstm", "gru" -> kind + "-" + in + "-" + hidden;
            case "mha" -> "mha-" + in + "h" + heads;
            default -> "encoder-" + in + "h" + heads + "f" + ff;
        };
    }

    public double flop() {
        double t = steps, n = batch, e = in;
        return switch (kind) {
            case "lstm", "gru" -> 2 * t * n * (kind.equals("lstm") ? 4 : 3) * hidden * (double) (in + hidden);
            case "mha" -> 8 * t * n * e * e + 4 * n * t * t * e;
            default -> 8 * t * n * e * e + 4 * n * t * t * e + 4 * t * n * e * ff;
        };
    }

    /** "LSTM 512->512 T=128 N=32", "MHA E=512 h=8 T=128 N=1", "Encoder E=512 h=8 ff=2048 T=128 N=1". */
    public String label() {
        return switch (kind) {
            case "lstm" -> "LSTM " + in + "->" + hidden;
            case "gru" -> "GRU " + in + "->" + hidden;
            case "mha" -> "MHA E=" + in + " h=" + heads;
            default -> "Encoder E=" + in + " h=" + heads + " ff=" + ff;
        } + " T=" + steps + " N=" + batch;
    }
}
