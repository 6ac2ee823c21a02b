package core

// Failpoint markers: every timing-sensitive point of the channels, the scope
// tree and the task groups carries a github.com/pingcap/failpoint marker.
//
// In a plain build the markers are empty functions that the compiler
// inlines away: they cost nothing, not even a stack slot (a marker that can
// change behaviour keeps its code inside a failpoint.Inject closure, which a
// plain build drops). The chaos build (scripts/chaos-test) compiles core
// through failpoint-toolexec, which rewrites each marker into a call of the
// hook that package chaos registers for it with failpoint.EnableCall.
//
// Every marker name is declared once, below, and listed in [Failpoints]
// with the site it marks. Markers of kind [HookPoint] call a func() hook;
// markers of kind [DecidePoint] and [BugPoint] call a func(*bool) hook
// that sets the bool to take the marked path. Markers whose name starts
// with "bug/" plant bugs, for the harness's self-test; a chaos run never
// enables them.

import "slices"

// Marker names, relative to the package path (failpoint's convention).
const (
	fpSendReserved   = "chan/send-reserved"
	fpRecvClaimed    = "chan/recv-claimed"
	fpPark           = "chan/park"
	fpParkSpurious   = "chan/park-spurious-wakeup"
	fpWoken          = "chan/woken"
	fpClose          = "chan/close"
	fpScopeAttach    = "scope/attach"
	fpScopeCancel    = "scope/cancel-child"
	fpScopeHooks     = "scope/hooks"
	fpGroupGo        = "group/go"
	fpTaskStart      = "group/task-start"
	fpTaskExit       = "group/task-exit"
	fpGroupWait      = "group/wait"
	fpPoolTake       = "pool/take"
	fpPoolPark       = "pool/park"
	fpBugLostWakeup  = "bug/lost-wakeup"
	fpBugEarlyPub    = "bug/publish-before-write"
	fpBugChildLive   = "bug/child-not-cancelled"
	fpBugCloseDrops  = "bug/close-drops-values"
	fpBugDoneEarly   = "bug/task-done-before-defer"
	fpBugHookSkipped = "bug/cancel-hook-skipped"
	fpBugRecvRunaway = "bug/recv-after-close-runaway"

	// Planted bugs of Group, ResultGroup and Run (group.go), one per rule
	// of properties/RULES.md that had none.
	fpBugTaskSkipped       = "bug/task-skipped-after-cancel"
	fpBugRangeWaitsSlot    = "bug/range-rest-waits-for-slot"
	fpBugFirstErrLost      = "bug/first-error-overwritten"
	fpBugAllErrorsCancel   = "bug/all-errors-cancels"
	fpBugGoexitLost        = "bug/goexit-not-a-failure"
	fpBugPanicAsError      = "bug/panic-reported-as-error"
	fpBugCancelIsError     = "bug/cancellation-reported-as-error"
	fpBugWaitRejoins       = "bug/wait-joins-anew"
	fpBugGoAfterWait       = "bug/go-after-wait-accepted"
	fpBugTryGoCancelled    = "bug/trygo-accepts-when-cancelled"
	fpBugLimitOffByOne     = "bug/limit-off-by-one"
	fpBugGoInline          = "bug/cancelled-go-runs-inline"
	fpBugRunDropsBodyErr   = "bug/run-drops-body-error"
	fpBugResultSlotRefused = "bug/result-slot-for-refused-trygo"
	fpBugGoClearsWaiter    = "bug/go-clears-wait-flag"
	fpBugBlockedGoDropped  = "bug/blocked-go-dropped-on-cancel"
	fpBugExitUnpublished   = "bug/goexit-worker-count-lost"
	fpBugScopeStaysLinked  = "bug/cancelled-scope-stays-linked"

	// Planted bugs of the channels' liveness (ops.go, park.go, ring.go,
	// mpsc.go, spsc.go), one per channel rule of properties/RULES.md that
	// had none; properties/liveness_test.go catches them.
	fpBugCloseTwiceNil      = "bug/close-twice-returns-nil"
	fpBugStaleFull          = "bug/trysend-full-on-stale-tail"
	fpBugRecheckMissesClose = "bug/recheck-misses-close"
	fpBugCancelLosesValue   = "bug/cancel-loses-value"
	fpBugBatchWakesOne      = "bug/batch-wakes-one"
	fpBugCancelStaysLinked  = "bug/cancelled-waiter-stays-linked"
	fpBugLenClosedBit       = "bug/len-counts-closed-bit"

	// Planted bugs of the scope tree (scope.go), the groups' nesting
	// (group.go) and the single-sided channels' contract check (spsc.go,
	// mpsc.go), one per rule of properties/RULES.md that had none.
	fpBugCancelsParent     = "bug/last-child-cancels-parent"
	fpBugLaterCause        = "bug/later-cause-overwrites-first"
	fpBugBornLive          = "bug/child-of-cancelled-starts-live"
	fpBugOwnDeadline       = "bug/own-deadline-over-parents"
	fpBugShieldNoValues    = "bug/shield-drops-values"
	fpBugValueOneLevel     = "bug/value-stops-at-scope"
	fpBugErrFromParent     = "bug/err-reads-parent-state"
	fpBugWaitSkips         = "bug/wait-skips-under-cancelled-parent"
	fpBugContractLeftEarly = "bug/contract-left-before-wait"
	fpContractSend         = "contract/single-sender"
	fpContractRecv         = "contract/single-receiver"
)

