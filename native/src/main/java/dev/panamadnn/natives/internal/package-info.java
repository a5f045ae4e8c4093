/**
 * Not API: helpers the natives module shares with the {@code dev.panamadnn} module only (a qualified
 * export), such as the thread that writes the once-per-JVM start-up log records.
 */
package dev.panamadnn.natives.internal;
