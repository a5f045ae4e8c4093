/**
 * The OpenBLAS and oneDNN shared libraries and the one loader that finds them.
 * Grant native access to this module ({@code --enable-native-access=dev.panamadnn.natives}).
 */
module dev.panamadnn.natives {
    exports dev.panamadnn.natives;
    // The start-up log thread, shared with the API module so its record follows this one; the shared downcall shapes.
    exports dev.panamadnn.natives.internal to dev.panamadnn;
}
