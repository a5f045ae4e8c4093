package dev.panamadnn.onnx;

import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.natives.NativeLoadException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Run in a child JVM by {@link NativesPreloadTest}: {@code exit MODEL} loads the model and returns at once (the JVM must
 * end, with the natives still loading on the preload thread); {@code refused MODEL} runs with natives that cannot load:
 * the import succeeds, and the compile that follows throws the loader's own exception.
 */
public final class NativesPreload {
    private NativesPreload() {}

    public static void main(String[] args) throws Exception {
        try (OnnxModel model = Onnx.load(Path.of(args[1]))) {
            System.out.println("loaded " + model.inputs());
            if (args[0].equals("refused")) {
                Thread.sleep(300);   // the preload has failed by now
                String in = model.inputs().get(0).name();
                try (CompiledModel plan = CompiledModel.compile(model.toGraph(), CompileOptions.defaults(), Map.of(in, new long[] {1, 1, 8, 8}))) {
                    System.out.println("compiled: not expected");
                } catch (NativeLoadException e) {
                    System.out.println("refused: " + e.getMessage().replace('\n', ' '));
                }
            }
        }
    }
}
