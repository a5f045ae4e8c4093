package dev.panamadnn.onnx;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Opsets 18 to 23 (ONNX 1.13 to 1.18; torch's dynamo exporter writes 18 and up). Most ops' versions in these opsets only
 * widen the element types (bfloat16, float8, int4, float4: types we refuse where they appear), so a rule that reaches
 * opset 17 covers them unchanged; {@link #CHANGED} names the first later version of each op we import whose form
 * differs, where such a rule stops. The rules here take those forms: axes as an input of the reductions, Pad's axes,
 * Split's num_outputs, Resize's new attributes, the scatters' min/max, GridSample's renamed modes, the quantizers'
 * block and type attributes; and the new ops GroupNormalization, Mish, Gelu, RMSNormalization, Attention and
 * RotaryEmbedding ({@link AttentionOps}), composed of ours.
 */
final class LaterOpsets {
    private LaterOpsets() {}

    static final int FIRST = 18;

    /** The first version after opset 17 of each op we import whose attributes, inputs or semantics change (not only its types). */
    static final Map<String, Integer> CHANGED = Map.ofEntries(
            Map.entry("LpPool", 18), Map.entry("Pad", 18), Map.entry("Resize", 18), Map.entry("ScatterElements", 18),
            Map.entry("ScatterND", 18), Map.entry("Split", 18), Map.entry("ReduceL1", 18), Map.entry("ReduceL2", 18),
            Map.entry("ReduceLogSum", 18), Map.entry("ReduceLogSumExp", 18), Map.entry("ReduceMax", 18), Map.entry("ReduceMean", 18),
            Map.entry("ReduceMin", 18), Map.entry("ReduceProd", 18), Map.entry("ReduceSumSquare", 18), Map.entry("AveragePool", 19),
            Map.entry("Cast", 19), Map.entry("CastLike", 19), Map.entry("QuantizeLinear", 19), Map.entry("DequantizeLinear", 21),
            Map.entry("GridSample", 20));

    /** Extends {@code op}'s rules ending at opset 17 to the opset before its next change (or {@link OpTable#MAX_OPSET}); adds its later forms. */
    static void addTo(String op, List<OpRule> rules, int max) {
        for (int i = 0; i < rules.size(); i++) {
            OpRule r = rules.get(i);
            if (r.toOpset() == FIRST - 1) rules.set(i, r.until(CHANGED.getOrDefault(r.op(), max + 1) - 1));
        }
        switch (op) {
            case "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp" -> {
                OpRule before = at(rules, FIRST - 1);
                rules.add(rule(op, FIRST, max, Set.of("keepdims", "noop_with_empty_axes"), before.targets(), null, n -> reduce(n, before),
                        "axes a constant (or a bound input); as opset 17's form" + (before.note().isEmpty() ? "" : "; " + before.note())));
            }
            case "Split" -> rules.add(rule(op, FIRST, max, Set.of("axis", "num_outputs"), at(rules, FIRST - 1).targets(), (a, o) -> a.has("num_outputs")
                    && a.integer("num_outputs") < 1 ? "num_outputs must be >= 1, got " + a.integer("num_outputs") : null,
                    n -> n.emit("Split", OpTable.kept(n.attributes), n.inputs, n.outputCount), "num_outputs: equal parts, the last smaller"));
            case "Pad" -> {
                OpRule pad = at(rules, FIRST - 1);
                rules.add(rule(op, FIRST, max, Set.of("mode"), pad.targets(), (a, o) -> a.string("mode", "constant").equals("wrap") && o < 19
                        ? "mode 'wrap' exists from opset 19 on" : null, LaterOpsets::pad, "axes (input 3) a constant, pads then known too; mode wrap "
                        + "(opset 19 on) as the other modes (a dim padded at one end and cropped at the other refused); " + pad.note()));
            }
            case "Resize" -> {
                OpRule resize = at(rules, FIRST - 1);
                Set<String> resizeAttrs = new java.util.HashSet<>(resize.attributes());
                resizeAttrs.addAll(Set.of("antialias", "axes", "keep_aspect_ratio_policy"));
                rules.add(rule(op, FIRST, max, resizeAttrs, resize.targets(), (a, o) -> {
                    if (a.integer("antialias", 0) != 0) return "antialias = 1 is not supported";
                    if (!a.string("keep_aspect_ratio_policy", "stretch").equals("stretch")) {
                        return "keep_aspect_ratio_policy '" + a.string("keep_aspect_ratio_policy") + "' is not supported (only stretch)";
                    }
                    return resize.check() == null ? null : resize.check().problem(a, o);
                }, n -> resize(n, resize), "antialias 0 and keep_aspect_ratio_policy stretch; axes with scales or sizes constant; " + resize.note()));
            }
            case "ScatterElements", "ScatterND" -> {
                OpRule before = at(rules, FIRST - 1);
                rules.add(rule(op, FIRST, max, before.attributes(), before.targets(), (a, o) -> Set.of("min", "max").contains(a.string("reduction", ""))
                        ? "reduction '" + a.string("reduction") + "' is not supported (none, add, mul)" : null, before.translate(), before.note()));
            }
            case "AveragePool" -> {
                OpRule average = at(rules, FIRST - 1);
                rules.add(withAttributes(average, 19, max, LaterOpsets::undilated, "dilations").note(average.note() + "; dilations 1"));
            }
            case "LpPool" -> {
                OpRule lpPool = at(rules, FIRST - 1);
                rules.add(withAttributes(lpPool, FIRST, max, (a, o) -> {
                    if (a.integer("ceil_mode", 0) != 0) return "ceil_mode = 1 is not supported";
                    return undilated(a, o);
                }, "ceil_mode", "dilations").note(lpPool.note() + "; ceil_mode 0, dilations 1"));
            }
            case "Cast", "CastLike" -> {
                OpRule before = at(rules, FIRST - 1);   // saturate changes only float8 results, a type we refuse
                rules.add(withAttributes(before, 19, max, null, "saturate").note((before.note().isEmpty() ? "" : before.note() + "; ")
                        + "saturate (float8 only) accepted"));
            }
            case "QuantizeLinear" -> {
                OpRule quantize = at(rules, FIRST - 1);
                String[] quantizeAttrs = {"saturate", "block_size", "output_dtype", "precision"};
                rules.add(withAttributes(quantize, 19, max, LaterOpsets::quantizeCheck, quantizeAttrs).translate(n -> {
                    NodeContext s = stripped(n, quantizeAttrs);
                    if (n.input(2).isEmpty() && n.attributes.integer("output_dtype", 0) == 3) {   // INT8 without a zero point: one of 0 in INT8
                        s = s.with(s.attributes, List.of(n.input(0), n.input(1), n.zero("zero_point", DataType.I8)));
                    }
                    return quantize.translate().apply(s);
                }).note(quantize.note() + "; block_size 0; output_dtype UINT8 or INT8 (the zero point's type where given)"));
            }
            case "DequantizeLinear" -> {
                OpRule dequantize = at(rules, FIRST - 1);
                rules.add(withAttributes(dequantize, 21, max, (a, o) -> a.integer("block_size", 0) != 0
                        ? "block_size (blocked quantization) is not supported"
                        : a.integer("output_dtype", 0) > 1 ? "output_dtype " + a.integer("output_dtype") + " is not supported (FLOAT)" : null,
                        "block_size", "output_dtype").note(dequantize.note() + "; block_size 0, output_dtype FLOAT"));
            }
            case "GridSample" -> {
                OpRule grid = at(rules, FIRST - 1);
                rules.add(rule(op, 20, max, grid.attributes(), grid.targets(), (a, o) -> Set.of("linear", "nearest", "cubic")
                        .contains(a.string("mode", "linear")) ? null : "mode '" + a.string("mode") + "' is not one of linear, nearest, cubic", n -> {
                            String mode = n.attributes.string("mode", "linear");
                            Attributes a = n.attributes.toBuilder().put("mode", mode.equals("linear") ? "bilinear" : mode.equals("cubic") ? "bicubic"
                                    : mode).build();
                            return grid.translate().apply(n.with(a, n.inputs));
                        }, "modes linear, nearest, cubic as opset 16's bilinear, nearest, bicubic; " + grid.note()));
            }
            case "Gelu" -> rules.add(rule(op, 20, max, Set.of("approximate"), List.of("Gelu"), (a, o) -> Set.of("none", "tanh")
                    .contains(a.string("approximate", "none")) ? null : "approximate must be 'none' or 'tanh', got '" + a.string("approximate") + "'",
                    n -> List.of(n.emit("Gelu", n.attributes, n.input(0))), ""));
            case "Mish" -> rules.add(rule(op, FIRST, max, Set.of(), List.of("Softplus", "Tanh", "Mul"), null, n -> {
                Attributes none = Attributes.empty();
                return List.of(n.emit("Mul", none, n.input(0), n.emit("Tanh", none, n.emit("Softplus", none, n.input(0)))));
            }, "as X * Tanh(Softplus(X))"));
            case "GroupNormalization" -> {
                List<String> norm = List.of("Reshape", "InstanceNormalization", "Constant", "Mul", "Add");
                rules.add(rule(op, FIRST, 20, Set.of("epsilon", "num_groups"), norm, null, n -> groupNorm(n, false),
                        "scale and bias per group; as an InstanceNormalization of [N, groups, rest] (C and the dims after it fixed)"));
                rules.add(rule(op, 21, max, Set.of("epsilon", "num_groups", "stash_type"), norm, (a, o) ->
                        a.integer("stash_type", 1) != 1 ? "stash_type " + a.integer("stash_type") + " is not supported (1: FLOAT)" : null,
                        n -> groupNorm(n, true), "scale and bias per channel; as an InstanceNormalization of [N, groups, rest] (C and the dims after "
                        + "it fixed)"));
            }
            case "Attention" -> rules.add(rule(op, 23, max, Set.of("is_causal", "kv_num_heads", "q_num_heads", "qk_matmul_output_mode", "scale",
                    "softcap", "softmax_precision"), AttentionOps.ATTENTION_OPS, (a, o) -> a.integer("softmax_precision", 1) != 1 ? "softmax_precision "
                    + a.integer("softmax_precision") + " is not supported (1: FLOAT)" : null, AttentionOps::attention, "Q, K, V FLOAT, 3-D (with "
                    + "q_num_heads, kv_num_heads) or 4-D, the head size fixed; grouped queries; past_key/past_value and the present outputs; a BOOL "
                    + "or FLOAT attn_mask; is_causal with the query, key and past lengths fixed; softcap; qk_matmul_output in modes 0-3; a fully "
                    + "masked row gives zeros"));
            case "RotaryEmbedding" -> rules.add(rule(op, 23, max, Set.of("interleaved", "num_heads", "rotary_embedding_dim"),
                    AttentionOps.ROTARY_OPS, null, AttentionOps::rotary, "X FLOAT, 3-D (with num_heads) or 4-D, the head size fixed; halves or "
                    + "interleaved; partial rotation; position_ids or caches [B, S, R/2]"));
            case "RMSNormalization" -> rules.add(rule(op, 23, max, Set.of("axis", "epsilon", "stash_type"), List.of("Mul", "ReduceMean", "Add",
                    "Sqrt", "Reciprocal"), (a, o) -> a.integer("stash_type", 1) != 1 ? "stash_type " + a.integer("stash_type")
                    + " is not supported (1: FLOAT)" : null, LaterOpsets::rmsNorm, "X / sqrt(mean(X^2 over the axes from axis on) + epsilon) * "
                    + "scale, in F32"));
            default -> { }
        }
    }

    /** The rule among {@code rules} (one op's) that covers {@code opset}. */
    private static OpRule at(List<OpRule> rules, int opset) {
        for (OpRule r : rules) if (r.covers(opset)) return r;
        throw new IllegalStateException("no rule at opset " + opset + " among " + rules);
    }

    /** Pooling's dilations from opset 19 on: only 1 (none) is supported. */
    private static String undilated(Attributes a, int opset) {
        for (long d : a.integers("dilations", new long[0])) {
            if (d != 1) return "dilations other than 1 are not supported, got " + java.util.Arrays.toString(a.integers("dilations"));
        }
        return null;
    }

    private static OpRule rule(String op, int from, int to, Set<String> attributes, List<String> targets, OpRule.Check check,
                               OpRule.Translate translate, String note) {
        return new OpRule(op, from, to, attributes, targets, check, translate, note);
    }

    /** {@code before}'s translation at opsets {@code from..to}, understanding {@code more} attributes that {@code check} judges (then dropped). */
    private static OpRule withAttributes(OpRule before, int from, int to, OpRule.Check check, String... more) {
        Set<String> attributes = new java.util.HashSet<>(before.attributes());
        attributes.addAll(List.of(more));
        OpRule.Check both = (a, o) -> {
            String p = check == null ? null : check.problem(a, o);
            return p != null || before.check() == null ? p : before.check().problem(a, o);
        };
        return rule(before.op(), from, to, attributes, before.targets(), both, n -> before.translate().apply(stripped(n, more)), before.note());
    }

    /** {@code n} without the attributes {@code names}: what an earlier opset's translation understands. */
    private static NodeContext stripped(NodeContext n, String... names) {
        Attributes.Builder b = n.attributes.toBuilder();
        for (String m : names) b.remove(m);
        return n.with(b.build(), n.inputs);
    }

    /** {@code value}, an axis of a rank-{@code rank} input in [-rank, rank), as a dim index; else a refusal naming it. */
    private static int axis(NodeContext n, long value, int rank) {
        long ax = value < 0 ? value + rank : value;
        if (ax < 0 || ax >= rank) throw n.refuse("axes value " + value + " is outside [-" + rank + ", " + (rank - 1) + "] for " + n.value(0));
        return (int) ax;
    }

    private static String quantizeCheck(Attributes a, int opset) {
        if (a.integer("block_size", 0) != 0) return "block_size (blocked quantization) is not supported";
        long type = a.integer("output_dtype", 0);
        if (type != 0 && type != 2 && type != 3) return "output_dtype " + type + " is not supported (UINT8 or INT8)";
        long precision = a.integer("precision", 0);
        if (precision != 0 && precision != 1) return "precision " + precision + " is not supported (FLOAT)";
        return null;
    }

    /**
     * Reductions of opset 18 on: axes as input 1 (known), {@code noop_with_empty_axes}; then opset 17's rule with axes as an
     * attribute. With no axes and {@code noop_with_empty_axes} nothing is reduced but the op's other operations are done,
     * as the operator text says ("ReduceSumSquare acts as a vanilla Square") and ONNX's reference and ONNX Runtime do:
     * L1 is {@code |x|}, L2 {@code sqrt(x * x)}, SumSquare {@code x * x}, LogSum {@code log(x)}; the others (LogSumExp's
     * {@code log(exp(x))} included) are {@code x}.
     */
    private static List<String> reduce(NodeContext n, OpRule before) {
        Attributes.Builder a = Attributes.builder().put("keepdims", n.attributes.integer("keepdims", 1));
        long[] axes = n.input(1).isEmpty() ? new long[0] : longs(n, 1, "axes");
        if (axes.length == 0 && n.attributes.integer("noop_with_empty_axes", 0) != 0) {
            String x = n.input(0);
            Attributes none = Attributes.empty();
            return List.of(switch (n.op) {
                case "ReduceL1" -> n.emit("Abs", none, x);
                case "ReduceL2" -> n.emit("Sqrt", none, n.emit("Mul", none, x, x));
                case "ReduceSumSquare" -> n.emit("Mul", none, x, x);
                case "ReduceLogSum" -> n.emit("Log", none, x);
                default -> n.emit("Identity", none, x);
            });
        }
        if (axes.length > 0) a.put("axes", axes);
        return before.translate().apply(n.with(a.build(), List.of(n.input(0))));
    }

    /** Pad of opset 18 on: {@code axes} (input 3) names the dims {@code pads} covers; both known, the pads are widened to every dim. */
    private static List<String> pad(NodeContext n) {
        String pads = n.input(3).isEmpty() ? n.input(1) : widenedPads(n);
        String[] ins = n.input(2).isEmpty() ? new String[] {n.input(0), pads} : new String[] {n.input(0), pads, n.input(2)};
        return List.of(n.emit("Pad", OpTable.kept(n.attributes), ins));
    }

    /** Pad's pads over its axes (input 3) as pads over every dim (0 elsewhere), a new constant. */
    private static String widenedPads(NodeContext n) {
        long[] axes = longs(n, 3, "axes"), pads = longs(n, 1, "pads");
        int rank = n.value(0).shape().rank();
        if (pads.length != 2 * axes.length) {
            throw n.refuse("pads must hold 2 x " + axes.length + " values (one begin and one end per axis of axes), got " + pads.length);
        }
        long[] full = new long[2 * rank];
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < axes.length; i++) {
            int ax = axis(n, axes[i], rank);
            if (seen[ax]) throw n.refuse("axes " + java.util.Arrays.toString(axes) + " names dim " + ax + " twice");
            seen[ax] = true;
            full[ax] = pads[i];
            full[ax + rank] = pads[i + axes.length];
        }
        return n.longs("pads", full, full.length);
    }

    /** Resize of opset 18 on: {@code axes} widens constant scales (1 elsewhere) or sizes (the input's fixed dims elsewhere) to every dim. */
    private static List<String> resize(NodeContext n, OpRule before) {
        Attributes.Builder b = n.attributes.toBuilder().remove("antialias").remove("keep_aspect_ratio_policy").remove("axes");
        if (!n.attributes.has("axes")) return before.translate().apply(n.with(b.build(), n.inputs));
        var x = n.value(0).shape();
        int rank = x.rank();
        long[] axes = n.attributes.integers("axes");
        int[] dims = new int[axes.length];
        for (int i = 0; i < axes.length; i++) dims[i] = axis(n, axes[i], rank);
        List<String> inputs = new ArrayList<>(n.inputs);
        while (inputs.size() < 4) inputs.add("");
        if (!inputs.get(1).isEmpty() && n.attributes.string("coordinate_transformation_mode", "").equals("tf_crop_and_resize")) {
            throw n.refuse("tf_crop_and_resize with axes is not supported");
        }
        boolean sizes = !n.input(3).isEmpty();
        Tensor given = n.constant(sizes ? 3 : 2);
        if (given == null) throw n.needsConstant((sizes ? "sizes" : "scales") + " must be known (a constant or a bound input) with axes");
        if (given.numel() != axes.length) throw n.refuse((sizes ? "sizes" : "scales") + " must hold one value per axis of axes (" + axes.length + "), got "
                + given.numel());
        if (sizes) {
            long[] s = longs(n, 3, "sizes"), full = new long[rank];
            for (int d = 0; d < rank; d++) {
                if (!x.dim(d).isFixed()) throw n.needsConstant("dim " + d + " of " + n.value(0) + " must be fixed to widen sizes over axes");
                full[d] = x.dim(d).size();
            }
            for (int i = 0; i < dims.length; i++) full[dims[i]] = s[i];
            inputs.set(3, n.longs("sizes", full, full.length));
            inputs.set(2, "");
        } else {
            if (given.dtype() != DataType.F32) throw n.refuse("scales must be FLOAT, got " + n.value(2));
            float[] full = new float[rank];
            java.util.Arrays.fill(full, 1f);
            for (int i = 0; i < dims.length; i++) full[dims[i]] = given.segment().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            inputs.set(2, n.floats("scales", full, full.length));
        }
        inputs.set(1, "");
        return before.translate().apply(n.with(b.build(), inputs));
    }

    /**
     * GroupNormalization: X [N, C, ...] viewed as [N, groups, C / groups x rest], each row normalized by
     * InstanceNormalization (scale 1, bias 0; the row's mean and biased variance, as the group's), viewed back, then the
     * affine part: per group (opset 18, scale and bias [groups], applied on the view) or per channel (opset 21, [C]).
     */
    private static List<String> groupNorm(NodeContext n, boolean perChannel) {
        var x = n.value(0).shape();
        if (n.value(0).dtype() != DataType.F32) throw n.refuse("X must be FLOAT, got " + n.value(0));
        if (x.rank() < 3) throw n.refuse("X must be [N, C, D1, ...] (rank >= 3), got " + n.value(0));
        long groups = n.attributes.integer("num_groups");
        long[] back = new long[x.rank()];   // 0 copies the batch
        for (int d = 1; d < x.rank(); d++) {
            if (!x.dim(d).isFixed()) throw n.needsConstant("dim " + d + " of " + n.value(0) + " must be fixed (C and the dims after it)");
            back[d] = x.dim(d).size();
        }
        long c = back[1];
        if (groups < 1 || c % groups != 0) throw n.refuse("num_groups " + groups + " must be >= 1 and divide the " + c + " channels of " + n.value(0));
        long affine = perChannel ? c : groups;
        for (int i = 1; i <= 2; i++) {
            var s = n.value(i).shape();
            if (s.rank() != 1 || !s.dim(0).isFixed() || s.dim(0).size() != affine) {
                throw n.refuse((i == 1 ? "scale" : "bias") + " must be [" + affine + "] (" + (perChannel ? "one per channel" : "one per group")
                        + "), got " + n.value(i));
            }
        }
        Attributes none = Attributes.empty();
        float[] ones = new float[(int) groups], zeros = new float[(int) groups];
        java.util.Arrays.fill(ones, 1f);
        String view = n.emit("Reshape", none, n.input(0), n.longs("groups", new long[] {0, groups, -1}, 3));
        String normed = n.emit("InstanceNormalization", Attributes.of("epsilon", n.attributes.real("epsilon", 1e-5)), view,
                n.floats("ones", ones, groups), n.floats("zeros", zeros, groups));
        if (!perChannel) {
            String scale = n.emit("Reshape", none, n.input(1), n.longs("per_group", new long[] {groups, 1}, 2));
            String bias = n.emit("Reshape", none, n.input(2), n.longs("per_group", new long[] {groups, 1}, 2));
            normed = n.emit("Add", none, n.emit("Mul", none, normed, scale), bias);
            return List.of(n.emit("Reshape", none, normed, n.longs("shape", back, back.length)));
        }
        long[] channel = new long[x.rank() - 1];
        java.util.Arrays.fill(channel, 1);
        channel[0] = c;
        String y = n.emit("Reshape", none, normed, n.longs("shape", back, back.length));
        String scale = n.emit("Reshape", none, n.input(1), n.longs("per_channel", channel, channel.length));
        String bias = n.emit("Reshape", none, n.input(2), n.longs("per_channel", channel, channel.length));
        return List.of(n.emit("Add", none, n.emit("Mul", none, y, scale), bias));
    }

    /** RMSNormalization: X times the reciprocal root of the mean of its squares over the dims from {@code axis} on plus epsilon, times scale. */
    private static List<String> rmsNorm(NodeContext n) {
        if (n.value(0).dtype() != DataType.F32) throw n.refuse("X must be FLOAT, got " + n.value(0));
        int rank = n.value(0).shape().rank();
        long axis = n.attributes.integer("axis", -1);
        if (axis < -rank || axis >= rank) throw n.refuse("axis " + axis + " is outside [-" + rank + ", " + (rank - 1) + "] for " + n.value(0));
        if (axis < 0) axis += rank;
        long[] axes = new long[(int) (rank - axis)];
        for (int i = 0; i < axes.length; i++) axes[i] = axis + i;
        Attributes none = Attributes.empty();
        String x = n.input(0);
        String mean = n.emit("ReduceMean", Attributes.of("axes", axes, "keepdims", 1L), n.emit("Mul", none, x, x));
        String inv = n.emit("Reciprocal", none, n.emit("Sqrt", none, n.emit("Add", none, mean, n.scalar("epsilon",
                (float) n.attributes.real("epsilon", 1e-5)))));
        return List.of(n.emit("Mul", none, n.emit("Mul", none, x, inv), n.input(1)));
    }

    /** Input {@code i}'s values, a known I64 or I32 vector (a constant or a bound input). */
    private static long[] longs(NodeContext n, int i, String what) {
        Tensor t = n.constant(i);
        if (t == null) throw n.needsConstant(what + " (input " + i + ") must be known (a constant or a bound input), got " + n.value(i));
        if (t.dtype() != DataType.I64 && t.dtype() != DataType.I32) throw n.refuse(what + " must be INT64 or INT32, got " + n.value(i));
        long[] v = new long[Math.toIntExact(t.numel())];
        for (int k = 0; k < v.length; k++) v[k] = TensorProtos.integer(t, k);
        return v;
    }
}
