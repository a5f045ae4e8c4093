package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.function.Executable;

/** The attention validation tests' table rows: a call, the exception it must throw, and words its message must hold. */
final class ValidationCases {
    private ValidationCases() {}

    record Case(String name, Executable call, Class<? extends Throwable> type, String... fragments) {
        static Case illegal(String name, Executable call, String... fragments) {
            return new Case(name, call, IllegalArgumentException.class, fragments);
        }

        static Case state(String name, Executable call, String... fragments) {
            return new Case(name, call, IllegalStateException.class, fragments);
        }

        void check() {
            Throwable t = assertThrows(type, call, name);
            String message = String.valueOf(t.getMessage());
            for (String f : fragments) {
                assertTrue(message.contains(f), name + ": expected the message to contain '" + f + "', got: " + message);
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
