package dev.panamadnn.compile;

import dev.panamadnn.internal.lifetime.Leased;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * The plans of a {@link PlanSet}, one per batch size: leased by runs without a lock (a scan of
 * at most {@code maxPlans} entries and two atomic updates, no allocation), built once per size
 * however many threads ask at once, evicted least recently used past {@code maxPlans} and closed
 * by the last run out (see PlanSet's documentation). Thread-safe.
 */
final class PlanCache {
    /** A cached plan and the runs holding it; closed by the last one out once evicted. */
    static final class Plan extends Leased<CompiledModel> {
        final int batch;
        volatile long lastUse;

        Plan(int batch, CompiledModel plan, long now) {
            super(plan);
            this.batch = batch;
            this.lastUse = now;
        }

        @Override
        public String toString() {
            return "plan for batch " + batch;
        }
    }

    private final int maxPlans;
    /** Builds and checks the plan of a batch size. */
    private final IntFunction<CompiledModel> build;
    /** The exception every caller waiting for a failed build sees. */
    private final BiFunction<Integer, Throwable, RuntimeException> failed;
    private final Object lock = new Object();
    /** The cached plans, replaced (copy on write) under {@link #lock}, read by runs without it. */
    private volatile Plan[] plans = new Plan[0];
    /** Batch sizes being built, and the future their waiters wait on; under {@link #lock}. */
    private final Map<Integer, CompletableFuture<Plan>> building = new HashMap<>();
    private final AtomicLong clock = new AtomicLong(), built = new AtomicLong(), evictions = new AtomicLong();

    PlanCache(int maxPlans, IntFunction<CompiledModel> build, BiFunction<Integer, Throwable, RuntimeException> failed) {
        this.maxPlans = maxPlans;
        this.build = build;
        this.failed = failed;
    }

    /** The cached plans now (a snapshot). */
    Plan[] snapshot() {
        return plans.clone();
    }

    int size() {
        return plans.length;
    }

    long built() {
        return built.get();
    }

    long evictions() {
        return evictions.get();
    }

    /** Empties the cache and returns what it held, for the caller to retire. */
    Plan[] removeAll() {
        synchronized (lock) {
            Plan[] all = plans;
            plans = new Plan[0];
            return all;
        }
    }

    /** Leases the plan for {@code batch}, building it if there is none: allocation-free when cached. */
    Plan lease(int batch) {
        for (;;) {
            Plan[] now = plans;
            for (Plan p : now) {
                if (p.batch == batch) {
                    if (leased(p)) return p;
                    break;   // evicted between the lookup and the lease (it leaves the array before it is retired)
                }
            }
            Plan p = buildOrWait(batch);
            if (p != null) return p;
            // Evicted again before this caller could lease it (more new sizes than maxPlans at once): look again.
        }
    }

    private boolean leased(Plan p) {
        if (!p.tryAcquire()) return false;
        p.lastUse = clock.incrementAndGet();
        return true;
    }

    /**
     * The plan for {@code batch}, leased for the caller: built by this thread (leased before anyone
     * else can see it, so an eviction cannot take it first) or by the thread already building it;
     * null if it was evicted before this caller could lease it.
     */
    private Plan buildOrWait(int batch) {
        CompletableFuture<Plan> pending;
        boolean mine = false;
        synchronized (lock) {
            for (Plan p : plans) if (p.batch == batch) return leased(p) ? p : null;
            pending = building.get(batch);
            if (pending == null) {
                pending = new CompletableFuture<>();
                building.put(batch, pending);
                mine = true;
            }
        }
        if (!mine) {
            Plan p;
            try {
                p = pending.join();
            } catch (CompletionException e) {
                throw failed.apply(batch, e.getCause());
            }
            return leased(p) ? p : null;
        }
        Plan plan;
        try {
            CompiledModel m = build.apply(batch);
            plan = new Plan(batch, m, clock.incrementAndGet());
            plan.tryAcquire();   // this caller's lease, taken before the plan is published
        } catch (RuntimeException | Error e) {
            synchronized (lock) {
                building.remove(batch);
            }
            pending.completeExceptionally(e);
            if (e instanceof Error error) throw error;
            throw failed.apply(batch, e);
        }
        List<Plan> evicted = new ArrayList<>();
        synchronized (lock) {
            List<Plan> kept = new ArrayList<>(Arrays.asList(plans));
            kept.add(plan);
            while (kept.size() > maxPlans) {
                Plan oldest = null;
                for (Plan p : kept) if (p != plan && (oldest == null || p.lastUse < oldest.lastUse)) oldest = p;
                kept.remove(oldest);
                evicted.add(oldest);
            }
            plans = kept.toArray(new Plan[0]);
            building.remove(batch);
            built.incrementAndGet();
        }
        pending.complete(plan);
        evictions.addAndGet(evicted.size());
        try {
            for (Plan p : evicted) p.retire();   // closes now, or when the last run on it returns
        } catch (RuntimeException | Error e) {
            plan.close();   // this caller's lease: it will not run
            throw e;
        }
        return plan;
    }
}
