package dev.panamadnn.compile;

import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The rule tests' tensors: seeded uniform values in [-1, 1), kept and closed together (in each test's {@code @AfterEach}). */
final class RandomTensors implements AutoCloseable {
    private final List<Tensor> tensors = new ArrayList<>();
    private final SplittableRandom random;

    RandomTensors(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** {@return the generator the tensors draw from, for a test's own values (the same sequence)} */
    SplittableRandom random() {
        return random;
    }

    /** {@return a new tensor of {@code shape} with values uniform in [-1, 1), closed with the others} */
    Tensor uniform(long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) random.nextDouble(-1, 1);
        return keep(Tensor.of(v, shape));
    }

    /** {@return {@code t}, closed with the others} */
    Tensor keep(Tensor t) {
        tensors.add(t);
        return t;
    }

    @Override
    public void close() {
        tensors.forEach(Tensor::close);
        tensors.clear();
    }
}
