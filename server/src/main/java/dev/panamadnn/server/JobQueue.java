package dev.panamadnn.server;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * A model's bounded queue of requests, oldest first, shared by its batcher's workers. Besides taking the oldest request,
 * a worker gathering a batch takes the oldest request that may join it ({@link #pollMatching}: of the same input shapes,
 * for a model with variable dims) and leaves the others queued for the other workers, in order; a worker taking
 * requests of other shapes for later would hold them from idle workers. Thread-safe.
 */
final class JobQueue {
    /** What {@link #pollMatching} returns when the oldest matching request has more rows than the batch has room for. */
    static final Batcher.Job NO_ROOM = new Batcher.Job(new byte[0][], 0, new long[0][], 0, 0, () -> false, null);

    private final ArrayDeque<Batcher.Job> jobs = new ArrayDeque<>();
    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition added = lock.newCondition();

    JobQueue(int capacity) {
        this.capacity = capacity;
    }

    /** Queues {@code job} unless {@code capacity} requests are waiting; returns whether it was queued. */
    boolean offer(Batcher.Job job) {
        lock.lock();
        try {
            if (jobs.size() >= capacity) return false;
            jobs.addLast(job);
            added.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private static final Predicate<Batcher.Job> ANY = j -> true;

    /** The oldest request, removed, waiting up to {@code timeout} for one; null if none came. */
    Batcher.Job poll(long timeout, TimeUnit unit) throws InterruptedException {
        return pollMatching(ANY, Integer.MAX_VALUE, unit.toNanos(timeout));
    }

    /**
     * The oldest request that {@code joins} accepts, removed, if its rows fit {@code room}; {@link #NO_ROOM} (nothing
     * removed) if they do not, so that it leads a later batch; waits up to {@code nanos} for one; null if none came.
     */
    Batcher.Job pollMatching(Predicate<Batcher.Job> joins, int room, long nanos) throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                for (Iterator<Batcher.Job> it = jobs.iterator(); it.hasNext(); ) {
                    Batcher.Job j = it.next();
                    if (!joins.test(j)) continue;
                    if (j.rows() > room) return NO_ROOM;
                    it.remove();
                    return j;
                }
                if (nanos <= 0) return null;
                nanos = added.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether a request that {@code joins} accepts is waiting. */
    boolean hasMatching(Predicate<Batcher.Job> joins) {
        lock.lock();
        try {
            for (Batcher.Job j : jobs) if (joins.test(j)) return true;
            return false;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return jobs.size();
        } finally {
            lock.unlock();
        }
    }

    boolean isEmpty() {
        return size() == 0;
    }

    /** Waiting requests that {@code test} accepts. */
    long count(Predicate<Batcher.Job> test) {
        lock.lock();
        try {
            return jobs.stream().filter(test).count();
        } finally {
            lock.unlock();
        }
    }
}
