package dev.panamadnn;

import dev.panamadnn.internal.lifetime.NativeAccess;
import dev.panamadnn.internal.safetensors.StridedCopy;
import dev.panamadnn.internal.safetensors.ToFloat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Strict state_dict loading (PyTorch's {@code load_state_dict(strict=True)}): check everything
 * first and report every problem at once, so that fixing a checkpoint takes one round trip and a
 * failed load never leaves a module half-overwritten. The one relaxation: BF16, F16 and F64
 * tensors load into F32 parameters, widened exactly as PyTorch's {@code .float()} ({@link ToFloat}).
 */
final class StateDictLoader {
    private StateDictLoader() {
    }

    static void load(SafeTensors file, Module module) {
        Map<String, Tensor> params = module.parameters();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, Tensor> p : params.entrySet()) {
            String name = p.getKey();
            Tensor param = p.getValue();
            param.segment();                           // a freed parameter fails here, before anything is written
            if (!file.names().contains(name)) {
                missing.add(name);
                continue;
            }
            if (!Arrays.equals(param.shape(), file.shape(name))) {
                mismatched.add(name + ": shape expected " + Arrays.toString(param.shape()) + ", found " + Arrays.toString(file.shape(name)));
            }
            DataType stored = file.dtype(name);
            if (param.dtype() != stored && !(param.dtype() == DataType.F32 && ToFloat.widens(stored))) {
                mismatched.add(name + ": dtype expected " + param.dtype().safetensorsName()
                        + (param.dtype() == DataType.F32 ? " (or BF16, F16, F64, converted)" : "") + ", found " + stored.safetensorsName());
            }
        }
        TreeSet<String> unexpected = new TreeSet<>(file.names());
        unexpected.removeAll(params.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
            StringBuilder sb = new StringBuilder("does not match the module's state_dict (" + module.getClass().getSimpleName() + "):");
            if (!missing.isEmpty()) sb.append("\n  missing keys (").append(missing.size()).append("): ").append(String.join(", ", missing));
            if (!unexpected.isEmpty()) sb.append("\n  unexpected keys (").append(unexpected.size()).append("): ").append(String.join(", ", unexpected));
            for (String m : mismatched) sb.append("\n  ").append(m);
            throw new SafeTensorsException(file.file(), sb.toString(), null);
        }
        String at = null;
        try {
            for (Map.Entry<String, Tensor> p : params.entrySet()) {
                at = p.getKey();
                Tensor stored = file.get(p.getKey());
                Tensor param = p.getValue();
                if (stored.dtype() == param.dtype()) {
                    copy(stored.segment(), param);
                } else if (param.isContiguous()) {
                    ToFloat.convert(stored.dtype(), stored.segment(), param.segment(), param.numel());
                } else {
                    try (Arena tmp = Arena.ofConfined()) {    // a strided parameter: widen densely, then scatter
                        long numel = param.numel();
                        MemorySegment widened = tmp.allocate(numel * Float.BYTES, Float.BYTES);
                        ToFloat.convert(stored.dtype(), stored.segment(), widened, numel);
                        copy(widened, param);
                    }
                }
                NativeAccess.deliverPendingFault();   // a fault of this tensor's copy thrown here, not in the next one or the caller
            }
        } catch (InternalError e) {   // the file truncated under its mapping while the values were copied (the JDK's SIGBUS handling)
            throw NativeAccess.truncatedRead(file.file() + ": tensor '" + at + "' (the module's parameters are partly loaded: load it again"
                    + " from an intact file)", e);
        }
    }

    // src is dense row-major with param's dtype and element count.
    private static void copy(MemorySegment src, Tensor param) {
        if (param.isContiguous()) {
            MemorySegment.copy(src, 0, param.segment(), 0, src.byteSize());
        } else {
            StridedCopy.copy(param.segment(), param.shape(), param.strides(), param.dtype().byteSize(), src, false);
        }
    }
}
