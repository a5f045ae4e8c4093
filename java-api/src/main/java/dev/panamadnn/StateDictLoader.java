package dev.panamadnn;

import dev.panamadnn.internal.safetensors.StridedCopy;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Strict state_dict loading (PyTorch's {@code load_state_dict(strict=True)}): check everything
 * first and report every problem at once, so that fixing a checkpoint takes one round trip and a
 * failed load never leaves a module half-overwritten.
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
            if (param.dtype() != file.dtype(name)) {
                mismatched.add(name + ": dtype expected " + param.dtype().safetensorsName() + ", found " + file.dtype(name).safetensorsName());
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
        for (Map.Entry<String, Tensor> p : params.entrySet()) {
            MemorySegment src = file.get(p.getKey()).segment();
            Tensor param = p.getValue();
            if (param.isContiguous()) {
                MemorySegment.copy(src, 0, param.segment(), 0, src.byteSize());
            } else {
                StridedCopy.copy(param.segment(), param.shape(), param.strides(), param.dtype().byteSize(), src, false);
            }
        }
    }
}
