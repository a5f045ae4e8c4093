package dev.panamadnn.server;

import dev.panamadnn.NativeRuntime;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An inference server speaking the Open Inference Protocol (KServe v2 REST) on Helidon SE: models
 * from a {@link ModelRepository}, one dynamic batcher per model, Prometheus metrics at
 * {@code /metrics}. {@link #start} returns once every model's plans are compiled and warmed (the
 * server is then ready); {@link #close} shuts down gracefully: new inference requests get 503, every
 * accepted one is answered, then the HTTP listener stops and the plans are closed. Thread-safe.
 */
public final class InferenceServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(InferenceServer.class.getName());
    private static final System.Logger ACCESS = System.getLogger("dev.panamadnn.server.access");

    /**
     * How to run.
     *
     * @param models        the model repository directory, or null for the bundled digits model
     * @param port          the HTTP port (0: any free port)
     * @param maxBodyBytes  largest request body; a larger one gets 413
     * @param shutdownGrace how long {@link #close} waits for accepted requests before it closes anyway
     * @param accessLog     whether to log every request (method, path, status, ms)
     */
    public record Options(Path models, int port, long maxBodyBytes, Duration shutdownGrace, boolean accessLog) {
        /** The defaults: bundled digits, port 8080, 64 MiB bodies, 30 s grace, access log on. */
        public static Options defaults() {
            return new Options(null, 8080, 64L << 20, Duration.ofSeconds(30), true);
        }

        public Options withModels(Path dir) {
            return new Options(dir, port, maxBodyBytes, shutdownGrace, accessLog);
        }

        public Options withPort(int p) {
            return new Options(models, p, maxBodyBytes, shutdownGrace, accessLog);
        }

        public Options withMaxBodyBytes(long bytes) {
            return new Options(models, port, bytes, shutdownGrace, accessLog);
        }

        public Options withAccessLog(boolean on) {
            return new Options(models, port, maxBodyBytes, shutdownGrace, on);
        }
    }

    private final Options options;
    private final ModelRepository repository;
    private final ServerMetrics metrics = new ServerMetrics();
    private final Map<String, ServedModel> models = new ConcurrentHashMap<>();
    private final WebServer web;
    private volatile boolean ready, closing;

    private InferenceServer(Options options) {
        this.options = options;
        this.repository = new ModelRepository(options.models());
        V2Routes routes = new V2Routes(this);
        this.web = WebServer.builder().port(options.port()).maxPayloadSize(options.maxBodyBytes())
                .shutdownGracePeriod(Duration.ofSeconds(2))
                // Replies go out at once: with Nagle on, a reply written in more than one piece waits for the
                // client's delayed ACK (up to 40 ms on Linux) before its last piece leaves.
                .connectionOptions(o -> o.tcpNoDelay(true))
                .shutdownHook(false)   // Helidon's own hook would stop the listener before accepted requests are answered
                .directHandlers(d -> {
                    for (var type : io.helidon.http.DirectHandler.EventType.values()) d.addHandler(type, V2Routes.directHandler(options.maxBodyBytes()));
                })
                .routing(r -> {
                    if (options.accessLog()) r.addFilter((chain, req, res) -> {
                        long t0 = System.nanoTime();
                        chain.proceed();
                        ACCESS.log(System.Logger.Level.INFO, () -> String.format("%s %s %d %.2fms", req.prologue().method().text(),
                                req.path().path(), res.status().code(), (System.nanoTime() - t0) / 1e6));
                    });
                    routes.register(r);
                })
                .build();
    }

    /**
     * Starts listening (live at once), loads, compiles and warms every model of the repository,
     * then reports ready and returns.
     *
     * @throws IOException if the repository cannot be listed
     * @throws ApiException if a model cannot be loaded (the server is closed again)
     */
    public static InferenceServer start(Options options) throws IOException {
        InferenceServer s = new InferenceServer(options);
        s.web.start();
        try {
            for (String name : s.repository.names()) s.load(name);
        } catch (IOException | RuntimeException | Error e) {   // an Error too: the listener thread would keep the JVM alive
            s.close();
            throw e;
        }
        s.ready = true;
        s.logStart();
        return s;
    }

    /** The port the server listens on. */
    public int port() {
        return web.port();
    }

    /** Whether every model is loaded and warmed and the server is not shutting down. */
    public boolean isReady() {
        return ready && !closing;
    }

    boolean isClosing() {
        return closing;
    }

    ServerMetrics metrics() {
        return metrics;
    }

    /** The model served as {@code name}, or null. */
    ServedModel model(String name) {
        return models.get(name);
    }

    /** Every model the repository holds or the server serves, and whether it is served. */
    Map<String, Boolean> index() {
        Map<String, Boolean> all = new TreeMap<>();
        try {
            for (String n : repository.names()) all.put(n, false);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot list the model repository", e);
        }
        for (String n : models.keySet()) all.put(n, true);
        return all;
    }

    /**
     * Loads (or reloads) model {@code name}: compiles and warms the new instance first, then swaps it
     * in and drains the old one, so no request of this or any other model is dropped.
     */
    synchronized void load(String name) {
        if (closing) throw new ApiException(503, "the server is shutting down", "1");
        ServedModel fresh = repository.open(name, metrics);
        ServedModel old = models.put(name, fresh);
        metrics.model(name, this);
        if (old != null) old.close();
    }

    /** Stops serving model {@code name}: new requests get 404, queued ones are answered, then its plans close. */
    synchronized void unload(String name) {
        ServedModel old = models.remove(name);
        if (old == null) throw ApiException.notFound("model '" + name + "' is not loaded");
        old.close();
    }

    /**
     * Graceful shutdown: refuses new inference requests (503), waits up to the grace period for
     * every accepted one to be answered, stops the listener, then drains and closes every model.
     */
    @Override
    public synchronized void close() {
        if (closing && models.isEmpty()) return;
        closing = true;
        long until = System.nanoTime() + options.shutdownGrace().toNanos();
        while (metrics.inFlight().get() > 0 && System.nanoTime() < until) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        web.stop();
        for (String name : models.keySet()) models.remove(name).close();
        LOG.log(System.Logger.Level.INFO, "stopped");
    }

    private void logStart() {
        StringBuilder s = new StringBuilder("panama-dnn server ready on port ").append(port()).append('\n');
        NativeRuntime natives = NativeRuntime.describe();
        s.append("  natives: ").append(natives).append('\n');
        if (!natives.cpuRuntime().equals("OpenMP")) {
            s.append("  note: oneDNN runs on ").append(natives.cpuRuntime()).append(": threads_per_instance does not cap its threads (each "
                    + "primitive may use all ").append(natives.openmpThreads()).append(" cores; docs/natives.md)\n");
        }
        for (ServedModel m : models.values()) {
            ModelConfig c = m.config();
            StringBuilder ins = new StringBuilder();
            for (ModelConfig.TensorSpec in : c.inputs()) ins.append(ins.isEmpty() ? "" : ", ").append(in.name()).append(' ').append(in.datatype()).append(Arrays.toString(in.sample()));
            s.append(String.format(java.util.Locale.ROOT, "  model %s (%s): input %s, plans %s (constants %.1f MB), %d instance(s) x %d thread(s), max queue %d, %s%n",
                    c.name(), c.architecture(), ins,
                    c.variable() ? "per request shapes (-1 dims), built on first use, up to " + c.maxShapes() + " shapes kept"
                            : c.batched() ? "for batch " + Arrays.toString(m.compiledBatchSizes()) : "for batch - (no batch dim: one plan)", m.constantBytes() / 1048576.0, c.instances(), c.threadsPerInstance(),
                    c.maxQueueSize(), !c.batched() ? "no batching" : (c.adaptiveDelay() ? "adaptive" : "fixed") + " delay " + c.maxQueueDelayMicros() + " us"));
        }
        LOG.log(System.Logger.Level.INFO, s.toString().strip());
    }
}
