package dev.panamadnn.onnx;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;

/**
 * The {@link OpTable} rules of the element-selecting and resampling ops: GatherElements, Tile,
 * Resize (opsets 10-17) and Upsample (7-9) onto our Resize, ArgMax/ArgMin. Added to the table by
 * {@link OpTable}'s initializer.
 */
final class SelectRules {
    private SelectRules() {}

    private static final Set<String> COORDINATES = Set.of("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn");

    static void addTo(List<OpRule> rules) {
        rules.add(same("GatherElements", 11, 17, "axis"));
        rules.add(same("Tile", 6, 17));
        rules.add(same("Resize", 11, 17, "mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                "extrapolation_value").check(SelectRules::resizeCheck).translate(n -> List.of(n.emit("Resize", OpTable.kept(n.attributes),
                n.input(0), "", n.input(2), n.input(3))), "Resize")
                .note("modes nearest, linear, cubic; coordinate_transformation_mode tf_crop_and_resize is not supported; scales or sizes known "
                        + "(constants, or bound inputs); align_corners takes the output length as scale x input length, as ONNX's reference"));
        String legacy = "as Resize with asymmetric coordinates, nearest rounding down; scales known and (nearest) >= 1";
        rules.add(same("Resize", 10, 10, "mode").check(SelectRules::legacyCheck).translate(n -> legacy(n, n.input(1), scales(n)), "Resize").note(legacy));
        rules.add(same("Upsample", 9, 9, "mode").check(SelectRules::legacyCheck).translate(n -> legacy(n, n.input(1), scales(n)), "Resize").note(legacy));
        rules.add(same("Upsample", 7, 8, "mode", "scales").check(SelectRules::legacyCheck).translate(n -> {
            double[] s = n.attributes.reals("scales");
            float[] f = new float[s.length];
            for (int i = 0; i < s.length; i++) f[i] = (float) s[i];
            String scales = n.emit("Constant", Attributes.of("value", TensorProtos.floats(n.arena(), f, f.length)));
            return legacy(n, scales, f);
        }, "Resize", "Constant").note(legacy));
    }

    private static OpRule same(String op, int from, int to, String... attributes) {
        return new OpRule(op, from, to, Set.of(attributes), List.of(op), null,
                n -> List.of(n.emit(op, OpTable.kept(n.attributes), n.inputs.toArray(String[]::new))), "");
    }

    private static String resizeCheck(Attributes a, int opset) {
        String mode = a.string("mode", "nearest"), coord = a.string("coordinate_transformation_mode", "half_pixel");
        if (!Set.of("nearest", "linear", "cubic").contains(mode)) return "mode '" + mode + "' is not one of nearest, linear, cubic";
        if (!COORDINATES.contains(coord)) return "coordinate_transformation_mode '" + coord + "' is not supported (supported: " + COORDINATES + ")";
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
