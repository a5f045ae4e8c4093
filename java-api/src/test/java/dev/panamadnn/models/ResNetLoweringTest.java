package dev.panamadnn.models;

import static dev.panamadnn.nn.LoweringAssertions.lower;
import static dev.panamadnn.nn.LoweringAssertions.names;
import static dev.panamadnn.nn.LoweringAssertions.node;
import static dev.panamadnn.nn.LoweringAssertions.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The ResNets lower to torchvision's module paths: the node list is written out here from
 * torchvision's structure (stem, blocks of conv/bn/relu with the downsample in the first block of
 * stages 2-4, the residual add, the block's ReLU applied again, then avgpool, flatten, fc), and
 * the initializers are the model's state_dict tensors under their keys.
 */
class ResNetLoweringTest {
    /** torchvision's node paths for a ResNet of {@code blocks} per stage (BasicBlock or Bottleneck). */
    private static List<String> torchvisionNodes(int[] blocks, boolean bottleneck) {
        List<String> n = new ArrayList<>(List.of("conv1", "bn1", "relu", "maxpool"));
        for (int s = 1; s <= 4; s++) {
            for (int b = 0; b < blocks[s - 1]; b++) {
                String p = "layer" + s + "." + b + ".";
                if (bottleneck) {
                    n.addAll(List.of(p + "conv1", p + "bn1", p + "relu", p + "conv2", p + "bn2", p + "relu_1", p + "conv3", p + "bn3"));
                } else {
                    n.addAll(List.of(p + "conv1", p + "bn1", p + "relu", p + "conv2", p + "bn2"));
                }
                // torchvision: a downsample in the first block whenever stride != 1 or the channels change
                if (b == 0 && (s > 1 || bottleneck)) n.addAll(List.of(p + "downsample.0", p + "downsample.1"));
                n.addAll(List.of(p + "add", p + (bottleneck ? "relu_2" : "relu_1")));
            }
        }
        n.addAll(List.of("avgpool", "flatten", "fc"));
        return n;
    }

    private static Map<String, Integer> opCounts(Graph g) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String op : ops(g)) counts.merge(op, 1, Integer::sum);
        return counts;
    }

    @Test
    void resnet18LowersToTorchvisionsNamedNodes() {
        try (ResNet model = ResNets.resnet18(10)) {
            Graph g = lower(model, Shape.batched("N", 3, 64, 64));
            assertEquals(69, g.nodes().size(), g.toString());
            assertEquals(torchvisionNodes(new int[] {2, 2, 2, 2}, false), names(g));
            assertEquals(Map.of("AdaptiveAvgPool", 1, "Add", 8, "BatchNormalization", 20, "Conv", 20, "Flatten", 1, "Gemm", 1,
                    "MaxPool", 1, "Relu", 17), opCounts(g));
            assertEquals(List.of("layer1.0.bn2", "maxpool"), node(g, "layer1.0.add").inputs());
            assertEquals(List.of("layer2.0.bn2", "layer2.0.downsample.1"), node(g, "layer2.0.add").inputs());
            assertEquals(List.of("layer1.1.relu_1"), node(g, "layer2.0.conv1").inputs().subList(0, 1));
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(10)), g.value("fc").shape());
            assertEquals(List.of("fc"), g.outputs());
        }
    }

    @Test
    void resnet50LowersToTorchvisionsNamedNodes() {
        try (ResNet model = ResNets.resnet50(7)) {
            Graph g = lower(model, Shape.batched("N", 3, 32, 32));
            assertEquals(175, g.nodes().size());
            assertEquals(torchvisionNodes(new int[] {3, 4, 6, 3}, true), names(g));
            assertEquals(2048, g.value("flatten").shape().dim(1).size());
        }
    }

    @Test
    void aMisfitNamesTheStage() {
        try (ResNet model = ResNets.resnet18(10)) {
            GraphException e = assertThrows(GraphException.class, () -> Graph.lower(model, Shape.batched("N", 1, 32, 32)));
            assertTrue(e.getMessage().startsWith("conv1 on input: f32[N, 1, 32, 32]: Conv2d: expected 3 input channels"), e.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> model.outputShape(2, 3));
            assertTrue(shape.getMessage().startsWith("resnet18: conv1: Conv2d: expected a 4-D input"), shape.getMessage());
        }
    }
}
