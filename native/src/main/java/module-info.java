/**
 * The OpenBLAS and oneDNN shared libraries and the one loader that finds them.
 * Grant native access to this module ({@code --enable-native-access=dev.panamadnn.natives}).
 */
module dev.panamadnn.natives {
    exports dev.panamadnn.natives;
}
