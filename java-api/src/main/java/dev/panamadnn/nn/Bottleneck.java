package dev.panamadnn.nn;

import dev.panamadnn.Module;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * torchvision's ResNet {@code Bottleneck} (expansion 4, the ResNet V1.5 form with the stride on
 * the 3x3 convolution): with {@code width = floor(planes * base_width / 64) * groups},
 * {@code y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + identity)}, identity =
 * {@code downsample(x)} if given, else x. conv1 1x1 {@code inplanes -> width}; conv2 3x3
 * {@code width -> width} with the block's stride, groups and dilation and padding = dilation;
 * conv3 1x1 {@code width -> planes*4}; no biases; bn1..bn3 {@link BatchNorm2d} in inference mode.
 * Input {@code [N, inplanes, H, W]}, output {@code [N, planes*4, H', W']} with
 * {@code H' = floor((H - 1) / stride) + 1} (same for W).
 *
 * <p>State_dict keys are exactly torchvision's: {@code conv1.weight, bn1.*, conv2.weight, bn2.*,
 * conv3.weight, bn3.*, downsample.0.weight, downsample.1.*} (bn: weight, bias, running_mean,
 * running_var, num_batches_tracked). Repr order as torchvision's (conv1, bn1, conv2, bn2, conv3,
 * bn3, relu, downsample). Owns the downsample. See {@link ShortcutBlock} for execution and threads.
 */
public final class Bottleneck extends ShortcutBlock {
    /** torchvision's {@code Bottleneck.expansion}. */
    public static final int EXPANSION = 4;

    private final Conv2d conv1, conv2, conv3;
    private final BatchNorm2d bn1, bn2, bn3;
    private final int width;

    /**
     * {@code Bottleneck(inplanes, planes)}: stride 1, no downsample (inplanes must be planes*4), groups 1, base width 64, dilation 1.
     *
     * @param inplanes input channels of the block
     * @param planes the block's inner width (channels of its 3x3 convolution)
     */
    public Bottleneck(int inplanes, int planes) {
        this(inplanes, planes, 1, null, 1, 64, 1);
    }

    /**
     * {@code Bottleneck(inplanes, planes, stride, downsample)} with groups 1, base width 64, dilation 1.
     *
     * @param downsample the projection of the shortcut, or null for identity
     * @param inplanes input channels of the block
     * @param planes the block's inner width (channels of its 3x3 convolution)
     * @param stride the step of the window
     */
    public Bottleneck(int inplanes, int planes, int stride, Module downsample) {
        this(inplanes, planes, stride, downsample, 1, 64, 1);
    }

    /**
     * torchvision's full constructor (without {@code norm_layer}: always {@link BatchNorm2d}).
     *
     * @param downsample the projection of the shortcut, or null for identity
     * @param baseWidth torchvision's {@code base_width} (64 for ResNet-50)
     * @param inplanes input channels of the block
     * @param planes the block's inner width (channels of its 3x3 convolution)
     * @param stride the step of the window
     * @param groups the number of channel groups (in and out must divide by it)
     * @param dilation the spacing between kernel taps
     * @throws IllegalArgumentException if a size is {@code < 1}, the width {@code floor(planes * baseWidth / 64) * groups}
     *                                  is 0, or the identity shortcut cannot fit (stride != 1 or
     *                                  inplanes != planes*4 without a downsample)
     */
    public Bottleneck(int inplanes, int planes, int stride, Module downsample, int groups, int baseWidth, int dilation) {
        this(new Parts(inplanes, planes, stride, downsample, groups, baseWidth, dilation), downsample);
    }

    private record Parts(int width, Conv2d conv1, BatchNorm2d bn1, Conv2d conv2, BatchNorm2d bn2, Conv2d conv3, BatchNorm2d bn3,
                         ReLU relu) {
        Parts(int inplanes, int planes, int stride, Module downsample, int groups, int baseWidth, int dilation) {
            this(width(inplanes, planes, stride, downsample, groups, baseWidth, dilation), inplanes, planes, stride, groups, dilation);
        }

        Parts(int width, int inplanes, int planes, int stride, int groups, int dilation) {
            this(width, Conv2d.builder(inplanes, width, 1).bias(false).build(), new BatchNorm2d(width),
                    Conv2d.builder(width, width, 3).stride(stride).padding(dilation).groups(groups).dilation(dilation).bias(false).build(),
                    new BatchNorm2d(width), Conv2d.builder(width, planes * EXPANSION, 1).bias(false).build(),
                    new BatchNorm2d(planes * EXPANSION), new ReLU());
        }

        private static int width(int inplanes, int planes, int stride, Module downsample, int groups, int baseWidth, int dilation) {
            if (inplanes < 1) throw new IllegalArgumentException("Bottleneck: inplanes must be >= 1, got " + inplanes);
            if (planes < 1) throw new IllegalArgumentException("Bottleneck: planes must be >= 1, got " + planes);
            if (stride < 1) throw new IllegalArgumentException("Bottleneck: stride must be >= 1, got " + stride);
            if (groups < 1) throw new IllegalArgumentException("Bottleneck: groups must be >= 1, got " + groups);
            if (baseWidth < 1) throw new IllegalArgumentException("Bottleneck: base_width must be >= 1, got " + baseWidth);
            if (dilation < 1) throw new IllegalArgumentException("Bottleneck: dilation must be >= 1, got " + dilation);
            int width = (int) (planes * (baseWidth / 64.0)) * groups;
            if (width < 1) {
                throw new IllegalArgumentException("Bottleneck: width = int(planes * base_width / 64) * groups must be >= 1, got "
                        + width + " (planes " + planes + ", base_width " + baseWidth + ", groups " + groups + ")");
            }
            if (downsample == null && (stride != 1 || inplanes != planes * EXPANSION)) {
                throw new IllegalArgumentException("Bottleneck: the identity shortcut needs stride 1 and inplanes == planes*4 = "
                        + planes * EXPANSION + ", got stride " + stride + ", inplanes " + inplanes + ": pass a downsample");
            }
            return width;
        }
    }

    private Bottleneck(Parts p, Module downsample) {
        super("Bottleneck", children(p, downsample),
                List.of(p.conv1(), p.bn1(), p.relu(), p.conv2(), p.bn2(), p.relu(), p.conv3(), p.bn3()), downsample, p.relu());
        width = p.width();
        conv1 = p.conv1();
        bn1 = p.bn1();
        conv2 = p.conv2();
        bn2 = p.bn2();
        conv3 = p.conv3();
        bn3 = p.bn3();
    }

    private static Map<String, Module> children(Parts p, Module downsample) {
        Map<String, Module> m = new LinkedHashMap<>();
        m.put("conv1", p.conv1());
        m.put("bn1", p.bn1());
        m.put("conv2", p.conv2());
        m.put("bn2", p.bn2());
        m.put("conv3", p.conv3());
        m.put("bn3", p.bn3());
        m.put("relu", p.relu());
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

    /** {@return the bottleneck width {@code floor(planes * base_width / 64) * groups}} */
    public int width() {
        return width;
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

    /** {@return the sub-module {@code conv3} (owned by this module: do not close it)} */
    public Conv2d conv3() {
        return conv3;
    }

    /** {@return the sub-module {@code bn3} (owned by this module: do not close it)} */
    public BatchNorm2d bn3() {
        return bn3;
    }

    /** {@return the downsample, or null for the identity} */
    public Module downsample() {
        return shortcut();
    }
}
