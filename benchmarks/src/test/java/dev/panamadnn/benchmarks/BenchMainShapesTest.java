package dev.panamadnn.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shape lists scripts/bench runs: every one parses, and the slow ones stay off the reference. */
class BenchMainShapesTest {
    @Test
    void everyLayerShapeParses() {
        for (String[] list : List.of(BenchMain.LAYER_SHAPES, BenchMain.LAYER_QUICK_SHAPES, BenchMain.DNNL_BINDING_SHAPES,
                BenchMain.DNNL_BINDING_QUICK_SHAPES)) {
            for (String s : list) assertEquals(s, LayerSpec.parse(s).spec());
        }
    }

    @Test
    void fullRunsEveryResNet50ConvAtBatch1And16() {
        List<String> all = List.of(BenchMain.LAYER_SHAPES);
        assertEquals(23, BenchMain.RESNET50_CONVS.length);
        for (String conv : BenchMain.RESNET50_CONVS) {
            assertTrue(all.contains(conv), conv + " at batch 1");
            assertTrue(all.contains(conv + "#16"), conv + " at batch 16");
        }
        assertEquals(all.size(), all.stream().distinct().count(), "no shape twice");
    }

    @Test
    void theReferenceSkipsBatch16() {
        assertTrue(Arrays.stream(BenchMain.LAYER_REFERENCE_SHAPES).noneMatch(s -> LayerSpec.parse(s).batch() == 16));
        assertTrue(List.of(BenchMain.LAYER_REFERENCE_SHAPES).containsAll(List.of(BenchMain.RESNET50_CONVS)));
    }

    @Test
    void bindingShapesAreConvolutions() {
        for (String s : BenchMain.DNNL_BINDING_SHAPES) assertEquals("conv2d", LayerSpec.parse(s).kind(), s);
    }
}
