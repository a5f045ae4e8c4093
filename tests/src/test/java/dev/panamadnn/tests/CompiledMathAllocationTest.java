package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The math ops' plans allocate nothing on the heap once warm, their Java steps included (Erf,
 * the expansion of a broadcast first operand, Pow with a general exponent), as
 * CompiledAllocationTest checks for the convolutional plans.
 */
class CompiledMathAllocationTest {
    @Test
    void warmRunsOfMathOpsAllocateNothingOnTheHeap() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] shape = {2, 4, 6};
        try (Arena a = Arena.ofConfined()) {
            GraphBuilder g = Graph.builder("math-allocation");
            String x = g.input("x", Shape.batched("N", 4, 6));
            String kT = g.node("Transpose", "kT", Attributes.of("perm", new long[] {0, 2, 1}), x);
            String scores = g.node("MatMul", "qk", Attributes.empty(), x, kT);
            String p = g.node("Softmax", "softmax", Attributes.empty(), scores);
            String e = g.node("Erf", "erf", Attributes.empty(), p);
            String m = g.node("ReduceMax", "max", Attributes.of("axes", new long[] {2}), e);
            String d = g.node("Div", "div", Attributes.empty(), m, e);   // broadcast first operand: a Java expansion
            Tensor half = Tensor.allocate(a, DataType.F32, 1);
            half.segment().set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 0.5f);
            String r = g.node("Pow", "pow", Attributes.empty(), d, g.initializer("half", half));
            Graph graph = g.output(r).build();
            try (CompiledModel c = CompiledModel.compile(graph, CompileOptions.defaults().withThreads(1), shape).warmup()) {
                assertTrue(c.steps().stream().filter(s -> s.startsWith("java")).count() >= 3, c.describe());
                Tensor in = Tensor.allocate(a, DataType.F32, shape), out = Tensor.allocate(a, DataType.F32, c.outputShape());
                for (int i = 0; i < 48; i++) in.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (i % 7) * 0.25f - 0.5f);
                for (int i = 0; i < 10_000; i++) c.run(in, out);   // long enough for C2 to compile the whole path
                long least = Long.MAX_VALUE;
                for (int round = 0; round < 5; round++) {
                    long before = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 500; i++) c.run(in, out);
                    least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
                }
                System.out.println("math plan: heap bytes allocated by 500 warm runs (least of 5 rounds): " + least);
                assertEquals(0, least, "heap bytes allocated by 500 warm runs\n" + c.describe());
            }
        }
    }
}
