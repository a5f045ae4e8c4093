/** The demo that {@code scripts/demo} runs: only the public API, on the module path. */
module dev.panamadnn.demo {
    requires dev.panamadnn;

    exports dev.panamadnn.demo;
}
