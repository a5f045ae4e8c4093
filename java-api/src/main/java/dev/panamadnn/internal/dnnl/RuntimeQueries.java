package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import dev.panamadnn.bindings.cblas.cblas_h;
import dev.panamadnn.bindings.dnnl.dnnl_version_t;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/** Version, ISA and thread queries of the loaded libraries, for {@code NativeRuntime}. */
public final class RuntimeQueries {
    private RuntimeQueries() {}

    /** oneDNN's version as {@code major.minor.patch}, and its git hash. */
    public static String[] onednnVersion() {
        Dnnl.ensureLoaded();
        // Pointers come back as C_POINTER (unbounded target), so no reinterpret is needed to read them.
        MemorySegment v = dnnl_version();
        String version = dnnl_version_t.major(v) + "." + dnnl_version_t.minor(v) + "." + dnnl_version_t.patch(v);
        MemorySegment hash = dnnl_version_t.hash(v);
        return new String[] {version, hash.equals(MemorySegment.NULL) ? "unknown" : hash.getString(0), cpuRuntime(dnnl_version_t.cpu_runtime(v))};
    }

    /** oneDNN's CPU threading runtime ({@code dnnl_version_t.cpu_runtime}, a {@code DNNL_RUNTIME_*} value) by name. */
    static String cpuRuntime(int runtime) {
        return switch (runtime) {
            case 1 -> "sequential";
            case 2 -> "OpenMP";
            case 4 -> "TBB";
            case 8 -> "threadpool";
            default -> "unknown (" + Integer.toUnsignedString(runtime) + ")";
        };
    }

    /**
     * The instruction set oneDNN dispatches to on this CPU, by oneDNN's name. Later names of
     * the same value (oneDNN renamed avx512_core_fp16 to avx10_1_512, for one) win.
     */
    public static String effectiveIsa() {
        Dnnl.ensureLoaded();
        int isa = dnnl_get_effective_cpu_isa();
        Map<Integer, String> names = new LinkedHashMap<>();
        names.put(dnnl_cpu_isa_default(), "default");
        names.put(dnnl_cpu_isa_sse41(), "sse41");
        names.put(dnnl_cpu_isa_avx(), "avx");
        names.put(dnnl_cpu_isa_avx2(), "avx2");
        names.put(dnnl_cpu_isa_avx2_vnni(), "avx2_vnni");
        names.put(dnnl_cpu_isa_avx2_vnni_2(), "avx2_vnni_2");
        names.put(dnnl_cpu_isa_avx512_core(), "avx512_core");
        names.put(dnnl_cpu_isa_avx512_core_vnni(), "avx512_core_vnni");
        names.put(dnnl_cpu_isa_avx512_core_bf16(), "avx512_core_bf16");
        names.put(dnnl_cpu_isa_avx10_1_512(), "avx10_1_512 (avx512_core_fp16)");
        names.put(dnnl_cpu_isa_avx10_1_512_amx(), "avx10_1_512_amx (avx512_core_amx)");
        names.put(dnnl_cpu_isa_avx10_1_512_amx_fp16(), "avx10_1_512_amx_fp16");
        names.put(dnnl_cpu_isa_avx10_2(), "avx10_2");
        names.put(dnnl_cpu_isa_avx10_2_512(), "avx10_2_512");
        names.put(dnnl_cpu_isa_avx10_2_512_amx_2(), "avx10_2_512_amx_2");
        return names.getOrDefault(isa, "isa 0x" + Integer.toHexString(isa));
    }

    /** OpenBLAS's build configuration string, e.g. {@code OpenBLAS 0.3.31 DYNAMIC_ARCH ...}. */
    public static String openblasConfig() {
        Dnnl.ensureLoaded();
        return cblas_h.openblas_get_config().getString(0).strip();
    }

    /** The OpenBLAS kernel set chosen for this CPU, e.g. {@code SkylakeX}. */
    public static String openblasCore() {
        Dnnl.ensureLoaded();
        return cblas_h.openblas_get_corename().getString(0);
    }
}
