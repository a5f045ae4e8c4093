package dev.panamadnn.internal;

import dev.panamadnn.internal.lifetime.OwnedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The one place where element counts and byte sizes are computed and bounded: every tensor,
 * output, weight copy, scratchpad and padding copy goes through here before it is allocated or
 * handed to native code, so a size that cannot exist fails as an {@link IllegalArgumentException}
 * naming the caller ({@code who}: a layer's repr, {@code "Tensor.zeros"}...), the shape and the
 * limit, instead of wrapping around, reaching oneDNN as {@code invalid_arguments} or allocating a
 * truncated buffer.
 *
 * <p>Limits:
 * <ul>
 * <li>{@link #MAX_BYTES} = 2^48 bytes (256 TiB) per buffer. No buffer that large can exist on
 * the platforms this library ships for: x86-64 gives a process 2^47 bytes of user address space
 * (Linux's 5-level paging hands out higher addresses only to mmap calls that ask for them) and
 * AArch64 2^48. Keeping every buffer under 2^48 also leaves 2^15 of headroom in a {@code long}, so
 * the few sums and small multiples derived from sizes (strides, offsets, padded extents) cannot
 * overflow. oneDNN's own limits are wider (its memory descriptors take any dims whose product
 * fits {@code int64_t} and whose byte size fits {@code size_t}; at most
 * {@code DNNL_MAX_NDIMS} = 12 dimensions), so a size accepted here is never refused there.</li>
 * <li>{@link #MAX_ARRAY_LENGTH} = 2^31 - 9 elements per Java array (the JDK's own ceiling), which
 * bounds what the pure-Java reference paths can hold.</li>
 * </ul>
 */
public final class Sizes {
    private Sizes() {}

    /** The largest byte size of one buffer: 2^48 (256 TiB). */
    public static final long MAX_BYTES = 1L << 48;

    /** The largest Java array the reference paths allocate: {@code Integer.MAX_VALUE - 8} elements. */
    public static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    /**
     * The largest size of one dimension handed to a oneDNN primitive: 2^31 - 1. oneDNN 3.13's JIT
     * convolutions keep sizes in {@code int}: a batch of 2^32 truncates to 0 and the primitive's
     * creation divides by it (SIGFPE, measured), so larger dimensions are refused in Java.
     */
    public static final long MAX_DNNL_DIM = Integer.MAX_VALUE;

    /** The most dimensions a oneDNN memory descriptor takes ({@code DNNL_MAX_NDIMS}). */
    public static final int MAX_DNNL_RANK = 12;

    /**
     * Refuses a dimension of {@code dims} past {@link #MAX_DNNL_DIM}, or more than {@link #MAX_DNNL_RANK}
     * of them, naming {@code what} (e.g. "the oneDNN input [N, C, H, W]").
     */
    public static void dnnlDims(Object who, String what, long... dims) {
        if (dims.length > MAX_DNNL_RANK) {
            throw new IllegalArgumentException(who + ": " + what + " " + Arrays.toString(dims) + " has rank " + dims.length + ", more than the "
                    + MAX_DNNL_RANK + " dimensions oneDNN's memory descriptors take");
        }
        for (long d : dims) {
            if (d > MAX_DNNL_DIM) {
                throw new IllegalArgumentException(who + ": " + what + " " + Arrays.toString(dims) + " has a dimension over "
                        + MAX_DNNL_DIM + " (2^31 - 1), the most oneDNN's kernels take");
            }
        }
    }

    /**
     * The element count of {@code shape}, whose sizes must all be >= 1; at most {@link #MAX_BYTES}
     * (so that it times any element size is checked by {@link #bytes}, never wrapped).
     *
     * @throws IllegalArgumentException if the shape is null, has a size < 1, or more elements
     */
    public static long numel(Object who, long[] shape) {
        if (shape == null) throw new IllegalArgumentException(who + ": shape must not be null");
        for (long d : shape) {
            if (d <= 0) throw new IllegalArgumentException(who + ": every size must be > 0, got shape " + Arrays.toString(shape));
        }
        long n = 1;
        for (long d : shape) {
            if (n > MAX_BYTES / d) {
                throw new IllegalArgumentException(who + ": shape " + Arrays.toString(shape) + " has "
                        + product(shape) + " elements; one tensor holds at most " + MAX_BYTES + " bytes (2^48, 256 TiB)");
            }
            n *= d;
        }
        return n;
    }

    /**
     * The product of sizes >= 1, or {@link Long#MAX_VALUE} once it passes {@link #MAX_BYTES}: for
     * comparing a candidate shape with a known element count without wrapping.
     */
    public static long productOrMax(long[] sizes) {
        long n = 1;
        for (long d : sizes) {
            if (n > MAX_BYTES / d) return Long.MAX_VALUE;
            n *= d;
        }
        return n;
    }

    /**
     * The byte size of a dense tensor of {@code shape} with {@code elementBytes}-byte elements.
     *
     * @throws IllegalArgumentException if {@link #numel} refuses the shape or the bytes exceed {@link #MAX_BYTES}
     */
    public static long bytes(Object who, long[] shape, int elementBytes) {
        long n = numel(who, shape);
        if (n > MAX_BYTES / elementBytes) {
            throw new IllegalArgumentException(who + ": shape " + Arrays.toString(shape) + " of " + elementBytes
                    + "-byte elements needs " + product(shape) + " x " + elementBytes + " bytes; one tensor holds at most "
                    + MAX_BYTES + " bytes (2^48, 256 TiB)");
        }
        return n * elementBytes;
    }

    /**
     * The byte size of a dense tensor of {@code shape} that may be empty: sizes >= 0, and a size of
     * 0 makes a tensor of no elements (0 bytes; ONNX and numpy have them: a Slice past the end, an
     * empty axes list). The other sizes are still bounded as {@link #bytes} bounds them, so the
     * strides of an empty tensor cannot overflow either. Only {@code Tensor}'s factories take
     * empty shapes: layers, plans and oneDNN descriptors keep refusing a size of 0.
     *
     * @throws IllegalArgumentException if the shape is null, has a negative size, or is too large
     */
    public static long tensorBytes(Object who, long[] shape, int elementBytes) {
        if (shape == null) throw new IllegalArgumentException(who + ": shape must not be null");
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(who + ": every size must be >= 0, got shape " + Arrays.toString(shape));
            empty |= d == 0;
        }
        if (!empty) return bytes(who, shape, elementBytes);
        long n = elementBytes;   // the same bound on the other sizes, whose product a stride may be
        for (long d : shape) {
            if (d > 1 && n > MAX_BYTES / d) {
                throw new IllegalArgumentException(who + ": shape " + Arrays.toString(shape) + " is empty but its other sizes"
                        + " multiply past " + MAX_BYTES + " bytes (2^48, 256 TiB), the most one tensor holds");
            }
            n *= Math.max(d, 1);
        }
        return 0;
    }

    /**
     * Whether {@link #bytes} would accept {@code shape} with {@code elementBytes}-byte elements,
     * computed without allocating: the per-call paths test this first and build the message
     * (which names the layer, a string made from its configuration) only when it fails.
     */
    public static boolean fits(long[] shape, int elementBytes) {
        if (shape == null) return false;
        long n = 1;
        for (long d : shape) {
            if (d <= 0 || n > MAX_BYTES / d) return false;
            n *= d;
        }
        return n <= MAX_BYTES / elementBytes;
    }

    /**
     * {@link #allocate(Arena, long, Object, Object)} for a tensor: the message's description
     * ({@code dtype} and {@code shape}) is formatted only if the allocation fails.
     */
    public static MemorySegment allocate(Arena arena, long bytes, Object who, Object dtype, long[] shape) {
        try {
            return arena.allocate(bytes, 64);
        } catch (OutOfMemoryError e) {
            return allocate(arena, bytes, who, String.valueOf(dtype).toLowerCase(java.util.Locale.ROOT) + Arrays.toString(shape));
        }
    }

    /** {@link #bytes} for f32. */
    public static long f32Bytes(Object who, long[] shape) {
        return bytes(who, shape, Float.BYTES);
    }

    /**
     * {@code a * b} for sizes derived from validated ones (a padded extent, a kernel's reach, a
     * buffer's element count), refused past {@link #MAX_BYTES} with {@code what} in the message.
     */
    public static long multiply(Object who, String what, long a, long b) {
        if (a < 0 || b < 0 || (a != 0 && b > MAX_BYTES / a)) {
            throw new IllegalArgumentException(who + ": " + what + " = " + a + " x " + b + " exceeds the limit of "
                    + MAX_BYTES + " (2^48)");
        }
        return a * b;
    }

    /** {@code a + b} for derived sizes, refused past {@link #MAX_BYTES}; see {@link #multiply}. */
    public static long add(Object who, String what, long a, long b) {
        if (a < 0 || b < 0 || a > MAX_BYTES - b) {
            throw new IllegalArgumentException(who + ": " + what + " = " + a + " + " + b + " exceeds the limit of "
                    + MAX_BYTES + " (2^48)");
        }
        return a + b;
    }

    /**
     * A count of elements the reference path holds in one Java array, as an {@code int}.
     *
     * @throws IllegalArgumentException past {@link #MAX_ARRAY_LENGTH}, naming {@code what}
     */
    public static int arrayLength(Object who, String what, long count) {
        if (count < 0 || count > MAX_ARRAY_LENGTH) {
            throw new IllegalArgumentException(who + ": the reference path holds " + what + " in one Java array of at most "
                    + MAX_ARRAY_LENGTH + " elements (2^31 - 9), got " + count + "; use the native backend");
        }
        return (int) count;
    }

    private static final java.util.List<java.util.function.BooleanSupplier> IDLE_CACHES = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Registers a cache of idle off-heap buffers that {@link #allocate} empties when an allocation fails (the buffers
     * must come from {@link Arena#ofAuto()}, so dropping them frees them at the next collection).
     *
     * @param release drops every idle buffer; returns whether it dropped any
     */
    public static void registerIdleCache(java.util.function.BooleanSupplier release) {
        IDLE_CACHES.add(release);
    }

    private static boolean releaseIdle() {
        boolean any = false;
        for (var c : IDLE_CACHES) any |= c.getAsBoolean();
        return any;
    }

    /**
     * {@code arena.allocate(bytes, 64)} with an {@link OutOfMemoryError} that says where the limit
     * comes from: tensor memory is off-heap, and the JDK counts automatic arenas' allocations ({@code Arena.ofAuto()})
     * against {@code -XX:MaxDirectMemorySize} (by default the maximum heap size).
     */
    public static MemorySegment allocate(Arena arena, long bytes, Object who, Object what) {
        if (bytes < 0 || bytes > MAX_BYTES) {
            throw new IllegalArgumentException(who + ": " + what + " needs " + bytes + " bytes; one buffer holds at most "
                    + MAX_BYTES + " bytes (2^48, 256 TiB)");
        }
        try {
            return arena.allocate(bytes, 64);
        } catch (OutOfMemoryError e) {
            OutOfMemoryError cause = e;
            // Closed tensors whose memory the background closer has not freed yet count against
            // the limit: wait for them and try once more (dev.panamadnn.internal.lifetime.OwnedMemory).
            if (OwnedMemory.pendingReleases() > 0) {
                OwnedMemory.awaitPendingReleases();
                try {
                    return arena.allocate(bytes, 64);
                } catch (OutOfMemoryError again) {
                    cause = again;
                }
            }
            // Idle caches (oneDNN scratchpads kept for the next call) give their buffers back to the garbage collector, which
            // the JDK's reservation retry then runs: a pool holding a huge call's scratchpads must not refuse a tensor.
            if (releaseIdle()) {
                try {
                    return arena.allocate(bytes, 64);
                } catch (OutOfMemoryError again) {
                    cause = again;
                }
            }
            OutOfMemoryError hint = new OutOfMemoryError(who + ": could not allocate " + bytes + " bytes (" + mib(bytes)
                    + ") for " + what + ": tensor memory is off-heap and counts against -XX:MaxDirectMemorySize (default:"
                    + " the maximum heap size, -Xmx); raise it, or close tensors sooner (" + cause.getMessage() + ")");
            hint.initCause(cause);
            throw hint;
        }
    }

    private static String mib(long bytes) {
        return bytes >= 1L << 30 ? String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    /** The exact product of a shape, for messages (may exceed a long). */
    private static String product(long[] shape) {
        java.math.BigInteger p = java.math.BigInteger.ONE;
        for (long d : shape) p = p.multiply(java.math.BigInteger.valueOf(d));
        return p.toString();
    }
}
