package dev.panamadnn.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chart's geometry follows its values, and it writes a readable PNG of the stated size. */
class BarChartTest {
    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    private static BarChart chart(boolean log, double[][] values) {
        return new BarChart("title", "subtitle", "y", List.of("a", "b", "c"), List.of("first", "second"), values, log, "x");
    }

    @Test
    void writesAPngOfTheStatedSize(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("chart.png");
        chart(true, new double[][] {{10, 100}, {1000, Double.NaN}, {3, 30}}).write(file);
        byte[] head = Files.readAllBytes(file);
        assertEquals((byte) 0x89, head[0], "PNG signature");
        assertEquals('P', head[1], "PNG signature");
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(BarChart.WIDTH, img.getWidth(), "width");
        assertEquals(BarChart.HEIGHT, img.getHeight(), "height");
    }

    @Test
    void linearBarsAreProportionalToTheirValues() {
        BarChart c = chart(false, new double[][] {{10, 20}, {40, 5}, {0, 30}});
        double unit = c.bar(0, 0).getHeight() / 10;
        assertEquals(20 * unit, c.bar(0, 1).getHeight(), 1e-6, "a/second");
        assertEquals(40 * unit, c.bar(1, 0).getHeight(), 1e-6, "b/first");
        assertEquals(0, c.bar(2, 0).getHeight(), 1e-6, "c/first is zero");
    }

    @Test
    void logBarsGrowByOneStepPerDecadeAndNaNHasNoBar() {
        BarChart c = chart(true, new double[][] {{10, 100}, {1000, Double.NaN}, {1, 1}});
        double decade = c.bar(0, 0).getHeight();
        assertEquals(2 * decade, c.bar(0, 1).getHeight(), 1e-6, "100 is two decades above 1");
        assertEquals(3 * decade, c.bar(1, 0).getHeight(), 1e-6, "1000 is three decades above 1");
        assertNull(c.bar(1, 1), "NaN draws no bar");
    }

    @Test
    void barsSitInTheirCategoryInSeriesOrderAndAreDrawnInTheSeriesColour() {
        BarChart c = chart(false, new double[][] {{10, 20}, {40, 5}, {15, 30}});
        BufferedImage img = c.render();
        for (int cat = 0; cat < 3; cat++) {
            Rectangle2D first = c.bar(cat, 0), second = c.bar(cat, 1);
            assertNotNull(first);
            assertTrue(first.getMaxX() <= second.getMinX() + 1e-6, "series order within category " + cat);
            if (cat > 0) assertTrue(c.bar(cat - 1, 1).getMaxX() < first.getMinX(), "category " + cat + " is right of " + (cat - 1));
            for (int s = 0; s < 2; s++) {
                Rectangle2D b = c.bar(cat, s);
                int rgb = img.getRGB((int) b.getCenterX(), (int) (b.getY() + b.getHeight() * 0.75)) & 0xffffff;
                assertEquals(BarChart.COLORS[s].getRGB() & 0xffffff, rgb, "colour of bar (" + cat + ", " + s + ")");
            }
        }
    }

    @Test
    void fastestIgnoresShapesThatWereNotRun() {
        assertEquals(3, Charts.fastest(Double.NaN, 5, 3), 1e-9);
        assertTrue(Double.isNaN(Charts.fastest(Double.NaN, Double.NaN)), "nothing measured");
    }

    @Test
    void labelsKeepOneDecimalBelowTen() {
        BarChart c = chart(false, new double[][] {{1, 1}, {1, 1}, {1, 1}});
        assertEquals("2.5x", c.label(2.5));
        assertEquals("226x", c.label(226.2));
    }

    @Test
    void niceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        assertEquals(20, BarChart.niceStep(13), 1e-9);
        assertEquals(5, BarChart.niceStep(4.2), 1e-9);
        assertEquals(0.1, BarChart.niceStep(0.07), 1e-9);
    }
}
