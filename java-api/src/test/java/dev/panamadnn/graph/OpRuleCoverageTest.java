package dev.panamadnn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link Ops} keeps each op's metadata in a table and its shape rules in switches over the op name (no lambda per op, for
 * the cold start): every op the table names must reach a rule. Each op is inferred with its required inputs, F32 (I64 where
 * an F32 rule wants a shape, pads or axes vector), and again with an I64 input 0 (where an integer rule replaces the op's
 * own, that one). Whatever a rule makes of such inputs (a shape, or an exception about them) is fine; what fails is the
 * switches' "no rule" error, or a refusal by the checks that run before any rule (then the rule was not reached).
 */
class OpRuleCoverageTest {
    /** The messages of Ops.infer's own checks, made before a rule runs. */
    private static final Pattern BEFORE_RULE = Pattern.compile(
            "expected .* inputs, got .*|expected .* output\\(s\\), got .*|unknown attribute .*|input \\d+ is required|input \\d+ .* must be (F32|I64), got .*");

    @Test
    void everyOpReachesAShapeRule() {
        List<String> problems = new ArrayList<>();
        int tried = 0;
        for (String op : Ops.names()) {
            for (DataType first : new DataType[] {DataType.F32, DataType.I64}) {
                int count = Ops.minInputs(op);
                List<String> names = new ArrayList<>();
                List<Value> inputs = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    boolean vector = i == 1 && (op.equals("Reshape") || op.equals("Pad") || op.startsWith("Reduce"));
                    DataType dtype = i == 0 ? first : vector ? DataType.I64 : DataType.F32;
                    names.add("in" + i);
                    inputs.add(new Value("in" + i, dtype, vector ? Shape.of(4) : Shape.of(2, 3, 4, 4)));
                }
                Node node = new Node("n", op, names, List.of("out"), Attributes.empty());
                tried++;
                try {
                    Ops.infer(node, inputs, new Known(Map.of()));
                } catch (GraphException e) {
                    boolean typedRefusal = first == DataType.I64 && e.getMessage().matches("input 0 .* must be F32, got .*");
                    if (BEFORE_RULE.matcher(e.getMessage()).matches() && !typedRefusal) {
                        problems.add(op + " (input 0 " + first + "): refused before its rule: " + e.getMessage());
                    }
                } catch (IllegalStateException e) {
                    if (String.valueOf(e.getMessage()).contains("rule for ")) problems.add(op + " (input 0 " + first + "): " + e.getMessage());
                } catch (RuntimeException e) {
                    // a rule ran on inputs it does not accept (and said so its own way): reached
                }
            }
        }
        assertEquals(2 * Ops.names().size(), tried);
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }
}
