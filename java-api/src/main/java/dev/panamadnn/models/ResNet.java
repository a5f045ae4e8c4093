package dev.panamadnn.models;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Bottleneck;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Layer;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

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
 * <p>The network is one named {@link Sequential} of torchvision's forward: conv1, bn1, relu,
 * maxpool, layer1..layer4, avgpool, flatten (torchvision's {@code torch.flatten(x, 1)}, a
 * {@link Flatten} here, without parameters and left out of the repr and {@link #children()}), fc.
 * So its parameters, its graph ({@link #lower}: nodes {@code conv1}, {@code layer1.0.conv1},
 * {@code layer1.0.relu_1}, {@code layer2.0.downsample.0}, {@code fc}...) and its messages
 * follow from those names.
 *
 * <p>Eager inference: every layer runs on the backend given to {@link #forward(Tensor, Backend)}
 * (oneDNN for {@link Backend#AUTO}, the plain-Java reference for {@link Backend#REFERENCE});
 * the input is checked against the whole network before any native call. Thread-safe like its
 * layers; owns them and frees them on {@link #close()}.
 */
public final class ResNet implements Module {
    /** The residual block a ResNet is made of. */
    public enum Block {
        /** Two 3x3 convolutions (ResNet-18/34). */
        BASIC,
        /** 1x1, 3x3, 1x1 convolutions with 4x expansion (ResNet-50/101/152). */
        BOTTLENECK
    }

    private final String name;
    private final Block block;
    private final int[] layers;
    private final int numClasses;
    private final Sequential body;                 // the stages in forward order, flatten included
    private final Map<String, Module> children;    // torchvision's attributes: the stages without flatten

    /**
     * A ResNet with {@code layers[k]} blocks in stage k+1.
     *
     * @param block the residual block
     * @param layers the number of blocks in each of the four stages
     * @param numClasses outputs of the final Linear
     * @param name       how messages and {@link #name()} call it, e.g. "resnet18"
     * @throws IllegalArgumentException if {@code layers} does not have 4 entries {@code >= 1} or {@code numClasses < 1}
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

        SequencedMap<String, Module> stages = new LinkedHashMap<>();
        stages.put("conv1", Conv2d.builder(3, 64, 7).stride(2).padding(3).bias(false).build());
        stages.put("bn1", new BatchNorm2d(64));
        stages.put("relu", new ReLU());
        stages.put("maxpool", new MaxPool2d(3, 2, 1));
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
            stages.put("layer" + (s + 1), new Sequential(blocks));
        }
        stages.put("avgpool", new AdaptiveAvgPool2d(1));
        stages.put("flatten", new Flatten());
        stages.put("fc", new Linear(512 * expansion, numClasses, true));
        body = new Sequential(stages);
        Map<String, Module> attributes = new LinkedHashMap<>(stages);
        attributes.remove("flatten");
        children = Collections.unmodifiableMap(attributes);
    }

    /** {@link #forward(Tensor, Backend)} on {@link Backend#AUTO} (oneDNN / OpenBLAS). */
    @Override
    public Tensor forward(Tensor input) {
        return forward(input, Backend.AUTO);
    }

    /**
     * Logits {@code [N, numClasses]} for images {@code [N, 3, H, W]}, every layer on {@code backend}.
     *
     * @param input images, [N, 3, H, W]
     * @param backend native (oneDNN) or the pure-Java reference
     * @throws IllegalArgumentException if the input is not F32 {@code [N, 3, H, W]} (the message names this model and the stage)
     * @throws IllegalStateException    if the input was freed or the model is closed
     * @return the logits, [N, numClasses], owned by the caller (close them)
     */
    public Tensor forward(Tensor input, Backend backend) {
        return named(input, () -> body.forward(input, backend));
    }

    /**
     * {@link #forwardInto(Tensor, Tensor, Backend)} on {@link Backend#AUTO}.
     *
     * @param input images, [N, 3, H, W]
     * @param out where the logits go, [N, numClasses] (not closed by the call)
     */
    public void forwardInto(Tensor input, Tensor out) {
        forwardInto(input, out, Backend.AUTO);
    }

    /**
     * The logits into {@code out}, a tensor the caller provides and keeps: live, F32, contiguous,
     * writable, exactly {@link #outputShape} and not overlapping the input. Everything is checked
     * before any native call; the final Linear writes {@code out}, the stages before it still
     * allocate their activations per call.
     *
     * @param input images, [N, 3, H, W]
     * @param out where the logits go, [N, numClasses] (not closed by the call)
     * @param backend native (oneDNN) or the pure-Java reference
     * @throws IllegalArgumentException if the input is not F32 {@code [N, 3, H, W]} or {@code out} does not fit
     *                                  (the message names this model)
     * @throws IllegalStateException    if the input or {@code out} was freed or the model is closed
     */
    public void forwardInto(Tensor input, Tensor out, Backend backend) {
        named(input, () -> {
            body.forwardInto(input, out, backend);
            return out;
        });
    }

    /** Runs {@code call} on the body after naming a misfit input by its stage; its exceptions carry this model's name. */
    private <T> T named(Tensor input, java.util.function.Supplier<T> call) {
        if (input != null && input.isAlive()) outputShape(input.shape());
        try {
            return call.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(name + ": " + e.getMessage(), e);
        }
    }

    /**
     * The logits' shape for an input of shape {@code inputShape}, with the same checks as forward.
     *
     * @param inputShape the input shape, [N, 3, H, W]
     * @throws IllegalArgumentException if a stage rejects its input, e.g. {@code "resnet18: conv1: Conv2d(3, 64, ...): expected 3
     *                                  input channels..."}
     * @return the output shape, [N, numClasses]
     */
    public long[] outputShape(long... inputShape) {
        long[] shape = inputShape;
        for (Map.Entry<String, Module> stage : body.namedModules().entrySet()) {
            try {
                shape = ((Layer) stage.getValue()).outputShape(shape);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": " + stage.getKey() + ": " + e.getMessage(), e);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(name + ": " + stage.getKey() + ": " + e.getMessage(), e);
            }
        }
        return shape;
    }

    /** The stages in order, their nodes named as torchvision's modules ({@code conv1}, {@code layer1.0.bn1}, {@code fc}...). */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        return body.lower(graph, input, path);
    }

    @Override
    public Map<String, Tensor> parameters() {
        return body.parameters();
    }

    /** {@return the torchvision-named children (conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc), unmodifiable} */
    public Map<String, Module> children() {
        return children;
    }

    /**
     * "resnet18", "resnet34", "resnet50", or the name given to the constructor.
     *
     * @return the model's name, e.g. {@code resnet18}
     */
    public String name() {
        return name;
    }

    /** {@return the sub-module {@code block} (owned by this module: do not close it)} */
    public Block block() {
        return block;
    }

    /**
     * Blocks per stage.
     *
     * @return the number of blocks in each of the four stages
     */
    public int[] layers() {
        return layers.clone();
    }

    /** {@return the number of classes (the final Linear's outputs)} */
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
