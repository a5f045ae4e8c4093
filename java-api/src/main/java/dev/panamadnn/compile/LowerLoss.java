package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (ONNX opset 13) as one Java step each, in
 * double: the target a constant (a bound input: ONNX's backend suite feeds it as one), checked here
 * against the classes; the weight a constant or an activation. Per element {@code (n, d)} of the
 * target {@code t}: weight {@code w = weight[t]} (1 without weight; 0 where {@code t == ignore_index}),
 * loss {@code -w * x[n, t, d]} with {@code x} the input (NLL) or its log-softmax over C (SCE, the
 * log-probabilities its optional second output). Reduction none: the losses; sum: their sum;
 * mean: their sum over the sum of the weights (ONNX's definition; NaN when every element is ignored).
 */
final class LowerLoss {
    private LowerLoss() {}

    static List<Value> lower(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0));
        int classes = Math.toIntExact(x[1]);
        long batch = x[0], inner = LowerIndex.prod(x, 2, x.length);
        Tensor targetTensor = plan.graph.tensor(n.input(1));
        if (targetTensor == null) throw Compiler.unsupported(n, "the target (input 1) must be a constant (or a bound input); a target computed at run time is not compiled");
        long[] target = LowerIndex.longs(targetTensor);
        boolean ignoring = n.attributes().has("ignore_index");
        long ignore = n.attributes().integer("ignore_index", 0);
        for (int i = 0; i < target.length; i++) {
            if ((!ignoring || target[i] != ignore) && (target[i] < 0 || target[i] >= classes)) {
                throw Compiler.unsupported(n, "target " + target[i] + " (element " + i + ") is out of range for " + classes + " classes"
                        + (ignoring ? " and is not ignore_index " + ignore : ""));
            }
        }
        List<Value> xs = new ArrayList<>(List.of(LowerIndex.input(plan, n, 0)));
        boolean hasWeight = n.inputs().size() > 2 && n.input(2) != null && !n.input(2).isEmpty();
        float[] constantWeight = hasWeight && plan.graph.isConstant(n.input(2)) ? plan.graph.floats(n.input(2)) : null;
        if (hasWeight && constantWeight == null) xs.add(LowerIndex.input(plan, n, 2));
        boolean softmax = n.op().equals("SoftmaxCrossEntropyLoss");
        String reduction = n.attributes().string("reduction", "mean");
        List<long[]> outs = new ArrayList<>(List.of(LowerIndex.out(plan, n, 0)));
        if (n.outputs().size() > 1) outs.add(LowerIndex.out(plan, n, 1));
        boolean logProb = outs.size() > 1;
        return PlanOutputs.javaStep(plan, xs, outs, (src, dst) -> {
            double sum = 0, weights = 0;
            for (long b = 0; b < batch; b++) {
                for (long d = 0; d < inner; d++) {
                    long base = b * classes * inner + d;
                    double max = Double.NEGATIVE_INFINITY, logSum = 0;
                    if (softmax) {   // log-softmax over C: x - max - log(sum(exp(x - max)))
                        for (int c = 0; c < classes; c++) max = Math.max(max, src[0].getAtIndex(JAVA_FLOAT, base + c * inner));
                        double s = 0;
                        for (int c = 0; c < classes; c++) s += Math.exp(src[0].getAtIndex(JAVA_FLOAT, base + c * inner) - max);
                        logSum = Math.log(s);
                        if (logProb) {
                            for (int c = 0; c < classes; c++) {
                                dst[1].setAtIndex(JAVA_FLOAT, base + c * inner, (float) (src[0].getAtIndex(JAVA_FLOAT, base + c * inner) - max - logSum));
                            }
                        }
                    }
                    int at = (int) (b * inner + d);
                    long t = target[at];
                    double w = 0, loss = 0;
                    if (!ignoring || t != ignore) {
                        w = !hasWeight ? 1 : constantWeight != null ? constantWeight[(int) t] : src[1].getAtIndex(JAVA_FLOAT, t);
                        double v = src[0].getAtIndex(JAVA_FLOAT, base + t * inner);
                        loss = -w * (softmax ? v - max - logSum : v);
                    }
                    if (reduction.equals("none")) dst[0].setAtIndex(JAVA_FLOAT, at, (float) loss);
                    sum += loss;
                    weights += w;
                }
            }
            if (!reduction.equals("none")) dst[0].setAtIndex(JAVA_FLOAT, 0, (float) (reduction.equals("sum") ? sum : sum / weights));
        }, "java " + n.op() + " " + n.name() + " (reduction " + reduction + (ignoring ? ", ignore_index " + ignore : "") + ")");
    }
}
