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
//     atomicInt64, atomicBool, atomicValue and atomicPointer, never
//     sync/atomic's.
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
//     outcome is the schedule's, not select's random pick. An idle pool
//     worker's select on its wake token and its idle timer is step/block-for
//     (below).
//
// An episode's goroutines must also never run, sleep or wait behind the
// scheduler's back, nor share work with goroutines outside it. So core
// hands the scheduler its goroutine starts, its clock and its task pool,
// through markers whose hook acts for a goroutine of a serialized episode
// and otherwise leaves the work to core (the hook sets no flag):
//
//   - step/go, through goStep, at every go statement of core (pool.start's
//     workers, the monitor and its temporary workers, an AfterFunc hook of
//     a cancelled scope): the hook starts the function as a goroutine of
//     the caller's episode; else core runs the go statement.
//   - step/sleep and step/now, through sleepStep and nowStep: the pool's
//     monitor sleeps and reads the clock in the episode's virtual time, and
//     scope deadlines (NewScopeWithTimeout's now, NewScopeWithDeadline's
//     delay, hence Deadline) are on the episode's clock.
//   - step/block-for, through awaitForStep: an idle pool worker waits for
//     its wake token or its idle timeout in virtual time (a wait with a
//     timeout: the scheduler's timer, not a Go timer, whose channel no
//     ready func could read without consuming it).
//   - step/after, through afterStep: a scope's deadline timer is the
//     episode's; the function that stops it is kept in the scope's ext.stop
//     (chained after a foreign parent's), which cancel calls, instead of
//     ext.timer, so a plain build's Scope and scopeExt are unchanged.
//   - step/pool, through poolStep: a group of an episode queues its tasks
//     on, and hands off to, the episode's own task pool, made the first
//     time the episode asks; ReadStats in an episode reports it.
//
// In an episode the pool's monitor sees no stall (its reading of Go's
// scheduler means nothing when one goroutine runs at a time): only long
// ticks, in virtual time, decide (pool_monitor.go).
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
//  3. A hook of step/block (or step/block-for) is handed a ready func that
//     only reads (channel lengths, a non-blocking receive on a closed
//     channel): it never blocks and never consumes what the waiting
//     goroutine will receive, so it may be called from any goroutine, any
//     number of times.
//  4. Every go statement of core is written
//     `if stepMarkers { goStep(func() { f(args) }) } else { go f(args) }`,
//     the monitor's sleep likewise; every use of tasks by a group or a
//     channel is `if stepMarkers { poolStep()… } else { tasks… }` (or
//     returns from under `if stepMarkers` before it); and the serialized
//     clock reads, timed wait and timer sit under `if stepMarkers`, after
//     the plain code they override or before it, which they skip (returning,
//     or with a goto past it in pool.park). The compiler's front end drops
//     the dead branch of an if whose condition is a constant, closures and
//     all, before it numbers closures or weighs inlining, so a plain build
//     keeps exactly the go statement, the time call or the use of tasks
//     (invariant 1); goStep, sleepStep, nowStep, awaitForStep, afterStep,
//     poolStep and pool.stats are compiled but never referenced there. (A
//     condition such as !(stepMarkers && goStep(…)) would not do: the front
//     end folds a constant operand of && and || but not one inside
//     parentheses, so the closure would stay, compiled and renumbering its
//     neighbours.) The mutation lane skips the body of an if stepMarkers,
//     and mutates its else branch: the plain code.
//  5. Each serialized episode has a task pool of its own (step/pool), and
//     every goroutine that pool starts is one of the episode's (step/go):
//     an episode's tasks run only on its own goroutines, under its
//     scheduler, and no goroutine of the episode takes the process's tasks
//     (tasks), nor another episode's. The pool is dropped with the
//     episode: the scheduler kills its goroutines still live at its end,
//     and the starts they attempt while dying are dropped. SetTuning
//     waits for the process's pool only: it must not run while an episode
//     does (package chaos tunes in Start and Stop, outside episodes).
//  6. Every time core reads, sleeps or waits for in a goroutine of an
//     episode is the episode's (a fixed epoch plus its virtual time): the
//     monitor's ticks, the idle timeout, a deadline NewScopeWithTimeout
//     makes and the delay until any deadline. A deadline that comes from
//     outside the episode (a time the caller took from time.Now, a foreign
//     parent's) is read on that clock too, so years away from its epoch:
//     an episode's deadlines must come from its clock (chaos.SerialNow).

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
