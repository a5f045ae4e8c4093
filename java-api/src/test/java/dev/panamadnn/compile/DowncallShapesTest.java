package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.ChildJvm;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How many distinct FFM downcall descriptors a fresh JVM links to build, run eagerly, compile and run a small CNN (each
 * costs a cold JVM 5-15 ms; scripts/bindgen's shared shapes keep them to a few): counted from the class the JDK
 * generates per descriptor ({@code jdk.internal.foreign.abi.Specializer.DUMP_CLASSES_DIR}, a JDK debugging property),
 * in child JVMs with the shared shapes on and off. A hand-made downcall with a descriptor of its own, or a binding that
 * loses its shared shape, shows here.
 */
class DowncallShapesTest {
    /** The child: a conv-bn-relu-pool-linear model, forward (eager), compiled, run. */
    public static final class Child {
        public static void main(String[] args) {
            try (Sequential m = new Sequential(Conv2d.builder(3, 8, 3).padding(1).bias(false).build(), new BatchNorm2d(8), new ReLU(),
                    new MaxPool2d(2), Conv2d.builder(8, 8, 3).padding(1).build(), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(),
                    new Linear(8, 4, true));
                 Tensor x = Tensor.of(new float[2 * 3 * 12 * 12], 2, 3, 12, 12);
                 Tensor eager = m.forward(x);
                 CompiledModel c = CompiledModel.compile(m, 2, 3, 12, 12);
                 Tensor compiled = c.run(x)) {
                System.out.println("eager " + eager.shape().length + " compiled " + compiled.shape().length);
            }
        }
    }

    private static TreeSet<String> shapes(Path dump, String shared) throws Exception {
        ChildJvm.run(List.of("-Djdk.internal.foreign.abi.Specializer.DUMP_CLASSES_DIR=" + dump, "-Dbindgen.sharedDowncalls=" + shared,
                "-Dpanamadnn.threads=1"), Child.class, 120);
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.walk(dump)) {
            files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("DowncallStub")).forEach(names::add);
        }
        System.out.println("shared downcalls " + shared + ": " + names.size() + " shapes " + names);
        return names;
    }

    @Test
    void aFreshJvmLinksThreeShapesForAModelEagerAndCompiled(@TempDir Path tmp) throws Exception {
        TreeSet<String> shared = shapes(tmp.resolve("shared"), "true");
        TreeSet<String> exact = shapes(tmp.resolve("exact"), "false");
        assertTrue(exact.size() >= 8, "the dump property must show the exact descriptors (else this test measures nothing): " + exact);
        // long f(6 addresses, 2 floats), long f(20 addresses, 2 floats), float f(6 addresses, 2 floats): nothing else
        assertTrue(shared.size() <= 3, "expected at most 3 shapes (the bindings' shared ones), got " + shared.size() + ": " + shared);
        assertTrue(exact.size() >= 2 * shared.size(), "shared " + shared + " against exact " + exact);
    }
}
