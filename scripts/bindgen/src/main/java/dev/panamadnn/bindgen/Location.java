package dev.panamadnn.bindgen;

/** Where a declaration or diagnostic is: file ("" for builtins), 1-based line and column, byte offset. */
record Location(String file, int line, int column, int offset) {
    static final Location NONE = new Location("", 0, 0, 0);

    @Override
    public String toString() {
        return (file.isEmpty() ? "<built-in>" : file) + ":" + line + ":" + column;
    }
}
