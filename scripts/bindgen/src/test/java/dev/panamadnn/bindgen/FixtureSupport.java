package dev.panamadnn.bindgen;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Assumptions;

/** The fixture header and library, the generator run on it, and compiling/loading its output. */
final class FixtureSupport {
    private FixtureSupport() {}

    static Path fixtureDir() {
        URL header = FixtureSupport.class.getResource("/fixture/fixture.h");
        try {
            return Path.of(header.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path header() {
        return fixtureDir().resolve("fixture.h");
    }

    /** The fixture's include list as @argfile, plus output directory and header. */
    static List<String> generatorArgs(Path output, String... extra) {
        List<String> args = new ArrayList<>(List.of("@" + fixtureDir().resolve("fixture_h.txt"),
                "--output", output.toString()));
        args.addAll(List.of(extra));
        args.add(header().toString());
        return args;
    }

    /** Skips (not fails) only where the machine lacks libclang; everything else must work. */
    static void assumeLibclang() {
        try {
            LibClang.load();
        } catch (BindgenException e) {
            Assumptions.abort("libclang not available: " + e.getMessage());
        }
    }

    static void assumeGcc() {
        try {
            Process p = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            Assumptions.assumeTrue(p.waitFor() == 0, "gcc --version failed");
        } catch (IOException e) {
            Assumptions.abort("gcc not available: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Assumptions.abort("interrupted");
        }
    }

    /** Compiles fixture.c into {@code dir}/libfixture.so. */
    static Path buildLibrary(Path dir) throws IOException, InterruptedException {
        Path lib = dir.resolve("libfixture.so");
        Process p = new ProcessBuilder("gcc", "-shared", "-fPIC", "-Wall", "-Werror", "-o", lib.toString(),
                fixtureDir().resolve("fixture.c").toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "gcc failed:\n" + output);
        return lib;
    }

    /** Compiles every .java under {@code sourceRoot} (plus {@code extra}) for release 22, warnings as errors. */
    static ClassLoader compile(Path sourceRoot, Path classes, Path... extra) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> args = new ArrayList<>(List.of("--release", "22", "-parameters", "-proc:none", "-Xlint:all",
                "-Werror", "-d", classes.toString()));
        try (Stream<Path> files = Files.walk(sourceRoot)) {
            files.filter(f -> f.toString().endsWith(".java")).map(Path::toString).sorted().forEach(args::add);
        }
        for (Path p : extra) {
            args.add(p.toString());
        }
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        if (javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new)) != 0) {
            fail("generated code does not compile:\n" + diagnostics);
        }
        return new URLClassLoader(new URL[] {classes.toUri().toURL()}, FixtureSupport.class.getClassLoader());
    }

    /** Reads every generated file: relative path to bytes. */
    static Map<String, byte[]> readTree(Path root) throws IOException {
        Map<String, byte[]> files = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(f).toString(), Files.readAllBytes(f));
            }
        }
        return files;
    }

    /** Calls a public static method by name, matching argument types; rethrows what the method threw. */
    static Object call(Class<?> cls, String name, Object... args) throws Throwable {
        for (Method m : cls.getMethods()) {
            if (m.getName().equals(name) && matches(m.getParameterTypes(), args)) {
                try {
                    return m.invoke(null, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }
        }
        throw new AssertionError("no method " + cls.getSimpleName() + "." + name + " for " + List.of(args));
    }

    private static boolean matches(Class<?>[] types, Object[] args) {
        if (types.length != args.length) {
            return false;
        }
        for (int i = 0; i < types.length; i++) {
            Class<?> t = types[i].isPrimitive() ? java.lang.invoke.MethodType.methodType(types[i]).wrap().returnType()
                    : types[i];
            if (!t.isInstance(args[i])) {
                return false;
            }
        }
        return true;
    }
}
