// Package failpoints is the table of core's failpoint markers: their names,
// their kinds and the sites they mark. Package core passes the names to its
// markers; package chaos and the tests of the harness read the table. It
// imports nothing of nimsync.
//
// A marker is a call of github.com/pingcap/failpoint (failpoint.Inject or
// failpoint.InjectCall) at a timing-sensitive point of core. In a plain
// build it compiles to nothing. A build through failpoint-toolexec
// (scripts/chaos-test, scripts/nimsync) rewrites it into a call of the
// hook registered for its failpath with failpoint.EnableCall, if any.
//
// A marker's failpath is [Package] + "/" + its name ([Path]). A name reads
// package/site: the part of core (chan, scope, group, pool), or bug for a
// planted bug, contract for a contract check and step for a scheduling
// point of the serialized mode, then the site in lower case words joined
// by dashes: "chan/park", "bug/lost-wakeup". Each name is declared once, as
// a constant whose identifier is the name in mixed caps (ChanPark,
// BugLostWakeup), and listed once in the table that [All] returns, with
// its [Kind] and what happens at its site.
//
// The kinds, by the hook a marker calls:
//
//   - [Hook]: func(); the harness may delay or preempt the goroutine there,
//     or start a cancellation storm.
//   - [Decide]: func(*bool); setting the bool takes a path the contract
//     allows but a plain run rarely sees (a spurious wakeup).
//   - [Bug]: func(*bool); setting the bool runs a planted bug. Only the
//     harness's self-test enables one; its name starts with "bug/".
//   - [Contract]: func(ch any, enter bool); called when an operation of a
//     single-sided channel side starts (enter) and ends, so that the
//     harness can detect a second goroutine on that side. Its name starts
//     with "contract/".
//   - [Step]: hooks of varying signature, one per marker (see the table):
//     the scheduling points of core's serialized mode, at every atomic
//     operation, mutex lock and unlock, spin or back-off round and blocking
//     receive of core, and the seams through which an episode's scheduler
//     takes over core's goroutine starts, sleeps, clock reads, timed waits,
//     timers and task pool (core/step.go). They are compiled in only with the
//     chaos tag and fire only while core.SetStepMarkers(true) is in effect,
//     which only the serialized mode sets; a free-running chaos run never
//     enables them. Their names start with "step/".
package failpoints

import "slices"

// Package is the import path of the package whose markers the table lists,
// core: every failpath starts with it (failpoint-toolexec prefixes a
// marker's name with its package's path).
const Package = "github.com/nimsync/nimsync/core"

// Path returns the failpath of the marker name, Package + "/" + name: the
// path failpoint.EnableCall and failpoint.Disable take.
func Path(name string) string { return Package + "/" + name }

// Kind is what a failpoint marker's hook looks like (see the package doc).
type Kind int

// The kinds of marker.
const (
	Hook     Kind = iota // calls func()
	Decide               // calls func(*bool): take an allowed, rare path
	Bug                  // calls func(*bool): run a planted bug
	Contract             // calls func(ch any, enter bool): a single-sided operation starts or ends
	Step                 // the serialized mode's scheduling points: a hook per marker (see its Site)
)

// Point describes one failpoint marker. It is a plain value; copies are
// independent.
type Point struct {
	Name string // relative name, package/site; the failpath is Path(Name)
	Kind Kind   // the hook's signature
	Site string // where the marker is and what happens there
}

