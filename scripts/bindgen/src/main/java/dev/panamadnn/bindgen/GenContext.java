package dev.panamadnn.bindgen;

import java.util.Map;

/**
 * What every emitter needs to know about the run.
 *
 * @param headerNames   header file name(s) for the do-not-edit line ("dnnl.h, oneapi/dnnl/dnnl_debug.h")
 * @param structClasses struct USR to the class holding its layout (see {@link TypeMapper})
 * @param symbolLookup  Java expression giving the SymbolLookup
 */
record GenContext(String pkg, String headerClass, String headerNames, Declarations decls,
        Map<String, String> structClasses, String symbolLookup) {

    /** For classes other than the header class: layouts qualified with the header class. */
    TypeMapper mapper() {
        return new TypeMapper(headerClass + ".", decls, structClasses, "");
    }

    JavaWriter writer(String... extraHeaderLines) {
        return new JavaWriter(headerNames, pkg, extraHeaderLines);
    }
}
