package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed files, built byte by byte: each must fail in {@link SafeTensors#open} with a
 * {@link SafeTensorsException} that names the file and the problem, never anything else.
 */
class SafeTensorsMalformedTest {
    @TempDir
    Path dir;

    /** 8-byte little-endian length of {@code header}, the header, {@code dataBytes} zero bytes. */
    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return raw(h.length, concat(h, new byte[dataBytes]));
    }

    /** Any header length field followed by {@code rest}. */
    static byte[] raw(long headerLength, byte[] rest) {
        return concat(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array(), rest);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** One tensor entry: {@code "name":{"dtype":..,"shape":..,"data_offsets":..}}. */
    static String t(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    static final String OK_A = t("a", "\"F32\"", "[1]", "[0,4]");

    static Stream<Arguments> cases() {
        return Stream.of(
                c("empty file", new byte[0], "too few for the 8-byte header length"),
                c("truncated header length", new byte[5], "5 bytes, too few"),
                c("header length 0", raw(0, new byte[0]), "header length 0 is outside [2, 100000000]"),
                c("header length 1", raw(1, "{".getBytes(StandardCharsets.UTF_8)), "header length 1 is outside"),
                c("header length 2^63", raw(Long.MIN_VALUE, "{}".getBytes(StandardCharsets.UTF_8)), "header length 9223372036854775808 is outside"),
                c("header length 2^64-1", raw(-1, "{}".getBytes(StandardCharsets.UTF_8)), "header length 18446744073709551615 is outside"),
                c("header length over 100 MB", raw(100_000_001, "{}".getBytes(StandardCharsets.UTF_8)), "header length 100000001 is outside"),
                c("header length past the end of the file", raw(100, "{}".getBytes(StandardCharsets.UTF_8)), "header length 100 is larger than the 2 bytes"),
                c("not JSON", file("hello", 0), "invalid header JSON: unexpected 'h', expected a JSON value at character 0"),
                c("JSON array instead of object", file("[]", 0), "the header must be a JSON object, found an array"),
                c("truncated JSON", file("{\"a\":", 0), "unexpected end of the header, expected a JSON value"),
                c("trailing comma", file("{" + OK_A + ",}", 4), "unexpected '}', expected a string key"),
                c("characters after the object", file("{" + OK_A + "} x", 4), "unexpected 'x' after the end of the JSON value"),
                c("NUL padding", file("{" + OK_A + "}\0\0", 4), "unexpected character U+0000 after the end of the JSON value"),
                c("NUL inside a name", file("{" + t("a\0b", "\"F32\"", "[1]", "[0,4]") + "}", 4), "raw control character U+0000 in a string"),
                c("invalid UTF-8", concat(raw(6, new byte[] {'{', '"', (byte) 0xC3, 0x28, '"', '}'}), new byte[0]), "not valid UTF-8 (bad byte sequence at byte 2)"),
                c("invalid escape", file("{\"a\\x\":1}", 0), "invalid escape \\x"),
                c("unpaired surrogate escape", file("{\"a\\ud800\":1}", 0), "unpaired surrogate \\uD800"),
                c("nesting 10000 deep", file("{\"a\":" + "[".repeat(10_000), 0), "nested deeper than 16 levels"),
                c("leading zero", file("{" + t("a", "\"F32\"", "[1]", "[0,04]") + "}", 4), "number with a leading zero"),
                c("unknown dtype", file("{" + t("a", "\"F33\"", "[1]", "[0,4]") + "}", 4), "tensor 'a': unsupported dtype \"F33\" (supported: F32, BF16"),
                c("dtype not a string", file("{" + t("a", "32", "[1]", "[0,4]") + "}", 4), "tensor 'a': unsupported dtype the number 32"),
                c("negative dim", file("{" + t("a", "\"F32\"", "[2,-1]", "[0,4]") + "}", 4), "tensor 'a': shape[1] must be a non-negative integer below 2^63, found the number -1"),
                c("fractional dim", file("{" + t("a", "\"F32\"", "[1.5]", "[0,4]") + "}", 4), "shape[0] must be a non-negative integer below 2^63, found the number 1.5"),
                c("shape not an array", file("{" + t("a", "\"F32\"", "4", "[0,4]") + "}", 4), "shape must be an array of non-negative integers, found the number 4"),
                c("non-integer offset", file("{" + t("a", "\"F32\"", "[1]", "[0,4.0]") + "}", 4), "data_offsets[1] must be a non-negative integer below 2^63, found the number 4.0"),
                c("offset beyond a long", file("{" + t("a", "\"F32\"", "[1]", "[0,99999999999999999999]") + "}", 4), "found the number 99999999999999999999"),
                c("string offset", file("{" + t("a", "\"F32\"", "[1]", "[\"0\",4]") + "}", 4), "data_offsets[0] must be a non-negative integer below 2^63, found the string \"0\""),
                c("three offsets", file("{" + t("a", "\"F32\"", "[1]", "[0,4,8]") + "}", 4), "data_offsets must be [begin, end], found 3 numbers"),
                c("offsets past the end", file("{" + t("a", "\"F32\"", "[2]", "[0,8]") + "}", 4), "tensor 'a': data_offsets [0, 8] run past the end of the 4-byte data area"),
                c("end before begin", file("{" + t("a", "\"F32\"", "[1]", "[4,0]") + "}", 4), "tensor 'a': data_offsets [4, 0] end before they begin"),
                c("size does not match shape and dtype", file("{" + t("a", "\"F32\"", "[2]", "[0,4]") + "}", 4), "tensor 'a': data_offsets [0, 4] hold 4 bytes, but F32[2] needs 8"),
                c("element count overflows", file("{" + t("a", "\"F32\"", "[4611686018427387904,4]", "[0,4]") + "}", 4), "more bytes than a long can count"),
                c("overlapping tensors", file("{" + t("a", "\"F32\"", "[2]", "[0,8]") + "," + t("b", "\"F32\"", "[2]", "[4,12]") + "}", 12),
                        "tensors 'a' F32[2] at [0, 8) and 'b' F32[2] at [4, 12) overlap"),
                c("gap between tensors", file("{" + t("a", "\"F32\"", "[1]", "[0,4]") + "," + t("b", "\"F32\"", "[1]", "[8,12]") + "}", 12),
                        "bytes [4, 8) of the data area belong to no tensor (a gap before tensor 'b'"),
                c("trailing bytes after the last tensor", file("{" + OK_A + "}", 8), "the data area has 8 bytes but the tensors end at byte 4"),
                c("data but no tensors", file("{}", 4), "the data area has 4 bytes but the tensors end at byte 0"),
                c("duplicate tensor key", file("{" + OK_A + "," + OK_A + "}", 4), "duplicate key \"a\""),
                c("duplicate field", file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\"}}", 0), "duplicate key \"dtype\""),
                c("metadata value not a string", file("{\"__metadata__\":{\"k\":1}," + OK_A + "}", 4), "__metadata__ entry \"k\" must be a string, found the number 1"),
                c("metadata not an object", file("{\"__metadata__\":[\"k\"]}", 0), "__metadata__ must be an object of string values, found an array"),
                c("entry not an object", file("{\"a\":3}", 0), "tensor 'a': expected an object with dtype, shape and data_offsets, found the number 3"),
                c("missing field", file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'a': missing field \"shape\""),
                c("unknown field", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"offsets\":[0,4]}}", 4), "tensor 'a': unknown field \"offsets\""));
    }

    private static Arguments c(String name, byte[] bytes, String expected) {
        return Arguments.of(name, bytes, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejectsWithAMessageNamingFileAndProblem(String name, byte[] bytes, String expected) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, bytes);
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(file).close(), name);
        assertTrue(e.getMessage().startsWith(file + ": "), "message must name the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected the message to contain\n  " + expected + "\nbut it was\n  " + e.getMessage());
        assertTrue(e instanceof IllegalArgumentException);
    }

    @Test
    void everyTruncationOfAValidFileIsRejected() throws Exception {
        byte[] good = Files.readAllBytes(SafeTensorsFixtureTest.resource("fixture.safetensors"));
        Path file = dir.resolve("cut.safetensors");
        for (int len = 0; len < good.length; len++) {
            Files.write(file, java.util.Arrays.copyOf(good, len));
            int cut = len;
            assertThrows(SafeTensorsException.class, () -> SafeTensors.open(file).close(), () -> "truncated to " + cut + " bytes");
        }
    }

    /** Bytes that make corruptions more likely to stay JSON, and so reach the validator. */
    private static final String JSON_CHARS = "{}[],:\"0123456789-.e\\ ";

    /** Flipped bytes either still make a valid file (then every tensor reads) or are rejected cleanly. */
    @Test
    void randomCorruptionFailsOnlyWithSafeTensorsException() throws Exception {
        byte[] good = Files.readAllBytes(SafeTensorsFixtureTest.resource("fixture.safetensors"));
        int headerEnd = 8 + (int) ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        Path file = dir.resolve("flipped.safetensors");
        Random rng = new Random(20240611);
        int rejected = 0;
        for (int round = 0; round < 2000; round++) {
            byte[] bad = good.clone();
            StringBuilder what = new StringBuilder("round " + round + ":");
            for (int k = 1 + rng.nextInt(3); k > 0; k--) {
                int at = rng.nextInt(headerEnd);               // the header is where parsing can go wrong
                bad[at] = (byte) (rng.nextBoolean() ? rng.nextInt(256) : JSON_CHARS.charAt(rng.nextInt(JSON_CHARS.length())));
                what.append(" byte ").append(at).append("=").append(bad[at] & 0xff);
            }
            Files.write(file, bad);
            try (SafeTensors st = SafeTensors.open(file)) {
                for (String n : st.names()) {
                    if (st.get(n).segment().byteSize() < 0) fail("impossible");
                }
            } catch (SafeTensorsException expected) {
                rejected++;
            } catch (Throwable other) {   // a corrupted shape that reads as a zero-size tensor is an empty tensor now
                throw new AssertionError(what + " escaped as " + other, other);
            }
        }
        assertTrue(rejected > 1000, "most corruptions must be detected, only " + rejected + " of 2000 were");
    }
}
