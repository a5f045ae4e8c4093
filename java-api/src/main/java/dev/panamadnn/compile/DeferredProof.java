package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import dev.panamadnn.natives.ThreadControl;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code fast_when_finite}'s proof, moved off the path to a plan's first result: {@link FiniteBounds} only lists the
 * candidate steps at compile, each gets a pending {@link PlanStep.Fast}, and this proves them after the plan's first run,
 * on a thread of its own ({@link #start}), or in {@code warmup()} on the caller's ({@link #runNow}): the bounds
 * ({@link FiniteBounds#provenExponents}, which reads every weight), then for each proven step its second primitive
 * (oneDNN's own {@code relu} or {@code clip}, {@link FusedActivation#make}), published to the runs that come after.
 * Until then every step runs its NaN-keeping primitive: the same values, but -0.0 where oneDNN's own ReLU gives +0.0 and
 * a ReLU6 within an ulp of 6 (docs/numerics.md), so a fresh plan's first runs may differ from later ones in those bits;
 * every run takes all the proven variants or none ({@link ContextPool#publish}).
 *
 * <p>Why: on a cold JVM the proof read ResNet-18's 47 MB of weights in 46-50 ms and its 11 second primitives took
 * oneDNN's code generation more, 60-80 ms of a 260 ms compile from a JDK AOT cache (docs/benchmarks.md, "Thirteenth
 * look"). The proof holds the compiler's graph (its folded weights) until it is done, and reads the model's weights
 * then: a caller who closes the model after {@code compile} but before the first run finishes the proof gets no fast
 * variants (the proof fails on the closed weights and the steps keep their NaN-keeping primitives; {@code warmup()}
 * before closing proves them). {@code -Dpanamadnn.compile.deferFastProof=false} proves at compile, as before.
 */
final class DeferredProof {
    /** The system property that, set to {@code false}, has {@link FiniteBounds} prove at compile (read per compile). */
    static final String PROPERTY = "panamadnn.compile.deferFastProof";

    private final Compiler plan;
    private final List<Node> candidates;
    private final List<PlanStep.Fast> fasts;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    /** The compiler's graph, until the proof is done. */
    private PlanGraph graph;
    private volatile List<String> fired = List.of();

    DeferredProof(Compiler plan, PlanGraph graph) {
        this.plan = plan;
        this.graph = graph;
        this.candidates = List.copyOf(graph.fastCandidates);
        this.fasts = List.copyOf(plan.pendingFasts);
    }

    /** Whether compiles defer the proof ({@link #PROPERTY}). */
    static boolean enabled() {
        return !"false".equals(System.getProperty(PROPERTY));
    }

    /** {@return the rule's reports of the steps proven so far (none before the proof is done)} */
    List<String> fired() {
        return fired;
    }

    /** Starts the proof on a thread of its own, once (after the plan's first run); returns at once. */
    void start(InFlightCalls calls, Object owner, ContextPool pool) {
        if (started.get() || !started.compareAndSet(false, true)) return;
        Thread.ofPlatform().daemon().name("panamadnn-fast-proof").start(new Runnable() {   // not a lambda: a spun class per JVM
            @Override
            public void run() {
                prove(calls, owner, pool);
            }
        });
    }

    /** Proves now on this thread, or waits for the proof already started; this thread's OpenMP team is the same afterwards. */
    void runNow(InFlightCalls calls, Object owner, ContextPool pool) {
        if (started.compareAndSet(false, true)) {
            int team = ThreadControl.openmpMaxThreads();
            try {
                prove(calls, owner, pool);
            } finally {
                ThreadControl.applyToCurrentThread(team);
            }
            return;
        }
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private void prove(InFlightCalls calls, Object owner, ContextPool pool) {
        try {
            calls.enter(owner);
        } catch (IllegalStateException closed) {   // closed before the proof began: nothing to do
            graph = null;
            done.countDown();
            return;
        }
        try {
            Map<String, Integer> proven = FiniteBounds.provenExponents(graph, candidates);
            // oneDNN fixes a primitive's work split by the creating thread's team when it is created: the plan's, as at compile
            if (plan.threads() > 0) ThreadControl.applyToCurrentThread(plan.threads());
            List<String> reports = new ArrayList<>();
            for (Node n : candidates) {
                Integer k = proven.get(n.name());
                if (k != null) reports.add(FiniteBounds.fired(n, k));
            }
            List<PlanStep.Fast> made = new ArrayList<>();
            List<PlanStep.Fast.Proven> proofs = new ArrayList<>();
            for (PlanStep.Fast f : fasts) {
                Integer k = proven.get(f.node);
                if (k == null) continue;
                Primitive p = null;
                if (f.pending != null) {   // else the proven form skips the step
                    p = FusedActivation.make(f.pending);
                    if (p == null) continue;   // oneDNN would lay the variant out otherwise: the step keeps its own
                    plan.own(p);   // closed with the plan
                    if (p.scratchpadBytes() > pool.scratchpadBytes()) continue;   // more than the contexts' scratchpads hold
                }
                made.add(f);
                proofs.add(new PlanStep.Fast.Proven(p, FiniteBounds.bits(k)));
            }
            // The reports first: a run that took the proven steps (published next) finds describe() and rulesFired() saying so
            // (DeferredProofTest saw the switch before the reports on a 2-vCPU Intel VM, 2026-12-07).
            fired = List.copyOf(reports);
            pool.publish(made, proofs);   // all at once: every run takes all of them or none
        } catch (RuntimeException | InternalError e) {   // the model's weights closed, or its file truncated: the steps keep their own
            System.getLogger("dev.panamadnn.compile").log(System.Logger.Level.DEBUG, owner + ": " + FiniteBounds.NAME
                    + " not proven (the steps keep their NaN-keeping activations)", e);
        } finally {
            graph = null;
            calls.exit();
            done.countDown();
        }
    }
}
