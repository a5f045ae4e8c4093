package dev.panamadnn.models;

import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.Bottleneck;

/**
 * Builders for torchvision's ResNets ({@code torchvision.models.resnet18/34/50}, ResNet V1.5:
 * the Bottleneck's stride is on its 3x3 convolution). Parameters are freshly allocated (zeros,
 * BatchNorm at its identity statistics): load a checkpoint with
 * {@link dev.panamadnn.SafeTensors#load(dev.panamadnn.Module, java.nio.file.Path)}; its keys are
 * torchvision's {@code state_dict()} keys exactly.
 */
public final class ResNets {
    private ResNets() {}

    /**
     * torchvision's {@code resnet18(num_classes=numClasses)}: BasicBlock, layers [2, 2, 2, 2].
     *
     * @param numClasses outputs of the final Linear (1000 for ImageNet checkpoints)
     * @return an untrained ResNet-18 (load weights with {@link dev.panamadnn.StateDictLoader})
     */
    public static ResNet resnet18(int numClasses) {
        return new ResNet("resnet18", ResNet.Block.BASIC, new int[] {2, 2, 2, 2}, numClasses);
    }

    /**
     * torchvision's {@code resnet34(num_classes=numClasses)}: BasicBlock, layers [3, 4, 6, 3].
     *
     * @param numClasses outputs of the final Linear (1000 for ImageNet checkpoints)
     * @return an untrained ResNet-34 (load weights with {@link dev.panamadnn.StateDictLoader})
     */
    public static ResNet resnet34(int numClasses) {
        return new ResNet("resnet34", ResNet.Block.BASIC, new int[] {3, 4, 6, 3}, numClasses);
    }

    /**
     * torchvision's {@code resnet50(num_classes=numClasses)}: Bottleneck, layers [3, 4, 6, 3].
     *
     * @param numClasses outputs of the final Linear (1000 for ImageNet checkpoints)
     * @return an untrained ResNet-50 (load weights with {@link dev.panamadnn.StateDictLoader})
     */
    public static ResNet resnet50(int numClasses) {
        return new ResNet("resnet50", ResNet.Block.BOTTLENECK, new int[] {3, 4, 6, 3}, numClasses);
    }

    /** Expansion of the block kind, as torchvision's {@code block.expansion}. */
    static int expansion(ResNet.Block block) {
        return block == ResNet.Block.BASIC ? BasicBlock.EXPANSION : Bottleneck.EXPANSION;
    }
}
