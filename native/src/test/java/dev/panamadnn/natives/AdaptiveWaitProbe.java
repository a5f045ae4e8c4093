package dev.panamadnn.natives;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A child JVM's main for {@link AdaptiveWaitTest}: runs an OpenMP team, has the wait governor hold libgomp's short spin
 * and let it go again, printing how many threads the governor's thread has (itself and the idle pool it holds, which
 * inherit its name) at each step; with {@code exit-held}, ends with {@code System.exit(0)} while the pool is held.
 */
public final class AdaptiveWaitProbe {
    private AdaptiveWaitProbe() {}

    public static void main(String[] args) throws Exception {
        System.out.println("wait: " + ThreadControl.openmpWait());
        try (OpenMpTeam team = OpenMpTeam.of((thread, size) -> { })) {
            team.run(2);
            WaitGovernor g = WaitGovernor.running();
            g.override(false);   // whatever this machine's load made it decide so far
            await(g, false);
            System.out.println("governor threads: " + named() + " holding " + g.holding());
            g.override(true);
            await(g, true);
            System.out.println("held threads: " + named() + " holding " + g.holding() + " (" + ThreadControl.openmpWait() + ")");
            team.run(2);
            if (args.length > 0 && args[0].equals("exit-held")) {
                System.out.println("exiting while held");
                System.exit(0);
            }
            g.override(false);
            await(g, false);
            System.out.println("released threads: " + named() + " holding " + g.holding());
            team.run(2);
        }
        System.out.println("done");
    }

    private static void await(WaitGovernor g, boolean state) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (g.holding() != state && System.nanoTime() < deadline) Thread.sleep(10);
        // the pool's threads start inside GOMP_parallel and are docked when it returns; their exit after
        // omp_pause_resource is joined before it returns, so the count is settled once holding() changed
        Thread.sleep(50);
    }

    /** {@return the threads of this process named as the governor's thread (Linux's 15-character thread name)} */
    private static long named() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).strip().equals("panama-dnn-open");
                } catch (IOException e) {
                    return false;   // the thread ended
                }
            }).count();
        }
    }
}
