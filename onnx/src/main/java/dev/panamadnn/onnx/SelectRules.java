package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.OpTable.same;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;

/**
 * The {@link OpTable} rules of the element-selecting and resampling ops: GatherElements, GatherND, ScatterElements (and Scatter-9), Tile,
 * Resize (opsets 10-17) and Upsample (7-9) onto our Resize, ArgMax/ArgMin, TopK, OneHot, CumSum, BitShift, GreaterOrEqual/LessOrEqual,
 * the loss ops NegativeLogLikelihoodLoss/SoftmaxCrossEntropyLoss, PRelu-6, Neg of integers. Added to the table by
 * {@link OpTable#rules} when an op is first looked up.
 */
final class SelectRules {
    private SelectRules() {}

    private static final Set<String> COORDINATES = Set.of("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
            "tf_crop_and_resize");

    /** {@code op}'s rules if it is one of these ops. */
    static void addTo(String op, List<OpRule> rules) {
        switch (op) {
            case "GatherElements" -> rules.add(same(op, 11, 17, "axis").note("indices constant, bound, or computed at run time (torch.gather by "
                    + "an argsort or topk: an index out of range then an exception naming the node)"));
            case "ScatterElements" -> {
                rules.add(same(op, 11, 15, "axis").note(SCATTER));
                rules.add(same(op, 16, 17, "axis", "reduction").note(SCATTER + "; reduction none, add, mul"));
            }
            case "Scatter" -> rules.add(same(op, 9, 10, "axis").translate(n -> List.of(n.emit("ScatterElements", OpTable.kept(n.attributes),
                    n.inputs.toArray(String[]::new))), "ScatterElements").note("as ScatterElements; " + SCATTER));
            case "Tile" -> rules.add(same(op, 6, 17));
            case "RoiAlign" -> {
                String roi = "avg mode (max refused); the rois at run time, batch_indices known or a graph input; a Java step as torchvision's "
                        + "roi_align";
                rules.add(same(op, 16, 17, "mode", "output_height", "output_width", "sampling_ratio", "spatial_scale",
                        "coordinate_transformation_mode").note(roi));
                rules.add(same(op, 10, 15, "mode", "output_height", "output_width", "sampling_ratio", "spatial_scale")
                        .translate(n -> List.of(n.emit("RoiAlign", OpTable.kept(n.attributes).toBuilder().put("coordinate_transformation_mode",
                                "output_half_pixel").build(), n.inputs.toArray(String[]::new))), "RoiAlign")
                        .note("as opset 16's with output_half_pixel (the only form then); " + roi));
            }
            case "GridSample" -> rules.add(same(op, 16, 17, "mode", "padding_mode", "align_corners").note("4-D; bilinear, nearest, bicubic; zeros, "
                    + "border, reflection padding; a Java step with PyTorch's grid_sample arithmetic; the grid constant or computed at run time"));
            case "MaxUnpool" -> rules.add(same(op, 9, 17, "kernel_shape", "strides", "pads").note("indices constant, bound, or computed at run "
                    + "time (MaxPool's Indices output): an index outside the output is an exception naming the node; output_shape known"));
            case "GatherND" -> {
                String note = "F32 data (any dtype where data and indices are known); indices constant, bound, or computed at run time (an index "
                        + "out of range then an exception naming the node)";
                rules.add(same(op, 12, 17, "batch_dims").note(note));
                rules.add(same(op, 11, 11).note(note));
            }
            case "Resize" -> {
                rules.add(same(op, 11, 17, "mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                        "extrapolation_value").check(SelectRules::resizeCheck).translate(n -> List.of(n.emit("Resize", OpTable.kept(n.attributes),
                        n.input(0), n.attributes.string("coordinate_transformation_mode", "").equals("tf_crop_and_resize") ? n.input(1) : "",
                        givenScales(n), n.input(3))), "Resize")
                        .note("modes nearest, linear, cubic; tf_crop_and_resize with its roi known; scales or sizes known "
                                + "(constants, or bound inputs; an empty scales beside sizes is absent, as opset 11 writes it); align_corners takes "
                                + "the output length as scale x input length, as ONNX's reference"));
                rules.add(same(op, 10, 10, "mode").check(SelectRules::legacyCheck).translate(n -> legacy(n, n.input(1), scales(n)), "Resize")
                        .note(LEGACY));
            }
            case "Upsample" -> {
                rules.add(same(op, 9, 9, "mode").check(SelectRules::legacyCheck).translate(n -> legacy(n, n.input(1), scales(n)), "Resize")
                        .note(LEGACY));
                rules.add(same(op, 7, 8, "mode", "scales").check(SelectRules::legacyCheck).translate(n -> {
                    double[] s = n.attributes.reals("scales");
                    float[] f = new float[s.length];
                    for (int i = 0; i < s.length; i++) f[i] = (float) s[i];
                    String scales = n.emit("Constant", Attributes.of("value", TensorProtos.floats(n.arena(), f, f.length)));
                    return legacy(n, scales, f);
                }, "Resize", "Constant").note(LEGACY));
            }
            // ArgMax/ArgMin and TopK (indices held as exact F32 values in a plan, I64 outputs); GreaterOrEqual/LessOrEqual composed.
            case "ArgMax", "ArgMin" -> {
                rules.add(same(op, 1, 11, "axis", "keepdims"));
                rules.add(same(op, 12, 17, "axis", "keepdims", "select_last_index"));
            }
            case "TopK" -> {
                String topK = "K known (a constant, or a bound input), in [1, dim]; X F32, or integers known when compiling (pack_padded_sequence's "
                        + "sort of its lengths); the output always sorted (ONNX leaves sorted = 0's order "
                        + "free); equal values lower index first, NaN larger than every number (as PyTorch)";
                rules.add(same(op, 11, 17, "axis", "largest", "sorted").translate(n -> n.emit("TopK", OpTable.kept(n.attributes), n.inputs,
                        n.outputCount)).note(topK));
                rules.add(same(op, 10, 10, "axis").translate(n -> n.emit("TopK", OpTable.kept(n.attributes), n.inputs, n.outputCount)).note(topK));
                rules.add(same(op, 1, 9, "axis", "k").translate(n -> n.emit("TopK", Attributes.of("axis", n.attributes.integer("axis", -1)),
                        List.of(n.input(0), n.longs("k", new long[] {n.attributes.integer("k")}, 1)), n.outputCount)).note("k an attribute; " + topK));
            }
            case "OneHot" -> {
                String oneHot = "depth known (a constant, or a bound input); values a constant or computed; indices F32 (truncated) or integers, "
                        + "held exact at run time";
                rules.add(same(op, 11, 17, "axis").note(oneHot + "; an index outside [-depth, depth) gives a line of off_value"));
                rules.add(same(op, 9, 10, "axis").translate(SelectRules::legacyOneHot, "OneHot", "Less", "Where").note(oneHot
                        + "; a negative index gives a line of off_value (as Where(index < 0, out of range, index)); F32, I64 or unsigned indices"));
            }
            case "CumSum" -> rules.add(same(op, 11, 17, "exclusive", "reverse").note("axis known (a constant, or a bound input); F32 summed in "
                    + "double at run time; integers where their values are known (a bound attention mask's position ids), exactly"));
            case "BitShift" -> rules.add(same(op, 11, 17, "direction").note("unsigned integers where both operands are known (constants, bound "
                    + "inputs), as numpy: a shift by the type's width or more gives 0"));
            case "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss" -> rules.add(same(op, 12, 17, "reduction", "ignore_index")
                    .translate(n -> n.emit(op, OpTable.kept(n.attributes), n.inputs, Math.max(1, n.outputCount)))
                    .note("the target a constant (or a bound input); computed in double"));
            case "GreaterOrEqual", "LessOrEqual" -> {
                String strict = op.equals("GreaterOrEqual") ? "Greater" : "Less";
                rules.add(new OpRule(op, 12, 17, Set.of(), List.of(strict, "Equal", "Or"), null, n -> {
                    String s = n.emit(strict, Attributes.empty(), n.input(0), n.input(1));
                    String e = n.emit("Equal", Attributes.empty(), n.input(0), n.input(1));
                    return List.of(n.emit("Or", Attributes.empty(), s, e));
                }, "as Or(" + strict + ", Equal) (false for NaN, as ONNX)"));
            }
            default -> { }
        }
    }

    private static final String SCATTER = "indices known when compiling (constants, bound inputs); duplicate indices applied in order; integer "
            + "data computed when known (pack_padded_sequence's unsort)";

    private static final String LEGACY = "as Resize with asymmetric coordinates, nearest rounding down; scales known and (nearest) >= 1";

    /** PRelu-6: a slope of one value, or of C values per channel (dim 1) of X, as our PRelu (NumPy broadcasting) of a [C, 1, ...] slope. */
    static List<String> legacyPrelu(NodeContext n) {
        dev.panamadnn.graph.Shape x = n.value(0).shape(), s = n.value(1).shape();
        long numel = 1;
        for (int i = 0; i < s.rank(); i++) numel = s.dim(i).isFixed() ? numel * s.dim(i).size() : -1;
        if (numel == 1 || s.equals(x)) return List.of(n.emit("PRelu", Attributes.empty(), n.input(0), n.input(1)));
        if (s.rank() != 1 || x.rank() < 2 || !s.dim(0).equals(x.dim(1))) {
            throw n.refuse("opset-6 slope " + n.value(1) + " must have one value, the shape of X, or one value per channel of X " + n.value(0));
        }
        long[] shape = new long[x.rank() - 1];
        java.util.Arrays.fill(shape, 1);
        shape[0] = numel;
        String slope = n.emit("Reshape", Attributes.empty(), n.input(1), n.longs("slope_shape", shape, shape.length));
        return List.of(n.emit("PRelu", Attributes.empty(), n.input(0), slope));
    }

    /** OneHot-9/10: a negative index is out of range (from 11 on it counts from the end): replaced by one beyond every depth first. */
    static List<String> legacyOneHot(NodeContext n) {
        dev.panamadnn.DataType t = n.value(0).dtype();
        String idx = n.input(0);
        if (t == dev.panamadnn.DataType.F32 || t == dev.panamadnn.DataType.I64) {
            boolean f = t == dev.panamadnn.DataType.F32;
            String zero = f ? n.scalar("zero", 0f) : n.longs("zero", new long[] {0});
            String beyond = f ? n.scalar("beyond", Float.MAX_VALUE) : n.longs("beyond", new long[] {Long.MAX_VALUE});
            idx = n.emit("Where", Attributes.empty(), n.emit("Less", Attributes.empty(), idx, zero), beyond, idx);
        } else if (t != dev.panamadnn.DataType.U8 && t != dev.panamadnn.DataType.U16 && t != dev.panamadnn.DataType.U32 && t != dev.panamadnn.DataType.U64) {
            throw n.refuse("indices of " + t + " at opset " + n.opset + " are not supported (F32, I64 or unsigned are)");
        }
        return List.of(n.emit("OneHot", OpTable.kept(n.attributes), idx, n.input(1), n.input(2)));
    }

    /** Neg: ours on F32; on I64 (an axis or a count in a shape computation, e.g. ONNX's LayerNormalization function) as Sub(0, X). */
    static List<String> neg(NodeContext n) {
        if (n.value(0).dtype() != dev.panamadnn.DataType.I64) return List.of(n.emit("Neg", Attributes.empty(), n.input(0)));
        return List.of(n.emit("Sub", Attributes.empty(), n.longs("zero", new long[] {0}), n.input(0)));
    }

    /**
     * Resize's scales (input 2), or "" when it is an empty tensor and sizes (input 3) is given: Resize-11 has no
     * optional inputs, so its exporters (torch's opset-11 F.interpolate(size=...)) leave scales out as an empty
     * constant ("the user must set 'scales' to an empty tensor"); opset 13 still reads it so.
     */
    private static String givenScales(NodeContext n) {
        String scales = n.input(2);
        if (scales.isEmpty() || n.input(3).isEmpty() || !BoundInputs.isEmpty(n.value(2))) return scales;
        return "";
    }

    private static String resizeCheck(Attributes a, int opset) {
        String mode = a.string("mode", "nearest"), coord = a.string("coordinate_transformation_mode", "half_pixel");
        if (!Set.of("nearest", "linear", "cubic").contains(mode)) return "mode '" + mode + "' is not one of nearest, linear, cubic";
        if (!COORDINATES.contains(coord)) return "coordinate_transformation_mode '" + coord + "' is not supported (supported: " + new java.util.TreeSet<>(COORDINATES) + ")";
        String nearest = a.string("nearest_mode", "round_prefer_floor");
        if (!Set.of("round_prefer_floor", "round_prefer_ceil", "floor", "ceil").contains(nearest)) return "nearest_mode '" + nearest + "' is not supported";
        return null;
    }

    private static String legacyCheck(Attributes a, int opset) {
        String mode = a.string("mode", "nearest");
        return Set.of("nearest", "linear").contains(mode) ? null : "mode '" + mode + "' is not one of nearest, linear";
    }

    /** Upsample and Resize-10: our Resize, asymmetric, nearest rounding down (upsampling only, where rounding conventions agree). */
    private static List<String> legacy(NodeContext n, String scales, float[] known) {
        String mode = n.attributes.string("mode", "nearest");
        for (int i = 0; known != null && i < known.length; i++) {
            if (mode.equals("nearest") && known[i] < 1) {
                throw n.refuse("nearest downsampling (a scale < 1) is not supported at opset " + n.opset + " (implementations round differently)");
            }
        }
        Attributes a = Attributes.builder().put("mode", mode).put("coordinate_transformation_mode", "asymmetric").put("nearest_mode", "floor").build();
        return List.of(n.emit("Resize", a, n.input(0), "", scales));
    }

    /** The values of input 1 (scales) if it is a constant F32 vector, else null. */
    private static float[] scales(NodeContext n) {
        Tensor t = n.constant(1);
        if (t == null || t.dtype() != dev.panamadnn.DataType.F32) return null;
        float[] f = new float[Math.toIntExact(t.numel())];
        for (int i = 0; i < f.length; i++) f[i] = t.segment().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return f;
    }
}
