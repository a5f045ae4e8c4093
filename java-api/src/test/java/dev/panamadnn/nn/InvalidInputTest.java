package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad hyperparameters and bad inputs, one row each: the exception type, and message fragments
 * naming the layer, the expected and the actual value. Inputs are rejected in Java before any
 * native call (the JVM would not survive some of them otherwise: a closed arena, a short buffer).
 */
class InvalidInputTest {
    private static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
    private static final Class<IllegalStateException> ISE = IllegalStateException.class;

    /** Runs {@code body} on a fresh layer and closes it. */
    private static <L extends Layer> Executable with(java.util.function.Supplier<L> make, Consumer<L> body) {
        return () -> {
            try (L layer = make.get()) {
                body.accept(layer);
            }
        };
    }

    private static Executable forward(java.util.function.Supplier<? extends Layer> make, long... shape) {
        return with(make, l -> {
            try (Tensor x = Tensor.zeros(shape)) {
                l.forward(x).close();
            }
        });
    }

    private static Tensor freed() {
        Tensor t = Tensor.zeros(2, 5);
        t.close();
        return t;
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                // hyperparameters
                row("Linear in_features 0", IAE, () -> new Linear(0, 3, true), "Linear", "in_features must be > 0", "got 0"),
                row("Linear in_features < 0", IAE, () -> new Linear(-4, 3, false), "in_features must be > 0", "got -4"),
                row("Linear out_features 0", IAE, () -> new Linear(3, 0, true), "out_features must be > 0", "got 0"),
                row("Linear out_features < 0", IAE, () -> new Linear(3, -1, true), "out_features must be > 0", "got -1"),
                row("Linear null activation", IAE, () -> new Linear(3, 2, true, null), "Linear", "activation must not be null"),
                row("LeakyReLU NaN slope", IAE, () -> new LeakyReLU(Float.NaN), "LeakyReLU", "negative_slope must be finite", "got NaN"),
                row("LeakyReLU infinite slope", IAE, () -> new LeakyReLU(Float.POSITIVE_INFINITY), "negative_slope", "got Infinity"),
                row("Activation.leakyRelu NaN", IAE, () -> Activation.leakyRelu(Float.NaN), "LeakyReLU", "got NaN"),
                row("ELU NaN alpha", IAE, () -> new ELU(Float.NaN), "ELU", "alpha must be finite", "got NaN"),
                row("ELU -infinite alpha", IAE, () -> new ELU(Float.NEGATIVE_INFINITY), "ELU", "got -Infinity"),
                row("GELU unknown approximation", IAE, () -> new GELU("erf"), "GELU", "'none' or 'tanh'", "got 'erf'"),
                row("GELU null approximation", IAE, () -> new GELU(null), "GELU", "'none' or 'tanh'", "got null"),
                row("Flatten start after end", IAE, () -> new Flatten(2, 1), "Flatten", "start_dim must not come after end_dim",
                        "start_dim=2, end_dim=1"),
                row("Sequential empty", IAE, () -> new Sequential(), "Sequential", "at least one module", "got none"),
                row("Sequential null child", IAE, () -> new Sequential(new ReLU(), null), "Sequential", "module 1 must not be null"),
                // inputs: rank and sizes
                row("Linear rank-0 input", IAE, forward(() -> new Linear(5, 3, true)), "Linear(in_features=5, out_features=3, bias=True)",
                        "rank >= 1", "rank-0"),
                row("Linear wrong last dim", IAE, forward(() -> new Linear(5, 3, true), 2, 4), "Linear(in_features=5",
                        "in_features=5", "got 4", "[2, 4]"),
                row("Linear wrong length, rank 1", IAE, forward(() -> new Linear(5, 3, false), 6), "in_features=5", "got 6"),
                row("Linear wrong last dim, rank 3", IAE, forward(() -> new Linear(4, 3, true), 4, 2, 3), "in_features=4", "got 3",
                        "[4, 2, 3]"),
                row("Linear+ReLU wrong last dim", IAE, forward(() -> new Linear(4, 3, true, Activation.relu()), 2, 5),
                        "activation=ReLU()", "in_features=4", "got 5"),
                row("Softmax dim beyond rank", IAE, forward(() -> new Softmax(2), 3, 4), "Softmax(dim=2)", "dim in [-2, 1]", "got 2"),
                row("Softmax dim below -rank", IAE, forward(() -> new Softmax(-3), 3, 4), "Softmax(dim=-3)", "[-2, 1]", "got -3"),
                row("Softmax dim 1 on rank 0", IAE, forward(() -> new Softmax(1)), "Softmax(dim=1)", "[-1, 0]", "rank 0"),
                row("Flatten start_dim beyond rank 1", IAE, forward(Flatten::new, 7), "Flatten(start_dim=1, end_dim=-1)",
                        "start_dim in [-1, 0]", "got 1"),
                row("Flatten end_dim beyond rank", IAE, forward(() -> new Flatten(0, 3), 2, 3), "end_dim in [-2, 1]", "got 3"),
                row("Flatten start after end for this rank", IAE, forward(() -> new Flatten(-1, 0), 2, 3, 4), "Flatten(start_dim=-1, end_dim=0)",
                        "start_dim must not come after end_dim", "2 > 0"),
                row("Sequential mismatch deep in the chain", IAE,
                        forward(() -> new Sequential(new Linear(5, 4, true), new ReLU(), new Linear(3, 2, true)), 2, 5),
                        "Sequential(3 modules), module 2", "Linear(in_features=3", "in_features=3", "got 4"),
                row("Sequential through Flatten", IAE, forward(() -> new Sequential(new Flatten(), new Linear(10, 2, true)), 2, 3, 4),
                        "module 1", "in_features=10", "got 12"),
                row("outputShape with a zero size", IAE, with(() -> new Linear(5, 3, true), l -> l.outputShape(0, 5)),
                        "Linear", "sizes > 0", "[0, 5]"),
                row("autoBackend of 0 rows", IAE, with(() -> new Linear(5, 3, true), l -> l.autoBackend(0)), "Linear", "rows > 0", "got 0"),
                // inputs: dtype, null, liveness, backend
                row("Linear BF16 input", IAE, with(() -> new Linear(5, 3, true), l -> {
                    try (Arena a = Arena.ofConfined()) {
                        l.forward(Tensor.allocate(a, DataType.BF16, 2, 5));
                    }
                }), "Linear(in_features=5", "F32", "got BF16"),
                row("ReLU I32 input", IAE, with(ReLU::new, l -> {
                    try (Arena a = Arena.ofConfined()) {
                        l.forward(Tensor.allocate(a, DataType.I32, 3));
                    }
                }), "ReLU()", "F32", "got I32"),
                row("Softmax F16 input", IAE, with(() -> new Softmax(0), l -> {
                    try (Arena a = Arena.ofConfined()) {
                        l.forward(Tensor.allocate(a, DataType.F16, 3));
                    }
                }), "Softmax(dim=0)", "F32", "got F16"),
                row("Linear null input", IAE, with(() -> new Linear(5, 3, true), l -> l.forward(null)), "Linear(in_features=5", "input must not be null"),
                row("Linear closed input", ISE, with(() -> new Linear(5, 3, true), l -> l.forward(freed())), "Linear(in_features=5",
                        "live input", "freed"),
                row("GELU input from a closed arena", ISE, with(GELU::new, l -> {
                    Tensor x;
                    try (Arena a = Arena.ofConfined()) {
                        x = Tensor.allocate(a, DataType.F32, 4);
                    }
                    l.forward(x);
                }), "GELU(approximate='none')", "live input", "freed"),
                row("Sequential closed input", ISE, with(() -> new Sequential(new Linear(5, 2, true)), l -> l.forward(freed())),
                        "Sequential(1 module)", "freed"),
                row("null backend", IAE, with(Tanh::new, l -> {
                    try (Tensor x = Tensor.zeros(3)) {
                        l.forward(x, null);
                    }
                }), "Tanh()", "backend must not be null"),
                // closed layers
                row("closed Linear", ISE, () -> {
                    Linear l = new Linear(5, 3, true);
                    l.close();
                    try (Tensor x = Tensor.zeros(1, 5)) {
                        l.forward(x);
                    }
                }, "Linear(in_features=5, out_features=3, bias=True) is closed"),
                row("Sequential with a closed child", ISE, () -> {
                    ReLU relu = new ReLU();
                    relu.close();
                    try (Sequential s = new Sequential(new Linear(5, 3, true), relu); Tensor x = Tensor.zeros(1, 5)) {
                        s.forward(x);
                    }
                }, "Sequential(2 modules), module 1", "ReLU() is closed"),
                // was the JDK's bare WrongThreadException ("Attempted access outside owning thread"), naming nothing
                row("input of another thread's confined arena", IAE, () -> {
                    Tensor[] x = new Tensor[1];
                    Thread owner = new Thread(() -> x[0] = Tensor.allocate(Arena.ofConfined(), DataType.F32, 1, 3, 8, 8));
                    owner.start();
                    owner.join();
                    try (Conv2d c = new Conv2d(3, 4, 3)) {
                        c.forward(x[0]);
                    }
                }, "Conv2d(3, 4", "belongs to a confined arena of another thread"));
    }

    private static Arguments row(String name, Class<? extends RuntimeException> type, Executable body, String... fragments) {
        return Arguments.of(name, type, body, List.of(fragments));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void isRejectedWithAMessageNamingLayerExpectedAndActual(String name, Class<? extends RuntimeException> type, Executable body,
                                                            List<String> fragments) {
        RuntimeException e = assertThrows(type, body, name);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> name + ": expected '" + f + "' in the message: " + e.getMessage());
        }
    }
}
