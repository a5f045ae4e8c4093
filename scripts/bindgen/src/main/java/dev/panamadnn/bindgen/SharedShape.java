package dev.panamadnn.bindgen;

import java.util.ArrayList;
import java.util.List;

/**
 * A function's shared downcall shape (a scripts/bindgen extension): the function called through an
 * address-taking downcall handle ({@code Linker.downcallHandle(FunctionDescriptor)}) that every
 * function of the same shape shares, with its integer arguments passed as addresses and its
 * argument lists padded, so that a header's functions need a handful of linked descriptors
 * instead of one each.
 *
 * <p>Exact under the x86-64 System V calling convention, which the generated layouts already
 * assume (LP64 Linux) and which the generated class checks at run time ({@code SHARED_DOWNCALLS},
 * else every call takes the function's own handle):
 * <ul>
 *   <li>integer-class arguments ({@code int}, {@code long}, pointers) take rdi, rsi, rdx, rcx,
 *       r8, r9 and then 8-byte stack slots in their order, and floats take xmm0-7 in theirs,
 *       whatever the interleaving: so the integer arguments can be listed first, then the
 *       floats (at most 8, none on the stack);</li>
 *   <li>an {@code int} passed sign-extended in a 64-bit register or stack slot is read by the
 *       callee from the low 32 bits (the upper ones are unspecified by the ABI);</li>
 *   <li>arguments the callee does not declare land in registers it never reads or in stack slots
 *       above its own, which the caller pops: padding is harmless;</li>
 *   <li>every integer-class result ({@code int}, {@code long}, a pointer) comes back in rax, so
 *       one shape reads rax as a {@code long} for all of them, and for {@code void} functions
 *       too (rax is then whatever the callee left, and is dropped): an {@code int} is its low 32
 *       bits (the upper half is not defined), a pointer becomes a segment as the function's own
 *       handle would make it ({@code C_POINTER}: global, unbounded); a {@code float} result comes
 *       back in xmm0 and keeps a shape of its own.</li>
 * </ul>
 * Not shared (the function's own handle is used): {@code bool}, {@code char}, {@code short} and
 * {@code double} parameters or results (sub-int values need the C extension of their type,
 * doubles are not floats in xmm), structs by value, more than 8 floats or {@value #STACK_GP}
 * integer arguments. A pointer argument stays a pointer ({@code ADDRESS}), so the linker keeps
 * the segment's arena alive for the call (a concurrent {@code close()} fails instead of freeing
 * memory under it), as with the function's own handle.
 *
 * @param result  the register the result is read from: {@code j} (rax, as a long: void, int, long and pointer
 *                results) or {@code f} (xmm0: a float)
 * @param gp      integer-class arguments, padded to {@value #REGISTER_GP} or {@value #STACK_GP}
 * @param floats  float arguments, padded to {@value #REGISTER_FLOATS_PADDED} or at most 8
 */
record SharedShape(char result, int gp, int floats) implements Comparable<SharedShape> {
    /** The integer argument registers: every shape with at most this many shares one padding. */
    static final int REGISTER_GP = 6;
    /** The padding of shapes with more integer arguments (the rest go on the stack). */
    static final int STACK_GP = 20;
    /** Float arguments padded to this many (most functions take none, one or two). */
    static final int REGISTER_FLOATS_PADDED = 2;
    /** The float argument registers: more floats would go on the stack, interleaved with integers. */
    static final int REGISTER_FLOATS = 8;

