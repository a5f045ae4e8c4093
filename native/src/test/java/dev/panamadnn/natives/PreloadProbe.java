package dev.panamadnn.natives;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link LoadInBackgroundTest}: calls {@link Natives#loadInBackground()} (twice) and never
 * {@link Natives#load()}, then reports whether oneDNN's library came to be mapped into the process (/proc/self/maps):
 * {@code wait} polls for it, {@code none} checks it stays absent for half a second.
 */
public final class PreloadProbe {
    private PreloadProbe() {}

    public static void main(String[] args) throws Exception {
        System.out.println("mapped before: " + mapped());
        long t0 = System.nanoTime();
        Natives.loadInBackground();
        Natives.loadInBackground();
        System.out.println("returned in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        if (args[0].equals("wait")) {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!mapped() && System.nanoTime() < deadline) Thread.sleep(10);
            System.out.println("mapped by the background load: " + mapped());
            long preloads = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("panamadnn-natives-preload")).count();
            System.out.println("preload threads alive: " + preloads);
        } else {
            Thread.sleep(500);
            System.out.println("mapped without a background load: " + mapped());
        }
    }

    private static boolean mapped() throws Exception {
        return Files.readString(Path.of("/proc/self/maps")).contains("libdnnl.so");
    }
}
