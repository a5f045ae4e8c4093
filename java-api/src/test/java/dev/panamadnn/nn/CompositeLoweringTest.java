package dev.panamadnn.nn;

import static dev.panamadnn.nn.LoweringAssertions.lower;
import static dev.panamadnn.nn.LoweringAssertions.lowerAt;
import static dev.panamadnn.nn.LoweringAssertions.names;
import static dev.panamadnn.nn.LoweringAssertions.node;
import static dev.panamadnn.nn.LoweringAssertions.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Containers and residual blocks lower to their children's nodes, named by torchvision's paths
 * ({@code layer2.0.conv1}, {@code layer2.0.downsample.0}, {@code layer2.0.add},
 * {@code layer2.0.relu_1} for the block's ReLU applied a second time, as torch.fx names it).
 */
class CompositeLoweringTest {
    /** A module with a forward but no lowering (what a user might write). */
    private static final class Opaque implements Module {
        @Override
        public Tensor forward(Tensor input) {
            return input;
        }

        @Override
        public Map<String, Tensor> parameters() {
            return Map.of();
        }

        @Override
        public void close() {}
    }

    @Test
    void sequentialLowersItsChildrenInOrderUnderTheirIndex() {
        try (Sequential s = new Sequential(new Conv2d(3, 4, 3), new ReLU(), new Sequential(new Flatten(), new Linear(4 * 6 * 6, 2, true)))) {
            Graph g = lower(s, Shape.batched("N", 3, 8, 8));
            assertEquals(List.of("Conv", "Relu", "Flatten", "Gemm"), ops(g));
            assertEquals(List.of("0", "1", "2.0", "2.1"), names(g));
            assertEquals(List.of("0.weight", "0.bias", "2.1.weight", "2.1.bias"), List.copyOf(g.initializers().keySet()));
            assertEquals(List.of("2.1"), g.outputs());
        }
    }

    @Test
    void aNamedSequentialNamesTheNodesAfterItsChildren() {
        LinkedHashMap<String, Module> children = new LinkedHashMap<>();
        children.put("features", new Sequential(new Conv2d(3, 4, 3), new ReLU()));
        children.put("pool", new AdaptiveAvgPool2d(1));
        children.put("flatten", new Flatten());
        children.put("classifier", new Linear(4, 2, true));
        try (Sequential s = new Sequential(children)) {
            Graph g = lowerAt(s, Shape.batched("N", 3, 8, 8), "net");
            assertEquals(List.of("net.features.0", "net.features.1", "net.pool", "net.flatten", "net.classifier"), names(g));
            assertTrue(g.initializers().containsKey("net.classifier.weight"), g.toString());
            lower(s, Shape.batched("N", 3, 8, 8));
        }
    }

    @Test
    void basicBlockWithDownsampleHasTorchvisionsNodes() {
        try (BasicBlock block = new BasicBlock(4, 8, 2, BasicBlock.downsample(4, 8, 2))) {
            Graph g = lowerAt(block, Shape.batched("N", 4, 9, 9), "layer2.0");
            assertEquals(List.of("layer2.0.conv1", "layer2.0.bn1", "layer2.0.relu", "layer2.0.conv2", "layer2.0.bn2",
                    "layer2.0.downsample.0", "layer2.0.downsample.1", "layer2.0.add", "layer2.0.relu_1"), names(g));
            assertEquals(List.of("Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Conv", "BatchNormalization",
                    "Add", "Relu"), ops(g));
            assertEquals(List.of("layer2.0.bn2", "layer2.0.downsample.1"), node(g, "layer2.0.add").inputs());
            assertEquals(List.of("input"), node(g, "layer2.0.downsample.0").inputs().subList(0, 1));
            assertEquals(List.of("layer2.0.add"), node(g, "layer2.0.relu_1").inputs());
            lower(block, Shape.batched("N", 4, 9, 9));
        }
    }

    @Test
    void basicBlockWithIdentityAddsItsInput() {
        try (BasicBlock block = new BasicBlock(4, 4)) {
            Graph g = lower(block, Shape.batched("N", 4, 5, 5));
            assertEquals(List.of("bn2", "input"), node(g, "add").inputs());
            assertEquals(7, g.nodes().size());
        }
    }

    @Test
    void bottleneckAppliesItsReluThreeTimes() {
        try (Bottleneck block = new Bottleneck(16, 4, 2, Bottleneck.downsample(16, 16, 2), 2, 64, 1)) {
            Graph g = lowerAt(block, Shape.batched("N", 16, 8, 8), "layer3.0");
            assertEquals(List.of("layer3.0.conv1", "layer3.0.bn1", "layer3.0.relu", "layer3.0.conv2", "layer3.0.bn2", "layer3.0.relu_1",
                    "layer3.0.conv3", "layer3.0.bn3", "layer3.0.downsample.0", "layer3.0.downsample.1", "layer3.0.add",
                    "layer3.0.relu_2"), names(g));
            assertEquals(2, node(g, "layer3.0.conv2").attributes().integer("group"));
            lower(block, Shape.batched("N", 16, 8, 8));
        }
    }

    @Test
    void residualAddsFToItsInputOrItsProjection() {
        try (Residual identity = new Residual(new Linear(6, 6, true, Activation.relu()))) {
            Graph g = lowerAt(identity, Shape.batched("N", 6), "block");
            assertEquals(List.of("block.f", "block.f.relu", "block.add"), names(g));
            assertEquals(List.of("block.f.relu", "input"), node(g, "block.add").inputs());
            lower(identity, Shape.batched("N", 6));
        }
        try (Residual projected = new Residual(new Conv2d(3, 5, 3), Conv2d.builder(3, 5, 3).bias(false).build())) {
            Graph g = lower(projected, Shape.batched("N", 3, 6, 6));
            assertEquals(List.of("f", "projection", "add"), names(g));
            assertEquals(List.of("f", "projection"), node(g, "add").inputs());
        }
    }

    @Test
    void aShortcutOfAnotherShapeIsRefusedRatherThanBroadcast() {
        // Ops' Add would broadcast [N, 3, 1, 1] + [N, 3, 4, 4]; the block's forward refuses it, so the lowering does
        try (Residual r = new Residual(new AdaptiveAvgPool2d(1))) {
            GraphException e = assertThrows(GraphException.class, () -> lowerAt(r, Shape.batched("N", 3, 4, 4), "res"));
            assertTrue(e.getMessage().contains("res on input: f32[N, 3, 4, 4]: Residual: the main path gives [N, 3, 1, 1] but the identity"
                    + " shortcut gives [N, 3, 4, 4]"), e.getMessage());
        }
    }

    @Test
    void aModuleWithoutALoweringIsAClearUnsupportedOperation() {
        try (Sequential s = new Sequential(new ReLU(), new Residual(new Opaque()))) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> Graph.lower(s, Shape.batched("N", 4)));
            assertTrue(e.getMessage().contains("Opaque at 1.f cannot be lowered to a graph"), e.getMessage());
        }
    }
}
