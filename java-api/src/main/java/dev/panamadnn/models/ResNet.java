package dev.panamadnn.models;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Bottleneck;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * torchvision's {@code ResNet} (groups 1, width 64, no dilation, no zero-init of the residual):
 * <pre>
 * conv1 7x7/2 (3 -> 64) -> bn1 -> relu -> maxpool 3x3/2 pad 1
 *   -> layer1 (64) -> layer2 (128, /2) -> layer3 (256, /2) -> layer4 (512, /2)
 *   -> avgpool (adaptive 1x1) -> flatten -> fc (512*expansion -> numClasses)
 * </pre>
 * Input {@code [N, 3, H, W]} (H, W >= 1; 224 is ImageNet's), output logits {@code [N, numClasses]}.
 * Each {@code layerK} is a {@link Sequential} of {@link BasicBlock}s or {@link Bottleneck}s; its
 * first block has torchvision's downsample ({@code Conv2d 1x1/stride, BatchNorm2d}) whenever the
 * stride is not 1 or the channel count changes.
 *
 * <p>{@link #parameters()} keys equal torchvision's {@code state_dict()} keys, in the same order:
 * {@code conv1.weight, bn1.weight, bn1.bias, bn1.running_mean, bn1.running_var,
 * bn1.num_batches_tracked, layer1.0.conv1.weight, ..., layer2.0.downsample.0.weight, ...,
 * fc.weight, fc.bias}. The repr follows torchvision's (the ReLUs print without {@code inplace}).
 *
 * <p>Eager inference: every layer runs on the backend given to {@link #forward(Tensor, Backend)}
 * (oneDNN for {@link Backend#AUTO}, the plain-Java reference for {@link Backend#REFERENCE});
 * the input is checked against the whole network before any native call. Thread-safe like its
 * layers; owns them and frees them on {@link #close()}.
 */
public final class ResNet implements Module {
    /** The residual block a ResNet is made of. */
    public enum Block { BASIC, BOTTLENECK }

    private final String name;
    private final Block block;
    private final int[] layers;
    private final int numClasses;
    private final Map<String, Module> children = new LinkedHashMap<>();   // torchvision's attribute order
    private final Sequential body;

    /**
     * A ResNet with {@code layers[k]} blocks in stage k+1.
     *
     * @param name       how messages and {@link #name()} call it, e.g. "resnet18"
     * @throws IllegalArgumentException if {@code layers} does not have 4 entries >= 1 or numClasses < 1
     */
    public ResNet(String name, Block block, int[] layers, int numClasses) {
        if (block == null) throw new IllegalArgumentException("ResNet: block must not be null");
        if (layers == null || layers.length != 4) {
            throw new IllegalArgumentException("ResNet: expected 4 stage sizes, got " + (layers == null ? "null" : java.util.Arrays.toString(layers)));
        }
        for (int n : layers) if (n < 1) throw new IllegalArgumentException("ResNet: every stage needs >= 1 block, got " + java.util.Arrays.toString(layers));
        if (numClasses < 1) throw new IllegalArgumentException("ResNet: numClasses must be >= 1, got " + numClasses);
        this.name = name == null ? "ResNet" : name;
        this.block = block;
        this.layers = layers.clone();
        this.numClasses = numClasses;
        int expansion = ResNets.expansion(block);

        children.put("conv1", Conv2d.builder(3, 64, 7).stride(2).padding(3).bias(false).build());
        children.put("bn1", new BatchNorm2d(64));
        children.put("relu", new ReLU());
        children.put("maxpool", new MaxPool2d(3, 2, 1));
        int inplanes = 64;
        int[] planes = {64, 128, 256, 512};
        for (int s = 0; s < 4; s++) {
            int stride = s == 0 ? 1 : 2;
            Module[] blocks = new Module[layers[s]];
            for (int b = 0; b < layers[s]; b++) {
                int st = b == 0 ? stride : 1;
                Sequential downsample = b == 0 && (stride != 1 || inplanes != planes[s] * expansion)
                        ? BasicBlock.downsample(inplanes, planes[s] * expansion, stride) : null;
                blocks[b] = block == Block.BASIC ? new BasicBlock(inplanes, planes[s], st, downsample)
                        : new Bottleneck(inplanes, planes[s], st, downsample);
                inplanes = planes[s] * expansion;
            }
            children.put("layer" + (s + 1), new Sequential(blocks));
        }
        children.put("avgpool", new AdaptiveAvgPool2d(1));
        children.put("fc", new Linear(512 * expansion, numClasses, true));
        Map<String, Module> c = children;
        body = new Sequential(c.get("conv1"), c.get("bn1"), c.get("relu"), c.get("maxpool"), c.get("layer1"), c.get("layer2"),
                c.get("layer3"), c.get("layer4"), c.get("avgpool"), new Flatten(), c.get("fc"));
    }

    /** {@link #forward(Tensor, Backend)} on {@link Backend#AUTO} (oneDNN / OpenBLAS). */
    @Override
    public Tensor forward(Tensor input) {
        return forward(input, Backend.AUTO);
    }

    /**
     * Logits {@code [N, numClasses]} for images {@code [N, 3, H, W]}, every layer on {@code backend}.
     *
     * @throws IllegalArgumentException if the input is not F32 {@code [N, 3, H, W]} (the message names this model and the stage)
     * @throws IllegalStateException    if the input was freed or the model is closed
     */
    public Tensor forward(Tensor input, Backend backend) {
        try {
            return body.forward(input, backend);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + stageNames(e.getMessage()), e);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(name + ": " + stageNames(e.getMessage()), e);
        }
    }

    /** The logits' shape for an input of shape {@code inputShape}, with the same checks as forward. */
    public long[] outputShape(long... inputShape) {
        try {
            return body.outputShape(inputShape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + stageNames(e.getMessage()), e);
        }
    }

    /** Replaces the body's "module i" with torchvision's attribute name, so messages say "layer2" not "module 5". */
    private static String stageNames(String message) {
        if (message == null) return null;
        String[] names = {"conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc"};
        String prefix = "Sequential(11 modules), module ";
        if (!message.startsWith(prefix)) return message;
        int end = message.indexOf(':', prefix.length());
        if (end < 0) return message;
        try {
            int i = Integer.parseInt(message.substring(prefix.length(), end));
            return names[i] + message.substring(end);
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return message;
        }
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> all = new LinkedHashMap<>();
        children.forEach((prefix, child) -> {
            for (Map.Entry<String, Tensor> e : child.parameters().entrySet()) all.put(prefix + "." + e.getKey(), e.getValue());
        });
        return Collections.unmodifiableMap(all);
    }

    /** The torchvision-named children (conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc), unmodifiable. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** "resnet18", "resnet34", "resnet50", or the name given to the constructor. */
    public String name() {
        return name;
    }

    public Block block() {
        return block;
    }

    /** Blocks per stage. */
    public int[] layers() {
        return layers.clone();
    }

    public int numClasses() {
        return numClasses;
    }

    @Override
    public void close() {
        body.close();   // closes every child (the Flatten included)
    }

    /** torchvision's repr: {@code ResNet(\n  (conv1): Conv2d(...)\n ...)}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ResNet(\n");
        children.forEach((n, m) -> sb.append("  (").append(n).append("): ").append(m.toString().replace("\n", "\n  ")).append('\n'));
        return sb.append(')').toString();
    }
}
