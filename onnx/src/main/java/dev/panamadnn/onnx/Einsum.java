package dev.panamadnn.onnx;

import dev.panamadnn.graph.Attributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Einsum (opsets 12-17) of one or two operands, composed of ReduceSum, Transpose, Reshape and one batched MatMul: the
 * letters only one operand has and the output lacks are summed out first; then the batch letters (both operands and the
 * output), the kept letters of each and the contracted ones (both operands, not the output) order A as [batch, A's kept,
 * contracted] and B as [batch, contracted, B's kept], a MatMul of [Bt, M, K] x [Bt, K, N] computes every product, and a
 * Reshape and Transpose give the output's order. An implicit output is the letters used once, sorted. Refused by name:
 * ellipses, a letter twice in one term (diagonals), more than two operands, dims not fixed when importing (then bound per
 * call), and a letter of two different sizes.
 */
final class Einsum {
    private Einsum() {}

    static List<String> translate(NodeContext n) {
        String eq = n.attributes.string("equation").replace(" ", "");
        if (eq.contains(".")) throw n.refuse("equation '" + eq + "': ellipses are not supported");
        String[] sides = eq.split("->", -1);
        String[] terms = sides[0].split(",", -1);
        if (terms.length != n.inputs.size()) throw n.refuse("equation '" + eq + "' has " + terms.length + " operands, the node " + n.inputs.size());
        if (terms.length > 2) throw n.refuse("equation '" + eq + "': at most two operands are supported");
        Map<Character, Long> size = new LinkedHashMap<>();
        Map<Character, Integer> uses = new LinkedHashMap<>();
        for (int t = 0; t < terms.length; t++) {
            var shape = n.value(t).shape();
            if (terms[t].length() != shape.rank()) throw n.refuse("term '" + terms[t] + "' has " + terms[t].length() + " letters for " + n.value(t));
            if (!shape.isFixed()) throw n.needsConstant("Einsum needs fixed dims, got " + n.value(t));
            for (int i = 0; i < terms[t].length(); i++) {
                char c = terms[t].charAt(i);
                if (!Character.isLetter(c)) throw n.refuse("equation '" + eq + "': '" + c + "' is not a letter");
                if (terms[t].indexOf(c) != i) throw n.refuse("term '" + terms[t] + "' repeats '" + c + "' (a diagonal): not supported");
                Long before = size.put(c, shape.dim(i).size());
                if (before != null && before != shape.dim(i).size()) {
                    throw n.refuse("'" + c + "' is " + before + " in one operand and " + shape.dim(i).size() + " in another");
                }
                uses.merge(c, 1, Integer::sum);
            }
        }
        String out;
        if (sides.length > 1) {
            out = sides[1];
            for (int i = 0; i < out.length(); i++) {
                if (!size.containsKey(out.charAt(i)) || out.indexOf(out.charAt(i)) != i) throw n.refuse("output '" + out + "' must use each input letter at most once");
            }
        } else {
            StringBuilder sb = new StringBuilder();
            uses.entrySet().stream().filter(e -> e.getValue() == 1).map(Map.Entry::getKey).sorted().forEach(sb::append);
            out = sb.toString();
        }
        String a = n.input(0), ta = terms[0];
        String[] reduced = reduce(n, a, ta, terms.length > 1 ? terms[1] : "", out);
        a = reduced[0];
        ta = reduced[1];
        if (terms.length == 1) return List.of(transpose(n, a, ta, out));
        String[] rb = reduce(n, n.input(1), terms[1], ta, out);
        String b = rb[0], tb = rb[1];
        StringBuilder batch = new StringBuilder(), keepA = new StringBuilder(), keepB = new StringBuilder(), contract = new StringBuilder();
        for (char c : ta.toCharArray()) {
            if (tb.indexOf(c) >= 0) (out.indexOf(c) >= 0 ? batch : contract).append(c);
            else keepA.append(c);
        }
        for (char c : tb.toCharArray()) if (ta.indexOf(c) < 0) keepB.append(c);
        long bt = product(size, batch), m = product(size, keepA), k = product(size, contract), nn = product(size, keepB);
        String left = n.emit("Reshape", Attributes.empty(), transpose(n, a, ta, "" + batch + keepA + contract), n.longs("left", new long[] {bt, m, k}, 3));
        String right = n.emit("Reshape", Attributes.empty(), transpose(n, b, tb, "" + batch + contract + keepB), n.longs("right", new long[] {bt, k, nn}, 3));
        String product = n.emit("MatMul", Attributes.empty(), left, right);
        String order = "" + batch + keepA + keepB;
        long[] dims = new long[order.length()];
        for (int i = 0; i < dims.length; i++) dims[i] = size.get(order.charAt(i));
        return List.of(transpose(n, n.emit("Reshape", Attributes.empty(), product, n.longs("dims", dims, dims.length)), order, out));
    }

    /** {@code x} (letters {@code term}) with the letters neither {@code other} nor {@code out} has summed out: [value, its letters]. */
    private static String[] reduce(NodeContext n, String x, String term, String other, String out) {
        List<Long> axes = new ArrayList<>();
        StringBuilder kept = new StringBuilder();
        for (int i = 0; i < term.length(); i++) {
            char c = term.charAt(i);
            if (other.indexOf(c) < 0 && out.indexOf(c) < 0) axes.add((long) i);
            else kept.append(c);
        }
        if (axes.isEmpty()) return new String[] {x, term};
        long[] ax = axes.stream().mapToLong(Long::longValue).toArray();
        return new String[] {n.emit("ReduceSum", Attributes.of("keepdims", 0L), x, n.longs("axes", ax, ax.length)), kept.toString()};
    }

    /** {@code x} (letters {@code from}) transposed to the letters' order {@code to} (itself if already so). */
    private static String transpose(NodeContext n, String x, String from, String to) {
        if (from.equals(to)) return x;
        long[] perm = new long[to.length()];
        for (int i = 0; i < perm.length; i++) perm[i] = from.indexOf(to.charAt(i));
        return n.emit("Transpose", Attributes.of("perm", perm), x);
    }

    private static long product(Map<Character, Long> size, CharSequence letters) {
        long p = 1;
        for (int i = 0; i < letters.length(); i++) p *= size.get(letters.charAt(i));
        return p;
    }
}
