package core

// The planted bugs' actions, for the harness's self-test (properties,
// TestSelfTestCatchesPlantedBugs): each function here is what one planted
// bug does instead of the right thing, named after the bug (its marker in
// internal/failpoints, without the "bug/" prefix). The marker stays at the
// site, tested after the condition under which the bug acts, so that it
// fires only where the bug acts:
//
//	if plantedBugs && cond && planted(fpBugX) {
//		return bugX(…)
//	}
//
// In a build without the chaos tag plantedBugs is the constant false, the
// branch is dead and the compiler drops it with the call: these functions
// cost the hot paths nothing. A bug whose action is a single statement
// (return nil, k = 1, continue) keeps it at the site.

import (
	"context"
	"runtime"
)

// bugCancelLosesValue: a receive that waited and finds its context ended as
// it takes a value drops the value and returns ctx.Err() (ops.go).
func bugCancelLosesValue[T any](ctx context.Context) (T, error) {
	var zero T
	return zero, ctx.Err()
}

// bugPublishBeforeWrite: an SPSC send publishes position t before it writes
// the value, so the receiver may read the slot's old contents (spsc.go).
func (c *SPSC[T]) bugPublishBeforeWrite(t uint64, v T) error {
	c.stail = t + 1
	if !c.tail.CompareAndSwap(t, t+1) {
		c.stail = t
		return ErrClosed
	}
	spinStep() // a scheduling point of the serialized mode (step.go)
	runtime.Gosched()
	c.buf[t&c.mask] = v
	return nil
}

// bugTrySendFullOnStaleTail: a TrySend preempted between its loads of tail
// and of the slot at that tail t takes a slot not free for t for a full ring,
// without checking that t is still the tail or that head left no room (ring.go,
// invariant 5): another sender may have filled position t in between. It
// reports whether the send gives up with errWouldBlock.
func (r *ring[T]) bugTrySendFullOnStaleTail(t uint64) bool {
	spinStep() // a scheduling point of the serialized mode (step.go)
	runtime.Gosched()
	return r.sslots[t&r.smask].seq.Load() != 2*t
}

// bugRecvAfterCloseRunaway: a receive on a closed, drained ring re-delivers
// the slot of position h-1 (zeroed: ring.go, invariant 3) instead of
// returning ErrClosed, for ever.
func (r *ring[T]) bugRecvAfterCloseRunaway(h uint64) (T, error) {
	return r.rslots[(h-1)&r.rmask].val, nil
}

// bugRecvBatchAfterCloseRunaway is bugRecvAfterCloseRunaway for a batch:
// it re-delivers the slots of the last lap, h-cap .. h-1.
func (r *ring[T]) bugRecvBatchAfterCloseRunaway(h uint64, dst []T) (int, error) {
	k := min(uint64(len(dst)), r.rmask+1)
	for j := uint64(0); j < k; j++ {
		dst[j] = r.rslots[(h+j)&r.rmask].val
	}
	return int(k), nil
}

// bugCloseDropsValues: Close of a ring drains and drops its buffered values.
func (r *ring[T]) bugCloseDropsValues() {
	for {
		if _, err := r.tryRecv(); err != nil {
			return
		}
	}
}

// bugCancelledGoRunsInline: Go on a cancelled group calls fn inline, on the
// caller's goroutine, instead of queueing it.
func (g *Group) bugCancelledGoRunsInline(fn func(context.Context) error) {
	g.start(fn, true)
	g.run(fn)
	g.finish(1)
}

// bugGoClearsWaitFlag: Go counts its task and clears waiterBit, so the
// last task's end never wakes a Wait that is parked (group.go, invariant 2).
func (g *Group) bugGoClearsWaitFlag() bool {
	for s := g.state.Load(); !g.state.CompareAndSwap(s, (s+1)&^waiterBit); s = g.state.Load() {
	}
	return true
}

// bugResultSlotForRefusedTryGo: ResultGroup.TryGo reserves a result slot
// before it knows whether the task is accepted, so a refused TryGo leaves a
// zero value among the results.
func (r *ResultGroup[T]) bugResultSlotForRefusedTryGo(fn func(context.Context) (T, error)) bool {
	slot := r.reserve()
	if !r.g.start(task0, false) {
		return false
	}
	r.g.queue(r.wrap(slot, fn))
	return true
}

// bugTaskDoneBeforeDefer: a worker publishes task t finished before it
// runs it, so Wait may return while t and its deferred calls still run
// (pool_worker.go).
func (w *worker) bugTaskDoneBeforeDefer(t task) {
	w.done--
	w.finished++
	t.g.finish(1)
}

// bugLimitCheckThenStore: acquire loaded the state s, found the pending
// count below the limit, and takes its slot by storing s+1 instead of a
// CAS from s: a check-then-act on the counter. Whatever changed state
// between the load and the store is lost (group.go, invariants 1 to 3):
// a task's end (finish's Add), so the count never comes back to zero,
// Wait never returns and the slot is never freed; a Wait's waiterBit, so
// the last task's end does not wake it; another submission's slot. The
// yield stands for a preemption between the check and the act.
func (g *Group) bugLimitCheckThenStore(s uint64) {
	spinStep() // a scheduling point of the serialized mode (step.go)
	runtime.Gosched()
	g.state.Store(s + 1)
}

// bugFinishLoadsWaitersFirst is finish (group.go) with its load of lwait
// moved before the Add that releases the finished tasks' slots: the
// Dekker pair of invariant 3 (finish lowers the count, then loads lwait;
// a blocked Go registers in lwait, then re-checks the count) loses its
// order. A Go that registers after the load and re-checks before the Add
// sees no free slot, parks, and is handed no token: it waits for another
// task's end or the group's cancellation, with a slot free. The yield
// stands for a preemption between the load and the Add.
func (g *Group) bugFinishLoadsWaitersFirst(k uint64) {
	waiting := g.lwait.Load() > 0
	runtime.Gosched()
	s := g.state.Add(-k)
	if waiting {
		g.token()
	}
	if s == waiterBit && g.state.CompareAndSwap(waiterBit, 0) {
		close(g.waitCh)
	}
}

// bugSenderParksWithoutRecheck: a blocked send (sendSlow, ops.go) checked
// for room before it linked itself in sendq, found none, and parks on
// that answer: its ready function never reports room, so park makes no
// re-check after linking (park.go, invariant 3, on the sender's side). A
// receiver that frees a slot between the check and the link loads
// sendq.n == 0 and wakes nobody; the sender sleeps until another receive
// or Close.
func bugSenderParksWithoutRecheck(ctx context.Context, sendq *waitq) error {
	return sendq.park(ctx, func() bool { return false })
}

// bugHookRunsMidWalk: a cancel walk (scope.go, cancel) that reaches hook
// node c cancels it and runs its function there and then, instead of
// collecting it for cancelTree to run once the walk is over: the hook
// runs while the walk still holds c's parent's lock (and every lock
// above it), and before the parent's later children are cancelled
// (invariants 3 and 4: hooks run after the subtree is cancelled, with no
// lock held). A hook that takes its scope's lock deadlocks.
func (c *Scope) bugHookRunsMidWalk(cause error, state uint32) {
	var now []func()
	c.cancel(cause, state, &now)
	for _, f := range now {
		f()
	}
}
