package dev.panamadnn.benchmarks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A grouped bar chart drawn with java.awt into a PNG (headless; no dependency): one group of
 * bars per category, one bar per series, value printed above each bar, linear or log10 y axis.
 * A NaN value draws no bar. {@link #bar} gives each bar's rectangle, so tests can check the
 * geometry the picture is drawn from.
 *
 * @param values {@code values[category][series]}
 * @param unit   printed after each value above its bar, e.g. {@code "x"} or {@code "%"}
 */
record BarChart(String title, String subtitle, String yLabel, List<String> categories, List<String> series,
                double[][] values, boolean log, String unit) {
    static final int WIDTH = 1400, HEIGHT = 800;
    private static final int LEFT = 90, RIGHT = 30, TOP = 90, BOTTOM = 190;
    static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0x9467bd), new Color(0x8c564b)};

    BarChart {
        if (values.length != categories.size()) throw new IllegalArgumentException("BarChart: one row of values per category");
        for (double[] row : values) {
            if (row.length != series.size()) throw new IllegalArgumentException("BarChart: one value per series in every row");
        }
        if (series.size() > COLORS.length) throw new IllegalArgumentException("BarChart: at most " + COLORS.length + " series");
    }

    /** The y range drawn: log: whole decades around the data (from 1 at most); linear: 0 to a round top. */
    double[] yRange() {
        double max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY;
        for (double[] row : values) {
            for (double v : row) {
                if (Double.isNaN(v) || (log && v <= 0)) continue;
                max = Math.max(max, v);
                min = Math.min(min, v);
            }
        }
        if (max == Double.NEGATIVE_INFINITY) return log ? new double[] {1, 10} : new double[] {0, 1};
        if (log) return new double[] {Math.pow(10, Math.min(0, Math.floor(Math.log10(min)))), Math.pow(10, Math.ceil(Math.log10(max * 1.5)))};
        return new double[] {0, niceStep(max * 1.15 / 5) * Math.ceil(max * 1.15 / niceStep(max * 1.15 / 5))};
    }

    /** Pixel row of value {@code v} (clamped into the plot). */
    double y(double v) {
        double[] r = yRange();
        double plot = HEIGHT - TOP - BOTTOM, f;
        if (log) f = (Math.log10(Math.max(v, r[0])) - Math.log10(r[0])) / (Math.log10(r[1]) - Math.log10(r[0]));
        else f = (v - r[0]) / (r[1] - r[0]);
        return HEIGHT - BOTTOM - plot * Math.max(0, Math.min(1, f));
    }

    /** The rectangle of the bar for ({@code category}, {@code series}), or null if its value is NaN (or not positive on a log axis). */
    Rectangle2D bar(int category, int s) {
        double v = values[category][s];
        if (Double.isNaN(v) || (log && v <= 0)) return null;
        double group = (double) (WIDTH - LEFT - RIGHT) / categories.size();
        double width = group * 0.8 / series.size();
        double x = LEFT + category * group + group * 0.1 + s * width;
        double top = y(v);
        return new Rectangle2D.Double(x, top, width, HEIGHT - BOTTOM - top);
    }

    BufferedImage render() {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 22));
            centred(g, title, WIDTH / 2, 34);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            centred(g, subtitle, WIDTH / 2, 60);
            axes(g);
            bars(g);
            legend(g);
        } finally {
            g.dispose();
        }
        return img;
    }

    void write(Path file) throws IOException {
        if (!ImageIO.write(render(), "png", file.toFile())) throw new IOException("no PNG writer in this JDK");
    }

    private void axes(Graphics2D g) {
        double[] r = yRange();
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        List<Double> ticks = new ArrayList<>();
        if (log) {
            for (double t = r[0]; t <= r[1] * 1.0001; t *= 10) ticks.add(t);
        } else {
            double step = niceStep((r[1] - r[0]) / 5);
            for (double t = r[0]; t <= r[1] + step / 1000; t += step) ticks.add(t);
        }
        for (double t : ticks) {
            int py = (int) Math.round(y(t));
            g.setColor(new Color(0xdddddd));
            g.drawLine(LEFT, py, WIDTH - RIGHT, py);
            g.setColor(Color.BLACK);
            String label = log ? (t >= 1 ? String.format(Locale.ROOT, "%.0f", t) : String.format(Locale.ROOT, "%.2g", t))
                    : String.format(Locale.ROOT, "%.0f", t);
            g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), py + 5);
        }
        g.setStroke(new BasicStroke(1.5f));
        g.drawLine(LEFT, TOP - 10, LEFT, HEIGHT - BOTTOM);
        g.drawLine(LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, HEIGHT - BOTTOM);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        centred(g, yLabel + (log ? " (log scale)" : ""), -(TOP + (HEIGHT - TOP - BOTTOM) / 2), 26);
        g.setTransform(saved);
        double group = (double) (WIDTH - LEFT - RIGHT) / categories.size();
        for (int c = 0; c < categories.size(); c++) {
            int cx = (int) (LEFT + c * group + group / 2);
            g.setTransform(saved);
            g.translate(cx, HEIGHT - BOTTOM + 14);
            g.rotate(-Math.PI / 7);
            String label = categories.get(c);
            g.drawString(label, -g.getFontMetrics().stringWidth(label), 8);
        }
        g.setTransform(saved);
    }

    private void bars(Graphics2D g) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int c = 0; c < categories.size(); c++) {
            for (int s = 0; s < series.size(); s++) {
                Rectangle2D b = bar(c, s);
                if (b == null) continue;
                g.setColor(COLORS[s]);
                g.fill(b);
                g.setColor(Color.DARK_GRAY);
                centred(g, label(values[c][s]), (int) b.getCenterX(), (int) b.getY() - 4);
            }
        }
    }

    private void legend(Graphics2D g) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        FontMetrics fm = g.getFontMetrics();
        int x = LEFT, y = HEIGHT - 24;   // below the category labels, clear of the bars
        for (int s = 0; s < series.size(); s++) {
            g.setColor(COLORS[s]);
            g.fillRect(x, y - 12, 14, 14);
            g.setColor(Color.BLACK);
            g.drawString(series.get(s), x + 20, y);
            x += 40 + fm.stringWidth(series.get(s));
        }
    }

    /** "226x", "2.5x": whole numbers from 10 up, one decimal below. */
    String label(double v) {
        return String.format(Locale.ROOT, Math.abs(v) >= 10 ? "%.0f" : "%.1f", v) + unit;
    }

    private static void centred(Graphics2D g, String text, int x, int baseline) {
        g.drawString(text, x - g.getFontMetrics().stringWidth(text) / 2, baseline);
    }

    /** 1, 2 or 5 times a power of ten, at least {@code raw}. */
    static double niceStep(double raw) {
        if (!(raw > 0)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5, 10}) if (m * p >= raw) return m * p;
        return 10 * p;
    }
}
