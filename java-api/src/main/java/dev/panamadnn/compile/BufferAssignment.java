package dev.panamadnn.compile;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Memory planning by liveness, a pure function: logical buffers (bytes, first and last step using
 * them) are packed into as few physical slots as possible, a slot reused once its previous
 * buffer's last step is done; a free slot that fits is preferred (the smallest), else the
 * largest free one is grown.
 */
final class BufferAssignment {
    private BufferAssignment() {}

    /** A logical buffer: its size and the first and last step that use it (-1: never used). */
    record Buffer(long bytes, long first, long last) {}

    /** Slots for buffers: {@code slotOf[b]} (or -1 for a buffer never used, or one in {@code skip}) and each slot's bytes. */
    record Assignment(int[] slotOf, long[] slotBytes) {}

    /**
     * @param skip a buffer to leave out (bound elsewhere, e.g. the caller's output), or -1
     */
    static Assignment assign(List<Buffer> buffers, int skip) {
        int n = buffers.size();
        int[] slotOf = new int[n];
        List<long[]> slots = new ArrayList<>();   // {bytes, last step}
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, new java.util.Comparator<Integer>() {   // not a lambda: a spun class in a cold JVM
            @Override
            public int compare(Integer a, Integer b) {
                return Long.compare(buffers.get(a).first(), buffers.get(b).first());
            }
        });
        for (int b : order) {
            Buffer buf = buffers.get(b);
            if (b == skip || buf.first() < 0) {
                slotOf[b] = -1;
                continue;
            }
            int best = -1;   // a free slot: the smallest that fits, else the largest (grown)
            for (int s = 0; s < slots.size(); s++) {
                long[] slot = slots.get(s);
                if (slot[1] >= buf.first()) continue;
                if (best < 0) best = s;
                else {
                    long have = slots.get(best)[0];
                    boolean fits = slot[0] >= buf.bytes(), bestFits = have >= buf.bytes();
                    if ((fits && (!bestFits || slot[0] < have)) || (!fits && !bestFits && slot[0] > have)) best = s;
                }
            }
            if (best < 0) {
                slots.add(new long[] {0, -1});
                best = slots.size() - 1;
            }
            long[] slot = slots.get(best);
            slot[0] = Math.max(slot[0], buf.bytes());
            slot[1] = buf.last();
            slotOf[b] = best;
        }
        long[] bytes = new long[slots.size()];
        for (int s = 0; s < bytes.length; s++) bytes[s] = slots.get(s)[0];
        return new Assignment(slotOf, bytes);
    }
}
