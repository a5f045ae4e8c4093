package dev.panamadnn.spark;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;

/**
 * What an executor needs to load and compile one model: the file, how to read it and how to
 * compile it. Travels inside the task closure (hence {@link Serializable}); {@link #key()} names
 * the plan set an executor JVM shares between tasks, so two transformers with equal specs share
 * one set of plans.
 *
 * @param path         a {@code .onnx} file, or a {@code .safetensors} file with {@code architecture};
 *                     it must be readable at this path on every executor (a shared file system, or a
 *                     file shipped with {@code --files}, found by its name through {@code SparkFiles})
 * @param architecture for safetensors: {@code resnet18}, {@code resnet34}, {@code resnet50}, or the
 *                     name of a class with a public static no-argument {@code model()} method returning
 *                     a {@code dev.panamadnn.Module}; empty for ONNX
 * @param inputShape   one sample's shape without the batch (e.g. {@code [3, 224, 224]}); empty to take
 *                     it from the ONNX model, which it must equal when given
 * @param batchSize    rows per native call; every call runs the plan for exactly this batch (the last
 *                     batch of a partition is padded), so a row's output never depends on its neighbours
 * @param threads      intra-op threads of each plan ({@code threadsPerTask})
 */
record ModelSpec(String path, String architecture, long[] inputShape, int batchSize, int threads) implements Serializable {
    /** The largest batch a transformer accepts: a plan holds its buffers for the whole batch. */
    static final int MAX_BATCH = 4096;
    /** The most intra-op threads per task. */
    static final int MAX_THREADS = 256;

    ModelSpec {
        if (path == null || path.isBlank()) throw new IllegalArgumentException("PanamaModel: modelPath must be set (a .onnx or .safetensors file)");
        architecture = architecture == null ? "" : architecture.trim();
        inputShape = inputShape == null ? new long[0] : inputShape.clone();
        for (long d : inputShape) {
            if (d < 1) throw new IllegalArgumentException("PanamaModel: inputShape " + Arrays.toString(inputShape) + " has a size < 1");
        }
        if (batchSize < 1 || batchSize > MAX_BATCH) {
            throw new IllegalArgumentException("PanamaModel: batchSize must be from 1 to " + MAX_BATCH + ", got " + batchSize);
        }
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("PanamaModel: threadsPerTask must be from 1 to " + MAX_THREADS + ", got " + threads);
        }
        if (isSafeTensors(path) && architecture.isEmpty()) {
            throw new IllegalArgumentException("PanamaModel: " + path + " is a safetensors file; set architecture (resnet18, resnet34,"
                    + " resnet50, or a class with a static model() method) and inputShape");
        }
        if (isSafeTensors(path) && inputShape.length == 0) {
            throw new IllegalArgumentException("PanamaModel: " + path + " is a safetensors file; set inputShape (one sample, e.g. [3, 224, 224])");
        }
        if (!isSafeTensors(path) && !path.toLowerCase(Locale.ROOT).endsWith(".onnx")) {
            throw new IllegalArgumentException("PanamaModel: modelPath must end in .onnx or .safetensors, got " + path);
        }
    }

    boolean isOnnx() {
        return path.toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    boolean isSafeTensors() {
        return isSafeTensors(path);
    }

    private static boolean isSafeTensors(String path) {   // the compact constructor runs before the fields are set
        return path.toLowerCase(Locale.ROOT).endsWith(".safetensors");
    }

    /** One sample's element count, or -1 when the shape comes from the ONNX model. */
    long sampleSize() {
        if (inputShape.length == 0) return -1;
        long n = 1;
        for (long d : inputShape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** This spec with another batch size. */
    ModelSpec withBatchSize(int batch) {
        return new ModelSpec(path, architecture, inputShape, batch, threads);
    }

    /** The name of the executor's plan set for this spec: equal specs share one. */
    String key() {
        return path + "|" + architecture + "|" + Arrays.toString(inputShape) + "|b" + batchSize + "|t" + threads;
    }

    @Override
    public long[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec s && s.key().equals(key());
    }

    @Override
    public int hashCode() {
        return key().hashCode();
    }

    @Override
    public String toString() {
        return "ModelSpec[" + key() + "]";
    }
}
