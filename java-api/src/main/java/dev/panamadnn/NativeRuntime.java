package dev.panamadnn;

import dev.panamadnn.internal.dnnl.RuntimeQueries;
import dev.panamadnn.natives.LoadReport;
import dev.panamadnn.natives.Natives;
import dev.panamadnn.natives.ThreadControl;

/**
 * What is loaded and how it will run: library versions and origins, the CPU instruction set
 * oneDNN dispatches to, the OpenBLAS kernel set, and the intra-op thread counts.
 *
 * @param openblasConfig  OpenBLAS's own build description ({@code openblas_get_config})
 * @param openblasCore    the OpenBLAS kernel set chosen for this CPU
 * @param openblasThreads OpenBLAS's thread count
 * @param onednnVersion   oneDNN's {@code major.minor.patch}
 * @param onednnHash      oneDNN's git hash
 * @param cpuIsa          the instruction set oneDNN uses here
 * @param openmpThreads   OpenMP's maximum team size for the calling thread (for a oneDNN on another runtime, the
 *                        cores it spreads over: {@link ThreadControl#openmpMaxThreads()})
 * @param libraries       every library loaded and where it came from
 * @param cpuRuntime      oneDNN's CPU threading runtime: {@code OpenMP} (the packaged library), {@code TBB} (a
 *                        {@code scripts/build-natives --cpu-runtime tbb} build), {@code sequential} or {@code threadpool}
 */
public record NativeRuntime(String openblasConfig, String openblasCore, int openblasThreads,
                            String onednnVersion, String onednnHash, String cpuIsa, int openmpThreads,
                            LoadReport libraries, String cpuRuntime) {

    /**
     * Loads the natives if needed and describes them.
     *
     * @return the description
     */
    public static NativeRuntime describe() {
        LoadReport report = Natives.load();
        String[] version = RuntimeQueries.onednnVersion();
        return new NativeRuntime(RuntimeQueries.openblasConfig(), RuntimeQueries.openblasCore(),
                ThreadControl.openblasThreads(), version[0], version[1], RuntimeQueries.effectiveIsa(),
                ThreadControl.openmpMaxThreads(), report, version[2]);
    }
}
