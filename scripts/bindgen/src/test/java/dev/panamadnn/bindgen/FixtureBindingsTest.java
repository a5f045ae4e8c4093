package dev.panamadnn.bindgen;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generates bindings for fixture.h, compiles them in-process, loads them against
 * libfixture.so (built from fixture.c by gcc) and calls them. Expected values come from the
 * C side (fx_layout, fx_*_constant) wherever C can say them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FixtureBindingsTest {
    private Path generated;
    private ClassLoader loader;
    private Class<?> header;
    private Class<?> usage;
    /** The same compiled classes in a loader of their own, initialised with the shared downcall shapes off. */
    private Class<?> exactHeader;
    private Class<?> exactUsage;

    @BeforeAll
    void generateCompileAndLoad(@TempDir Path tmp) throws Exception {
        FixtureSupport.assumeLibclang();
        FixtureSupport.assumeGcc();
        Path lib = FixtureSupport.buildLibrary(tmp);
        System.setProperty("fixture.lib", lib.toString()); // read by the fixture's --symbol-lookup
        generated = tmp.resolve("src");
        Generator.run(FixtureSupport.generatorArgs(generated).toArray(String[]::new));
        Files.createDirectories(tmp.resolve("classes"));
        loader = FixtureSupport.compile(generated, tmp.resolve("classes"),
                FixtureSupport.fixtureDir().resolve("FixtureApiUsage.java"));
        header = loader.loadClass("fixture.gen.fixture_h");
        usage = loader.loadClass("fixture.gen.FixtureApiUsage");
        ClassLoader exact = new java.net.URLClassLoader(new java.net.URL[] {tmp.resolve("classes").toUri().toURL()},
                FixtureBindingsTest.class.getClassLoader());
        System.setProperty(HeaderClassEmitter.SHARED_PROPERTY, "false");
        try {
            exactHeader = Class.forName("fixture.gen.fixture_h", true, exact);
        } finally {
            System.clearProperty(HeaderClassEmitter.SHARED_PROPERTY);
        }
        exactUsage = exact.loadClass("fixture.gen.FixtureApiUsage");
    }

    private Object c(String function, Object... args) throws Throwable {
        return FixtureSupport.call(header, function, args);
    }

    private Object use(String method, Object... args) throws Throwable {
        return FixtureSupport.call(usage, method, args);
    }

    @Test
    void scalarParametersAndReturns() throws Throwable {
        assertEquals(5, c("fx_add_int", 2, 3));
        assertEquals(5_000_000_000L, c("fx_add_long", 2_000_000_000L, 3_000_000_000L));
        assertEquals(3.0f, c("fx_scale_float", 1.5f, 2f));
        assertEquals(7.5, c("fx_mul_double", 2.5, 3.0));
        assertEquals(true, c("fx_is_positive", 4));
        assertEquals(false, c("fx_is_positive", -4));
        assertEquals('A' * 1000 + 7, c("fx_char_code", (byte) 'A', (short) 7));
    }

    @Test
    void pointerParametersAndReturns() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(6L, c("fx_sum_array", arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, 1, 2, 3), 3L));
            MemorySegment out = arena.allocate(java.lang.foreign.ValueLayout.JAVA_FLOAT, 3);
            c("fx_fill", out, 3, 2.5f);
            assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f}, out.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
            assertEquals(5L, c("fx_strlen", arena.allocateFrom("hello")));
        }
        // C_POINTER carries an unbounded target layout, as in jextract: returned strings are readable.
        assertEquals("hello from C", ((MemorySegment) c("fx_greeting")).getString(0));
        assertEquals(24, use("dimsProduct", new long[] {2, 3, 4}));
    }

    @Test
    void criticalVariantTakesHeapArraysWhereThePlainOneCannot() throws Throwable {
        assertArrayEquals(new float[] {1.25f, 1.25f}, (float[]) use("fillHeapArray", 2, 1.25f));
        assertEquals(10L, use("sumHeapArray", new long[] {1, 2, 3, 4}));
        assertThrows(IllegalArgumentException.class, () -> use("fillHeapArrayWithoutCritical", 2));
    }

    @Test
    void structsAndUnionsByValue() throws Throwable {
        assertEquals(7, use("makeAndSumPoint", 3, 4));
        assertEquals('a' + 1.5 + 2 + 10 + 'z', (double) use("paddedRoundTrip", (byte) 'a', 1.5, (short) 2, 10L));
        assertEquals(42, use("unionAsInt", 42));
    }

    @Test
    void opaqueHandlesAndStructPointers() throws Throwable {
        assertEquals(99, use("handleRoundTrip", 99));
        assertEquals("7:abc123", use("version"));
    }

    @Test
    void enumTypedefIsAnInt() throws Throwable {
        assertEquals(c("FX_GREEN"), c("fx_next_color", (int) c("FX_RED")));
        assertEquals(int.class, ((java.lang.foreign.ValueLayout) header.getField("fx_color_t").get(null)).carrier());
    }

    @Test
    void upcallsAndFunctionPointers() throws Throwable {
        assertEquals(67, use("applyInC", 6, 7), "C should have called the Java lambda");
        assertEquals(13, use("callAdderFromC", 6, 7));
        assertEquals(-1, use("callThroughStructField", 6, 7));
    }

    @Test
    void nestedStructAndArrayFields() throws Throwable {
        assertEquals("7,9,0.5,0.5,nested", use("nestedFields"));
        assertThrows(IndexOutOfBoundsException.class, () -> use("weightOutOfBounds"));
    }

    @Test
    void integerConstantsEqualWhatCComputes() throws Throwable {
        Map<String, Class<?>> types = Map.ofEntries(Map.entry("FX_INT", int.class), Map.entry("FX_NEG", int.class),
                Map.entry("FX_LONG", long.class), Map.entry("FX_ULL", long.class), Map.entry("FX_HEX", int.class),
                Map.entry("FX_SHIFT", int.class), Map.entry("FX_BIG_SHIFT", long.class),
                Map.entry("FX_DERIVED", int.class), Map.entry("FX_RED", int.class), Map.entry("FX_GREEN", int.class),
                Map.entry("FX_BLUE", int.class), Map.entry("FX_PLAIN_X", int.class),
                Map.entry("FX_ANON_A", int.class), Map.entry("FX_ANON_B", int.class));
        try (Arena arena = Arena.ofConfined()) {
            for (var e : types.entrySet()) {
                String name = e.getKey();
                assertEquals(e.getValue(), header.getMethod(name).getReturnType(), name + " Java type");
                long inC = (long) c("fx_int_constant", arena.allocateFrom(name));
                assertEquals(inC, ((Number) c(name)).longValue(), name + " value");
            }
        }
    }

    @Test
    void floatingStringAndPointerConstantsEqualWhatCComputes() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals((float) (double) c("fx_real_constant", arena.allocateFrom("FX_FLOAT")), c("FX_FLOAT"));
            assertEquals(c("fx_real_constant", arena.allocateFrom("FX_DOUBLE")), c("FX_DOUBLE"));
            for (String name : List.of("FX_PTR", "FX_NULL")) {
                MemorySegment inC = (MemorySegment) c("fx_pointer_constant", arena.allocateFrom(name));
                assertEquals(inC.address(), ((MemorySegment) c(name)).address(), name);
            }
            MemorySegment string = (MemorySegment) c("FX_STRING");
            assertEquals(((MemorySegment) c("fx_pointer_constant", arena.allocateFrom("FX_STRING"))).getString(0),
                    string.getString(0));
            assertTrue(string.isReadOnly(), "a shared constant must not be writable");
            assertEquals(string, c("FX_STRING"), "allocated once");
        }
    }

    @Test
    void structLayoutsMatchC() throws Throwable {
        Map<String, String> cNames = Map.of("fx_point", "struct fx_point", "fx_point_t", "fx_point_t",
                "fx_padded", "struct fx_padded", "fx_nested", "struct fx_nested", "fx_version_t", "fx_version_t",
                "fx_number", "union fx_number");
        for (var e : cNames.entrySet()) {
            Class<?> cls = loader.loadClass("fixture.gen." + e.getKey());
            String cType = e.getValue();
            GroupLayout layout = (GroupLayout) FixtureSupport.call(cls, "layout");
            assertEquals(cLayout("sizeof " + cType), layout.byteSize(), "sizeof " + cType);
            assertEquals(cLayout("sizeof " + cType), FixtureSupport.call(cls, "sizeof"), "sizeof() " + cType);
            assertEquals(cLayout("alignof " + cType), layout.byteAlignment(), "alignof " + cType);
            int fields = 0;
            for (MemoryLayout member : layout.memberLayouts()) {
                if (member.name().isEmpty()) {
                    continue; // padding
                }
                String field = member.name().get();
                long offset = cLayout("offsetof " + cType + "." + field);
                assertEquals(offset, layout.byteOffset(groupElement(field)), cType + "." + field + " in layout()");
                assertEquals(offset, FixtureSupport.call(cls, field + "$offset"), cType + "." + field + "$offset()");
                fields++;
            }
            assertTrue(fields > 0, cType + " has no named fields");
        }
    }

    @Test
    void paddingIsExplicitWhereCHasGaps() throws Throwable {
        GroupLayout padded = (GroupLayout) FixtureSupport.call(loader.loadClass("fixture.gen.fx_padded"), "layout");
        long padding = padded.memberLayouts().stream().filter(m -> m.name().isEmpty())
                .mapToLong(MemoryLayout::byteSize).sum();
        long fieldBytes = padded.memberLayouts().stream().filter(m -> m.name().isPresent())
                .mapToLong(MemoryLayout::byteSize).sum();
        assertEquals(cLayout("sizeof struct fx_padded") - fieldBytes, padding);
        assertEquals("fx_padded", padded.name().orElseThrow(), "layout named after the C struct");
    }

    @Test
    void typedefLayoutsMatchC() throws Throwable {
        assertEquals(cLayout("sizeof fx_dims_t"), ((MemoryLayout) header.getField("fx_dims_t").get(null)).byteSize());
        assertEquals(cLayout("sizeof fx_dim_t"), ((MemoryLayout) header.getField("fx_dim_t").get(null)).byteSize());
        assertEquals(8L, ((MemoryLayout) header.getField("fx_handle_t").get(null)).byteSize());
        assertTrue(loader.loadClass("fixture.gen.fx_point").isAssignableFrom(loader.loadClass("fixture.gen.fx_point_t")),
                "a typedef of an included struct is a subclass, as in jextract");
    }

    @Test
    void sharedDowncallShapesAreOnWhereTheAbiMakesThemExactAndCanBeTurnedOff() throws Exception {
        boolean sysV = System.getProperty("os.name").startsWith("Linux")
                && (System.getProperty("os.arch").equals("amd64") || System.getProperty("os.arch").equals("x86_64"));
        assertEquals(sysV, sharedFlag(header));
        assertFalse(sharedFlag(exactHeader));
        String source = Files.readString(generated.resolve("fixture/gen/fixture_h.java"));
        // ints, longs, pointers and floats share shapes; bool, char, short, double and structs by value do not
        for (String shared : List.of("int fx_add_int(", "long fx_add_long(", "float fx_scale_float(", "void fx_fill(",
                "long fx_sum_array(", "MemorySegment fx_greeting(", "int fx_echo_args(", "int fx_apply(")) {
            assertTrue(wrapper(source, shared).contains("Shared$"), shared);
        }
        for (String exact : List.of("double fx_mul_double(", "boolean fx_is_positive(", "int fx_char_code(",
                "int fx_point_sum(", "double fx_padded_sum(")) {
            assertFalse(wrapper(source, exact).contains("Shared$"), exact);
        }
        // void, int, long and pointer results all read rax: one shape for all of them
        assertTrue(source.contains("Linker.nativeLinker().downcallHandle(FunctionDescriptor.of(C_LONG, " + String.join(", ",
                java.util.Collections.nCopies(6, "ValueLayout.ADDRESS")) + ", C_FLOAT, C_FLOAT));"), "the 6-register shape");
        for (String shape : List.of("Shared$j6f2 ", "Shared$j20f3 ", "Shared$f6f2 ")) {
            assertTrue(source.contains("private static final class " + shape), shape);
        }
        assertEquals(3, source.split("private static final class Shared\\$", -1).length - 1
                - (source.split("private static final class Shared\\$[a-z0-9]*\\$critical", -1).length - 1), "shapes");
    }

    @Test
    void interleavedArgumentsPastTheRegistersArriveAsPassedEitherWay() throws Throwable {
        MemorySegment p = MemorySegment.ofAddress(0x7fff_1234_5678L);
        float x = 1.25f;
        float y = -0f;
        float z = Float.intBitsToFloat(0x7fc0_0123); // a NaN with a payload: bits must arrive unchanged
        long[] expected = {-5, Integer.toUnsignedLong(Float.floatToRawIntBits(x)), Long.MIN_VALUE + 3, p.address(),
            -2_000_000_000, Integer.toUnsignedLong(Float.floatToRawIntBits(y)), 0xFFFF_FFFFL, Integer.MIN_VALUE, 7,
            Integer.toUnsignedLong(Float.floatToRawIntBits(z)), Long.MAX_VALUE};
        for (Class<?> h : List.of(header, exactHeader)) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(java.lang.foreign.ValueLayout.JAVA_LONG, 11);
                Object e = FixtureSupport.call(h, "fx_echo_args", out, -5, x, Long.MIN_VALUE + 3, p, -2_000_000_000, y,
                        -1, Integer.MIN_VALUE, 7, z, Long.MAX_VALUE);
                assertEquals(Integer.MIN_VALUE, e, "the int result, sign and all");
                assertArrayEquals(expected, out.toArray(java.lang.foreign.ValueLayout.JAVA_LONG), "shared " + sharedFlag(h));
            }
        }
    }

    @Test
    void everyKindOfCallGivesTheSameResultsWithTheSharedShapesOff() throws Throwable {
        assertEquals(-1, FixtureSupport.call(exactHeader, "fx_add_int", 2, -3));
        assertEquals(-1, c("fx_add_int", 2, -3));
        assertEquals(-5_000_000_000L, FixtureSupport.call(exactHeader, "fx_add_long", -2_000_000_000L, -3_000_000_000L));
        assertEquals(-5_000_000_000L, c("fx_add_long", -2_000_000_000L, -3_000_000_000L));
        assertEquals(-3.0f, FixtureSupport.call(exactHeader, "fx_scale_float", 1.5f, -2f));
        assertEquals(-3.0f, c("fx_scale_float", 1.5f, -2f));
        assertEquals("hello from C", ((MemorySegment) FixtureSupport.call(exactHeader, "fx_greeting")).getString(0));
        try (Arena arena = Arena.ofConfined()) {   // pointer results: the same address and size (C_POINTER's: unbounded) either way
            for (String name : List.of("FX_PTR", "FX_NULL", "FX_STRING")) {
                MemorySegment shared = (MemorySegment) c("fx_pointer_constant", arena.allocateFrom(name));
                MemorySegment exact = (MemorySegment) FixtureSupport.call(exactHeader, "fx_pointer_constant", arena.allocateFrom(name));
                assertEquals(exact, shared, name);
                assertEquals(Long.MAX_VALUE, shared.byteSize(), name);
            }
        }
        for (Class<?> u : List.of(usage, exactUsage)) {
            assertArrayEquals(new float[] {1.25f, 1.25f}, (float[]) FixtureSupport.call(u, "fillHeapArray", 2, 1.25f));
            assertEquals(10L, FixtureSupport.call(u, "sumHeapArray", new long[] {1, 2, 3, 4}));
            assertThrows(IllegalArgumentException.class, () -> FixtureSupport.call(u, "fillHeapArrayWithoutCritical", 2));
            assertEquals(67, FixtureSupport.call(u, "applyInC", 6, 7), "C should have called the Java lambda");
            assertEquals(99, FixtureSupport.call(u, "handleRoundTrip", 99));
        }
        for (Class<?> h : List.of(header, exactHeader)) {
            assertThrows(UnsatisfiedLinkError.class, () -> FixtureSupport.call(h, "fx_not_implemented", 1));
            Arena arena = Arena.ofConfined();   // a closed arena's segment is refused before the call
            MemorySegment out = arena.allocate(java.lang.foreign.ValueLayout.JAVA_FLOAT, 3);
            arena.close();
            assertThrows(IllegalStateException.class, () -> FixtureSupport.call(h, "fx_fill", out, 3, 1f));
        }
    }

    private static boolean sharedFlag(Class<?> h) throws ReflectiveOperationException {
        var f = h.getDeclaredField("SHARED_DOWNCALLS");
        f.setAccessible(true);
        return f.getBoolean(null);
    }

    /** The text of the public wrapper whose declaration starts with {@code start} (after "public static "). */
    private static String wrapper(String source, String start) {
        int at = source.indexOf("public static " + start);
        assertTrue(at >= 0, start);
        return source.substring(at, source.indexOf("\n    }\n", at));
    }

    @Test
    void missingFunctionFailsOnlyWhenCalledAndOnEveryCall() throws Throwable {
        assertEquals(5, c("fx_add_int", 2, 3), "the rest of the header class works");
        assertNotEquals(null, c("fx_not_implemented$descriptor"));
        for (int attempt = 0; attempt < 2; attempt++) {
            UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> c("fx_not_implemented", 1));
            assertTrue(e.getMessage().contains("fx_not_implemented") && e.getMessage().contains("fixture_h"),
                    e.getMessage());
        }
        assertThrows(UnsatisfiedLinkError.class, () -> c("fx_not_implemented$address"));
        assertThrows(UnsatisfiedLinkError.class, () -> c("fx_not_implemented$handle"));
    }

    @Test
    void parametersAreNamedAsInC() throws Exception {
        var scale = header.getMethod("fx_scale_float", float.class, float.class);
        assertEquals(List.of("x", "factor"), Arrays.stream(scale.getParameters()).map(p -> p.getName()).toList());
        var make = Arrays.stream(header.getMethods()).filter(m -> m.getName().equals("fx_make_point")).findFirst()
                .orElseThrow();
        assertEquals(List.of("allocator", "x", "y"), Arrays.stream(make.getParameters()).map(p -> p.getName()).toList());
    }

    @Test
    void sourcesCarryTheCDeclarationAndAReproducibleHeader() throws Exception {
        Path dir = generated.resolve("fixture/gen");
        String source = Files.readString(dir.resolve("fixture_h.java"));
        assertTrue(source.contains("{@snippet lang=c :\n     * int fx_add_int(int a, int b)\n     * }"), "C declaration in Javadoc");
        assertTrue(source.contains("{@snippet lang=c :\n     * #define FX_SHIFT (1 << 20)\n     * }"), "macro in Javadoc");
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String text = Files.readString(f, StandardCharsets.UTF_8);
                assertEquals("// Generated by scripts/bindgen from fixture.h \u2014 DO NOT EDIT.", text.lines().findFirst()
                        .orElseThrow(), f.getFileName().toString());
                assertFalse(text.contains(FixtureSupport.fixtureDir().toString()), f + " contains an absolute path");
                assertFalse(text.contains(generated.toString()), f + " contains the output path");
            }
        }
    }

    @Test
    void onlyListedSymbolsAreGenerated() throws Exception {
        assertThrows(NoSuchMethodException.class, () -> header.getMethod("fx_printf_like", MemorySegment.class));
        assertThrows(ClassNotFoundException.class, () -> loader.loadClass("fixture.gen.fx_bits"));
        try (var files = Files.list(generated.resolve("fixture/gen"))) {
            assertEquals(List.of("fixture_h.java", "fx_binary_op.java", "fx_nested.java", "fx_number.java",
                    "fx_padded.java", "fx_point.java", "fx_point_t.java", "fx_version_t.java"),
                    files.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }

    private long cLayout(String what) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            long value = (long) c("fx_layout", arena.allocateFrom(what));
            assertNotEquals(-1L, value, "fx_layout does not know '" + what + "'");
            return value;
        }
    }
}
