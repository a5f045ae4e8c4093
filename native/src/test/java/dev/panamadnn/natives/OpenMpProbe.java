package dev.panamadnn.natives;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A child JVM's main for {@link OpenMpRuntimeTest}: loads the natives, runs a Java body on a 2-thread team of the
 * loaded OpenMP runtime and prints what each thread did; with {@code second PATH}, then opens another copy of an
 * OpenMP runtime (a file of its own, so the dynamic linker cannot reuse the first) and starts it.
 */
public final class OpenMpProbe {
    private OpenMpProbe() {}

    public static void main(String[] args) throws Throwable {
        LoadReport report = Natives.load();
        report.libraries().forEach(l -> System.out.println("loaded " + l.file() + " " + l.version()));
        System.out.println("runtime: " + ThreadControl.waitPolicy());
        AtomicIntegerArray calls = new AtomicIntegerArray(2);
        int[] sizes = new int[2];
        try (OpenMpTeam team = OpenMpTeam.of((t, n) -> {
            calls.incrementAndGet(t);
            sizes[t] = n;
        })) {
            for (int i = 0; i < 1000; i++) team.run(2);
        }
        System.out.println("team: " + calls.get(0) + " " + calls.get(1) + " of size " + sizes[0] + " " + sizes[1]);
        if (args.length == 2 && args[0].equals("second")) {
            SymbolLookup other = SymbolLookup.libraryLookup(Path.of(args[1]), Arena.global());
            Linker linker = Linker.nativeLinker();
            MethodHandle max = linker.downcallHandle(other.find("omp_get_max_threads").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
            System.out.println("second runtime: " + (int) max.invokeExact() + " threads");
        }
    }
}
