package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * An imported model's file truncated under its mapping ({@link MappedTruncation}, in a child JVM): plans built before
 * keep giving PyTorch's logits; compiling again, a plan set's new batch size, a one-off run and Java reads of a mapped
 * initializer are each refused with an IllegalStateException saying so, and the JVM lives.
 */
class MappedTruncationTest {
    @Test
    void aModelFileTruncatedUnderItsMappingIsRefusedByNameAndNeverCrashes() throws Exception {
        String out = ChildJvm.run(MappedTruncation.class, 120,
                Goldens.repoRoot().resolve("demo/src/main/resources/dev/panamadnn/demo/digits/digits_resnet.onnx").toString());
        Matcher m = Pattern.compile("truncation summary: (\\d+) passed, 0 failed").matcher(out);
        assertTrue(m.find(), "no clean summary; output:\n" + out);
        assertTrue(Integer.parseInt(m.group(1)) >= 15, "expected every check to run; output:\n" + out);
    }
}