    /** {@return the shared shape of {@code sig}, or null where calling through one would not be exact} */
    static SharedShape of(CType.FunctionSig sig) {
        char result = switch (sig.result()) {
            case CType.Void v -> 'j';
            case CType.Prim p when p == CType.Prim.INT || p == CType.Prim.LONG || p == CType.Prim.LONG_LONG -> 'j';
            case CType.Prim p when p == CType.Prim.FLOAT -> 'f';
            case CType.Pointer p -> 'j';
            default -> 0;
        };
        if (result == 0 || sig.variadic()) {
            return null;
        }
        int gp = 0;
        int floats = 0;
        for (CType p : sig.params()) {
            switch (kind(p)) {
                case 'g' -> gp++;
                case 'f' -> floats++;
                default -> {
                    return null;
                }
            }
        }
        if (gp > STACK_GP || floats > REGISTER_FLOATS) {
            return null;
        }
        return new SharedShape(result, gp <= REGISTER_GP ? REGISTER_GP : STACK_GP,
                floats <= REGISTER_FLOATS_PADDED ? REGISTER_FLOATS_PADDED : floats);
    }

    /** 'g' for an integer-class argument, 'f' for a float, 0 for anything else. */
    private static char kind(CType p) {
        return switch (p) {
            case CType.Prim q when q == CType.Prim.INT || q == CType.Prim.LONG || q == CType.Prim.LONG_LONG -> 'g';
            case CType.Prim q when q == CType.Prim.FLOAT -> 'f';
            case CType.Pointer q -> 'g';
            case CType.Array q -> 'g';
            default -> 0;
        };
    }

    /** The holder class of this shape's handle in the header class ({@code $critical}: linked with critical(true)). */
    String holder(boolean critical) {
        return "Shared$" + result + gp + "f" + floats + (critical ? "$critical" : "");
    }

    /** The shared handle's descriptor (its first, address argument is the linker's, not listed). */
    String descriptor() {
        List<String> layouts = new ArrayList<>();
        for (int i = 0; i < gp; i++) {
            layouts.add("ValueLayout.ADDRESS");
        }
        for (int i = 0; i < floats; i++) {
            layouts.add("C_FLOAT");
        }
        String args = String.join(", ", layouts);
        return "FunctionDescriptor.of(" + (result == 'f' ? "C_FLOAT" : "C_LONG") + ", " + args + ")";
    }

    /**
     * The statement that calls {@code call} (from {@link #call}) and returns its result as the function's Java
     * result type {@code ret}.
     */
    static String statement(String ret, String call) {
        return switch (ret) {
            case "void" -> "long ignored$ = (long) " + call + "; return;";
            case "int" -> "return (int) (long) " + call + ";";
            case "long" -> "return (long) " + call + ";";
            case "float" -> "return (float) " + call + ";";
            case "MemorySegment" -> "return MemorySegment.ofAddress((long) " + call + ").reinterpret(java.lang.Long.MAX_VALUE);";
            default -> throw new IllegalStateException("no shared shape returns " + ret);
        };
    }

    /**
     * The call of function {@code name} through this shape: its address, its integer-class
     * arguments in order (integers as {@code MemorySegment.ofAddress}), null padding, its floats
     * in order, zero padding. {@code args} are the Java argument names, in C order.
     */
    String call(boolean critical, String name, CType.FunctionSig sig, List<String> args) {
        List<String> gps = new ArrayList<>();
        List<String> fs = new ArrayList<>();
        for (int i = 0; i < sig.params().size(); i++) {
            CType p = sig.params().get(i);
            String a = args.get(i);
            if (kind(p) == 'f') {
                fs.add(a);
            } else {
                gps.add(p instanceof CType.Prim ? "MemorySegment.ofAddress(" + a + ")" : a);
            }
        }
        while (gps.size() < gp) {
            gps.add("MemorySegment.NULL");
        }
        while (fs.size() < floats) {
            fs.add("0f");
        }
        List<String> all = new ArrayList<>();
        all.add("require(" + name + ".ADDR, \"" + name + "\")");
        all.addAll(gps);
        all.addAll(fs);
        return holder(critical) + ".HANDLE.invokeExact(" + String.join(", ", all) + ")";
    }

    @Override
    public int compareTo(SharedShape o) {
        return holder(false).compareTo(o.holder(false));
    }
}
