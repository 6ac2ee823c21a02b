package core

// The ring's blocking slow paths: how a Send on a full SPMC or MPMC, or a
// Recv on an empty one, waits. (The batch operations use the shared slow
// paths of ops.go.)
//
// Wait policy: spin only while the peer can be running. A waiter busy-waits
// at most activeSpins short rounds (2^(spinShift+i) loop iterations, capped
// at 2^maxShift), each followed by a peek at its slot, and only while the
// runtime's spin gate for sync.Mutex allows it (runtimeCanSpin): GOMAXPROCS
// > 1, another P running, and no other goroutine runnable on the waiter's
// own P. Otherwise it parks at once, as a goroutine blocked on a Go channel
// does. Parked, it is woken onto its waker's P (the scheduler's runnext),
// where waiter and waker take turns on one core with no cache line moving
// between cores; a waiter that spun instead would hold its P while the
// goroutine it waits for (say, one of 8 senders on a 2-P machine) sat in a
// run queue. There are no yielding rounds (runtime.Gosched): a yield puts
// the waiter on the global run queue, behind every runnable goroutine, and
// costs a trip through the scheduler as a park does, without its wakeup.
//
// Measured (BenchmarkRing, items per CPU second against a Go channel in
// the same run, GOMAXPROCS=1, where spinning can only waste): the shared
// policy of ops.go (busy rounds, then yields, with an adaptive level) ran
// 0.79-0.87x a Go channel at capacity 64 in every topology; this policy
// 1.05-1.11x.
//
// Correctness does not depend on the policy: spinning only delays the
// parking protocol (park.go, invariant 3), which alone keeps wakeups from
// being lost. In the serialized mode (step.go) the gate is i < activeSpins
// alone, so that a schedule replays whatever the runtime's state.

import (
	"context"
	_ "unsafe" // go:linkname
)

// runtimeCanSpin is sync.Mutex's spin gate, runtime.sync_runtime_canSpin,
// which the runtime keeps for linkname (go.dev/issue/67401): true while
// i < 4, GOMAXPROCS > 1, another P is running and the caller's P has no
// other runnable goroutine.
//
//go:linkname runtimeCanSpin sync.runtime_canSpin
func runtimeCanSpin(i int) bool

// ringSpin reports whether attempt i of a blocked ring operation should
// busy-wait rather than park (the wait policy above).
func ringSpin(i int) bool {
	if i >= activeSpins {
		return false
	}
	if stepMarkers {
		return true // the serialized mode: no dependence on the runtime's state
	}
	return runtimeCanSpin(i)
}

// ringSendSlow retries r.trySend(v) after the fast path found the ring full.
func ringSendSlow[T any](ctx context.Context, r *ring[T], v T) error {
	for i := 0; ; i++ {
		if ringSpin(i) {
			busyWait(min(spinShift+i, maxShift))
			if !r.peekSend() {
				continue
			}
		} else if plantedBugs && !r.canSend() && planted(fpBugSendNoRecheck) {
			if err := bugSenderParksWithoutRecheck(ctx, &r.sendq); err != nil {
				return err
			}
		} else if err := r.sendq.park(ctx, r.canSend); err != nil {
			return err
		}
		if err := r.trySend(v); err != errWouldBlock {
			if err == nil {
				r.recvq.wake(1)
			}
			return err
		}
	}
}

// ringRecvSlow retries r.tryRecv() after the fast path found the ring empty.
func ringRecvSlow[T any](ctx context.Context, r *ring[T]) (T, error) {
	for i := 0; ; i++ {
		parked := false
		if ringSpin(i) {
			busyWait(min(spinShift+i, maxShift))
			if !r.peekRecv() {
				continue
			}
		} else if err := r.recvq.park(ctx, r.canRecv); err != nil {
			var zero T
			return zero, err
		} else {
			parked = true
		}
		if v, err := r.tryRecv(); err != errWouldBlock {
			if err == nil {
				r.sendq.wake(1)
				if plantedBugs && parked && ctx.Err() != nil && planted(fpBugCancelLosesValue) {
					return bugCancelLosesValue[T](ctx)
				}
			}
			return v, err
		}
	}
}
