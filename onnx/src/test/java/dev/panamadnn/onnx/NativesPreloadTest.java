package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Onnx#load} starts loading the natives on a thread of its own ({@link NativesPreload} in child JVMs): a program
 * that ends right after a load exits (the preload thread is waited for, not killed inside dlopen), and natives that
 * cannot load fail nothing in the import: the compile that needs them reports the loader's exception.
 */
class NativesPreloadTest {
    private static final String DIGITS = Goldens.repoRoot().resolve("demo/src/main/resources/dev/panamadnn/demo/digits/digits_resnet.onnx").toString();

    @Test
    void aProgramEndingRightAfterALoadExits() throws Exception {
        for (int i = 0; i < 3; i++) {
            String out = ChildJvm.run(NativesPreload.class, 60, "exit", DIGITS);
            assertTrue(out.contains("loaded ["), out);
        }
    }

    @Test
    void nativesThatCannotLoadFailTheCompileNotTheImport() throws Exception {
        String out = ChildJvm.run(List.of("-Dpanamadnn.natives.dir=/nonexistent/natives"), NativesPreload.class, 60, "refused", DIGITS);
        assertTrue(out.contains("loaded ["), out);
        assertTrue(out.contains("refused: ") && out.contains("/nonexistent/natives"), out);
    }
}
