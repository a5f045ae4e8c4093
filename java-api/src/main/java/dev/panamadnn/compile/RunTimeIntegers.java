package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An integer operand of a Java step known only at run time (indices, batch indices): the plan's own I64/I32 graph input,
 * read raw from the caller's tensor, or an integer value computed in the plan and held as exact F32 values
 * ({@link LowerCarried}). {@link #value} is the step's input; {@link #get} reads element {@code e} of it.
 */
record RunTimeIntegers(Value value, DataType raw) {
    /** Operand {@code i} of {@code n}, which is not a constant. */
    static RunTimeIntegers of(Compiler plan, Node n, int i) {
        String name = n.input(i);
        Integer input = plan.integerInputs.get(name);
        if (input == null) return new RunTimeIntegers(LowerIndex.input(plan, n, i), null);
        return new RunTimeIntegers(new Value(null, PlanArg.inputId(input), LowerIndex.shape(plan, name)), plan.graph.value(name).dtype());
    }

    long get(MemorySegment s, long e) {
        if (raw == null) return (long) s.getAtIndex(ValueLayout.JAVA_FLOAT, e);   // held as an exact F32 value
        return raw == DataType.I32 ? s.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, e) : s.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, e);
    }
}
