/**
 * Panama DNN: neural-network operations for the JVM on OpenBLAS and oneDNN through FFM.
 * Grant native access with {@code --enable-native-access=dev.panamadnn.natives,
 * dev.panamadnn.bindings,dev.panamadnn}. The {@code internal} packages are not exported.
 */
module dev.panamadnn {
    requires transitive dev.panamadnn.natives;
    requires dev.panamadnn.bindings;
    // Optional: the compiled plan's Winograd convolutions use the Vector API when the JVM runs with
    // --add-modules jdk.incubator.vector (an incubator module, so never required); see CompileOptions.winograd.
    requires static jdk.incubator.vector;

    exports dev.panamadnn;
    exports dev.panamadnn.nn;
    exports dev.panamadnn.models;
    exports dev.panamadnn.compile;
    exports dev.panamadnn.graph;
}
