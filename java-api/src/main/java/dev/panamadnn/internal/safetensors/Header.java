package dev.panamadnn.internal.safetensors;

import dev.panamadnn.DataType;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The fully validated header of a safetensors file: every tensor entry and the metadata.
 *
 * <p>{@link #parse} accepts exactly the headers the reference implementation
 * (huggingface/safetensors) accepts, except for dtypes {@link DataType} lacks and unknown fields
 * in a tensor entry, which it rejects rather than ignores. In particular the tensors must tile
 * the data area: sorted by offset, each starts where the previous ended, the first at 0 and the
 * last at the end of the file. That single rule rules out overlap, gaps and trailing bytes, so a
 * byte of the file is either header or exactly one tensor's data.
 *
 * @param tensors  entries by name, sorted by name
 * @param metadata the {@code __metadata__} object (empty if absent or null), sorted by key
 */
public record Header(SortedMap<String, Entry> tensors, SortedMap<String, String> metadata) {
    /** The reference implementation's cap; a real header is a few KB to a few MB. */
    public static final long MAX_HEADER_BYTES = 100_000_000;

    private static final Set<String> FIELDS = Set.of("dtype", "shape", "data_offsets");

    /** One tensor: offsets are relative to the start of the data area; {@code end - begin == byteSize}. */
    public record Entry(String name, DataType dtype, long[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;                 // cannot overflow: checked by parse
            return n;
        }

        String describe() {
            return "'" + name + "' " + dtype.safetensorsName() + Arrays.toString(shape) + " at [" + begin + ", " + end + ")";
        }
    }

    /**
     * Validates {@code json} (the header bytes, padding included) against a data area of
     * {@code dataSize} bytes.
     *
     * @throws HeaderException naming the tensor, what was expected and what was found
     */
    public static Header parse(byte[] json, long dataSize) {
        Object root = Json.parse(decodeUtf8(json));
        if (!(root instanceof Map<?, ?> top)) {
            throw new HeaderException("the header must be a JSON object, found " + Json.describe(root));
        }
        SortedMap<String, Entry> tensors = new TreeMap<>();
        SortedMap<String, String> metadata = new TreeMap<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                metadata = metadata(e.getValue());
            } else {
                tensors.put(name, entry(name, e.getValue(), dataSize));
            }
        }
        checkTiling(tensors.values(), dataSize);
        return new Header(Collections.unmodifiableSortedMap(tensors), Collections.unmodifiableSortedMap(metadata));
    }

    private static String decodeUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);    // UTF-8 never yields more chars than bytes
        CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) throw new HeaderException("the header is not valid UTF-8 (bad byte sequence at byte " + in.position() + ")");
        decoder.flush(out);
        return out.flip().toString();
    }

    private static SortedMap<String, String> metadata(Object value) {
        SortedMap<String, String> metadata = new TreeMap<>();
        if (value == Json.Null.NULL) return metadata;          // the reference reads null as "no metadata"
        if (!(value instanceof Map<?, ?> map)) {
            throw new HeaderException("__metadata__ must be an object of string values, found " + Json.describe(value));
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new HeaderException("__metadata__ entry \"" + e.getKey() + "\" must be a string, found " + Json.describe(e.getValue()));
            }
            metadata.put((String) e.getKey(), s);
        }
        return metadata;
    }

    private static Entry entry(String name, Object value, long dataSize) {
        String where = "tensor '" + name + "': ";
        if (!(value instanceof Map<?, ?> fields)) {
            throw new HeaderException(where + "expected an object with dtype, shape and data_offsets, found " + Json.describe(value));
        }
        for (Object key : fields.keySet()) {
            if (!FIELDS.contains(key)) throw new HeaderException(where + "unknown field \"" + key + "\" (expected dtype, shape, data_offsets)");
        }
        DataType dtype = dtype(where, field(where, fields, "dtype"));
        long[] shape = integers(where, "shape", field(where, fields, "shape"));
        long[] offsets = integers(where, "data_offsets", field(where, fields, "data_offsets"));
        if (offsets.length != 2) {
            throw new HeaderException(where + "data_offsets must be [begin, end], found " + offsets.length + " numbers");
        }
        long begin = offsets[0], end = offsets[1];
        if (end < begin) throw new HeaderException(where + "data_offsets [" + begin + ", " + end + "] end before they begin");
        if (end > dataSize) {
            throw new HeaderException(where + "data_offsets [" + begin + ", " + end + "] run past the end of the "
                    + dataSize + "-byte data area");
        }
        long bytes;
        try {
            long numel = 1;
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new HeaderException(where + "shape " + Arrays.toString(shape) + " has more bytes than a long can count");
        }
        if (end - begin != bytes) {
            throw new HeaderException(where + "data_offsets [" + begin + ", " + end + "] hold " + (end - begin) + " bytes, but "
                    + dtype.safetensorsName() + Arrays.toString(shape) + " needs " + bytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static Object field(String where, Map<?, ?> fields, String key) {
        if (!fields.containsKey(key)) throw new HeaderException(where + "missing field \"" + key + "\"");
        return fields.get(key);
    }

    private static DataType dtype(String where, Object value) {
        if (value instanceof String s) {
            for (DataType t : DataType.values()) if (t.safetensorsName().equals(s)) return t;
        }
        List<String> known = new ArrayList<>();
        for (DataType t : DataType.values()) known.add(t.safetensorsName());
        throw new HeaderException(where + "unsupported dtype " + (value instanceof String s ? "\"" + s + "\"" : Json.describe(value))
                + " (supported: " + String.join(", ", known) + ")");
    }

    private static long[] integers(String where, String field, Object value) {
        if (!(value instanceof List<?> list)) {
            throw new HeaderException(where + field + " must be an array of non-negative integers, found " + Json.describe(value));
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object v = list.get(i);
            OptionalLong n = v instanceof Json.Number num ? num.longValue() : OptionalLong.empty();
            if (n.isEmpty() || n.getAsLong() < 0) {
                throw new HeaderException(where + field + "[" + i + "] must be a non-negative integer below 2^63, found " + Json.describe(v));
            }
            out[i] = n.getAsLong();
        }
        return out;
    }

    private static void checkTiling(Iterable<Entry> entries, long dataSize) {
        List<Entry> byOffset = new ArrayList<>();
        entries.forEach(byOffset::add);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long cursor = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin() < cursor) {
                throw new HeaderException("tensors " + previous.describe() + " and " + e.describe() + " overlap");
            }
            if (e.begin() > cursor) {
                throw new HeaderException("bytes [" + cursor + ", " + e.begin() + ") of the data area belong to no tensor (a gap before tensor '"
                        + e.name() + "'; every byte must belong to exactly one tensor)");
            }
            cursor = e.end();
            previous = e;
        }
        if (cursor != dataSize) {
            throw new HeaderException("the data area has " + dataSize + " bytes but the tensors end at byte " + cursor
                    + " (trailing bytes after the last tensor)");
        }
    }
}
