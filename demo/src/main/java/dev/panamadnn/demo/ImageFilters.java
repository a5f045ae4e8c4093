package dev.panamadnn.demo;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.MaxPool2d;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Classic image filters as {@link Conv2d} layers with fixed 3x3 kernels (padding 1, no bias)
 * on a grayscale image in [0, 1]: box blur, edge detection (Laplacian) and sharpen, and a
 * {@link MaxPool2d} of 2x2 windows (half the size); each run natively and through the plain-Java
 * reference, compared, timed, and written as a PNG.
 */
final class ImageFilters {
    private ImageFilters() {}

    record Filter(String name, float[] kernel, boolean signed) {}

    static final Filter[] FILTERS = {
        new Filter("box-blur", new float[] {1 / 9f, 1 / 9f, 1 / 9f, 1 / 9f, 1 / 9f, 1 / 9f, 1 / 9f, 1 / 9f, 1 / 9f}, false),
        new Filter("edges", new float[] {-1, -1, -1, -1, 8, -1, -1, -1, -1}, true),
        new Filter("sharpen", new float[] {0, -1, 0, -1, 5, -1, 0, -1, 0}, false),
    };

    /** Runs every filter on {@code image} (or the bundled photo); returns the number of mismatches. */
    static int run(PrintStream out, Path image, Path outDir) throws IOException {
        BufferedImage src = image == null ? bundled() : ImageIO.read(image.toFile());
        if (src == null) throw new IOException("not an image ImageIO can read: " + image);
        String source = image == null ? "camera.png (CC0, Lav Varshney; bundled)" : image.toString();
        int h = src.getHeight(), w = src.getWidth();
        out.println("== Image filters as Conv2d on " + source + ", " + w + "x" + h + " grayscale");
        Files.createDirectories(outDir);
        int mismatches = 0;
        try (Tensor x = Tensor.of(gray(src), 1, 1, h, w)) {
            write(x, outDir.resolve("input.png"), false);
            out.println(" filter     native ms  reference ms  speed-up  max |diff|   output");
            for (Filter f : FILTERS) {
                try (Conv2d conv = Conv2d.builder(1, 1, 3).padding(1).bias(false).build()) {
                    conv.weight().segment().copyFrom(MemorySegment.ofArray(f.kernel()));
                    conv.weightsChanged();
                    Tensor[] nat = new Tensor[1], ref = new Tensor[1];
                    double nativeMs = Timing.bestMs(5, () -> replace(nat, conv.forward(x)));
                    double refMs = Timing.bestMs(1, () -> replace(ref, conv.forwardReference(x)));
                    double diff = maxAbsDiff(nat[0].toFloatArray(), ref[0].toFloatArray());
                    boolean ok = diff < 1e-5;
                    mismatches += ok ? 0 : 1;
                    Path png = outDir.resolve(f.name() + ".png");
                    write(nat[0], png, f.signed());
                    out.printf(Locale.ROOT, " %-9s %9.3f  %12.3f  %7.1fx  %.1e %s  %s%n", f.name(), nativeMs, refMs,
                            refMs / nativeMs, diff, ok ? "ok" : "MISMATCH", png);
                    nat[0].close();
                    ref[0].close();
                }
            }
            try (MaxPool2d pool = new MaxPool2d(2)) {
                Tensor[] nat = new Tensor[1], ref = new Tensor[1];
                double nativeMs = Timing.bestMs(5, () -> replace(nat, pool.forward(x)));
                double refMs = Timing.bestMs(1, () -> replace(ref, pool.forwardReference(x)));
                double diff = maxAbsDiff(nat[0].toFloatArray(), ref[0].toFloatArray());
                boolean ok = diff == 0;   // a max selects an input value: both paths must agree exactly
                mismatches += ok ? 0 : 1;
                Path png = outDir.resolve("maxpool-2x2.png");
                write(nat[0], png, false);
                out.printf(Locale.ROOT, " %-9s %9.3f  %12.3f  %7.1fx  %.1e %s  %s (%dx%d)%n", "maxpool2", nativeMs, refMs,
                        refMs / nativeMs, diff, ok ? "ok" : "MISMATCH", png, nat[0].dim(-1), nat[0].dim(-2));
                nat[0].close();
                ref[0].close();
            }
        }
        return mismatches;
    }

    private static void replace(Tensor[] slot, Tensor t) {
        if (slot[0] != null) slot[0].close();
        slot[0] = t;
    }

    private static BufferedImage bundled() throws IOException {
        try (InputStream in = ImageFilters.class.getResourceAsStream("camera.png")) {
            if (in == null) throw new IOException("the bundled camera.png is missing from the demo jar");
            return ImageIO.read(in);
        }
    }

    /** Luma in [0, 1], row-major. */
    static float[] gray(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        float[] v = new float[h * w];
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                int rgb = img.getRGB(c, r);
                v[r * w + c] = (0.299f * ((rgb >> 16) & 255) + 0.587f * ((rgb >> 8) & 255) + 0.114f * (rgb & 255)) / 255f;
            }
        return v;
    }

    /** Writes a [.., H, W] tensor as an 8-bit grayscale PNG; signed outputs show |value|. */
    static void write(Tensor t, Path file, boolean signed) throws IOException {
        long[] s = t.shape();
        int h = (int) s[s.length - 2], w = (int) s[s.length - 1];
        float[] v = t.toFloatArray();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                float x = v[r * w + c];
                if (signed) x = Math.abs(x);
                int g = Math.round(Math.max(0f, Math.min(1f, x)) * 255f);
                img.getRaster().setSample(c, r, 0, g);
            }
        ImageIO.write(img, "png", file.toFile());
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
