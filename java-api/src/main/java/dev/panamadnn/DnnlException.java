package dev.panamadnn;

/**
 * A oneDNN C function returned a status other than success. The message names the function,
 * the status and what was being done, e.g. {@code dnnl_primitive_create failed:
 * unimplemented (creating eltwise_relu for f32 2x3)}.
 */
public final class DnnlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The C function that failed, e.g. {@code dnnl_primitive_create}. */
    private final String function;
    /** The {@code dnnl_status_t} it returned. */
    private final int status;
    /** oneDNN's text for that status. */
    private final String statusText;

    /**
     * A failed oneDNN call.
     * @param function   the C function
     * @param status     its {@code dnnl_status_t}
     * @param statusText oneDNN's text for the status
     * @param context    what was being done (shapes, layer), or empty
     */
    public DnnlException(String function, int status, String statusText, String context) {
        super(function + " failed: " + statusText + " (status " + status + ")"
                + (context == null || context.isEmpty() ? "" : " while " + context));
        this.function = function;
        this.status = status;
        this.statusText = statusText;
    }

    /** {@return the C function that failed, e.g. {@code dnnl_primitive_create}} */
    public String function() {
        return function;
    }

    /** {@return the numeric {@code dnnl_status_t}} */
    public int status() {
        return status;
    }

    /**
     * oneDNN's own name for the status, from {@code dnnl_status2str}.
     *
     * @return oneDNN's text for the status
     */
    public String statusText() {
        return statusText;
    }
}
