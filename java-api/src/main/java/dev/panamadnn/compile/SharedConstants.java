package dev.panamadnn.compile;

import dev.panamadnn.internal.dnnl.DnnlMemory;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.zip.CRC32C;

/**
 * The constants the plans of one {@link PlanSet} share: a model's weights reordered into the layout a primitive
 * reads, and Winograd's transformed weights, are the same bytes at every batch size the primitive picks the same
 * layout for, so the set holds each such block once instead of once per plan (ResNet-50: ~100 MB per plan).
 *
 * <p>A plan fills its constant as usual, then {@link #intern interns} it: a block with exactly the same bytes
 * (found by size and CRC32C, then compared in full) is taken instead and the fresh copy freed. Identical bytes are
 * the same constant whatever produced them, and every primitive reads its block through its own memory descriptor,
 * so sharing never changes a result: a plan in a set computes bit for bit what the same plan compiled alone does.
 * Winograd's transformed weights are filled after compile ({@link Winograd#prepare}), so they are shared by what
 * they are computed from instead: the interned block of the direct convolution's weights, its layout and the
 * matmul's layout ({@link #winograd}).
 *
 * <p>Each plan counts a reference to every block it uses and releases them when it closes ({@link PlanConstants});
 * the last plan to release a block frees it, so an evicted or closed plan never frees memory another plan still
 * reads. Thread-safe: plans of different batch sizes are compiled in parallel.
 */
final class SharedConstants {
    /** Smaller constants (biases, scales) are not shared: the lookup would cost more than they take. */
    static final long MIN_BYTES = 16 * 1024;

    /** A block of constant bytes, its oneDNN allocation, and how many plans use it. */
    static final class Block {
        private final DnnlMemory memory;
        private final MemorySegment data;   // the allocation, sized, global scope: plans see it only through their own scope
        private final long hash;
        private int refs = 1;

        private Block(DnnlMemory memory, MemorySegment data, long hash) {
            this.memory = memory;
            this.data = data;
            this.hash = hash;
        }

        /** {@return the bytes, without a scope of their own: a plan reinterprets them in its constants' scope} */
        MemorySegment data() {
            return data;
        }
    }

    /** Winograd weights computed from {@code direct} (in layout {@code directMd}) into layout {@code uMd}, held in block {@code u}. */
    record WinogradEntry(Block direct, MemoryDescriptor directMd, MemoryDescriptor uMd, int k, int c, Block u,
                                 Winograd.Weights weights) {}

    /** The public handle of this store (one per store, so that stores compare by identity through it). */
    final ConstantStore handle;
    private final Map<Long, List<Block>> byHash = new HashMap<>();
    private final List<WinogradEntry> winograd = new ArrayList<>();
    private long bytes;

    SharedConstants() {
        this.handle = new ConstantStore(this);
    }

    SharedConstants(ConstantStore handle) {
        this.handle = handle;
    }

    /**
     * {@return the block holding {@code filled}'s bytes: an existing one (its reference count raised; {@code fresh}
     * is freed) or {@code fresh} itself, now shared}
     *
     * @param fresh  a oneDNN allocation just filled by the caller, not yet read by anything
     * @param filled its bytes (the allocation sized)
     */
    Block intern(DnnlMemory fresh, MemorySegment filled) {
        long hash = hash(filled);   // outside the lock: plans of other sizes compile meanwhile
        Block existing;
        synchronized (this) {
            existing = find(filled, hash);
            if (existing == null) {
                Block b = new Block(fresh, filled, hash);
                byHash.computeIfAbsent(hash, h -> new ArrayList<>(1)).add(b);
                bytes += filled.byteSize();
                return b;
            }
            existing.refs++;
        }
        fresh.close();
        return existing;
    }

    private Block find(MemorySegment filled, long hash) {
        List<Block> same = byHash.get(hash);
        if (same == null) return null;
        for (Block b : same) {
            if (b.data.byteSize() == filled.byteSize() && b.data.mismatch(filled) == -1) return b;
        }
        return null;
    }

    /**
     * {@return the Winograd weights computed from the block {@code direct} of a convolution's weights in layout
     * {@code directMd} into {@code uMd}}: those another plan made, or new ones from {@code make}, given a copy of
     * {@code uMd} and a new buffer of its size, both owned by this store (they outlive the plan that made them). Either
     * way one reference to the entry's block {@code u} is the caller's, to {@link #release} when it closes.
     */
    synchronized WinogradEntry winograd(Block direct, MemoryDescriptor directMd, MemoryDescriptor uMd, int k, int c,
                                        BiFunction<MemoryDescriptor, MemorySegment, Winograd.Weights> make) {
        for (WinogradEntry e : winograd) {
            if (e.direct == direct && e.k == k && e.c == c && e.directMd.sameLayoutAs(directMd) && e.uMd.sameLayoutAs(uMd)) {
                e.u.refs++;
                return e;
            }
        }
        DnnlMemory memory = DnnlMemory.allocate(uMd.byteSize());
        MemoryDescriptor directCopy = null, uCopy = null;
        try {
            MemorySegment data = memory.dataAddress().reinterpret(uMd.byteSize());
            directCopy = directMd.copy();
            uCopy = uMd.copy();
            Block u = new Block(memory, data, 0);
            WinogradEntry e = new WinogradEntry(direct, directCopy, uCopy, k, c, u, make.apply(uCopy, data));
            direct.refs++;   // the entry keeps its key alive: a later plan compares against it
            winograd.add(e);
            bytes += data.byteSize();
            return e;
        } catch (RuntimeException | Error e) {
            memory.close();
            if (directCopy != null) directCopy.close();
            if (uCopy != null) uCopy.close();
            throw e;
        }
    }

    /** Drops one plan's reference to {@code b}; the last one frees it (and, for Winograd weights, their key). */
    void release(Block b) {
        List<Block> toRelease = new ArrayList<>(1);
        synchronized (this) {
            if (b.refs <= 0) throw new IllegalStateException("a shared constant released more often than taken");
            if (--b.refs > 0) return;
            bytes -= b.data.byteSize();
            List<Block> same = byHash.get(b.hash);
            if (same != null && same.remove(b) && same.isEmpty()) byHash.remove(b.hash);
            for (int i = 0; i < winograd.size(); i++) {
                WinogradEntry e = winograd.get(i);
                if (e.u == b) {
                    winograd.remove(i);
                    e.directMd.close();
                    e.uMd.close();
                    toRelease.add(e.direct);
                    break;
                }
            }
        }
        b.memory.close();
        for (Block d : toRelease) release(d);
    }

    /** {@return the bytes of every block held, each once} */
    synchronized long bytes() {
        return bytes;
    }

    /** {@return how many blocks are held (0 once every plan using the store has closed)} */
    synchronized int blocks() {
        int n = winograd.size();
        for (List<Block> l : byHash.values()) n += l.size();
        return n;
    }

    /** CRC32C of the bytes (the JDK's intrinsic: a few GB/s), in chunks a ByteBuffer can view. */
    private static long hash(MemorySegment s) {
        CRC32C crc = new CRC32C();
        long chunk = 1L << 30;
        for (long off = 0; off < s.byteSize(); off += chunk) crc.update(s.asSlice(off, Math.min(chunk, s.byteSize() - off)).asByteBuffer());
        return crc.getValue() ^ (s.byteSize() << 32);
    }
}
