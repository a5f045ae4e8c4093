package dev.panamadnn.onnx;

import dev.panamadnn.graph.Attributes;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * How one ONNX op, over a range of opsets, maps onto our ops: the attributes it understands
 * (any other is refused), the ops of ours it needs (refused while {@link dev.panamadnn.graph.Ops}
 * lacks one), a check of attribute values that can be judged before building, and the
 * translation. Made by {@link OpTable}.
 *
 * @param op         the ONNX op type (default domain)
 * @param fromOpset  the first opset this rule covers
 * @param toOpset    the last opset this rule covers
 * @param attributes every attribute understood at these opsets
 * @param targets    our ops the translation emits
 * @param check      a problem with the attribute values, or null when they are fine
 * @param translate  the translation; returns our names of the node's outputs
 * @param note       the limits, for docs/onnx.md (empty if none)
 */
record OpRule(String op, int fromOpset, int toOpset, Set<String> attributes, List<String> targets, Check check, Translate translate,
              String note) {

    /** A problem with a node's attributes, or null; judged before any node is built. */
    @FunctionalInterface
    interface Check {
        String problem(Attributes attributes, int opset);
    }

    /** Emits our nodes for one ONNX node; returns our names of its outputs, in order. */
    @FunctionalInterface
    interface Translate {
        List<String> apply(NodeContext node);
    }

    OpRule {
        attributes = Set.copyOf(new TreeSet<>(attributes));
        targets = List.copyOf(targets);
    }

    OpRule check(Check c) {
        return new OpRule(op, fromOpset, toOpset, attributes, targets, c, translate, note);
    }

    OpRule translate(Translate t, String... ourOps) {
        return new OpRule(op, fromOpset, toOpset, attributes, ourOps.length == 0 ? targets : List.of(ourOps), check, t, note);
    }

    OpRule note(String text) {
        return new OpRule(op, fromOpset, toOpset, attributes, targets, check, translate, text);
    }

    /** This rule up to opset {@code to}. */
    OpRule until(int to) {
        return new OpRule(op, fromOpset, to, attributes, targets, check, translate, note);
    }

    boolean covers(int opset) {
        return opset >= fromOpset && opset <= toOpset;
    }
}
