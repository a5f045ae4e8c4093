package dev.panamadnn.server;

import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.demo.Digits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where models come from: a directory with one subdirectory per model ({@code config.json} and the
 * weights), or, with no directory, the bundled digits model alone (so a fresh clone serves).
 */
final class ModelRepository {
    private final Path root;

    /** {@code root} may be null: only the bundled {@code digits}. */
    ModelRepository(Path root) {
        this.root = root;
    }

    /** The names of the models this repository holds, sorted. */
    List<String> names() throws IOException {
        if (root == null) return List.of("digits");
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("config.json"))).map(d -> d.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * Loads model {@code name}'s configuration and weights and compiles and warms every plan size.
     *
     * @throws ApiException 404 if the repository has no such model, 400 if its files are wrong
     */
    ServedModel open(String name, ServerMetrics metrics) {
        try {
            if (root == null) {
                if (!"digits".equals(name)) throw ApiException.notFound("no model '" + name + "' in the repository (only the bundled digits)");
                ModelConfig config = ModelConfig.digits();
                var model = Digits.trainedModel();
                ModelLoader.Loaded loaded;
                try {
                    loaded = new ModelLoader.Loaded(config, PlanSet.of(model, ModelLoader.options(config), config.input().sample(),
                            config.planSizes().length), model);
                } catch (RuntimeException e) {
                    model.close();   // the weights are native memory: never left behind by a failed load
                    throw e;
                }
                return ServedModel.start(config, loaded, metrics);
            }
            Path dir = root.resolve(name).normalize();
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}") || !dir.getParent().equals(root.normalize()) || !Files.isDirectory(dir)) {
                throw ApiException.notFound("no model '" + name + "' in the repository " + root);
            }
            ModelLoader.Loaded loaded = ModelLoader.forDirectory(dir).load(dir);
            return ServedModel.start(loaded.config(), loaded, metrics);
        } catch (IllegalArgumentException | UnsupportedOperationException | dev.panamadnn.onnx.OnnxException | IOException e) {
            // the model's files (an op no plan lowers, a model.onnx with no graph): a 400 naming them, never a 500
            throw ApiException.badRequest("cannot load model '" + name + "': " + e.getMessage());
        }
    }
}
