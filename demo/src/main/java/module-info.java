/** The demo that {@code scripts/demo} runs: only the public API, on the module path. */
module dev.panamadnn.demo {
    requires transitive dev.panamadnn;   // Digits hands out models and tensors to the tests
    requires dev.panamadnn.onnx;   // the ONNX step (OnnxDigits)
    requires java.desktop;   // ImageIO: reading the image and writing the filtered PNGs

    exports dev.panamadnn.demo;
}
