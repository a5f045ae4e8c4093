package dev.panamadnn.server;

/**
 * A request the server refuses, with the HTTP status and the message sent to the client as
 * {@code {"error": "..."}}. Thrown only for client-visible outcomes; it carries no stack trace
 * because none is ever shown (and building one on every bad request is wasted work).
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String retryAfter;

    /** A refusal with {@code status} (4xx, or 503/504) and {@code message}. */
    public ApiException(int status, String message) {
        this(status, message, null);
    }

    /** A refusal that also tells the client when to retry ({@code Retry-After} seconds). */
    public ApiException(int status, String message, String retryAfter) {
        super(message, null, false, false);
        this.status = status;
        this.retryAfter = retryAfter;
    }

    static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, message);
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The {@code Retry-After} value, or null. */
    public String retryAfter() {
        return retryAfter;
    }
}
