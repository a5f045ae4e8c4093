package dev.panamadnn.server;

import jakarta.json.spi.JsonProvider;

/**
 * The server's one JSON-P provider. {@code jakarta.json.Json}'s static factory methods look the
 * provider up with {@link java.util.ServiceLoader} on every call, which scans the class path's jars:
 * a JFR profile of the digits load test put 10-15% of all samples there (a parser per request, a
 * generator per reply). Looked up once here instead; providers are thread-safe.
 */
final class Jsonp {
    static final JsonProvider PROVIDER = JsonProvider.provider();

    private Jsonp() {}
}
