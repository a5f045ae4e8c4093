/**
 * The native libraries and their one loader: {@link dev.panamadnn.natives.Natives} loads OpenBLAS
 * and oneDNN once per JVM, from an explicit directory ({@code -Dpanamadnn.natives.dir} or
 * {@code PANAMADNN_NATIVES_DIR}), else the binaries packaged in this jar (extracted to a cache),
 * else the system's library path; {@link dev.panamadnn.natives.LoadReport} says what was loaded from
 * where, and {@link dev.panamadnn.natives.ThreadControl} sets the intra-op thread counts.
 *
 * <p>Logging: the first load writes one INFO record through {@link java.lang.System.Logger} (logger
 * {@code dev.panamadnn.natives}: every library, its version, source and path) and the places
 * tried at DEBUG, from a short-lived thread of its own ({@code panama-dnn-startup-log}, so the
 * caller does not wait for the logging backend to start); route it to JUL, SLF4J or Log4j with the
 * usual {@link java.lang.System.LoggerFinder} bridges, or silence it by raising that logger's level.
 */
package dev.panamadnn.natives;
