package dev.panamadnn.internal.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import org.junit.jupiter.api.Test;

/**
 * The recurrent arguments in {@link Args}: the layer input, output and weights are oneDNN's
 * {@code SRC_LAYER}/{@code DST_LAYER}/{@code WEIGHTS_LAYER} (aliases of src/dst/weights), the
 * iteration outputs are write targets (so a read-only h_n buffer is refused), and an LSTM with
 * projection's ten arguments fit what one execution holds.
 */
class RnnArgsTest {
    @Test
    void idsAndWriteTargetsAreOneDnns() {
        assertEquals(dnnl_h.DNNL_ARG_SRC_LAYER(), Args.SRC);
        assertEquals(dnnl_h.DNNL_ARG_DST_LAYER(), Args.DST);
        assertEquals(dnnl_h.DNNL_ARG_WEIGHTS_LAYER(), Args.WEIGHTS);
        assertEquals(dnnl_h.DNNL_ARG_SRC_ITER_C(), Args.SRC_ITER_C);
        assertEquals(dnnl_h.DNNL_ARG_WEIGHTS_PROJECTION(), Args.WEIGHTS_PROJECTION);
        assertTrue(Args.isWriteTarget(Args.DST_ITER));
        assertTrue(Args.isWriteTarget(Args.DST_ITER_C));
        assertFalse(Args.isWriteTarget(Args.SRC_ITER));
        assertFalse(Args.isWriteTarget(Args.WEIGHTS_ITER));
        assertEquals("dst_iter_c", Args.name(Args.DST_ITER_C));
        assertEquals("weights_projection", Args.name(Args.WEIGHTS_PROJECTION));
    }

    @Test
    void anLstmWithProjectionFitsOneExecution() {
        assertTrue(HeldExecute.SLOTS >= 10, "src/dst layer, iter and iter_c, three weights and the bias: 10, got " + HeldExecute.SLOTS);
    }
}
