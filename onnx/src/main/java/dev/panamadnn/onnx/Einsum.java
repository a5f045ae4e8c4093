package dev.panamadnn.onnx;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Einsum (opsets 12-17) of one or two operands, composed of ReduceSum, Transpose, Reshape and one batched MatMul: the
 * letters only one operand has and the output lacks are summed out first; then the batch letters (both operands and the
 * output), the kept letters of each and the contracted ones (both operands, not the output) order A as [batch, A's kept,
 * contracted] and B as [batch, contracted, B's kept], a MatMul of [batch..., M, K] x [batch..., K, N] computes every
 * product, and a Reshape and Transpose give the output's order. Batch letters keep their own dims (a symbolic batch, as in
 * a dynamic-batch export, is copied by the Reshapes' 0 entries); a group of kept or contracted letters is merged into one
 * dim, which may be symbolic when it is the only such dim of its Reshape (a -1); a Reshape is left out where each group is
 * one letter. An ellipsis ({@code ...}, as {@code torch.einsum("...ij,...jk->...ik")} exports it) stands for letters of
 * its own, aligned to the right. A letter (of the ellipsis or named) of 1 in one operand and n in the other is broadcast
 * as NumPy and torch do, where it is a batch letter (kept in the output). An implicit
 * output is the ellipsis dims, then the letters used once, sorted. Refused by name: a letter twice in one term (diagonals),
 * more than two operands, a letter of two different fixed sizes (neither 1), and a letter broadcast but not kept in the
 * output; symbolic dims the Reshapes cannot express (two merged symbolic groups, a letter symbolic in one operand and
 * fixed in the other) are bound per call.
 */
final class Einsum {
    private Einsum() {}

    static List<String> translate(NodeContext n) {
        String eq = n.attributes.string("equation").replace(" ", "");
        String[] sides = eq.split("->", -1);
        String[] terms = sides[0].split(",", -1);
        if (terms.length != n.inputs.size()) throw n.refuse("equation '" + eq + "' has " + terms.length + " operands, the node " + n.inputs.size());
        if (terms.length > 2) throw n.refuse("equation '" + eq + "': at most two operands are supported");
        String ellipsis = expandEllipses(n, eq, terms);   // the letters standing for '...', or ""
        Map<Character, Dim> size = new LinkedHashMap<>();
        Map<Character, Integer> uses = new LinkedHashMap<>();
        java.util.Set<Character> broadcast = new java.util.HashSet<>();
        for (int t = 0; t < terms.length; t++) {
            var shape = n.value(t).shape();
            if (terms[t].length() != shape.rank()) throw n.refuse("term '" + terms[t] + "' has " + terms[t].length() + " letters for " + n.value(t));
            for (int i = 0; i < terms[t].length(); i++) {
                char c = terms[t].charAt(i);
                if (!Character.isLetter(c)) throw n.refuse("equation '" + eq + "': '" + c + "' is not a letter");
                if (terms[t].indexOf(c) != i) throw n.refuse("term '" + terms[t] + "' repeats '" + c + "' (a diagonal): not supported");
                Dim d = shape.dim(i), before = size.put(c, d);
                if (before != null && !before.equals(d)) {
                    if (before.equals(Dim.of(1)) || d.equals(Dim.of(1))) {   // NumPy's (and torch's) broadcasting of a dim of 1
                        size.put(c, before.equals(Dim.of(1)) ? d : before);
                        broadcast.add(c);
                    } else {
                        String why = "'" + c + "' is " + before + " in one operand and " + d + " in another";
                        if (before.isFixed() && d.isFixed()) throw n.refuse(why);
                        throw n.needsConstant("Einsum: " + why);
                    }
                }
                uses.merge(c, 1, Integer::sum);
            }
        }
        String out;
        if (sides.length > 1) {
            out = sides[1].replace("...", ellipsis);
            for (int i = 0; i < out.length(); i++) {
                if (!size.containsKey(out.charAt(i)) || out.indexOf(out.charAt(i)) != i) throw n.refuse("output '" + sides[1] + "' must use each input letter at most once");
            }
        } else {   // NumPy's implicit output: the ellipsis dims, then the letters used once, sorted
            StringBuilder sb = new StringBuilder(ellipsis);
            uses.entrySet().stream().filter(e -> e.getValue() == 1 && ellipsis.indexOf(e.getKey()) < 0).map(Map.Entry::getKey).sorted().forEach(sb::append);
            out = sb.toString();
        }
        for (char c : broadcast) {
            if (out.indexOf(c) < 0) {
                throw n.refuse("equation '" + eq + "': " + (ellipsis.indexOf(c) >= 0 ? "an ellipsis dim" : "'" + c + "'") + " broadcast from 1 must be kept in the output");
            }
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
        String left = regroup(n, transpose(n, a, ta, "" + batch + keepA + contract), size, batch, keepA, contract);
        String right = regroup(n, transpose(n, b, tb, "" + batch + contract + keepB), size, batch, contract, keepB);
        String product = n.emit("MatMul", Attributes.empty(), left, right);
        String order = "" + batch + keepA + keepB;
        if (keepA.length() != 1 || keepB.length() != 1) {
            String[] letters = new String[keepA.length() + keepB.length()];
            for (int i = 0; i < letters.length; i++) letters[i] = String.valueOf(order.charAt(batch.length() + i));
            product = reshape(n, product, "dims", size, batch, letters);
        }
        return List.of(transpose(n, product, order, out));
    }

    /**
     * {@code x}, whose letters are {@code batch} then {@code first} then {@code second}, as [batch..., first, second] with each
     * group merged into one dim (1 if empty); itself where both groups are one letter.
     */
    private static String regroup(NodeContext n, String x, Map<Character, Dim> size, CharSequence batch, CharSequence first, CharSequence second) {
        if (first.length() == 1 && second.length() == 1) return x;
        return reshape(n, x, "groups", size, batch, first.toString(), second.toString());
    }

    /**
     * {@code x} (batch letters first) reshaped to [batch..., groups...]: a batch letter's dim is copied (0), a group is the
     * product of its letters' dims, and at most one group not fixed is inferred (-1).
     */
    private static String reshape(NodeContext n, String x, String what, Map<Character, Dim> size, CharSequence batch, String... groups) {
        long[] target = new long[batch.length() + groups.length];
        // batch dims are copied (0): each operand's own (a '...' dim broadcast from 1 differs between them), or the product's
        String inferred = null;
        for (int g = 0; g < groups.length; g++) {
            Dim d = Dim.of(1);
            for (int i = 0; i < groups[g].length() && d != null; i++) d = d.times(size.get(groups[g].charAt(i)));
            if (d != null && d.isFixed()) {
                target[batch.length() + g] = d.size();
                continue;
            }
            if (inferred != null) {
                throw n.needsConstant("Einsum: letters '" + inferred + "' and '" + groups[g] + "' would both be symbolic dims of one Reshape");
            }
            inferred = groups[g];
            target[batch.length() + g] = -1;
        }
        return n.emit("Reshape", Attributes.empty(), x, n.longs(what, target, target.length));
    }

    /**
     * Replaces each term's {@code ...} by letters the equation does not use, one per dim it stands for, aligned to the right
     * across the terms as NumPy broadcasts them; returns the letters of the widest ellipsis ("" if none).
     */
    private static String expandEllipses(NodeContext n, String eq, String[] terms) {
        if (!eq.contains(".")) return "";
        if (eq.replace("...", "").contains(".")) throw n.refuse("equation '" + eq + "': a '.' outside an ellipsis '...'");
        int widest = 0;
        int[] width = new int[terms.length];
        for (int t = 0; t < terms.length; t++) {
            int at = terms[t].indexOf("...");
            if (at < 0) continue;
            if (terms[t].indexOf("...", at + 1) >= 0) throw n.refuse("term '" + terms[t] + "' has two ellipses");
            width[t] = n.value(t).shape().rank() - (terms[t].length() - 3);
            if (width[t] < 0) throw n.refuse("term '" + terms[t] + "' has more letters than " + n.value(t) + " has dims");
            widest = Math.max(widest, width[t]);
        }
        StringBuilder free = new StringBuilder();
        for (char c = 'A'; c <= 'z' && free.length() < widest; c++) if (Character.isLetter(c) && eq.indexOf(c) < 0) free.append(c);
        if (free.length() < widest) throw n.refuse("equation '" + eq + "': too many dims under its ellipsis");
        String letters = free.toString();
        for (int t = 0; t < terms.length; t++) terms[t] = terms[t].replace("...", letters.substring(widest - width[t]));
        return letters;
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
}
