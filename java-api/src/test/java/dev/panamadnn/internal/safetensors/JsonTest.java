package dev.panamadnn.internal.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The strict JSON parser on its own: what it accepts, exactly. */
class JsonTest {
    @Test
    void parsesEveryValueKindKeepingKeyOrderAndNumberLiterals() {
        Object v = Json.parse(" {\"z\":[1,-0,2.5e-3,true,false,null],\"a\":{\"\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}} \n");
        Map<?, ?> top = (Map<?, ?>) v;
        assertEquals(List.of("z", "a"), List.copyOf(top.keySet()));
        assertEquals(List.of(new Json.Number("1"), new Json.Number("-0"), new Json.Number("2.5e-3"), true, false, Json.Null.NULL), top.get("z"));
        assertEquals("\"\\/\b\f\n\r\té\uD83D\uDE00", ((Map<?, ?>) top.get("a")).get(""));
    }

    @Test
    void integerLiteralsConvertExactlyAndOthersDoNot() {
        assertEquals(OptionalLong.of(Long.MAX_VALUE), new Json.Number("9223372036854775807").longValue());
        assertEquals(OptionalLong.empty(), new Json.Number("9223372036854775808").longValue());
        assertEquals(OptionalLong.empty(), new Json.Number("1e3").longValue());
        assertEquals(OptionalLong.empty(), new Json.Number("1.0").longValue());
    }

    @Test
    void rejectsWhatLenientParsersAccept() {
        for (String bad : new String[] {"{'a':1}", "{\"a\":1,}", "[1,]", "01", "+1", "1.", ".5", "1e", "NaN", "tru", "\"\t\"", "{\"a\" 1}", "{} {}"}) {
            var e = assertThrows(HeaderException.class, () -> Json.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("invalid header JSON: "), e.getMessage());
        }
    }
}
