package dev.panamadnn.nn;

import dev.panamadnn.Module;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * torchvision's ResNet {@code BasicBlock} (expansion 1):
 * {@code y = relu(bn2(conv2(relu(bn1(conv1(x))))) + identity)}, identity = {@code downsample(x)}
 * if given, else x. conv1 is a 3x3 convolution {@code inplanes -> planes} with the block's stride
 * and padding 1, conv2 3x3 {@code planes -> planes}, both without bias; bn1/bn2 are
 * {@link BatchNorm2d}(planes) in inference mode. Input {@code [N, inplanes, H, W]}, output
 * {@code [N, planes, H', W']} with {@code H' = floor((H - 1) / stride) + 1} (same for W).
 *
 * <p>State_dict keys are exactly torchvision's: {@code conv1.weight, bn1.weight, bn1.bias,
 * bn1.running_mean, bn1.running_var, bn1.num_batches_tracked, conv2.weight, bn2.*,
 * downsample.0.weight, downsample.1.*}. The repr lists the submodules in torchvision's order
 * (conv1, bn1, relu, conv2, bn2, downsample); the ReLU is not in place here. Owns the
 * downsample. See {@link ShortcutBlock} for execution and threads.
 */
public final class BasicBlock extends ShortcutBlock {
    /** torchvision's {@code BasicBlock.expansion}. */
    public static final int EXPANSION = 1;

    private final Conv2d conv1, conv2;
    private final BatchNorm2d bn1, bn2;

    /**
     * {@code BasicBlock(inplanes, planes)}: stride 1, no downsample (so inplanes must equal planes).
     *
     * @param inplanes input channels of the block
     * @param planes the block's inner width (channels of its 3x3 convolution)
     */
    public BasicBlock(int inplanes, int planes) {
        this(inplanes, planes, 1, null);
    }

    /**
     * A {@code BasicBlock} with torchvision's arguments of the same names.
     *
     * @param inplanes input channels of the block
     * @param planes the block's inner width (channels of its 3x3 convolution)
     * @param stride the step of the window
     * @param downsample the shortcut, e.g. {@link #downsample(int, int, int) downsample(inplanes, planes, stride)};
     *                   null for the identity
     * @throws IllegalArgumentException if a size is {@code < 1}, or the identity shortcut cannot fit
     *                                  (stride != 1 or inplanes != planes without a downsample)
     */
    public BasicBlock(int inplanes, int planes, int stride, Module downsample) {
        this(new Parts(inplanes, planes, stride, downsample), downsample);
    }

    private record Parts(Conv2d conv1, BatchNorm2d bn1, ReLU relu, Conv2d conv2, BatchNorm2d bn2) {
        Parts(int inplanes, int planes, int stride, Module downsample) {
            this(check(inplanes, planes, stride, downsample) ? Conv2d.builder(inplanes, planes, 3).stride(stride).padding(1).bias(false).build() : null,
                    new BatchNorm2d(planes), new ReLU(), Conv2d.builder(planes, planes, 3).padding(1).bias(false).build(),
                    new BatchNorm2d(planes));
        }

        private static boolean check(int inplanes, int planes, int stride, Module downsample) {
            if (inplanes < 1) throw new IllegalArgumentException("BasicBlock: inplanes must be >= 1, got " + inplanes);
            if (planes < 1) throw new IllegalArgumentException("BasicBlock: planes must be >= 1, got " + planes);
            if (stride < 1) throw new IllegalArgumentException("BasicBlock: stride must be >= 1, got " + stride);
            if (downsample == null && (stride != 1 || inplanes != planes)) {
                throw new IllegalArgumentException("BasicBlock: the identity shortcut needs stride 1 and inplanes == planes, got stride "
                        + stride + ", inplanes " + inplanes + ", planes " + planes + ": pass a downsample");
            }
            return true;
        }
    }

    private BasicBlock(Parts p, Module downsample) {
        super("BasicBlock", children(p, downsample), List.of(p.conv1(), p.bn1(), p.relu(), p.conv2(), p.bn2()), downsample, p.relu());
        conv1 = p.conv1();
        bn1 = p.bn1();
        conv2 = p.conv2();
        bn2 = p.bn2();
    }

    private static Map<String, Module> children(Parts p, Module downsample) {
        Map<String, Module> m = new LinkedHashMap<>();
        m.put("conv1", p.conv1());
        m.put("bn1", p.bn1());
        m.put("relu", p.relu());
        m.put("conv2", p.conv2());
        m.put("bn2", p.bn2());
        if (downsample != null) m.put("downsample", downsample);
        return m;
    }

    /**
     * torchvision's downsample: {@code Sequential(Conv2d(inplanes, outplanes, 1, stride, bias=False), BatchNorm2d(outplanes))}.
     *
     * @param inplanes input channels of the block
     * @param outplanes output channels of the downsample
     * @param stride the step of the window
     * @return the downsample module
     */
    public static Sequential downsample(int inplanes, int outplanes, int stride) {
        return ShortcutBlock.downsample(inplanes, outplanes, stride);
    }

    /** {@return the sub-module {@code conv1} (owned by this module: do not close it)} */
    public Conv2d conv1() {
        return conv1;
    }

    /** {@return the sub-module {@code bn1} (owned by this module: do not close it)} */
    public BatchNorm2d bn1() {
        return bn1;
    }

    /** {@return the sub-module {@code conv2} (owned by this module: do not close it)} */
    public Conv2d conv2() {
        return conv2;
    }

    /** {@return the sub-module {@code bn2} (owned by this module: do not close it)} */
    public BatchNorm2d bn2() {
        return bn2;
    }

    /** {@return the downsample, or null for the identity} */
    public Module downsample() {
        return shortcut();
    }
}
