package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Shape rules of ONNX's loss ops (opset 13): NegativeLogLikelihoodLoss(input [N, C, d...] F32,
 * target [N, d...] I64/I32, [weight [C] F32]) and SoftmaxCrossEntropyLoss(scores, labels, [weights])
 * with reduction none (the loss has the target's shape), sum or mean (a scalar, rank 0);
 * SoftmaxCrossEntropyLoss's optional second output is the log-probabilities (the scores' shape).
 */
final class LossShapes {
    private LossShapes() {}

    static final Set<String> REDUCTIONS = Set.of("none", "sum", "mean");

    static List<IndexShapes.Out> loss(Node n, List<Value> in, Known k) {
        Value x = in.get(0), t = in.get(1), w = in.size() > 2 ? in.get(2) : null;
        IndexShapes.require(x, "input", DataType.F32);
        IndexShapes.require(t, "target", DataType.I64, DataType.I32);
        Shape xs = x.shape();
        if (xs.rank() < 2) throw new GraphException("input " + x + " must have rank >= 2 ([N, C, d...])");
        List<Dim> expected = new ArrayList<>(xs.dims());
        expected.remove(1);
        if (!t.shape().equals(new Shape(expected))) throw new GraphException("target " + t + " must be " + new Shape(expected) + " (input " + x + " without C)");
        if (w != null) {
            IndexShapes.require(w, "weight", DataType.F32);
            Ops.perChannel(w, xs.dim(1), 2);
        }
        String reduction = n.attributes().string("reduction", "mean");
        if (!REDUCTIONS.contains(reduction)) throw new GraphException("reduction '" + reduction + "' is not one of none, sum, mean");
        Shape loss = reduction.equals("none") ? t.shape() : new Shape(List.of());
        List<IndexShapes.Out> out = new ArrayList<>(List.of(new IndexShapes.Out(DataType.F32, loss, null)));
        if (n.outputs().size() > 1) out.add(new IndexShapes.Out(DataType.F32, xs, null));
        return out;
    }
}
