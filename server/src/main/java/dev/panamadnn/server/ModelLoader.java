package dev.panamadnn.server;

import dev.panamadnn.Module;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.demo.Digits;
import dev.panamadnn.models.ResNets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a model directory into a plan set. One implementation per weights format: today
 * {@link #SAFETENSORS} ({@code model.safetensors} + a built-in architecture); an ONNX loader
 * ({@code model.onnx} -> a {@code Graph} -> {@code PlanSet.of(graph, ...)}) plugs in here when the
 * onnx module lands.
 */
public interface ModelLoader {
    /** A plan set and what must outlive it (the weights' owner), closed after the plans. */
    record Loaded(PlanSet plans, AutoCloseable owner) {}

    /** The weights file this loader reads, e.g. {@code model.safetensors}. */
    String weightsFile();

    /**
     * Loads the weights in {@code dir} for {@code config} and makes a plan set (nothing compiled yet).
     *
     * @throws IllegalArgumentException if the directory or configuration does not fit this loader
     * @throws IOException              if the weights cannot be read
     */
    Loaded load(Path dir, ModelConfig config, CompileOptions options) throws IOException;

    /** {@code model.safetensors} with a built-in architecture: digits, resnet18, resnet34, resnet50. */
    ModelLoader SAFETENSORS = new ModelLoader() {
        @Override
        public String weightsFile() {
            return "model.safetensors";
        }

        @Override
        public Loaded load(Path dir, ModelConfig config, CompileOptions options) throws IOException {
            Module model = architecture(config);
            try {
                SafeTensors.load(model, dir.resolve(weightsFile()));
                return new Loaded(PlanSet.of(model, options, config.input().sample(), config.planSizes().length), model);
            } catch (IOException | RuntimeException e) {
                model.close();
                throw e;
            }
        }
    };

    /** The architecture named in {@code config}, with fresh parameters. */
    static Module architecture(ModelConfig config) {
        return switch (config.architecture()) {
            case "digits" -> Digits.model();
            case "resnet18" -> ResNets.resnet18(config.numClasses());
            case "resnet34" -> ResNets.resnet34(config.numClasses());
            case "resnet50" -> ResNets.resnet50(config.numClasses());
            default -> throw new IllegalArgumentException(config.name() + ": unknown architecture '" + config.architecture()
                    + "' (built in: digits, resnet18, resnet34, resnet50)");
        };
    }

    /** The loader for {@code dir}, or a message saying why there is none. */
    static ModelLoader forDirectory(Path dir) {
        if (Files.isRegularFile(dir.resolve(SAFETENSORS.weightsFile()))) return SAFETENSORS;
        if (Files.isRegularFile(dir.resolve("model.onnx"))) {
            throw new IllegalArgumentException(dir.getFileName() + ": model.onnx is not supported yet (the ONNX importer has not"
                    + " landed); use model.safetensors with a built-in architecture");
        }
        throw new IllegalArgumentException(dir.getFileName() + ": no model.safetensors (or model.onnx) in " + dir);
    }
}
