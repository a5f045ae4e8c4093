package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Interop with an independent writer: safetensors/fixture.safetensors and the values expected
 * of it were both written by scripts/goldens/safetensors_fixture.py (torch, seed 1234). That
 * writer lists tensors unsorted, lays data out in its own order and pads the header to an odd
 * length, so every tensor is unaligned.
 */
class SafeTensorsFixtureTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    record Expected(String name, DataType dtype, long[] shape, String sum, String sha256) {
    }

    @Test
    void readsThePythonFixtureExactly() throws Exception {
        List<Expected> tensors = new ArrayList<>();
        Map<String, String> metadata = new TreeMap<>();
        List<String[]> samples = new ArrayList<>();
        long headerLength = -1;
        for (String line : expectedLines()) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] f = line.split("\t");
            switch (f[0]) {
                case "header_length" -> headerLength = Long.parseLong(f[1]);
                case "metadata" -> metadata.put(f[1], f[2]);
                case "tensor" -> tensors.add(new Expected(f[1], DataType.valueOf(f[2]), shape(f[3]), f[4], f[5]));
                case "sample" -> samples.add(f);
                default -> throw new AssertionError("unknown line in fixture.expected.txt: " + line);
            }
        }
        assertNotEquals(0, (8 + headerLength) % 4, "the fixture must put tensor data at unaligned offsets");

        try (SafeTensors st = SafeTensors.open(resource("fixture.safetensors"))) {
            assertEquals(tensors.stream().map(Expected::name).toList(), List.copyOf(st.names()));
            assertEquals(metadata, st.metadata());
            for (Expected e : tensors) {
                Tensor t = st.get(e.name());
                assertEquals(e.dtype(), st.dtype(e.name()), e.name());
                assertArrayEquals(e.shape(), t.shape(), e.name());
                assertEquals(e.sha256(), sha256(t.segment()), e.name() + ": bytes differ from what torch wrote");
                checkSum(e, t.segment());
            }
            for (String[] s : samples) {
                MemorySegment seg = st.get(s[1]).segment();
                long i = Long.parseLong(s[2]);
                String where = s[1] + "[" + i + "]";
                switch (st.dtype(s[1])) {
                    case F32 -> assertEquals(Float.parseFloat(s[3]), seg.get(F32, 4 * i), 0f, where);
                    case BF16 -> assertEquals(Integer.parseInt(s[3]), Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i)), where);
                    case I64 -> assertEquals(Long.parseLong(s[3]), seg.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 * i), where);
                    default -> throw new AssertionError("no sample check for " + st.dtype(s[1]));
                }
            }
        }
    }

    // torch sums in float64 in its own order, we sum sequentially in float64: the float32 inputs
    // are exact in float64, so the two differ only by float64 rounding (relative 1e-12 is ample).
    private static void checkSum(Expected e, MemorySegment seg) {
        long n = Arrays.stream(e.shape()).reduce(1, Math::multiplyExact);
        if (e.dtype() == DataType.I64) {
            long sum = 0;
            for (long i = 0; i < n; i++) sum += seg.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 * i);
            assertEquals(Long.parseLong(e.sum()), sum, e.name() + " sum");
            return;
        }
        double sum = 0;
        for (long i = 0; i < n; i++) {
            sum += e.dtype() == DataType.BF16
                    ? Float.intBitsToFloat(Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i)) << 16)
                    : seg.get(F32, 4 * i);
        }
        double want = Double.parseDouble(e.sum());
        assertEquals(want, sum, 1e-12 * Math.max(1, Math.abs(want)), e.name() + " sum");
    }

    private static long[] shape(String s) {
        String inner = s.substring(1, s.length() - 1);
        return inner.isEmpty() ? new long[0] : Arrays.stream(inner.split(",")).mapToLong(Long::parseLong).toArray();
    }

    private static String sha256(MemorySegment s) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.toArray(ValueLayout.JAVA_BYTE)));
    }

    private static List<String> expectedLines() throws IOException {
        try (InputStream in = SafeTensorsFixtureTest.class.getResourceAsStream("/safetensors/fixture.expected.txt")) {
            if (in == null) throw new AssertionError("missing test resource safetensors/fixture.expected.txt");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    static Path resource(String name) throws URISyntaxException {
        var url = SafeTensorsFixtureTest.class.getResource("/safetensors/" + name);
        if (url == null) throw new AssertionError("missing test resource safetensors/" + name);
        return Path.of(url.toURI());
    }
}
