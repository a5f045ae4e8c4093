package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Convolution geometries that crashed (or might crash) oneDNN's kernels, run on the native path
 * in a child JVM by {@link ConvNativeLimitsTest}, so a SIGSEGV fails that test instead of killing
 * the suite. For each case it prints one line: {@code CASE name REFUSED message} (an
 * IllegalArgumentException), {@code CASE name OK maxdiff [ms] implementation} (ran; largest difference
 * from the reference, or why the reference could not run; the oneDNN implementation or why there is none) or {@code CASE name THREW exception}; then {@code DONE}.
 */
public final class ConvNativeLimitsChild {
    private ConvNativeLimitsChild() {}

    /** A layer and the input it runs on. */
    record Case(Supplier<ConvNd> layer, long... input) {}

    static final Map<String, Case> CASES = new LinkedHashMap<>();

    static {
        // The fuzzer's three crashes (scripts/fuzz --seed 7): SIGSEGV in brgconv_strided's out buffer.
        CASES.put("fuzz-7-ConvTranspose1d-203", new Case(() -> ConvTranspose1d.builder(8, 1, 3).stride(65536).padding(1)
                .outputPadding(1).build(), 2, 8, 25));
        CASES.put("fuzz-7-ConvTranspose2d-774", new Case(() -> ConvTranspose2d.builder(5, 1, 4, 3).stride(2, 65536).build(),
                5, 8, 8));
        CASES.put("fuzz-7-ConvTranspose1d-692", new Case(() -> ConvTranspose1d.builder(7, 2, 2).stride(65536).padding(2)
                .bias(false).build(), 3, 7, 9));
        // The measured boundary: output width 3, one output channel, buffer stride^2 elements.
        // 46341^2 = 2147488281 > 2^31 - 4096 crashed; 46340^2 is accepted (but needs an 8.6 GB
        // scratchpad, too much for a test, so the accepted side is checked by the rule's unit test).
        CASES.put("boundary-stride-46341", new Case(() -> ConvTranspose1d.builder(8, 1, 3).stride(46341).build(), 1, 8, 1));
        // Two output channels halve the stride at which it overflows: 2 * 32768^2 = 2^31.
        CASES.put("two-channels-stride-32768", new Case(() -> ConvTranspose1d.builder(8, 2, 3).stride(32768).build(), 1, 8, 1));
        // Grouped, with 32 input channels per group (past the vector width, so the strided kernel takes
        // it): the buffer counts all groups' output channels, 2 * 32768^2 = 2^31.
        CASES.put("grouped-two-channels-stride-32768", new Case(() -> ConvTranspose1d.builder(64, 2, 3).stride(32768).groups(2)
                .build(), 1, 64, 1));
        // Large strides that stay within the kernel's int: run natively and match the reference.
        CASES.put("stride-1024", new Case(() -> ConvTranspose1d.builder(8, 1, 3).stride(1024).padding(1).outputPadding(1).build(),
                2, 8, 25));
        // The height stride has no such buffer (65536 runs too, but takes ~2 minutes: docs/convolution.md).
        CASES.put("height-stride-1024", new Case(() -> ConvTranspose2d.builder(5, 1, 4, 3).stride(1024, 2).build(), 5, 8, 8));
        CASES.put("grouped-stride-1024", new Case(() -> ConvTranspose1d.builder(64, 2, 3).stride(1024).groups(2).build(), 1, 64, 5));
        // Strides past ConvOps.MAX_DECONVOLUTION_STRIDE: oneDNN's setup took seconds to minutes (scripts/fuzz --seed 41041
        // --nonfinite: cases 74 and 560 hung past the fuzzer's 60 s in dnnl_deconvolution_forward_primitive_desc_create;
        // the height stride of 65536 took ~2 minutes to run). Now the reference, in milliseconds.
        CASES.put("fuzz-41041-ConvTranspose2d-560", new Case(() -> ConvTranspose2d.builder(4, 2, 5, 2).stride(1, 65536).padding(2, 1)
                .build(), 4, 10, 12));
        CASES.put("fuzz-41041-ConvTranspose2d-74", new Case(() -> ConvTranspose2d.builder(7, 1, 4).stride(3, 65536).padding(2)
                .outputPadding(2, 0).bias(false).build(), 1, 7, 5, 8));
        CASES.put("height-stride-65536", new Case(() -> ConvTranspose2d.builder(5, 1, 4, 3).stride(65536, 2).build(), 5, 8, 8));
        // Grouped: stays on oneDNN (the CI fuzz seed's layer, ConvTranspose2d(6, 2, 5, groups 2, stride (65536, 1)), ran at once
        // there, writing 225 MB; a smaller input here).
        CASES.put("grouped-height-stride-65536", new Case(() -> ConvTranspose2d.builder(6, 2, 5).stride(65536, 1).groups(2).bias(false)
                .build(), 1, 6, 2, 9));
        CASES.put("stride-1025", new Case(() -> ConvTranspose1d.builder(8, 1, 3).stride(1025).padding(1).outputPadding(1).build(),
                2, 8, 25));
        // Forward convolutions with 2^31 - 1 strides, paddings and dilations (oneDNN falls back to gemm).
        CASES.put("conv1d-int-max-geometry", new Case(() -> Conv1d.builder(8, 4, 2).stride(Integer.MAX_VALUE)
                .padding(new int[] {Integer.MAX_VALUE}, new int[] {Integer.MAX_VALUE}).dilation(Integer.MAX_VALUE).build(), 2, 8, 25));
        CASES.put("conv2d-int-max-geometry", new Case(() -> Conv2d.builder(8, 8, 3).stride(Integer.MAX_VALUE)
                .padding(Integer.MAX_VALUE).groups(8).build(), 1, 8, 3, 3));
        // scripts/fuzz --long (seed 7) crashes in oneDNN's brgemm convolution (perform_outwork): a window
        // wholly in the zero padding (padding >= the dilated kernel extent). Now padded explicitly.
        CASES.put("fuzz-7-Conv1d-2754", new Case(() -> Conv1d.builder(4, 1, 1).stride(3).padding(new int[] {2}, new int[] {1})
                .dilation(3).build(), 3, 4, 1));
        CASES.put("fuzz-7-Conv2d-3782", new Case(() -> Conv2d.builder(7, 3, 1).stride(3, 2).padding(new int[] {3, 1}, new int[] {3})
                .build(), 3, 7, 7, 1));
        CASES.put("conv2d-stride-65536", new Case(() -> Conv2d.builder(8, 4, 2).stride(65536).padding(65536).dilation(65536).build(),
                2, 8, 25, 25));
    }

