package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.nn.GRU;
import dev.panamadnn.nn.LSTM;
import dev.panamadnn.nn.TransformerEncoderLayer;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Compiled LSTM/GRU nodes (the RNN primitive and the Java permute/split/concat steps of a
 * bidirectional sequence-first stack; a batch-1 GRU as convolution steps) and a compiled transformer encoder layer allocate nothing on
 * the heap once warm, as CompiledAllocationTest checks for the convolutional plans.
 */
class CompiledRecurrentAllocationTest {
    private static void check(Module m, String what, String step, long... shape) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (m; Arena a = Arena.ofConfined();
             CompiledModel c = CompiledModel.compile(m, CompileOptions.defaults().withThreads(1), shape).warmup()) {
            assertTrue(c.steps().stream().anyMatch(s -> s.startsWith(step) || s.contains(" " + step)), what + ": expected a step '" + step + "'\n"
                    + c.describe());
            Tensor in = Tensor.allocate(a, DataType.F32, shape), out = Tensor.allocate(a, DataType.F32, c.outputShape());
            for (long i = 0; i < in.numel(); i++) in.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) * 0.25f - 0.5f);
            for (int i = 0; i < 5_000; i++) c.run(in, out);   // long enough for C2 to compile the whole path
            long least = Long.MAX_VALUE;
            for (int round = 0; round < 5; round++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 300; i++) c.run(in, out);
                least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
            }
            System.out.println(what + ": heap bytes allocated by 300 warm runs (least of 5 rounds): " + least);
            assertEquals(0, least, what + ": heap bytes allocated by 300 warm runs\n" + c.describe());
        }
    }

    /** An LSTM node with constant, unequal sequence_lens: the gather and scatter Java steps around one primitive per length group. */
    @Test
    void warmLengthGroupsAllocateNothingOnTheHeap() {
        try (Arena a = Arena.ofConfined()) {
            dev.panamadnn.graph.GraphBuilder g = dev.panamadnn.graph.Graph.builder("lengths");
            g.input("x", dev.panamadnn.graph.Shape.of(5, 3, 2));
            g.initializer("W", Tensor.allocate(a, DataType.F32, 2, 12, 2));
            g.initializer("R", Tensor.allocate(a, DataType.F32, 2, 12, 3));
            Tensor lens = Tensor.allocate(a, DataType.I32, 3);
            for (int i = 0; i < 3; i++) lens.segment().setAtIndex(ValueLayout.JAVA_INT, i, new int[] {5, 2, 4}[i]);
            g.initializer("lens", lens);
            String y = g.node("LSTM", "lstm", dev.panamadnn.graph.Attributes.of("hidden_size", 3L, "direction", "bidirectional"),
                    java.util.List.of("x", "W", "R", "", "lens"), 1).get(0);
            var graph = g.output(y).build();
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            try (CompiledModel c = CompiledModel.compile(graph, CompileOptions.defaults().withThreads(1), 5, 3, 2).warmup()) {
                assertTrue(c.steps().stream().anyMatch(s -> s.startsWith("java gather")), c.describe());
                Tensor in = Tensor.allocate(a, DataType.F32, 5, 3, 2), out = Tensor.allocate(a, DataType.F32, c.outputShape());
                for (int i = 0; i < 5_000; i++) c.run(in, out);
                long least = Long.MAX_VALUE;
                for (int round = 0; round < 5; round++) {
                    long before = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 300; i++) c.run(in, out);
                    least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
                }
                System.out.println("LSTM with length groups: heap bytes allocated by 300 warm runs (least of 5 rounds): " + least);
                assertEquals(0, least, "heap bytes allocated by 300 warm runs\n" + c.describe());
            }
        }
    }

    /**
     * A batch-1 GRU run as two 1x1 convolutions a step (forced with {@code panamadnn.gru.steps=on}; the cache rule
     * would pick it only for larger hidden sizes): the loop only executes convolutions bound once per context.
     */
    @Test
    void warmGruConvolutionStepsAllocateNothingOnTheHeap() {
        System.setProperty("panamadnn.gru.steps", "on");
        try {
            check(new GRU(16, 32, 1, true, false, 0, true), "batch-1 bidirectional GRU as convolution steps", "steps of two 1x1 convolutions", 7, 1, 16);
        } finally {
            System.clearProperty("panamadnn.gru.steps");
        }
    }

    @Test
    void warmRecurrentPlansAllocateNothingOnTheHeap() {
        check(new LSTM(4, 6, 2, true, false, 0, true, 0), "2-layer bidirectional LSTM", "java permute", 5, 3, 4);
        check(new GRU(4, 5, 1, true, true, 0, true), "batch-first bidirectional GRU", "gru ", 2, 5, 4);
        check(new TransformerEncoderLayer(8, 2, 16, 0, "gelu", 1e-5, true, true), "pre-norm encoder layer", "softmax", 2, 5, 8);
    }
}
