package dev.panamadnn.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's Prometheus metrics (Micrometer): requests by model and status, latency histograms
 * (queue, compute, total), batch sizes, queue depth, in-flight requests and compiled plans.
 * Thread-safe; one per server.
 */
public final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicInteger inFlight = new AtomicInteger();
    // The per-request meters, by "model status" and "kind model": Micrometer's builder().register() looks a meter up by
    // merging and comparing tags on every call, measurable per request on a small model.
    private final Map<String, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    ServerMetrics() {
        Gauge.builder("pdnn_inflight_requests", inFlight, AtomicInteger::get)
                .description("Inference requests accepted and not yet answered").register(registry);
    }

    /** The Prometheus text exposition of every metric. */
    public String scrape() {
        return registry.scrape();
    }

    AtomicInteger inFlight() {
        return inFlight;
    }

    void request(String model, int status, long nanos) {
        requests.computeIfAbsent(model + ' ' + status, k -> Counter.builder("pdnn_requests").description("Inference requests by model and HTTP status")
                .tag("model", model).tag("status", Integer.toString(status)).register(registry)).increment();
        timers.computeIfAbsent("request " + model, k -> timer("pdnn_request_latency", "Inference request time, received to answered", model))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    void queued(String model, long nanos) {
        timers.computeIfAbsent("queue " + model, k -> timer("pdnn_queue_latency", "Time a request waited in its model's queue", model))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A queued request dropped before compute because its client had disconnected. */
    void disconnected(String model) {
        Counter.builder("pdnn_dropped_disconnected").description("Queued requests dropped before compute because the client had gone")
                .tag("model", model).register(registry).increment();
    }

    void batch(String model, int rows, int planRows, long nanos) {
        timer("pdnn_compute_latency", "Time of one batched compiled-plan run", model).record(Duration.ofNanos(nanos));
        DistributionSummary.builder("pdnn_batch_size").description("Rows per batched run (before padding to a plan size)")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256).tag("model", model).register(registry).record(rows);
        DistributionSummary.builder("pdnn_padded_rows").description("Zero rows added to reach a compiled plan's batch size")
                .tag("model", model).register(registry).record(planRows - rows);
    }

    /**
     * Registers model {@code model}'s gauges (queue depth, plans compiled, shapes cached, their constants' bytes), which read whichever
     * instance of it {@code server} serves now (0 while none), so a reload keeps them.
     */
    void model(String model, InferenceServer server) {
        Counter.builder("pdnn_dropped_disconnected").description("Queued requests dropped before compute because the client had gone")
                .tag("model", model).register(registry);
        Gauge.builder("pdnn_queue_depth", server, s -> s.model(model) instanceof ServedModel m ? m.queueDepth() : 0)
                .description("Requests waiting in the model's queue").tag("model", model).register(registry);
        Gauge.builder("pdnn_plans_compiled", server, s -> s.model(model) instanceof ServedModel m ? m.plansCompiled() : 0)
                .description("Compiled plans the model holds (of every cached shape, for a model with variable dims)").tag("model", model).register(registry);
        Gauge.builder("pdnn_shapes_cached", server, s -> s.model(model) instanceof ServedModel m ? m.shapesCached() : 0)
                .description("Input shapes a model with variable dims holds imports and plans for (or a refusal), at most its max_shapes")
                .tag("model", model).register(registry);
        Gauge.builder("pdnn_constant_bytes", server, s -> s.model(model) instanceof ServedModel m ? m.constantBytes() : 0)
                .description("Native memory the model's plans hold in constants (weights in their primitives' layouts), each block "
                        + "shared by several plans counted once").baseUnit("bytes").tag("model", model).register(registry);
    }

    private Timer timer(String name, String description, String model) {
        return Timer.builder(name).description(description).tag("model", model).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(0).plusNanos(50_000)).maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
    }
}
