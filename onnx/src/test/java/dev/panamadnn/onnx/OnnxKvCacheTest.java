package dev.panamadnn.onnx;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A GPT-2-like decoder block with a key/value cache as torch exports it (scripts/goldens/export_onnx_kv_cache.py: batch,
 * new tokens and past length all dynamic), one model run three times against PyTorch: a prefill with an empty past (the
 * empty past is a constant known by its shape, and the Concat of it with the new keys drops it: the call was refused
 * as a plan on an empty tensor before), a one-token step on the prefill's cache, and a chunk of three tokens at batch 1.
 * Every output (the block's output and the grown cache) within {@code 1e-4 * max|output| + 1e-4}.
 */
class OnnxKvCacheTest {
    @Test
    void prefillWithAnEmptyPastThenStepsMatchPyTorch() throws Exception {
        Path dir = Goldens.ensure("onnx-kv-cache", "export_onnx_kv_cache.py", "kv_cache.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve("kv_cache.onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("kv_cache.goldens.safetensors"));
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor empty = Tensor.allocate(arena, dev.panamadnn.DataType.F32, 2, 4, 0, 8);
            for (String call : new String[] {"prefill", "step", "chunk"}) {
                boolean first = call.equals("prefill");
                Map<String, Tensor> out = model.run(Map.of("ids", goldens.get("ids_" + call), "past_k", first ? empty : goldens.get("past_k_" + call),
                        "past_v", first ? empty : goldens.get("past_v_" + call)));
                try {
                    for (String o : new String[] {"y", "k", "v"}) {
                        OnnxModelsTest.assertClose("kv cache " + call + " " + o, goldens.get(o + "_" + call), out.get(o));
                    }
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }
}
