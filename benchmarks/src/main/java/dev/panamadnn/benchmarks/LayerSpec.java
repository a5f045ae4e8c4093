package dev.panamadnn.benchmarks;

import dev.panamadnn.nn.AvgPool2d;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.Conv1d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.ConvTranspose2d;
import dev.panamadnn.nn.Layer;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A layer shape as {@link LayerBenchmark}'s {@code shape} parameter spells it:
 * {@code kind:CIN[>COUT][:K[/S][c][dD]][@SIZE][#BATCH]} (batch 1 if absent).
 * <ul>
 * <li>{@code conv2d:64>128:3/2@56}: Conv2d 3x3 stride 2, padding k/2 (ResNet's), on 56x56</li>
 * <li>{@code conv1d:64>64:3@1024}, {@code conv1d:64>64:3c@1024} (causal),
 *     {@code conv1d:64>64:3d4@1024} (dilation 4, padding dilation*(k-1)/2); plain pads (k-1)/2</li>
 * <li>{@code convT2d:64>32:4/2@28}: ConvTranspose2d, padding (k-s)/2 (so 28 -> 56)</li>
 * <li>{@code maxpool2d:64:3/2@112} (padding k/2), {@code avgpool2d:256:2/2@56} (padding 0)</li>
 * <li>{@code linear:512>512#64}: Linear with bias, batch 64</li>
 * <li>{@code basicblock:64@56}: torchvision BasicBlock(64, 64), stride 1, identity shortcut</li>
 * <li>{@code relu:1024}: ReLU on a 1-d tensor of 1024 floats (per-call overhead)</li>
 * </ul>
 * FLOPs (multiply and add counted as 2): convolution {@code 2*N*Cout*prod(out spatial)*Cin/groups*prod(k)};
 * transposed convolution {@code 2*N*Cin*prod(in spatial)*Cout*prod(k)}; Linear {@code 2*N*in*out};
 * BasicBlock its two 3x3 convolutions (batch norm, ReLU and the add are not counted); pooling NaN.
 */
public record LayerSpec(String spec, String kind, int cin, int cout, int k, int stride, boolean causal, int dilation,
                        int size, int batch) {
    private static final Pattern SPEC = Pattern.compile(
            "(conv2d|conv1d|convT2d|maxpool2d|avgpool2d|linear|basicblock|relu):(\\d+)(?:>(\\d+))?"
            + "(?::(\\d+)(?:/(\\d+))?(c)?(?:d(\\d+))?)?(?:@(\\d+))?(?:#(\\d+))?");

    public static LayerSpec parse(String spec) {
        Matcher m = SPEC.matcher(spec);
        if (!m.matches()) throw new IllegalArgumentException("layer shape: expected kind:CIN[>COUT][:K[/S][c][dD]][@SIZE][#BATCH], got " + spec);
        int cin = Integer.parseInt(m.group(2));
        return new LayerSpec(spec, m.group(1), cin, m.group(3) == null ? cin : Integer.parseInt(m.group(3)),
                m.group(4) == null ? 1 : Integer.parseInt(m.group(4)), m.group(5) == null ? 1 : Integer.parseInt(m.group(5)),
                m.group(6) != null, m.group(7) == null ? 1 : Integer.parseInt(m.group(7)),
                m.group(8) == null ? 1 : Integer.parseInt(m.group(8)), m.group(9) == null ? 1 : Integer.parseInt(m.group(9)));
    }

    public Layer build() {
        return switch (kind) {
            case "conv2d" -> Conv2d.builder(cin, cout, k).stride(stride).padding(k / 2).build();
            case "conv1d" -> causal
                    ? Conv1d.builder(cin, cout, k).causal().stride(stride).dilation(dilation).build()
                    : Conv1d.builder(cin, cout, k).stride(stride).dilation(dilation).padding(dilation * (k - 1) / 2).build();
            case "convT2d" -> ConvTranspose2d.builder(cin, cout, k).stride(stride).padding((k - stride) / 2).build();
            case "maxpool2d" -> new MaxPool2d(k, stride, k / 2);
            case "avgpool2d" -> new AvgPool2d(k, stride, 0);
            case "linear" -> new Linear(cin, cout, true);
            case "basicblock" -> new BasicBlock(cin, cout);
            case "relu" -> new ReLU();
            default -> throw new IllegalStateException(kind);
        };
    }

    public long[] inputShape() {
        return switch (kind) {
            case "linear" -> new long[] {batch, cin};
            case "relu" -> new long[] {cin};
            case "conv1d" -> new long[] {batch, cin, size};
            default -> new long[] {batch, cin, size, size};
        };
    }

    /** Floating-point operations per call (see the class doc); NaN for pooling. */
    public double flop(long[] outShape) {
        double spatialOut = 1, spatialIn = 1;
        for (int i = 2; i < outShape.length; i++) spatialOut *= outShape[i];
        long[] in = inputShape();
        for (int i = 2; i < in.length; i++) spatialIn *= in[i];
        double kk = kind.equals("conv1d") ? k : (double) k * k;
        return switch (kind) {
            case "conv2d", "conv1d" -> 2.0 * batch * cout * spatialOut * cin * kk;
            case "convT2d" -> 2.0 * batch * cin * spatialIn * cout * kk;
            case "linear" -> 2.0 * batch * cin * cout;
            case "basicblock" -> 2 * (2.0 * batch * cout * spatialOut * cin * 9);
            default -> Double.NaN;
        };
    }

    /** "Conv2d 3x3/2 64->128 56x56 N=1", "Linear 512->512 N=64", "Conv1d k3 causal 64->64 L=1024 N=1". */
    public String label() {
        String s = switch (kind) {
            case "conv2d" -> "Conv2d " + k + "x" + k + (stride > 1 ? "/" + stride : "") + " " + cin + "->" + cout + " " + size + "x" + size;
            case "conv1d" -> "Conv1d k" + k + (causal ? " causal" : "") + (dilation > 1 ? " dil" + dilation : "")
                    + " " + cin + "->" + cout + " L=" + size;
            case "convT2d" -> "ConvTranspose2d " + k + "x" + k + "/" + stride + " " + cin + "->" + cout + " " + size + "x" + size;
            case "maxpool2d" -> "MaxPool2d " + k + "x" + k + "/" + stride + " C=" + cin + " " + size + "x" + size;
            case "avgpool2d" -> "AvgPool2d " + k + "x" + k + "/" + stride + " C=" + cin + " " + size + "x" + size;
            case "linear" -> "Linear " + cin + "->" + cout;
            case "basicblock" -> "BasicBlock " + cin + " " + size + "x" + size;
            case "relu" -> "ReLU " + cin + " floats";
            default -> spec;
        };
        return s + " N=" + batch;
    }
}
