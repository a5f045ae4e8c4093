package dev.panamadnn.natives;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;

/**
 * Reads what {@link WaitGovernor} watches from Linux's {@code /proc} without allocating per reading: the files stay
 * open and are read again from offset 0 (procfs regenerates them) into one reused buffer, and the numbers are parsed
 * from the bytes. A daemon reading ten times a second for the life of the JVM would otherwise put hundreds of kilobytes
 * a second on the heap (and into allocation profiles of code that allocates nothing).
 *
 * <p>Files: {@code /proc/self/status} ({@code Cpus_allowed_list}: the CPUs this process may use), {@code /proc/stat}
 * (the busy ticks of those CPUs, steal included; read only as far as its cpu lines), {@code /proc/self/stat} (this
 * process's user and system ticks) and, where the kernel has it, {@code /proc/pressure/cpu} (PSI's cumulative "some"
 * stall). Not thread-safe: one reader per thread.
 */
final class ProcReadings implements AutoCloseable {
    /** One reading, filled in place. */
    static final class Reading {
        /** Cumulative microseconds some task waited for a CPU, or -1 without PSI. */
        long stallMicros;
        /** Ticks the CPUs this process may use spent busy (all but idle and iowait). */
        long busyTicks;
        /** Ticks this process used (user + system). */
        long ownTicks;
        /** The CPUs counted in {@link #busyTicks}. */
        int cpus;

        Reading set(long stallMicros, long busyTicks, long ownTicks, int cpus) {
            this.stallMicros = stallMicros;
            this.busyTicks = busyTicks;
            this.ownTicks = ownTicks;
            this.cpus = cpus;
            return this;
        }

        @Override
        public String toString() {
            return "Reading[stall=" + stallMicros + " us, busy=" + busyTicks + ", own=" + ownTicks + ", cpus=" + cpus + "]";
        }
    }

    private final FileChannel stat, self, status, pressure;   // status, pressure: null where absent
    private ByteBuffer buf = ByteBuffer.allocate(8192);
    private final BitSet allowed = new BitSet();
    private int at;   // the parse position in buf

    /** Opens {@code /proc}'s files; throws if {@code /proc/stat} or {@code /proc/self/stat} cannot be opened. */
    static ProcReadings open() throws IOException {
        return new ProcReadings(Path.of("/proc/stat"), Path.of("/proc/self/stat"), Path.of("/proc/self/status"), Path.of("/proc/pressure/cpu"));
    }

    ProcReadings(Path stat, Path self, Path status, Path pressure) throws IOException {
        this.stat = FileChannel.open(stat, StandardOpenOption.READ);
        try {
            this.self = FileChannel.open(self, StandardOpenOption.READ);
        } catch (IOException e) {
            this.stat.close();
            throw e;
        }
        this.status = openOrNull(status);
        this.pressure = openOrNull(pressure);
    }

