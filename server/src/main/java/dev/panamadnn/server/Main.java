package dev.panamadnn.server;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code scripts/serve}: {@code [--models DIR] [--port 8080] [--max-body-mb 64] [--no-access-log] [--exit-when-ready]}.
 * {@code --exit-when-ready}: load, compile and warm every model, log the start, then stop (exit 0) - a run that trains a
 * JDK AOT cache ({@code -XX:AOTCacheOutput}) at image build time, or checks a model repository.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        InferenceServer.Options o = InferenceServer.Options.defaults();
        boolean exitWhenReady = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--models" -> {
                    Path dir = Path.of(value(args, ++i, "--models"));
                    if (!Files.isDirectory(dir)) fail("--models: not a directory: " + dir);
                    o = o.withModels(dir.toAbsolutePath());
                }
                case "--port" -> o = o.withPort(number(value(args, ++i, "--port"), "--port"));
                case "--max-body-mb" -> o = o.withMaxBodyBytes((long) number(value(args, ++i, "--max-body-mb"), "--max-body-mb") << 20);
                case "--no-access-log" -> o = o.withAccessLog(false);
                case "--exit-when-ready" -> exitWhenReady = true;
                default -> fail("unknown option " + args[i] + "; usage: [--models DIR] [--port N] [--max-body-mb N] [--no-access-log] "
                        + "[--exit-when-ready]");
            }
        }
        InferenceServer server = InferenceServer.start(o);
        if (exitWhenReady) {   // ready (every plan compiled and warmed): stop, answering nothing more
            server.close();
            System.err.println("serve: ready, then stopped (--exit-when-ready)");
            return;
        }
        // SIGTERM / SIGINT: answer every accepted request, then close the plans.
        // (System.err: java.util.logging may already be reset by its own hook.)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("serve: shutting down: answering " + server.metrics().inFlight().get() + " accepted request(s), then closing the plans");
            server.close();
            System.err.println("serve: stopped");
        }, "pdnn-shutdown"));
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) fail(option + " needs a value");
        return args[i];
    }

    private static int number(String s, String option) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            fail(option + " needs an integer, got " + s);
            return 0;
        }
    }

    private static void fail(String message) {
        System.err.println("serve: " + message);
        System.exit(2);
    }
}
