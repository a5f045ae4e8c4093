package dev.panamadnn.natives;

import java.util.List;

/**
 * The native libraries could not be loaded. The message lists every place that was tried and
 * why each failed, so one exception is enough to diagnose a broken installation.
 */
public final class NativeLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient List<LoadReport.Attempt> attempts;

    NativeLoadException(String summary, List<LoadReport.Attempt> attempts, Throwable cause) {
        super(format(summary, attempts), cause);
        this.attempts = List.copyOf(attempts);
    }

    /** {@return every place tried, in order, with the reason it failed} */
    public List<LoadReport.Attempt> attempts() {
        return attempts;
    }

    private static String format(String summary, List<LoadReport.Attempt> attempts) {
        var sb = new StringBuilder(summary);
        if (!attempts.isEmpty()) {
            sb.append("\nPlaces tried, in order:");
            for (var a : attempts) {
                sb.append("\n  - ").append(a.library()).append(" from ").append(a.source())
                        .append(" (").append(a.location()).append("): ").append(a.outcome());
            }
        }
        sb.append("\nFix: set -D").append(NativeLoader.DIR_PROPERTY).append("=DIR or ")
                .append(NativeLoader.DIR_ENV).append("=DIR to a directory holding the libraries, ")
                .append("run scripts/build-natives, or put panama-dnn-native's jar on the path.");
        return sb.toString();
    }
}