    private static FileChannel openOrNull(Path p) {
        try {
            return FileChannel.open(p, StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Fills {@code into}; {@return false (into unchanged in meaning) if a file could not be read or parsed} */
    boolean read(Reading into) {
        try {
            boolean restrict = status != null && allowedCpus();
            if (!fill(stat, true)) return false;
            long busy = 0;
            int cpus = 0;
            at = 0;
            int end = buf.limit();
            byte[] b = buf.array();
            while (at < end && startsWith(b, at, end, "cpu")) {
                int line = at;
                at += 3;
                if (at < end && b[at] >= '0' && b[at] <= '9') {
                    int cpu = (int) number(b, end);
                    if (!restrict || allowed.get(cpu)) {
                        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait
                        for (int i = 1; i <= 8 && !endOfLine(b, end); i++) {
                            long v = number(b, end);
                            if (i != 4 && i != 5) busy += v;
                        }
                        cpus++;
                    }
                }
                at = nextLine(b, line, end);
            }
            if (cpus == 0 || !fill(self, false)) return false;
            b = buf.array();
            end = buf.limit();
            int paren = end - 1;
            while (paren >= 0 && b[paren] != ')') paren--;
            if (paren < 0) return false;
            // after the command name in parentheses: the state is field 3, utime and stime fields 14 and 15
            at = paren + 1;
            for (int field = 3; field < 14; field++) skipField(b, end);
            long own = number(b, end) + number(b, end);
            into.set(pressure(), busy, own, cpus);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Parses {@code Cpus_allowed_list} into {@link #allowed}; {@return whether it was found} */
    private boolean allowedCpus() throws IOException {
        if (!fill(status, false)) return false;
        byte[] b = buf.array();
        int end = buf.limit();
        int i = indexOf(b, 0, end, "Cpus_allowed_list:");
        if (i < 0) return false;
        at = i + "Cpus_allowed_list:".length();
        allowed.clear();
        return cpuList(b, end, allowed);
    }

    /** Parses a kernel CPU list ({@code 0-3,8,10-11}) from {@link #at} to the end of its line into {@code into}. */
    private boolean cpuList(byte[] b, int end, BitSet into) {
        boolean any = false;
        while (!endOfLine(b, end)) {
            long from = number(b, end), to = from;
            if (at < end && b[at] == '-') {
                at++;
                to = number(b, end);
            }
            if (from < 0 || to < from || to > 1 << 20) return false;
            into.set((int) from, (int) to + 1);
            any = true;
            if (at < end && b[at] == ',') at++;
        }
        return any;
    }

    /** Tests: the CPUs of {@code list} (a kernel CPU list) parsed as from {@code Cpus_allowed_list}. */
    static BitSet cpuList(String list) {
        ProcReadings r = new ProcReadings();
        byte[] b = (list + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        BitSet into = new BitSet();
        if (!r.cpuList(b, b.length, into)) throw new IllegalArgumentException("not a CPU list: '" + list + "'");
        return into;
    }

    private ProcReadings() {   // cpuList(String) only
        stat = self = status = pressure = null;
    }

    /** {@return PSI's cumulative "some" stall in microseconds, or -1 where the kernel does not offer it} */
    private long pressure() {
        try {
            if (pressure == null || !fill(pressure, false)) return -1;
            byte[] b = buf.array();
            int end = buf.limit();
            if (!startsWith(b, 0, end, "some ")) return -1;
            int lineEnd = nextLine(b, 0, end);
            int i = indexOf(b, 0, lineEnd, "total=");
            if (i < 0) return -1;
            at = i + "total=".length();
            return number(b, end);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Reads {@code ch} from offset 0 into {@link #buf} (flipped: 0 to limit): to the end, or with {@code cpuLinesOnly}
     * only until a line that does not start with "cpu" has begun. Grows the buffer when a file does not fit.
     */
    private boolean fill(FileChannel ch, boolean cpuLinesOnly) throws IOException {
        buf.clear();
        long pos = 0;
        while (true) {
            if (!buf.hasRemaining()) {
                ByteBuffer bigger = ByteBuffer.allocate(buf.capacity() * 2);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
            int from = buf.position();
            int n = ch.read(buf, pos);
            if (n <= 0) break;
            pos += n;
            if (cpuLinesOnly && pastCpuLines(buf.array(), Math.max(0, from - 1), buf.position())) break;
        }
        buf.flip();
        return buf.limit() > 0;
    }

    /** {@return whether bytes {@code [from, end)} hold a newline followed by a line not starting with 'c'} */
    private static boolean pastCpuLines(byte[] b, int from, int end) {
        for (int i = from; i + 1 < end; i++) if (b[i] == '\n' && b[i + 1] != 'c') return true;
        return false;
    }

    private static boolean startsWith(byte[] b, int from, int end, String s) {
        if (end - from < s.length()) return false;
        for (int i = 0; i < s.length(); i++) if (b[from + i] != s.charAt(i)) return false;
        return true;
    }

    private static int indexOf(byte[] b, int from, int end, String s) {
        for (int i = from; i + s.length() <= end; i++) if (startsWith(b, i, end, s)) return i;
        return -1;
    }

    private static int nextLine(byte[] b, int from, int end) {
        int i = from;
        while (i < end && b[i] != '\n') i++;
        return Math.min(end, i + 1);
    }

    /** Skips blanks (not newlines); {@return whether {@link #at} is at the end of a line or of the bytes} */
    private boolean endOfLine(byte[] b, int end) {
        while (at < end && (b[at] == ' ' || b[at] == '\t')) at++;
        return at >= end || b[at] == '\n';
    }

    /** Skips blanks, then one field. */
    private void skipField(byte[] b, int end) {
        endOfLine(b, end);
        while (at < end && b[at] != ' ' && b[at] != '\n') at++;
    }

    /** Skips blanks and parses the decimal number at {@link #at}; throws if there is none. */
    private long number(byte[] b, int end) {
        endOfLine(b, end);
        int start = at;
        long v = 0;
        while (at < end && b[at] >= '0' && b[at] <= '9') {
            if (v > (Long.MAX_VALUE - 9) / 10) throw new NumberFormatException("number too large at " + start);
            v = v * 10 + (b[at] - '0');
            at++;
        }
        if (at == start) throw new NumberFormatException("no number at " + start);
        return v;
    }

    @Override
    public void close() {
        for (FileChannel ch : new FileChannel[] {stat, self, status, pressure}) {
            try {
                if (ch != null) ch.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }
}