// PointKind is what a failpoint marker's hook looks like.
type PointKind int

const (
	// HookPoint markers call a func() hook: the harness may delay or
	// preempt the goroutine there, or start a cancellation storm.
	HookPoint PointKind = iota
	// DecidePoint markers call a func(*bool) hook; setting the bool takes
	// a path the contract allows but a plain run rarely sees (a spurious
	// wakeup).
	DecidePoint
	// BugPoint markers call a func(*bool) hook; setting the bool runs a
	// planted bug. Only the harness's self-test enables them.
	BugPoint
	// ContractPoint markers call a func(ch any, enter bool) hook when an
	// operation of a single-sided channel side starts (enter) and ends, so
	// that the harness can detect a second goroutine on that side.
	ContractPoint
)

// Failpoint describes one failpoint marker of package core.
type Failpoint struct {
	Name string    // relative name; the failpath is FailpointPackage + "/" + Name
	Kind PointKind // the hook's signature
	Site string    // where the marker is and what happens there
}

// FailpointPackage is the import path that failpoint paths of core start with.
const FailpointPackage = "github.com/nimsync/nimsync/core"

var failpoints = []Failpoint{
	{fpSendReserved, HookPoint, "a sender reserved a slot (or, SPSC, wrote it) and has not published it yet"},
	{fpRecvClaimed, HookPoint, "a receiver claimed a published slot and has not freed it yet"},
	{fpPark, HookPoint, "a channel operation is about to link itself in a wait queue and park"},
	{fpParkSpurious, DecidePoint, "a linked waiter may return as if woken, before its re-check (the caller retries)"},
	{fpWoken, HookPoint, "a parked channel operation received its wakeup token and is about to retry"},
	{fpClose, HookPoint, "Close marked the channel closed and has not woken the parked goroutines yet"},
	{fpScopeAttach, HookPoint, "a new scope is about to link itself under its parent"},
	{fpScopeCancel, HookPoint, "a cancelling scope is about to cancel one of its children (parent locked)"},
	{fpScopeHooks, HookPoint, "a cancelled subtree is about to run its AfterFunc/OnCancel hooks"},
	{fpGroupGo, HookPoint, "Group.Go counted a task and is about to queue it"},
	{fpTaskStart, HookPoint, "a worker is about to run a task's body"},
	{fpTaskExit, HookPoint, "a task's body returned and its failure is not recorded yet"},
	{fpGroupWait, HookPoint, "Group.Wait is about to park until the group's tasks end"},
	{fpPoolTake, HookPoint, "a pool worker took a batch of tasks and has not started it"},
	{fpPoolPark, HookPoint, "a pool worker found no work and is about to park"},
	{fpBugLostWakeup, BugPoint, "PLANTED BUG: a wait queue skips the wakeup it owes a parked goroutine"},
	{fpBugEarlyPub, BugPoint, "PLANTED BUG: an SPSC send publishes its index before it writes the value"},
	{fpBugChildLive, BugPoint, "PLANTED BUG: cancelling a scope leaves one child uncancelled"},
	{fpBugCloseDrops, BugPoint, "PLANTED BUG: closing an MPMC channel drops its buffered values"},
	{fpBugDoneEarly, BugPoint, "PLANTED BUG: a task is counted finished before its body and defers run"},
	{fpBugHookSkipped, BugPoint, "PLANTED BUG: a cancelled scope skips its AfterFunc/OnCancel hooks"},
	{fpBugRecvRunaway, BugPoint, "PLANTED BUG: a receive on a closed, drained SPMC or MPMC channel re-delivers an old slot's value instead of ErrClosed, for ever"},
	{fpBugTaskSkipped, BugPoint, "PLANTED BUG: a queued task whose group is cancelled is never called (its defers never run)"},
	{fpBugRangeWaitsSlot, BugPoint, "PLANTED BUG: the rest of a failed GoRange chunk waits for a slot of the limit the chunk still holds"},
	{fpBugFirstErrLost, BugPoint, "PLANTED BUG: a later task error overwrites the first, which Wait should return"},
	{fpBugAllErrorsCancel, BugPoint, "PLANTED BUG: WithAllErrors: a task error cancels the group"},
	{fpBugGoexitLost, BugPoint, "PLANTED BUG: a task that called runtime.Goexit is not counted as failed"},
	{fpBugPanicAsError, BugPoint, "PLANTED BUG: a task's panic is recorded as an error; Wait returns it instead of panicking"},
	{fpBugCancelIsError, BugPoint, "PLANTED BUG: Wait reports the cause of a cancellation though no task failed"},
	{fpBugWaitRejoins, BugPoint, "PLANTED BUG: WithAllErrors: each Wait joins the errors anew, so two Waits return different errors"},
	{fpBugGoAfterWait, BugPoint, "PLANTED BUG: Go after Wait returned is accepted instead of panicking"},
	{fpBugTryGoCancelled, BugPoint, "PLANTED BUG: TryGo on a cancelled group accepts the task"},
	{fpBugLimitOffByOne, BugPoint, "PLANTED BUG: WithLimit(n) lets n+1 tasks be pending"},
	{fpBugGoInline, BugPoint, "PLANTED BUG: Go on a cancelled group calls the task inline, on the caller's goroutine"},
	{fpBugRunDropsBodyErr, BugPoint, "PLANTED BUG: Run ignores the error its body returned"},
	{fpBugResultSlotRefused, BugPoint, "PLANTED BUG: ResultGroup.TryGo reserves a result slot even when it refuses the task"},
	{fpBugGoClearsWaiter, BugPoint, "PLANTED BUG: Go clears the flag of a Wait that is parked, so the last task's end never wakes it"},
	{fpBugBlockedGoDropped, BugPoint, "PLANTED BUG: a Go blocked for a slot returns without queueing its function when the group is cancelled"},
	{fpBugExitUnpublished, BugPoint, "PLANTED BUG: a worker that exits through a task's runtime.Goexit never publishes its finished count (LiveTasks stays up)"},
	{fpBugScopeStaysLinked, BugPoint, "PLANTED BUG: a scope cancelled on its own stays linked in its live parent's child list (LiveScopes stays up until the parent ends)"},
	{fpBugCloseTwiceNil, BugPoint, "PLANTED BUG: Close of a closed channel returns nil instead of ErrClosed"},
	{fpBugStaleFull, BugPoint, "PLANTED BUG: an MPSC TrySend preempted between its loads of tail and head takes a head that passed its stale tail for a full ring and reports ErrFull"},
	{fpBugRecheckMissesClose, BugPoint, "PLANTED BUG: the parking re-check (canSend, canRecv) ignores the closed mark: a goroutine still spinning when Close runs parks after Close woke everyone, and is never woken"},
	{fpBugCancelLosesValue, BugPoint, "PLANTED BUG: a receive that waited and finds its context ended as it takes a value returns ctx.Err() and drops the value"},
	{fpBugBatchWakesOne, BugPoint, "PLANTED BUG: a SendBatch (RecvBatch) that makes room for several wakes one parked receiver (sender) instead of one per value"},
	{fpBugCancelStaysLinked, BugPoint, "PLANTED BUG: a parked goroutine whose context ended returns without leaving its wait queue: it stays counted in ParkedWaiters, and a later wakeup is spent on it"},
	{fpBugLenClosedBit, BugPoint, "PLANTED BUG: Len does not mask the closed mark out of tail: a closed channel reports Cap values buffered"},
	{fpBugCancelsParent, BugPoint, "PLANTED BUG: a Cancel that leaves its parent scope with no live child or hook cancels the parent too"},
	{fpBugLaterCause, BugPoint, "PLANTED BUG: a Cancel of a cancelled scope overwrites its cause: context.Cause and later OnCancel hooks report the last cause, not the first"},
	{fpBugBornLive, BugPoint, "PLANTED BUG: a scope made by NewScope (or a group by NewGroup) under a cancelled scope is linked under it and starts live, never to be cancelled by it"},
	{fpBugOwnDeadline, BugPoint, "PLANTED BUG: NewScopeWithDeadline keeps its own deadline even when the parent's is earlier: Deadline reports the later one"},
	{fpBugShieldNoValues, BugPoint, "PLANTED BUG: NewShieldedScope makes a fresh root scope: the shield carries none of its parent's values"},
	{fpBugValueOneLevel, BugPoint, "PLANTED BUG: Value of a scope whose parent is a scope asks no further (scopes carry no values), so it finds no binding above them"},
	{fpBugErrFromParent, BugPoint, "PLANTED BUG: Err of a live scope under a cancelled scope reports the parent's Err before the cancellation walk reaches it, while its Done is still open"},
	{fpBugWaitSkips, BugPoint, "PLANTED BUG: Wait of a group whose parent context is cancelled returns at once, leaving its tasks to whoever waits for the parent: a nested group ends before the groups its tasks wait for"},
	{fpBugContractLeftEarly, BugPoint, "PLANTED BUG: a single-sided Send or Recv (SPSC, MPSC's Recv) that must wait leaves the contract check before it waits: a second goroutine on that side meanwhile is not reported"},
	{fpContractSend, ContractPoint, "an SPSC or SPMC send operation (Send, TrySend, SendBatch) starts and ends"},
	{fpContractRecv, ContractPoint, "an SPSC or MPSC receive operation (Recv, TryRecv, RecvBatch) starts and ends"},
}

// Failpoints returns every failpoint marker of package core, in a fixed
// order. The harness validates failpoint names against it.
func Failpoints() []Failpoint { return slices.Clone(failpoints) }
