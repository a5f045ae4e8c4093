package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every jar a library module publishes (the main jar, -sources and -javadoc) carries the
 * project's LICENSE and NOTICE in META-INF, so a jar redistributed alone still says under what
 * terms. Reads the jars the reactor built before this module (native, bindings, java-api, onnx and
 * spark come before tests/); skipped for a module whose jars were not built in this tree (e.g.
 * {@code -Dmaven.javadoc.skip}).
 */
class PublishedJarsTest {
    @ParameterizedTest
    @ValueSource(strings = {"native", "bindings", "java-api", "onnx", "spark"})
    void everyPublishedJarCarriesLicenseAndNotice(String module) throws IOException {
        Path target = Path.of("..", module, "target");
        List<Path> jars;
        try (Stream<Path> files = Files.exists(target) ? Files.list(target) : Stream.empty()) {
            jars = files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
        Assumptions.assumeTrue(jars.stream().anyMatch(p -> p.getFileName().toString().endsWith("-javadoc.jar")),
                () -> module + ": no -javadoc jar in " + target.toAbsolutePath() + " (built with -Dmaven.javadoc.skip?)");
        for (Path jar : jars) {
            try (JarFile j = new JarFile(jar.toFile())) {
                for (String entry : List.of("META-INF/LICENSE", "META-INF/NOTICE")) {
                    assertNotNull(j.getEntry(entry), jar.getFileName() + " has no " + entry);
                }
                assertTrue(j.getEntry("META-INF/LICENSE").getSize() > 10_000 || j.getEntry("META-INF/LICENSE").getSize() < 0,
                        jar.getFileName() + ": META-INF/LICENSE is too short to be the Apache-2.0 text");
            }
        }
    }
}