    public static void main(String[] args) {
        for (String name : args.length == 0 ? CASES.keySet().toArray(String[]::new) : args) {
            Case c = CASES.get(name);
            try (ConvNd layer = c.layer().get(); Tensor x = Tensor.zeros(c.input())) {
                for (long i = 0; i < x.numel(); i++) x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i));
                long t0 = System.nanoTime();
                try (Tensor y = layer.forward(x)) {
                    String diff;
                    try (Tensor ref = layer.forwardReference(x)) {
                        double max = 0;
                        for (long i = 0; i < y.numel(); i++) {
                            max = Math.max(max, Math.abs(y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i)
                                    - ref.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i)));
                        }
                        diff = Double.toString(max);
                    } catch (IllegalArgumentException e) {
                        diff = "uncompared (the reference refused: " + e.getMessage() + ")";
                    }
                    String impl;
                    try {
                        impl = layer.implementation(c.input());
                    } catch (IllegalArgumentException e) {
                        impl = "implementation refused: " + e.getMessage();
                    }
                    System.out.println("CASE " + name + " OK " + diff + " [" + (System.nanoTime() - t0) / 1_000_000 + " ms] " + impl);
                } catch (IllegalArgumentException e) {
                    System.out.println("CASE " + name + " REFUSED " + e.getMessage());
                }
            } catch (RuntimeException | Error e) {
                System.out.println("CASE " + name + " THREW " + e);
            }
            System.out.flush();
        }
        System.out.println("DONE");
    }
}
