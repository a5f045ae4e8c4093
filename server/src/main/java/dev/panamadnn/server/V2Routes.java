package dev.panamadnn.server;

import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.RequestException;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonValue;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * The REST routes of the Open Inference Protocol (KServe v2) and its model-repository extension,
 * plus {@code /metrics}. Every handler answers a client error as {@code {"error": "..."}} with its
 * status; an unexpected failure becomes a 500 with a generic message (logged here, never sent).
 */
final class V2Routes {
    private static final System.Logger LOG = System.getLogger(V2Routes.class.getName());
    private final InferenceServer server;

    V2Routes(InferenceServer server) {
        this.server = server;
    }

    void register(HttpRouting.Builder r) {
        r.get("/v2", (req, res) -> json(res, 200, ServerInfo.server()))
                .get("/v2/health/live", (req, res) -> empty(res, 200))
                .get("/v2/health/ready", (req, res) -> empty(res, server.isReady() ? 200 : 400))
                .get("/v2/models/{name}", (req, res) -> guarded(res, () -> json(res, 200, ServerInfo.model(model(req, null)))))
                .get("/v2/models/{name}/ready", (req, res) -> guarded(res, () -> { model(req, null); empty(res, 200); }))
                .get("/v2/models/{name}/versions/{version}", (req, res) -> guarded(res, () -> json(res, 200, ServerInfo.model(model(req, version(req))))))
                .get("/v2/models/{name}/versions/{version}/ready", (req, res) -> guarded(res, () -> { model(req, version(req)); empty(res, 200); }))
                .post("/v2/models/{name}/infer", (req, res) -> infer(req, res, null))
                .post("/v2/models/{name}/versions/{version}/infer", (req, res) -> infer(req, res, version(req)))
                .post("/v2/repository/index", (req, res) -> guarded(res, () -> json(res, 200, index())))
                .post("/v2/repository/models/{name}/load", (req, res) -> guarded(res, () -> { server.load(name(req)); json(res, 200, JsonValue.EMPTY_JSON_OBJECT); }))
                .post("/v2/repository/models/{name}/unload", (req, res) -> guarded(res, () -> { server.unload(name(req)); json(res, 200, JsonValue.EMPTY_JSON_OBJECT); }))
                .get("/metrics", (req, res) -> {
                    res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                    res.send(server.metrics().scrape().getBytes(StandardCharsets.UTF_8));
                })
                .any((req, res) -> error(res, new ApiException(404, "no route " + req.prologue().method().text() + " " + req.path().path())));
    }

    private void infer(ServerRequest req, ServerResponse res, String version) {
        long start = System.nanoTime();
        String name = name(req);
        int status = 500;
        server.metrics().inFlight().incrementAndGet();
        try {
            if (server.isClosing()) throw new ApiException(503, "the server is shutting down", "1");
            ServedModel m = model(req, version);
            ModelConfig config = m.config();
            InferRequest request;
            long deadline;
            CompletableFuture<Batcher.Result> result;
            ServedModel served = m;
            try (ServedModel.Arrival arrival = m.arrive()) {   // on its way in until queued or refused (an adaptive batcher waits for it)
                byte[] body = body(req);
                request = InferRequest.parse(body, header(req, "Inference-Header-Content-Length"), header(req, "Inference-Timeout-Ms"), config);
                deadline = start + TimeUnit.MILLISECONDS.toNanos(request.timeoutMs() > 0 ? request.timeoutMs() : config.timeoutMs());
                m.checkShapes(request.shapes());
                BooleanSupplier connected = ClientConnection.watch(req);
                try {
                    result = m.submit(request, deadline, connected);
                } catch (ApiException e) {   // reloaded under us: the old instance drains, the new one takes it if it serves the same
                    ServedModel now = server.model(name);
                    if (!m.isDraining() || now == null || now == m || !now.config().inputs().equals(config.inputs())
                            || !now.config().outputs().equals(config.outputs())) {
                        throw e;
                    }
                    served = now;
                    result = now.submit(request, deadline, connected);
                }
            }
            Batcher.Result answer = await(result, deadline, name);
            InferResponse reply = InferResponse.of(served.config(), request, answer.outputs(), answer.data());
            if (reply.headerLength() >= 0) {
                res.header("Inference-Header-Content-Length", Integer.toString(reply.headerLength()));
                res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
            } else {
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
            }
            status = 200;
            res.status(200).send(reply.body());
        } catch (ApiException e) {
            status = e.status();
            if (status != Batcher.CLIENT_CLOSED) {
                error(res, e);
            } else {
                try {   // the client has gone: there is most likely no one to write to
                    error(res, e);
                } catch (RuntimeException gone) {
                    LOG.log(System.Logger.Level.DEBUG, "answer to a disconnected client not sent", gone);
                }
            }
        } catch (RuntimeException e) {
            status = clientStatus(e);
            error(res, status < 500 ? new ApiException(status, clientMessage(e)) : unexpected(e));
        } finally {
            server.metrics().inFlight().decrementAndGet();
            // Unknown names share one label, so clients cannot grow the registry without bound.
            server.metrics().request(server.model(name) != null ? name : "_unknown", status, System.nanoTime() - start);
        }
    }

