package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** scaled_dot_product_attention against torch (scripts/goldens/generate_attention.py), on oneDNN and the reference. */
class SdpaGoldenTest {
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
        List<Object[]> out = new java.util.ArrayList<>();
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            for (GoldenFile.Case c : f.cases()) {
                if (!c.spec().startsWith("SDPA")) continue;
                for (Backend b : new Backend[] {Backend.ONEDNN, Backend.REFERENCE}) out.add(new Object[] {c.name(), b});
            }
        }
        if (!GoldenFile.probing()) assertEquals(14, out.size(), "expected 7 SDPA golden cases on 2 backends");
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesPyTorch(String name, Backend backend) {
        GoldenFile.Case c = file.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        Map<String, String> f = c.fields();
        Double scale = f.get("scale").equals("none") ? null : Double.valueOf(f.get("scale"));
        try (Tensor y = Attention.scaledDotProductAttention(c.input(), c.extras().get("key"), c.extras().get("value"),
                AttentionTesting.mask(c, "attn_mask", f.get("attn_mask")), AttentionTesting.flag(f.get("is_causal")), scale, backend)) {
            double err = AttentionTesting.assertMatches(name + " on " + backend, c.output(), y);
            System.out.println("SDPA " + name + " " + backend + " max abs error " + err);
            assertTrue(err >= 0);
        }
    }
}
