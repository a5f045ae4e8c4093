package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.math.BigDecimal;
import java.util.Map;

/** Helpers shared by the composite modules (Sequential, Residual, the ResNet blocks). */
final class Modules {
    private Modules() {}

    /** Runs a child on {@code backend}: a {@link Layer} takes the backend, any other module its forward. */
    static Tensor forward(Module m, Tensor x, Backend backend) {
        // The backend reaches every child that takes one, Layer or not (a Sequential's REFERENCE run is the reference throughout)
        return switch (m) {
            case Layer layer -> layer.forward(x, backend);
            case Embedding e -> e.forward(x, backend);
            case TransformerEncoderLayer t -> t.forward(x, null, null, backend);
            case TransformerEncoder t -> t.forward(x, null, null, backend);
            case MultiheadAttention a -> a.forward(x, x, x, null, false, null, true, backend).output();   // as its forward(x)
            default -> m.forward(x);
        };
    }

    /** A child's output shape for {@code in}, with its checks; null when the child's shapes are unknown. */
    static long[] shape(Module m, long[] in) {
        if (in == null) return null;
        if (m instanceof Layer layer) {
            layer.checkOpen();
            return layer.checkShape(in);
        }
        return null;
    }

    /** Adds a child's parameters to {@code all} under {@code prefix + "." + name}, like a PyTorch state_dict. */
    static void addParameters(Map<String, Tensor> all, String prefix, Module child) {
        if (child == null) return;
        for (Map.Entry<String, Tensor> e : child.parameters().entrySet()) all.put(prefix + "." + e.getKey(), e.getValue());
    }

    /** One {@code (name): child} line of a PyTorch repr, nested lines indented. */
    static String child(String name, Object module) {
        return "  (" + name + "): " + module.toString().replace("\n", "\n  ") + "\n";
    }

    /** Python's {@code repr(float)}: {@code 1e-05}, {@code 0.001}, {@code 0.1}, {@code 1.0}. */
    static String pyFloat(double v) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        if (v == 0) return (1 / v < 0) ? "-0.0" : "0.0";
        BigDecimal d = new BigDecimal(Double.toString(Math.abs(v))).stripTrailingZeros();
        int exp = d.precision() - d.scale() - 1;
        String sign = v < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = d.toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String digits = d.unscaledValue().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
}
