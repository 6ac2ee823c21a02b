package core

// The serialized mode's seam: scheduling points at every step of core that
// another goroutine can observe or wait for.
//
// In the serialized mode (issue 14) a seeded scheduler (package chaos) runs
// the goroutines of a test one at a time and decides, at each scheduling
// point, which one runs next: an interleaving is then a list of decisions,
// reproducible from its seed. For that, every step at which core's
// goroutines interact must pass a failpoint marker whose hook the scheduler
// registers (internal/failpoints, kind Step):
//
//   - step/atomic: before every atomic operation on core's state. The
//     fields are of the types atomicUint64, atomicUint32, atomicInt32,
//     atomicInt64, atomicBool and atomicValue, never sync/atomic's.
//   - step/lock and step/unlock: around every lock and unlock of a core
//     mutex (type mutex, never sync.Mutex). The lock hook gets the
//     *sync.Mutex and returns once it can be taken without blocking, so
//     that no goroutine blocks inside Lock unseen by the scheduler.
//   - step/spin: at every round of a loop that waits for another goroutine
//     with no bound of its own, through spinStep: backoff (a ring position
//     an in-flight peer has reserved or claimed, ring.go invariant 5),
//     pool.poll's yielding rounds, and the planted bugs' yields. The
//     calling goroutine waits for another to make progress, and the
//     scheduler should run someone else first (pct drops its priority).
//     The bounded spin rounds before a park (spin, busyWait, a lost CAS's
//     contended) are no step/spin: their loops pass atomic operations,
//     which are scheduling points, and end in a park; were they spins, a
//     strategy that runs others first at every spin would never let a
//     waiter get as far as parking before its peer acts, and the
//     interleavings where every waiter is parked, where wakeup bugs live,
//     would be out of its reach.
//   - step/block: before every blocking receive (a parked channel
//     operation, leave's token, Group.wait, a Go waiting for a limit slot,
//     Scope.Err waiting for Done, a pool worker's owed token), through
//     awaitStep: the hook returns once ready() reports true, so the receive
//     that follows does not block. Where the receive is a select with two
//     cases that may both be ready, the code after awaitStep takes a fixed
//     one first (park takes the token before ctx.Done()), so that the
//     outcome is the schedule's, not select's random pick. One blocking
//     receive is not marked: an idle pool worker's select on its wake
//     token and its idle timer (pool_worker.go, park says why).
//
// Invariants:
//
//  1. A plain build (no chaos tag) is unchanged by the seam: the types are
//     aliases of sync/atomic's and sync.Mutex (step_plain.go), spinStep and
//     awaitStep are empty functions that inline away, and every serialized
//     wait sits under `if stepMarkers`, a constant false there, which the
//     compiler removes with the closures inside it. Every function of core
//     compiles to the same machine code as without the seam (spinStep,
//     awaitStep and isClosed are compiled, never referenced, and dropped
//     by the linker), and no marker of kind Step exists in a plain binary.
//     Keep it so: call spinStep on a line of its own before
//     runtime.Gosched rather than through a wrapper function, whose
//     inlining would leave a one-byte NOP (an inline mark) at the call.
//  2. A chaos build (step_chaos.go) wraps each type in a struct whose
//     methods call the marker first; the markers fire only while
//     SetStepMarkers(true) is in effect, which only the serialized mode
//     sets. Otherwise each operation pays one atomic load of a flag (the
//     flag itself a sync/atomic Bool, never a wrapper) and no failpoint
//     lookup, and behaves as in a plain build, except that a serialized
//     wait's fixed preference applies when both its cases are ready
//     already (a choice select may also make), and that each serialized
//     wait allocates its ready closure, which escapes to the hook.
//  3. A hook of step/block is handed a ready func that only reads
//     (channel lengths, a non-blocking receive on a closed channel): it
//     never blocks and never consumes what the waiting goroutine will
//     receive, so it may be called from any goroutine, any number of times.

// isClosed reports whether done is closed, without blocking: false for a
// nil channel. done must be a channel nobody sends on (a Done channel, or
// Group.wait's channel), so that the receive consumes nothing.
func isClosed(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}
