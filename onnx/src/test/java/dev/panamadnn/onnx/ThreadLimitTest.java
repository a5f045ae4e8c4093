package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The largest accepted thread count runs (in a child JVM, {@link ThreadLimit}); 10,000 used to crash the JVM. */
class ThreadLimitTest {
    @Test
    void theLargestAcceptedThreadCountRunsAndOneMoreIsRefused() throws Exception {
        String out = ChildJvm.run(ThreadLimit.class, 180,
                Goldens.repoRoot().resolve("demo/src/main/resources/dev/panamadnn/demo/digits/digits_resnet.onnx").toString());
        assertTrue(out.contains("thread limit: ok"), out);
    }
}
