package dev.panamadnn.bindgen;

/** A problem with the input (header, include list, options) that stops generation; the message says what and where. */
public final class BindgenException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BindgenException(String message) {
        super(message);
    }
}