// Marker names, relative to [Package].
const (
	ChanSendReserved         = "chan/send-reserved"
	ChanRecvClaimed          = "chan/recv-claimed"
	ChanPark                 = "chan/park"
	ChanParkSpuriousWakeup   = "chan/park-spurious-wakeup"
	ChanWoken                = "chan/woken"
	ChanClose                = "chan/close"
	ScopeAttach              = "scope/attach"
	ScopeCancelChild         = "scope/cancel-child"
	ScopeHooks               = "scope/hooks"
	GroupGo                  = "group/go"
	GroupTaskStart           = "group/task-start"
	GroupTaskExit            = "group/task-exit"
	GroupWait                = "group/wait"
	PoolTake                 = "pool/take"
	PoolPark                 = "pool/park"
	BugLostWakeup            = "bug/lost-wakeup"
	BugPublishBeforeWrite    = "bug/publish-before-write"
	BugChildNotCancelled     = "bug/child-not-cancelled"
	BugCloseDropsValues      = "bug/close-drops-values"
	BugTaskDoneBeforeDefer   = "bug/task-done-before-defer"
	BugCancelHookSkipped     = "bug/cancel-hook-skipped"
	BugRecvAfterCloseRunaway = "bug/recv-after-close-runaway"

	// Planted bugs of Group, ResultGroup and Run (core's group.go), one per rule
	// of properties/RULES.md that had none.
	BugTaskSkippedAfterCancel      = "bug/task-skipped-after-cancel"
	BugRangeRestWaitsForSlot       = "bug/range-rest-waits-for-slot"
	BugFirstErrorOverwritten       = "bug/first-error-overwritten"
	BugAllErrorsCancels            = "bug/all-errors-cancels"
	BugGoexitNotAFailure           = "bug/goexit-not-a-failure"
	BugPanicReportedAsError        = "bug/panic-reported-as-error"
	BugCancellationReportedAsError = "bug/cancellation-reported-as-error"
	BugWaitJoinsAnew               = "bug/wait-joins-anew"
	BugGoAfterWaitAccepted         = "bug/go-after-wait-accepted"
	BugTryGoAcceptsWhenCancelled   = "bug/trygo-accepts-when-cancelled"
	BugLimitOffByOne               = "bug/limit-off-by-one"
	BugCancelledGoRunsInline       = "bug/cancelled-go-runs-inline"
	BugRunDropsBodyError           = "bug/run-drops-body-error"
	BugResultSlotForRefusedTryGo   = "bug/result-slot-for-refused-trygo"
	BugGoClearsWaitFlag            = "bug/go-clears-wait-flag"
	BugBlockedGoDroppedOnCancel    = "bug/blocked-go-dropped-on-cancel"
	BugGoexitWorkerCountLost       = "bug/goexit-worker-count-lost"
	BugCancelledScopeStaysLinked   = "bug/cancelled-scope-stays-linked"

	// Planted bugs of the channels' liveness (core's ops.go, park.go, ring.go,
	// mpsc.go, spsc.go), one per channel rule of properties/RULES.md that
	// had none; properties/liveness_test.go catches them.
	BugCloseTwiceReturnsNil       = "bug/close-twice-returns-nil"
	BugTrySendFullOnStaleTail     = "bug/trysend-full-on-stale-tail"
	BugRecheckMissesClose         = "bug/recheck-misses-close"
	BugCancelLosesValue           = "bug/cancel-loses-value"
	BugBatchWakesOne              = "bug/batch-wakes-one"
	BugCancelledWaiterStaysLinked = "bug/cancelled-waiter-stays-linked"
	BugLenCountsClosedBit         = "bug/len-counts-closed-bit"

	// Planted bugs of the scope tree (core's scope.go), the groups' nesting
	// (group.go) and the single-sided channels' contract check (spsc.go,
	// mpsc.go), one per rule of properties/RULES.md that had none.
	BugLastChildCancelsParent        = "bug/last-child-cancels-parent"
	BugLaterCauseOverwritesFirst     = "bug/later-cause-overwrites-first"
	BugChildOfCancelledStartsLive    = "bug/child-of-cancelled-starts-live"
	BugOwnDeadlineOverParents        = "bug/own-deadline-over-parents"
	BugShieldDropsValues             = "bug/shield-drops-values"
	BugValueStopsAtScope             = "bug/value-stops-at-scope"
	BugErrReadsParentState           = "bug/err-reads-parent-state"
	BugWaitSkipsUnderCancelledParent = "bug/wait-skips-under-cancelled-parent"
	BugContractLeftBeforeWait        = "bug/contract-left-before-wait"

	// Planted bugs of concurrency classes the ones above leave out (issue 15):
	// an ABA on a ring index, a check-then-act on a counter, a re-check
	// made before linking, a handoff that loads before it stores, hooks run
	// in the middle of a walk, a lazy init without its second check.
	BugRecvClaimsStaleLap        = "bug/recv-claims-stale-lap"
	BugLimitCheckThenStore       = "bug/limit-check-then-store"
	BugSenderParksWithoutRecheck = "bug/sender-parks-without-recheck"
	BugFinishLoadsWaitersFirst   = "bug/finish-loads-waiters-first"
	BugHookRunsMidWalk           = "bug/hook-runs-mid-walk"
	BugDoneSkipsRecheck          = "bug/done-skips-recheck"
	ContractSingleSender         = "contract/single-sender"
	ContractSingleReceiver       = "contract/single-receiver"

	// The serialized mode's scheduling points (core/step.go, step_chaos.go).
	StepAtomic = "step/atomic"
	StepLock   = "step/lock"
	StepUnlock = "step/unlock"
	StepSpin   = "step/spin"
	StepBlock  = "step/block"

	// The serialized mode's goroutines, clock, timers and task pools
	// (core/step.go): in an episode they are the scheduler's, not Go's.
	StepGo       = "step/go"
	StepSleep    = "step/sleep"
	StepNow      = "step/now"
	StepBlockFor = "step/block-for"
	StepAfter    = "step/after"
	StepPool     = "step/pool"
)

