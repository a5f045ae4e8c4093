package dev.panamadnn.natives;

/**
 * A child JVM's main for {@link OpenMpTeamExitTest}: {@code args[0]} platform threads each run Java bodies on their
 * own OpenMP team (so the runtime's worker threads are attached to the JVM) and end, the main thread runs one too,
 * then {@code System.exit(0)}.
 */
public final class TeamsThenExit {
    private TeamsThenExit() {}

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        Runnable teams = () -> {
            try (OpenMpTeam team = OpenMpTeam.of((thread, size) -> { })) {
                for (int i = 0; i < 10; i++) team.run(2);
            }
        };
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) ts[i] = Thread.ofPlatform().start(teams);
        for (Thread t : ts) t.join();
        teams.run();
        System.out.println("teams ran on " + (threads + 1) + " threads");
        System.exit(0);
    }
}
