package dev.panamadnn.server;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.helidon.common.socket.HelidonSocket;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.ServerRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;
import java.util.function.BooleanSupplier;

/**
 * Whether the client of a request is still connected, so that the batcher can drop a request whose
 * client went away before spending compute on it.
 *
 * <p>Helidon's HTTP/1 connection reads its socket only between requests, so while a handler waits
 * for its result nobody notices the client closing. {@link #watch} finds the request's socket and
 * the returned supplier asks the kernel, without consuming or waiting: {@code recv(fd, 1 byte,
 * MSG_PEEK | MSG_DONTWAIT)} (Linux, through FFM) returns 0 once the peer has closed (or half-closed)
 * its side, and {@code EAGAIN} or a byte (a pipelined next request, left in place) while it is
 * there. One system call per request, made by the batcher just before compute.
 *
 * <p>A client that half-closes its side after sending (shutdown of output) therefore looks gone and
 * its request is dropped, as nginx does without {@code proxy_ignore_client_abort}; HTTP clients
 * keep their side open until they have the response.
 *
 * <p>Reaching the descriptor takes two private fields (Helidon 4.5 exposes neither a request's
 * connection nor its socket channel; both are on the class path, so reflection may read them) and
 * {@code sun.nio.ch.SelChImpl.getFDVal()}, which needs {@code --add-exports
 * java.base/sun.nio.ch=ALL-UNNAMED} (scripts/serve, the Dockerfile and the tests pass it). Without
 * that flag, on another OS, or if a Helidon upgrade moves a field, {@link #watch} logs once and
 * answers "connected" for every request (nothing is ever dropped by mistake), and
 * {@code ConnectionTest} fails.
 */
final class ClientConnection {
    private static final System.Logger LOG = System.getLogger(ClientConnection.class.getName());
    private static final BooleanSupplier ALWAYS = () -> true;
    private static final int MSG_PEEK = 0x2, MSG_DONTWAIT = 0x40, EAGAIN = 11, EINTR = 4;
    private static final Probe PROBE = Probe.create();
    private static volatile boolean warned;

    private ClientConnection() {}

    /** A supplier that answers whether {@code req}'s client is still connected (always true when that cannot be told). */
    static BooleanSupplier watch(ServerRequest req) {
        if (PROBE == null) return ALWAYS;
        int fd = PROBE.fd(req);
        if (fd < 0) return ALWAYS;
        return () -> PROBE.open(fd);
    }

    /** The reflective path to a request's descriptor and the {@code recv} downcall; null where unavailable. */
    private record Probe(Method fdVal, MethodHandle recv, StructLayout state, VarHandle errno) {
        static Probe create() {
            try {
                Method fdVal = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
                Linker linker = Linker.nativeLinker();
                StructLayout state = Linker.Option.captureStateLayout();
                MethodHandle recv = linker.downcallHandle(linker.defaultLookup().find("recv").orElseThrow(),
                        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), Linker.Option.captureCallState("errno"));
                VarHandle errno = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                return new Probe(fdVal, recv, state, errno);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                warn("no socket probe on this platform", e);
                return null;
            }
        }

        /** The request's socket descriptor, or -1 (warned once). */
        int fd(ServerRequest req) {
            try {
                Field ctx = CONTEXT_FIELD.get(req.getClass());
                if (ctx == null) throw new NoSuchFieldException(req.getClass().getName() + " has no ConnectionContext field");
                HelidonSocket socket = ((ConnectionContext) ctx.get(req)).serverSocket();
                Field channel = CHANNEL_FIELD.get(socket.getClass());
                if (channel == null) throw new NoSuchFieldException(socket.getClass().getName() + " has no SocketChannel field");
                return (int) fdVal.invoke(channel.get(socket));
            } catch (ReflectiveOperationException | RuntimeException e) {
                warn("cannot reach the socket of a " + req.getClass().getName()
                        + " (is --add-exports java.base/sun.nio.ch=ALL-UNNAMED given?)", e);
                return -1;
            }
        }

        /** Whether the peer of {@code fd} is still there: a peeked byte or EAGAIN, not end of stream or an error. */
        boolean open(int fd) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment st = arena.allocate(state);
                long n = (long) recv.invokeExact(st, fd, arena.allocate(1), 1L, MSG_PEEK | MSG_DONTWAIT);
                if (n > 0) return true;
                if (n == 0) return false;
                int err = (int) errno.get(st, 0L);
                return err == EAGAIN || err == EINTR;
            } catch (Throwable t) {
                warn("recv on a client socket failed", t);
                return true;
            }
        }
    }

    /** Per class, its first accessible field whose type is {@code type} (looked up once), or null. */
    private static ClassValue<Field> fieldOf(Class<?> type) {
        return new ClassValue<>() {
            @Override
            protected Field computeValue(Class<?> owner) {
                for (Class<?> c = owner; c != null && c != Object.class; c = c.getSuperclass()) {
                    for (Field f : c.getDeclaredFields()) {
                        if (!type.isAssignableFrom(f.getType())) continue;
                        try {
                            f.setAccessible(true);
                            return f;
                        } catch (RuntimeException e) {
                            return null;
                        }
                    }
                }
                return null;
            }
        };
    }

    private static final ClassValue<Field> CONTEXT_FIELD = fieldOf(ConnectionContext.class);
    private static final ClassValue<Field> CHANNEL_FIELD = fieldOf(SocketChannel.class);

    private static void warn(String what, Throwable e) {
        if (warned) return;
        warned = true;
        LOG.log(System.Logger.Level.WARNING, what + "; requests whose client disconnected are not dropped before compute", e);
    }
}
