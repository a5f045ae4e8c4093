package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * nn.TransformerEncoderLayer and nn.TransformerEncoder against torch 1.13
 * (scripts/goldens/generate_attention.py): post- and pre-norm, relu and gelu, both mask kinds,
 * padding masks, a final norm; state_dict names; every backend.
 */
class TransformerEncoderGoldenTest {
    private static GoldenFile file;

    @BeforeAll
    static void open() {
        file = GoldenFile.open("attention.safetensors");
    }

    @AfterAll
    static void closeFile() {
        file.close();
    }

    static List<Object[]> cases() {
        List<Object[]> out = new ArrayList<>();
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            for (GoldenFile.Case c : f.cases()) {
                if (!c.spec().startsWith("TransformerEncoder")) continue;
                for (Backend b : new Backend[] {Backend.AUTO, Backend.ONEDNN, Backend.REFERENCE}) out.add(new Object[] {c.name(), b});
            }
        }
        if (!GoldenFile.probing()) assertEquals(18, out.size(), "expected 6 encoder golden cases on 3 backends");
        return out;
    }

    static TransformerEncoderLayer layer(Map<String, String> f) {
        return new TransformerEncoderLayer(Integer.parseInt(f.get("d_model")), Integer.parseInt(f.get("nhead")),
                Integer.parseInt(f.get("dim_feedforward")), 0.1, f.get("activation"), Double.parseDouble(f.get("eps")),
                AttentionTesting.flag(f.get("batch_first")), AttentionTesting.flag(f.get("norm_first")));
    }

    /** The case's encoder layer, or encoder of {@code num_layers} layers with its optional final norm. */
    private static Module model(Map<String, String> f) {
        int layers = Integer.parseInt(f.get("num_layers"));
        return layers == 0 ? layer(f) : new TransformerEncoder(() -> layer(f), layers,
                AttentionTesting.flag(f.get("final_norm")) ? new LayerNorm(new long[] {Integer.parseInt(f.get("d_model"))},
                        Double.parseDouble(f.get("eps")), true) : null);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesPyTorch(String name, Backend backend) {
        GoldenFile.Case c = file.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        Map<String, String> f = c.fields();
        AttentionMask mask = AttentionTesting.mask(c, "attn_mask", f.get("attn_mask"));
        AttentionMask padding = AttentionTesting.mask(c, "key_padding_mask", f.get("key_padding_mask"));
        try (Module m = model(f)) {
            AttentionTesting.loadStateDict(name, m, c.params());
            try (Tensor y = m instanceof TransformerEncoder e ? e.forward(c.input(), mask, padding, backend)
                    : ((TransformerEncoderLayer) m).forward(c.input(), mask, padding, backend)) {
                double err = AttentionTesting.assertMatches(name + " on " + backend, c.output(), y);
                System.out.println("ENC " + name + " " + backend + " max abs error " + err);
            }
        }
    }

    /** {@code forwardInto} into a NaN-filled out, twice into the same out: the same PyTorch output. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void intoMatchesPyTorch(String name, Backend backend) {
        GoldenFile.Case c = file.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        Map<String, String> f = c.fields();
        AttentionMask mask = AttentionTesting.mask(c, "attn_mask", f.get("attn_mask"));
        AttentionMask padding = AttentionTesting.mask(c, "key_padding_mask", f.get("key_padding_mask"));
        try (Module m = model(f); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            AttentionTesting.loadStateDict(name, m, c.params());
            Tensor out = Tensor.allocate(arena, dev.panamadnn.DataType.F32, c.output().shape());
            out.segment().fill((byte) 0xFF);   // NaN: an element left unwritten fails
            for (int round = 0; round < 2; round++) {
                if (m instanceof TransformerEncoder e) e.forwardInto(c.input(), mask, padding, out, backend);
                else ((TransformerEncoderLayer) m).forwardInto(c.input(), mask, padding, out, backend);
                AttentionTesting.assertMatches(name + " forwardInto on " + backend + ", call " + (round + 1), c.output(), out);
            }
        }
    }
}
