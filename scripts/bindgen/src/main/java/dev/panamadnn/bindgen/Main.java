package dev.panamadnn.bindgen;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Command-line entry point; also runs from source with the JDK 22+ multi-file launcher:
 * {@code java --enable-native-access=ALL-UNNAMED scripts/bindgen/src/main/java/dev/panamadnn/bindgen/Main.java ...}.
 * Exit status: 0 done, 1 a problem with the input (message names it), 2 bad command line.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.print(Options.USAGE);
            return 0;
        }
        long start = System.nanoTime();
        try {
            List<Path> written = Generator.run(args);
            if (!written.isEmpty()) {
                out.printf("bindgen: wrote %d files (%d ms)%n", written.size(), (System.nanoTime() - start) / 1_000_000);
            }
            return 0;
        } catch (Options.UsageException e) {
            err.println("bindgen: " + e.getMessage());
            err.print(Options.USAGE);
            return 2;
        } catch (BindgenException e) {
            err.println("bindgen: error: " + e.getMessage());
            return 1;
        }
    }
}