    /**
     * The request body. A body that ends before its Content-Length (the client sent part of it and
     * left) is a client gone, counted as 499, not a server failure.
     */
    private static byte[] body(ServerRequest req) {
        if (!req.content().hasEntity()) return new byte[0];
        try {
            return req.content().as(byte[].class);
        } catch (DataReader.InsufficientDataAvailableException | java.io.UncheckedIOException e) {
            throw new ApiException(Batcher.CLIENT_CLOSED, "the request body ended before its length: the client has gone");
        }
    }

    private static Batcher.Result await(CompletableFuture<Batcher.Result> result, long deadline, String model) {
        try {
            return result.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            ApiException late = new ApiException(504, "deadline exceeded waiting for model " + model);
            result.completeExceptionally(late);   // a batcher that has not started it skips it
            throw late;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException a) throw a;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "the server is shutting down", "1");
        }
    }

    private JsonValue index() {
        JsonArrayBuilder a = Jsonp.PROVIDER.createArrayBuilder();
        for (var e : server.index().entrySet()) {
            var o = Jsonp.PROVIDER.createObjectBuilder().add("name", e.getKey()).add("version", ServerInfo.MODEL_VERSION)
                    .add("state", e.getValue() ? "READY" : "UNAVAILABLE");
            if (!e.getValue()) o.add("reason", "unloaded");
            a.add(o);
        }
        return a.build();
    }

    private ServedModel model(ServerRequest req, String version) {
        String name = name(req);
        ServedModel m = server.model(name);
        if (m == null) throw ApiException.notFound("unknown model '" + name + "'");
        if (version != null && !version.equals(ServerInfo.MODEL_VERSION)) {
            throw ApiException.notFound("model '" + name + "' has no version '" + version + "' (it serves version " + ServerInfo.MODEL_VERSION + ")");
        }
        return m;
    }

    private static String name(ServerRequest req) {
        return req.path().pathParameters().get("name");
    }

    private static String version(ServerRequest req) {
        return req.path().pathParameters().get("version");
    }

    private static String header(ServerRequest req, String name) {
        return req.headers().first(HeaderNames.create(name)).orElse(null);
    }

    private interface Action {
        void run();
    }

    private static void guarded(ServerResponse res, Action action) {
        try {
            action.run();
        } catch (ApiException e) {
            error(res, e);
        } catch (RuntimeException e) {
            int status = clientStatus(e);
            error(res, status < 500 ? new ApiException(status, clientMessage(e)) : unexpected(e));
        }
    }

    /** The status of a Helidon request failure (e.g. 413 for a body over the limit); 500 for anything else. */
    private static int clientStatus(RuntimeException e) {
        if (e instanceof HttpException h && h.status().code() < 500) return h.status().code();
        if (e instanceof RequestException r && r.status().code() < 500) return r.status().code();
        return 500;
    }

    private static String clientMessage(RuntimeException e) {
        return clientStatus(e) == 413 ? "request body exceeds the server's limit" : "bad request: " + e.getMessage();
    }

    private static ApiException unexpected(RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "unexpected failure", e);
        return new ApiException(500, "internal error (see the server log)");
    }

    /**
     * Helidon's answer to a request it refuses before routing (a body over the limit, a malformed
     * HTTP request), as {@code {"error": ...}} with a fixed message (its own text may name internals).
     */
    static io.helidon.http.DirectHandler directHandler(long maxBodyBytes) {
        return (request, type, status, headers, message) -> {
            String text = switch (status.code()) {   // Helidon reports a 413 as event BAD_REQUEST: go by the status
                case 413 -> "request body exceeds the server's limit of " + maxBodyBytes + " bytes";
                case 400 -> "malformed HTTP request";
                // Helidon 4 speaks HTTP/1.1 (and 2) only; an HTTP/1.0 proxy (nginx's default upstream protocol) must say 1.1.
                case 505 -> "HTTP version not supported: this server speaks HTTP/1.1 (behind nginx: proxy_http_version 1.1)";
                default -> status.code() >= 500 ? "internal error (see the server log)" : "request refused: " + status.reasonPhrase();
            };
            return io.helidon.http.DirectHandler.TransportResponse.builder().status(status)
                    .header(HeaderNames.CONTENT_TYPE, "application/json")
                    .entity(Jsonp.PROVIDER.createObjectBuilder().add("error", text).build().toString()).build();
        };
    }

    static void error(ServerResponse res, ApiException e) {
        if (res.isSent()) return;
        if (e.retryAfter() != null) res.header("Retry-After", e.retryAfter());
        json(res, e.status(), Jsonp.PROVIDER.createObjectBuilder().add("error", e.getMessage()).build());
    }

    private static void json(ServerResponse res, int status, JsonValue body) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.status(status).send(body.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void empty(ServerResponse res, int status) {
        res.status(status).send();
    }
}
