package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * NaN, infinities and huge values through compiled plans, against PyTorch 1.13 (the
 * {@code Compiled net=...} cases of {@code scripts/goldens/generate_nonfinite.py}): fused
 * post-ops (conv + ReLU, conv + folded BN + ReLU, residual sum + ReLU, Linear + ReLU), the same
 * as separate primitives (fusion off), and max pooling (oneDNN's maximum skips NaN: the plan adds a NaN mask,
 * {@code LowerPool}). Winograd is off here: its handling of special values is tested with it.
 */
class CompiledNonFiniteTest {
    private static final List<GoldenFile.Case> CASES = NonFiniteGoldens.cases(true);

    private static final Map<String, CompileOptions> OPTIONS = Map.of(
            "fused", CompileOptions.defaults().withWinograd(false),
            "fused-blocked", CompileOptions.defaults().withWinograd(false).withLayout(CompileOptions.Layout.CHANNEL_BLOCKED),
            "bn-not-folded", CompileOptions.defaults().withWinograd(false).withFoldBatchNorm(false),
            "sum-not-fused", CompileOptions.defaults().withWinograd(false).withFuseResidualSum(false),
            "unfused", CompileOptions.unfused());

    static Stream<Arguments> casesAndOptions() {
        return CASES.stream().flatMap(c -> OPTIONS.keySet().stream().sorted().map(o -> Arguments.of(c, o)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("casesAndOptions")
    void matchesPyTorch(GoldenFile.Case c, String options) {
        try (Module net = build(c.fields().get("net"))) {
            if (!c.params().isEmpty()) NormTesting.loadParams(net, c);
            try (CompiledModel plan = CompiledModel.compile(net, OPTIONS.get(options), c.input().shape());
                 Tensor y = plan.run(c.input())) {
                NonFiniteGoldens.assertMatches(c, "compiled (" + options + ")", y);
            }
        }
    }

    /** The network the generator's {@code compiled()} builds under the same name. */
    private static Module build(String net) {
        return switch (net) {
            case "conv_relu" -> new Sequential(conv(), new ReLU());
            case "conv_bn_relu" -> new Sequential(conv(), new BatchNorm2d(4), new ReLU());
            case "basic_block" -> new BasicBlock(2, 2);
            case "maxpool" -> new Sequential(new MaxPool2d(3, 1, 1));
            case "maxpool_window_in_padding" -> new Sequential(new MaxPool2d(2, 1, 1, 2, false));
            case "linear_relu" -> new Sequential(new Flatten(), new Linear(128, 6, true), new ReLU());
            case "activations" -> new Sequential(new Flatten(), new Sigmoid(), new GELU(), new Tanh());
            case "conv_relu_maxpool" -> new Sequential(conv(), new ReLU(), new MaxPool2d(3, 2, 1));
            case "relu_maxpool" -> new Sequential(new ReLU(), new MaxPool2d(3, 1, 1));
            default -> throw new IllegalArgumentException("unknown net in golden spec: " + net);
        };
    }

    private static Conv2d conv() {
        return Conv2d.builder(2, 4, 3).padding(new int[] {1, 1}, new int[] {1, 1}).build();
    }
}
