package dev.panamadnn.natives;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * The shared libraries packaged in this jar, extracted once to a cache directory named after
 * a 64-bit checksum of the manifest (so a different build never reuses a stale copy: the
 * manifest pins every library's sha256).
 *
 * <p>Extraction is safe when several JVMs start at once: each writes into its own temporary
 * directory beside the target, verifies every file's sha256 against the manifest, and then
 * renames the directory into place atomically. The loser of a race deletes its copy and uses
 * the winner's. A directory at the final name is therefore always complete and verified.
 */
final class PackagedNatives {
    static final String RESOURCE_DIR = "/dev/panamadnn/natives/linux-x86_64/";

    private PackagedNatives() {}

    /** Extracts (if needed) and returns the directory holding the verified libraries. */
    static Path extracted(Path cacheRoot) throws IOException {
        String manifestText = NativeLoader.readResource(RESOURCE_DIR + Manifest.FILE_NAME);
        if (manifestText == null) {
            throw new IOException("no " + RESOURCE_DIR + Manifest.FILE_NAME
                    + " on the class/module path (is panama-dnn-native's jar there?)");
        }
        if (!System.getProperty("os.name", "").startsWith("Linux")
                || !System.getProperty("os.arch", "").equals("amd64")) {
            throw new IOException("packaged natives are for linux-x86_64, this JVM runs on "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
        }
        Manifest manifest = Manifest.parse(manifestText, "jar:" + RESOURCE_DIR + Manifest.FILE_NAME);
        String id = cacheId(manifestText);
        Path target = cacheRoot.resolve("natives-" + id);
        if (Files.isDirectory(target)) {
            return checkComplete(target, manifest);
        }
        Files.createDirectories(cacheRoot);
        Path staging = Files.createTempDirectory(cacheRoot, ".extracting-" + id + "-");
        try {
            for (Manifest.Entry e : manifest.entries()) {
                extractVerified(e, staging.resolve(e.file()));
            }
            Files.writeString(staging.resolve(Manifest.FILE_NAME), manifestText);
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raceLost) {
                // Another JVM renamed its complete copy into place first: use that one.
                if (!Files.isDirectory(target)) throw raceLost;
            }
        } finally {
            deleteRecursively(staging);
        }
        return checkComplete(target, manifest);
    }

    private static void extractVerified(Manifest.Entry e, Path dest) throws IOException {
        MessageDigest sha = newSha256();
        try (InputStream raw = PackagedNatives.class.getResourceAsStream(RESOURCE_DIR + e.file())) {
            if (raw == null) {
                throw new IOException("manifest lists " + e.file() + " but the jar has no " + RESOURCE_DIR + e.file());
            }
            try (InputStream in = new DigestInputStream(raw, sha); OutputStream out = Files.newOutputStream(dest)) {
                in.transferTo(out);
            }
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(e.sha256())) {
            throw new IOException("sha256 of packaged " + e.file() + " is " + actual
                    + ", the manifest pins " + e.sha256() + " (corrupt or substituted jar)");
        }
        Files.setPosixFilePermissions(dest, PosixFilePermissions.fromString("r-xr-xr-x"));
    }

    private static Path checkComplete(Path dir, Manifest manifest) throws IOException {
        for (Manifest.Entry e : manifest.entries()) {
            if (!Files.isRegularFile(dir.resolve(e.file()))) {
                throw new IOException("cache directory " + dir + " lacks " + e.file()
                        + " (modified by hand?): delete the directory and retry");
            }
        }
        return dir;
    }

    /**
     * The cache directory's id: CRC32C and CRC32 of the manifest, 16 hex digits. Not SHA-256, which
     * would cost every JVM start 30-40 ms of JCA provider set-up (measured cold on the 2-core dev VM);
     * the id only has to tell manifests apart, and each manifest pins its libraries' sha256, which
     * extraction verifies.
     */
    static String cacheId(String manifestText) {
        byte[] bytes = manifestText.getBytes(StandardCharsets.UTF_8);
        CRC32C c = new CRC32C();
        c.update(bytes);
        CRC32 d = new CRC32();
        d.update(bytes);
        return HexFormat.of().toHexDigits((c.getValue() << 32) | d.getValue());
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