var points = []Point{
	{ChanSendReserved, Hook, "a sender reserved a slot (or, SPSC, wrote it) and has not published it yet"},
	{ChanRecvClaimed, Hook, "a receiver claimed a published slot and has not freed it yet"},
	{ChanPark, Hook, "a channel operation is about to link itself in a wait queue and park"},
	{ChanParkSpuriousWakeup, Decide, "a linked waiter may return as if woken, before its re-check (the caller retries)"},
	{ChanWoken, Hook, "a parked channel operation received its wakeup token and is about to retry"},
	{ChanClose, Hook, "Close marked the channel closed and has not woken the parked goroutines yet"},
	{ScopeAttach, Hook, "a new scope is about to link itself under its parent"},
	{ScopeCancelChild, Hook, "a cancelling scope is about to cancel one of its children (parent locked)"},
	{ScopeHooks, Hook, "a cancelled subtree is about to run its AfterFunc/OnCancel hooks"},
	{GroupGo, Hook, "Group.Go counted a task and is about to queue it"},
	{GroupTaskStart, Hook, "a worker is about to run a task's body"},
	{GroupTaskExit, Hook, "a task's body returned and its failure is not recorded yet"},
	{GroupWait, Hook, "Group.Wait is about to park until the group's tasks end"},
	{PoolTake, Hook, "a pool worker took a batch of tasks and has not started it"},
	{PoolPark, Hook, "a pool worker found no work and is about to park"},
	{BugLostWakeup, Bug, "PLANTED BUG: a wait queue skips the wakeup it owes a parked goroutine"},
	{BugPublishBeforeWrite, Bug, "PLANTED BUG: an SPSC send publishes its index before it writes the value"},
	{BugChildNotCancelled, Bug, "PLANTED BUG: cancelling a scope leaves one child uncancelled"},
	{BugCloseDropsValues, Bug, "PLANTED BUG: closing an MPMC channel drops its buffered values"},
	{BugTaskDoneBeforeDefer, Bug, "PLANTED BUG: a task is counted finished before its body and defers run"},
	{BugCancelHookSkipped, Bug, "PLANTED BUG: a cancelled scope skips its AfterFunc/OnCancel hooks"},
	{BugRecvAfterCloseRunaway, Bug, "PLANTED BUG: a receive on a closed, drained SPMC or MPMC channel re-delivers an old slot's value instead of ErrClosed, for ever"},
	{BugTaskSkippedAfterCancel, Bug, "PLANTED BUG: a queued task whose group is cancelled is never called (its defers never run)"},
	{BugRangeRestWaitsForSlot, Bug, "PLANTED BUG: the rest of a failed GoRange chunk waits for a slot of the limit the chunk still holds"},
	{BugFirstErrorOverwritten, Bug, "PLANTED BUG: a later task error overwrites the first, which Wait should return"},
	{BugAllErrorsCancels, Bug, "PLANTED BUG: WithAllErrors: a task error cancels the group"},
	{BugGoexitNotAFailure, Bug, "PLANTED BUG: a task that called runtime.Goexit is not counted as failed"},
	{BugPanicReportedAsError, Bug, "PLANTED BUG: a task's panic is recorded as an error; Wait returns it instead of panicking"},
	{BugCancellationReportedAsError, Bug, "PLANTED BUG: Wait reports the cause of a cancellation though no task failed"},
	{BugWaitJoinsAnew, Bug, "PLANTED BUG: WithAllErrors: each Wait joins the errors anew, so two Waits return different errors"},
	{BugGoAfterWaitAccepted, Bug, "PLANTED BUG: Go after Wait returned is accepted instead of panicking"},
	{BugTryGoAcceptsWhenCancelled, Bug, "PLANTED BUG: TryGo on a cancelled group accepts the task"},
	{BugLimitOffByOne, Bug, "PLANTED BUG: WithLimit(n) lets n+1 tasks be pending"},
	{BugCancelledGoRunsInline, Bug, "PLANTED BUG: Go on a cancelled group calls the task inline, on the caller's goroutine"},
	{BugRunDropsBodyError, Bug, "PLANTED BUG: Run ignores the error its body returned"},
	{BugResultSlotForRefusedTryGo, Bug, "PLANTED BUG: ResultGroup.TryGo reserves a result slot even when it refuses the task"},
	{BugGoClearsWaitFlag, Bug, "PLANTED BUG: Go clears the flag of a Wait that is parked, so the last task's end never wakes it"},
	{BugBlockedGoDroppedOnCancel, Bug, "PLANTED BUG: a Go blocked for a slot returns without queueing its function when the group is cancelled"},
	{BugGoexitWorkerCountLost, Bug, "PLANTED BUG: a worker that exits through a task's runtime.Goexit never publishes its finished count (LiveTasks stays up)"},
	{BugCancelledScopeStaysLinked, Bug, "PLANTED BUG: a scope cancelled on its own stays linked in its live parent's child list (LiveScopes stays up until the parent ends)"},
	{BugCloseTwiceReturnsNil, Bug, "PLANTED BUG: Close of a closed channel returns nil instead of ErrClosed"},
	{BugTrySendFullOnStaleTail, Bug, "PLANTED BUG: an MPSC TrySend preempted between its loads of tail and head takes a head that passed its stale tail for a full ring and reports ErrFull"},
	{BugRecheckMissesClose, Bug, "PLANTED BUG: the parking re-check (canSend, canRecv) ignores the closed mark: a goroutine still spinning when Close runs parks after Close woke everyone, and is never woken"},
	{BugCancelLosesValue, Bug, "PLANTED BUG: a receive that waited and finds its context ended as it takes a value returns ctx.Err() and drops the value"},
	{BugBatchWakesOne, Bug, "PLANTED BUG: a SendBatch (RecvBatch) that makes room for several wakes one parked receiver (sender) instead of one per value"},
	{BugCancelledWaiterStaysLinked, Bug, "PLANTED BUG: a parked goroutine whose context ended returns without leaving its wait queue: it stays counted in ParkedWaiters, and a later wakeup is spent on it"},
	{BugLenCountsClosedBit, Bug, "PLANTED BUG: Len does not mask the closed mark out of tail: a closed channel reports Cap values buffered"},
	{BugLastChildCancelsParent, Bug, "PLANTED BUG: a Cancel that leaves its parent scope with no live child or hook cancels the parent too"},
	{BugLaterCauseOverwritesFirst, Bug, "PLANTED BUG: a Cancel of a cancelled scope overwrites its cause: context.Cause and later OnCancel hooks report the last cause, not the first"},
	{BugChildOfCancelledStartsLive, Bug, "PLANTED BUG: a scope made by NewScope (or a group by NewGroup) under a cancelled scope is linked under it and starts live, never to be cancelled by it"},
	{BugOwnDeadlineOverParents, Bug, "PLANTED BUG: NewScopeWithDeadline keeps its own deadline even when the parent's is earlier: Deadline reports the later one"},
	{BugShieldDropsValues, Bug, "PLANTED BUG: NewShieldedScope makes a fresh root scope: the shield carries none of its parent's values"},
	{BugValueStopsAtScope, Bug, "PLANTED BUG: Value of a scope whose parent is a scope asks no further (scopes carry no values), so it finds no binding above them"},
	{BugErrReadsParentState, Bug, "PLANTED BUG: Err of a live scope under a cancelled scope reports the parent's Err before the cancellation walk reaches it, while its Done is still open"},
	{BugWaitSkipsUnderCancelledParent, Bug, "PLANTED BUG: Wait of a group whose parent context is cancelled returns at once, leaving its tasks to whoever waits for the parent: a nested group ends before the groups its tasks wait for"},
	{BugContractLeftBeforeWait, Bug, "PLANTED BUG: a single-sided Send or Recv (SPSC, MPSC's Recv) that must wait leaves the contract check before it waits: a second goroutine on that side meanwhile is not reported"},
	{BugRecvClaimsStaleLap, Bug, "PLANTED BUG: an SPMC or MPMC receive takes a slot's odd sequence of an earlier lap for published (a lap-less check, an ABA): it claims position h while the slot still holds position h-cap, claimed by a receiver that has not freed it, and delivers that value again"},
	{BugLimitCheckThenStore, Bug, "PLANTED BUG: a Go or TryGo under a limit takes its slot by a load, a check against the limit and a Store of the count plus one instead of a CAS: a task's end (or a Wait's flag) between the load and the store is lost"},
	{BugSenderParksWithoutRecheck, Bug, "PLANTED BUG: a blocked Send checks for room before it links itself in the senders' wait queue and parks on that answer, with no re-check after linking: a slot freed in between wakes nobody"},
	{BugFinishLoadsWaitersFirst, Bug, "PLANTED BUG: a finishing task under a limit loads the count of Go calls waiting for a slot before it releases its slot: a Go that registers in between is never handed the slot"},
	{BugHookRunsMidWalk, Bug, "PLANTED BUG: Cancel runs each AfterFunc/OnCancel hook as its walk reaches it, under the hook's scope's lock, before the rest of the subtree is cancelled"},
	{BugDoneSkipsRecheck, Bug, "PLANTED BUG: Done's slow path makes a new channel without re-checking under the lock: it overwrites the channel a concurrent Done made, or the closed one Cancel stored, and that Done is never closed"},
	{ContractSingleSender, Contract, "an SPSC or SPMC send operation (Send, TrySend, SendBatch) starts and ends"},
	{ContractSingleReceiver, Contract, "an SPSC or MPSC receive operation (Recv, TryRecv, RecvBatch) starts and ends"},
	{StepAtomic, Step, "func(): an atomic operation of core (a load, store, add, CAS, swap, and or or of one of its atomic fields) is about to run"},
	{StepLock, Step, "func(*sync.Mutex): a goroutine is about to lock one of core's mutexes, the one passed; the hook returns once it can be taken without blocking"},
	{StepUnlock, Step, "func(): a goroutine has just unlocked one of core's mutexes"},
	{StepSpin, Step, "func(): a spin or back-off round (a busy wait or a yield): the calling goroutine waits for another to make progress"},
	{StepBlock, Step, "func(ready func() bool): a goroutine is about to block in a receive (a parked channel operation, a group's Wait, a limit slot, a scope's Done); the hook returns once ready() reports true (ready must not block, and is called by another goroutine while this one waits)"},
	{StepGo, Step, "func(f func(), started *bool): core is about to start a goroutine running f (a pool worker, the pool's monitor, an AfterFunc hook of a cancelled scope); a hook that sets *started has started f itself (as a goroutine of the caller's serialized episode), else core runs go f()"},
	{StepSleep, Step, "func(d time.Duration, slept *bool): the pool's monitor is about to sleep for d; a hook that sets *slept has slept (in the episode's virtual time), else core calls time.Sleep(d)"},
	{StepNow, Step, "func(now *time.Time, ok *bool): core is about to read the clock (the pool's monitor, a scope's deadline); a hook that sets *ok has set *now (the episode's virtual clock), else core calls time.Now()"},
	{StepBlockFor, Step, "func(ready func() bool, d time.Duration, timedOut *bool, handled *bool): an idle pool worker is about to wait for its wake token or its idle timeout d; a hook that sets *handled has returned once ready() reported true (or with *timedOut set once d passed), else core waits on a timer; ready is as step/block's"},
	{StepAfter, Step, "func(d time.Duration, f func(), stop *func() bool, handled *bool): a scope is about to arm its deadline's timer, to call f after d; a hook that sets *handled has armed one (in the episode's virtual time) and set *stop to the function that stops it (it reports whether it stopped f from being called), else core calls time.AfterFunc(d, f)"},
	{StepPool, Step, "func(mk func() any, p *any): a group is about to queue a task on, or hand off to, the task pool; a hook that sets *p gives core the pool to use instead of the process's (the caller's serialized episode's own, made by mk the first time)"},
}

// All returns every failpoint marker of package core, in a fixed order, as
// a fresh slice the caller may keep or change. It allocates; call it once
// per plan or run, not per operation. The harness validates failpoint names
// against it.
func All() []Point { return slices.Clone(points) }
