package dev.panamadnn.internal.safetensors;

/**
 * A safetensors header that breaks the format. Internal: {@code SafeTensors.open} turns it into
 * the public {@code SafeTensorsException}, adding the file name.
 */
public final class HeaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HeaderException(String message) {
        super(message);
    }
}
