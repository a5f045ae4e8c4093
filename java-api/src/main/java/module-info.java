/**
 * Panama DNN: neural-network operations for the JVM on OpenBLAS and oneDNN through FFM.
 * Grant native access with {@code --enable-native-access=dev.panamadnn.natives,
 * dev.panamadnn.bindings,dev.panamadnn}. The {@code internal} packages are not exported.
 */
module dev.panamadnn {
    requires transitive dev.panamadnn.natives;
    requires dev.panamadnn.bindings;

    exports dev.panamadnn;
    exports dev.panamadnn.nn;
    exports dev.panamadnn.models;
    exports dev.panamadnn.compile;
}
