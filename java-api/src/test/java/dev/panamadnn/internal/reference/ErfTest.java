package dev.panamadnn.internal.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Erf against an independent implementation: the expected values were printed by CPython's
 * {@code math.erf} (the platform libm) with {@code repr}; they span every branch of Cody's
 * approximation. Tolerance 1e-14 absolute: Cody's bound is about 1e-16 relative.
 */
class ErfTest {
    @ParameterizedTest(name = "erf({0})")
    @CsvSource({
        "-3.0, -0.9999779095030014", "-1.5, -0.9661051464753108", "-0.5, -0.5204998778130465",
        "-0.001, -0.0011283787909692365", "0.0, 0.0", "0.1, 0.1124629160182849", "0.3, 0.3286267594591274",
        "0.46875, 0.49261347321793797", "0.5, 0.5204998778130465", "1.0, 0.8427007929497149",
        "2.0, 0.9953222650189527", "3.5, 0.9999992569016276", "4.0, 0.9999999845827421",
        "5.0, 0.9999999999984626", "6.0, 1.0"})
    void matchesLibm(double x, double expected) {
        assertEquals(expected, Erf.erf(x), 1e-14);
    }
}
