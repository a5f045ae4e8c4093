package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The import table builds an op's rules on first lookup ({@link OpTable#rules}): every listed op has rules of its own name,
 * with opset ranges that do not overlap and stay within the opsets read; an unknown op has none (and is not kept); a
 * second lookup gives the rules built first, also when many threads look an op up at once.
 */
class OpTableTest {
    @Test
    void everyListedOpHasItsOwnRulesWithoutOverlaps() {
        for (String op : OpTable.OPS) {
            List<OpRule> rules = OpTable.rules(op);
            assertFalse(rules.isEmpty(), op);
            assertTrue(OpTable.knows(op), op);
            for (OpRule r : rules) {
                assertEquals(op, r.op());
                assertTrue(r.fromOpset() >= OpTable.MIN_OPSET && r.toOpset() <= OpTable.MAX_OPSET && r.fromOpset() <= r.toOpset(), r.toString());
            }
            for (int opset = OpTable.MIN_OPSET; opset <= OpTable.MAX_OPSET; opset++) {
                int covering = 0;
                for (OpRule r : rules) if (r.covers(opset)) covering++;
                assertTrue(covering <= 1, op + " has " + covering + " rules at opset " + opset);
            }
        }
        assertEquals(OpTable.OPS.stream().sorted().toList(), OpTable.OPS, "OPS is kept sorted");
    }

    @Test
    void anUnknownOpHasNoRules() {
        assertFalse(OpTable.knows("NoSuchOp"));
        assertNull(OpTable.find("NoSuchOp", 17));
        assertTrue(OpTable.rules("NoSuchOp").isEmpty());
        assertNull(OpTable.find("Gelu", 17), "Gelu is an ONNX op from opset 20 on");
        assertEquals(20, OpTable.find("Gelu", 20).fromOpset());
    }

    @Test
    void concurrentFirstLookupsAgree() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<List<List<OpRule>>>> all = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                all.add(pool.submit(() -> {
                    List<List<OpRule>> seen = new ArrayList<>();
                    for (String op : OpTable.OPS) seen.add(OpTable.rules(op));
                    return seen;
                }));
            }
            List<List<OpRule>> first = all.get(0).get();
            for (Future<List<List<OpRule>>> f : all) {
                List<List<OpRule>> seen = f.get();
                for (int i = 0; i < seen.size(); i++) assertSame(first.get(i), seen.get(i), OpTable.OPS.get(i));
            }
            for (int i = 0; i < OpTable.OPS.size(); i++) assertSame(first.get(i), OpTable.rules(OpTable.OPS.get(i)));
        } finally {
            pool.shutdownNow();
        }
    }
}
