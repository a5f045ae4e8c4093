package dev.panamadnn.bindgen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** C text must land in Javadoc without ending the comment or forming unicode escapes. */
class JavaWriterTest {
    @Test
    void commentsAreDroppedAndWhitespaceCollapsed() {
        assertEquals("int f(int a, int b)", JavaWriter.cleanC("int f( int a, /* count */\n   int b // end\n)"));
    }

    @Test
    void stringLiteralsKeepWhatLooksLikeComments() {
        assertEquals("#define URL \"http://x/*y\"", JavaWriter.cleanC("#define URL \"http://x/*y\""));
        assertEquals("#define S \"a* /b\"", JavaWriter.cleanC("#define S \"a*/b\""));
    }

    @Test
    void backslashUCannotBecomeAUnicodeEscape() {
        assertEquals("\"\\\\u002a\"", JavaWriter.cleanC("\"\\u002a\""));
        assertEquals("\"\\\\\\\\u\"", JavaWriter.cleanC("\"\\\\\\u\""));
    }

    @Test
    void keywordsBecomeUsableIdentifiers() {
        assertEquals("default_", JavaWriter.identifier("default"));
        assertEquals("count", JavaWriter.identifier("count"));
    }
}
