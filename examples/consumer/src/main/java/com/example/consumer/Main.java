package com.example.consumer;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;

/** Runs one eager Conv2d and one compiled model, and says which path (module or class) it ran on. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        String path = Main.class.getModule().isNamed() ? "module path" : "class path";

        // Eager: a 3x3 convolution, 3 -> 8 channels, on a [1, 3, 16, 16] image: out [1, 8, 14, 14].
        try (Conv2d conv = new Conv2d(3, 8, 3);
             Tensor x = Tensor.zeros(1, 3, 16, 16);
             Tensor y = conv.forward(x)) {
            check(y.shape(), 1, 8, 14, 14);
        }

        // Compiled: conv -> relu -> flatten -> linear, planned once for [2, 3, 16, 16], run twice.
        try (Sequential net = new Sequential(new Conv2d(3, 8, 3), new ReLU(), new Flatten(), new Linear(8 * 14 * 14, 10, true));
             CompiledModel plan = CompiledModel.compile(net, 2, 3, 16, 16);
             Tensor x = Tensor.zeros(2, 3, 16, 16)) {
            for (int i = 0; i < 2; i++) {
                try (Tensor logits = plan.run(x)) {
                    check(logits.shape(), 2, 10);
                }
            }
        }
        System.out.println("consumer OK on the " + path + ": Conv2d [1,3,16,16] -> [1,8,14,14], compiled model [2,3,16,16] -> [2,10]");
    }

    private static void check(long[] shape, long... expected) {
        if (!java.util.Arrays.equals(shape, expected)) {
            throw new AssertionError("shape " + java.util.Arrays.toString(shape) + ", expected " + java.util.Arrays.toString(expected));
        }
    }
}
