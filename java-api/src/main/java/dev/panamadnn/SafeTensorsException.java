package dev.panamadnn;

import java.nio.file.Path;

/**
 * A safetensors file that breaks the format, or that does not fit the module it is loaded
 * into. The message names the file, the tensor, what was expected and what was found.
 */
public final class SafeTensorsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    SafeTensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** {@return the offending file} */
    public Path file() {
        return file;
    }
}
