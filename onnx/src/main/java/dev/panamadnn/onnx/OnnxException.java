package dev.panamadnn.onnx;

import java.util.List;

/**
 * An ONNX model that cannot be loaded or run: a malformed or truncated file, an op, attribute,
 * dtype or opset this library does not support (one exception lists every such node, with its
 * name, op, domain and opset), a structural error (a dangling input, a cycle, a name defined
 * twice), missing external data, or an input of the wrong name, dtype or shape at run time.
 */
public class OnnxException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** Every problem found, one line each. */
    @SuppressWarnings("serial")   // List.copyOf's lists are serializable; the declared type is not
    private final List<String> problems;

    /**
     * One problem.
     *
     * @param message the problem, naming the node, op or file
     */
    public OnnxException(String message) {
        super(message);
        this.problems = List.of(message);
    }

    /**
     * One problem with its cause.
     *
     * @param message the problem, naming the node, op or file
     * @param cause   the underlying failure
     */
    public OnnxException(String message, Throwable cause) {
        super(message, cause);
        this.problems = List.of(message);
    }

    /**
     * Several problems of one model, each on its own line after {@code summary}.
     *
     * @param summary  what failed, e.g. the model's file
     * @param problems every problem found, one line each
     */
    public OnnxException(String summary, List<String> problems) {
        super(summary + (problems.isEmpty() ? "" : ":\n  " + String.join("\n  ", problems)));
        this.problems = List.copyOf(problems);
    }

    private OnnxException(String message, List<String> problems, Throwable cause) {
        super(message, cause);
        this.problems = problems;
    }

    /** This exception with {@code prefix} (the model's file) before its message; the same problems. */
    OnnxException prefixed(String prefix) {
        OnnxException e = new OnnxException(prefix + getMessage(), problems, this);
        return e;
    }

    /** {@return each problem found (one line each; a single entry for a single problem)} */
    public List<String> problems() {
        return problems;
    }
}
