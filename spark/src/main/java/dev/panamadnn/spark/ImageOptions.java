package dev.panamadnn.spark;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;
import javax.imageio.ImageIO;

/**
 * How a {@code binary} column's images become a model input {@code [C, H, W]}: decoded by
 * {@link ImageIO} (PNG, JPEG, BMP, GIF), resized to {@code H x W} (bilinear) when their size differs,
 * taken as grey ({@code C = 1}, the luminance) or RGB ({@code C = 3}, in that order), then each
 * value {@code v} in 0..255 becomes {@code (v * scale - mean[c]) / std[c]}. The defaults
 * ({@code scale = 1/255}, ImageNet's mean and std for three channels, 0 and 1 for one) are what
 * torchvision's {@code ToTensor()} + {@code Normalize(...)} do for ImageNet models.
 *
 * @param scale what one step of a 0..255 value is worth
 * @param mean  per channel, subtracted after scaling (one value, or one per channel)
 * @param std   per channel, divided by after subtracting (one value, or one per channel)
 */
record ImageOptions(double scale, double[] mean, double[] std) implements Serializable {
    static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406}, IMAGENET_STD = {0.229, 0.224, 0.225};

    ImageOptions {
        if (!(scale > 0) || !Double.isFinite(scale)) throw new IllegalArgumentException("PanamaModel: imageScale must be > 0, got " + scale);
        mean = mean == null ? new double[0] : mean.clone();
        std = std == null ? new double[0] : std.clone();
        for (double s : std) {
            if (!(s > 0) || !Double.isFinite(s)) throw new IllegalArgumentException("PanamaModel: imageStd must be > 0, got " + Arrays.toString(std));
        }
        for (double m : mean) {
            if (!Double.isFinite(m)) throw new IllegalArgumentException("PanamaModel: imageMean must be finite, got " + Arrays.toString(mean));
        }
    }

    /** The mean or std for channel {@code c} of {@code channels}: the given one(s), else the defaults. */
    private static double pick(double[] given, int c, int channels, double[] imagenet, double single) {
        if (given.length == 1) return given[0];
        if (given.length > c) return given[c];
        return channels == 3 ? imagenet[c] : single;
    }

    /** Checks the options fit a model input shape (called on the driver). */
    void check(long[] shape) {
        if (shape.length != 3 || (shape[0] != 1 && shape[0] != 3)) {
            throw new IllegalArgumentException("PanamaModel: a binary (image) column needs inputShape [1 or 3, H, W], got " + Arrays.toString(shape));
        }
        int c = (int) shape[0];
        if (mean.length > 1 && mean.length != c) throw new IllegalArgumentException("PanamaModel: imageMean has " + mean.length + " values for " + c + " channels");
        if (std.length > 1 && std.length != c) throw new IllegalArgumentException("PanamaModel: imageStd has " + std.length + " values for " + c + " channels");
    }

    /** Decodes {@code bytes} into {@code dst[at, at + C*H*W)}; null when it worked, else what went wrong. */
    String decode(byte[] bytes, long[] shape, float[] dst, int at) {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            return "the image does not decode: " + e.getMessage();
        }
        if (img == null) return "the image does not decode (" + bytes.length + " bytes in no format ImageIO reads)";
        int c = (int) shape[0], h = (int) shape[1], w = (int) shape[2];
        if (img.getWidth() != w || img.getHeight() != h) img = resize(img, w, h);
        double[] m = new double[c], s = new double[c];
        for (int ch = 0; ch < c; ch++) {
            m[ch] = pick(mean, ch, c, IMAGENET_MEAN, 0);
            s[ch] = pick(std, ch, c, IMAGENET_STD, 1);
        }
        boolean grey = img.getType() == BufferedImage.TYPE_BYTE_GRAY;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                if (c == 1) {
                    double v = grey ? img.getRaster().getSample(x, y, 0) : luminance(img.getRGB(x, y));
                    dst[at + p] = (float) ((v * scale - m[0]) / s[0]);
                } else {
                    int rgb = img.getRGB(x, y);
                    int[] v = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
                    for (int ch = 0; ch < 3; ch++) dst[at + ch * h * w + p] = (float) ((v[ch] * scale - m[ch]) / s[ch]);
                }
            }
        }
        return null;
    }

    private static double luminance(int rgb) {   // ITU-R 601, as PIL's convert("L")
        return 0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
    }

    private static BufferedImage resize(BufferedImage img, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, img.getType() == BufferedImage.TYPE_BYTE_GRAY ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(img, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return out;
    }
}
