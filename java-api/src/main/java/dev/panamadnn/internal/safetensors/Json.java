package dev.panamadnn.internal.safetensors;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A strict RFC 8259 JSON parser, just big enough for safetensors headers (no JSON library is a
 * dependency of this project). Objects become {@link LinkedHashMap}s in file order, arrays
 * {@link List}s, strings {@link String}s, numbers {@link Number} (the literal, so that integers
 * are never rounded through a double), {@code true}/{@code false} {@link Boolean}s and
 * {@code null} {@link Null#NULL}.
 *
 * <p>Strict where lenient parsers are not, because a header is untrusted input: duplicate keys,
 * trailing commas, leading zeros, raw control characters (NUL included) in strings, unpaired
 * surrogate escapes and anything after the top-level value except whitespace are errors. Nesting
 * is capped at {@link #MAX_DEPTH} (a header needs 3) so that a hostile file cannot overflow the
 * stack. Every error is a {@link HeaderException} giving the character offset.
 */
public final class Json {
    /** Deeper nesting than this is rejected; a valid header nests 3 deep. */
    public static final int MAX_DEPTH = 16;

    /** JSON {@code null}, distinct from a missing key. */
    public enum Null { NULL }

    /** A number literal as written, e.g. {@code "-12"} or {@code "1.5e3"}. */
    public record Number(String text) {
        /** The value if the literal is an integer (no fraction, no exponent) that fits a long. */
        public OptionalLong longValue() {
            if (text.indexOf('.') >= 0 || text.indexOf('e') >= 0 || text.indexOf('E') >= 0) return OptionalLong.empty();
            try {
                return OptionalLong.of(Long.parseLong(text));
            } catch (NumberFormatException tooBig) {
                return OptionalLong.empty();
            }
        }
    }

    private final String text;
    private int pos;
    private int depth;

    private Json(String text) {
        this.text = text;
    }

    /** Parses exactly one JSON value, optionally surrounded by whitespace. */
    public static Object parse(String text) {
        Json p = new Json(text);
        p.skipWhitespace();
        Object value = p.value();
        p.skipWhitespace();
        if (p.pos != text.length()) throw p.error("unexpected " + p.here() + " after the end of the JSON value");
        return value;
    }

    /** A short description of a parsed value for error messages: "the number -1", "an array", ... */
    public static String describe(Object value) {
        if (value instanceof Map<?, ?>) return "an object";
        if (value instanceof List<?>) return "an array";
        if (value instanceof String s) return "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
        if (value instanceof Number n) return "the number " + n.text();
        if (value instanceof Boolean b) return b.toString();
        return "null";
    }

    private Object value() {
        if (pos >= text.length()) throw error("unexpected end of the header, expected a JSON value");
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", Null.NULL);
            default -> {
                if (c == '-' || isDigit(c)) yield number();
                throw error("unexpected " + here() + ", expected a JSON value");
            }
        };
    }

    private Map<String, Object> object() {
        enter();
        pos++;                                       // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            depth--;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') throw error("unexpected " + here() + ", expected a string key");
            int keyAt = pos;
            String key = string();
            if (map.containsKey(key)) {
                pos = keyAt;
                throw error("duplicate key \"" + key + "\"");
            }
            skipWhitespace();
            expect(':');
            skipWhitespace();
            map.put(key, value());
            skipWhitespace();
            if (peek() == ',') {
                pos++;
            } else if (peek() == '}') {
                pos++;
                depth--;
                return map;
            } else {
                throw error("unexpected " + here() + ", expected ',' or '}'");
            }
        }
    }

    private List<Object> array() {
        enter();
        pos++;                                       // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            depth--;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value());
            skipWhitespace();
            if (peek() == ',') {
                pos++;
            } else if (peek() == ']') {
                pos++;
                depth--;
                return list;
            } else {
                throw error("unexpected " + here() + ", expected ',' or ']'");
            }
        }
    }

    private String string() {
        int start = pos++;                           // '"'
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                pos = start;
                throw error("unterminated string");
            }
            char c = text.charAt(pos++);
            if (c == '"') break;
            if (c < 0x20) {
                pos--;
                throw error(String.format("raw control character U+%04X in a string (JSON requires it escaped)", (int) c));
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= text.length()) throw error("unterminated escape sequence");
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> sb.append(hex4());
                default -> {
                    pos -= 2;
                    throw error("invalid escape \\" + (e < 0x20 || e > 0x7e ? String.format("U+%04X", (int) e) : String.valueOf(e)));
                }
            }
        }
        // Raw surrogates arrive paired (the header was decoded from valid UTF-8); escapes may not.
        for (int i = 0; i < sb.length(); i++) {
            char c = sb.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < sb.length() && Character.isLowSurrogate(sb.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                pos = start;
                throw error(String.format("unpaired surrogate \\u%04X in a string", (int) c));
            }
        }
        return sb.toString();
    }

    private char hex4() {
        if (pos + 4 > text.length()) throw error("truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(text.charAt(pos), 16);
            if (d < 0 || text.charAt(pos) > 0x7f) throw error("unexpected " + here() + " in a \\u escape, expected a hex digit");
            v = v * 16 + d;
            pos++;
        }
        return (char) v;
    }

    private Number number() {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') {
            pos++;
            if (isDigit(peek())) throw error("number with a leading zero");
        } else if (isDigit(peek())) {
            while (isDigit(peek())) pos++;
        } else {
            throw error("unexpected " + here() + " in a number, expected a digit");
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) throw error("unexpected " + here() + " after a decimal point, expected a digit");
            while (isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!isDigit(peek())) throw error("unexpected " + here() + " in an exponent, expected a digit");
            while (isDigit(peek())) pos++;
        }
        return new Number(text.substring(start, pos));
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, pos)) throw error("unexpected " + here() + ", expected a JSON value");
        pos += word.length();
        return value;
    }

    private void enter() {
        if (++depth > MAX_DEPTH) throw error("JSON nested deeper than " + MAX_DEPTH + " levels");
    }

    private void expect(char c) {
        if (peek() != c) throw error("unexpected " + here() + ", expected '" + c + "'");
        pos++;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    /** The current character, or U+FFFF past the end (never valid where it is tested). */
    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\uffff';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private String here() {
        if (pos >= text.length()) return "end of the header";
        char c = text.charAt(pos);
        return c < 0x20 || c > 0x7e ? String.format("character U+%04X", (int) c) : "'" + c + "'";
    }

    private HeaderException error(String message) {
        return new HeaderException("invalid header JSON: " + message + " at character " + pos);
    }
}
