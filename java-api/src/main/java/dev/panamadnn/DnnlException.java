package dev.panamadnn;

/**
 * A oneDNN C function returned a status other than success. The message names the function,
 * the status and what was being done, e.g. {@code dnnl_primitive_create failed:
 * unimplemented (creating eltwise_relu for f32 2x3)}.
 */
public final class DnnlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String function;
    private final int status;
    private final String statusText;

    public DnnlException(String function, int status, String statusText, String context) {
        super(function + " failed: " + statusText + " (status " + status + ")"
                + (context == null || context.isEmpty() ? "" : " while " + context));
        this.function = function;
        this.status = status;
        this.statusText = statusText;
    }

    /** The C function that failed, e.g. {@code dnnl_primitive_create}. */
    public String function() {
        return function;
    }

    /** The numeric {@code dnnl_status_t}. */
    public int status() {
        return status;
    }

    /** oneDNN's own name for the status, from {@code dnnl_status2str}. */
    public String statusText() {
        return statusText;
    }
}
