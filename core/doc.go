// Package core is the nimsync runtime: lock-free typed channels, cancellation
// scopes and task groups.
//
// # Channels
//
// Four bounded FIFO channel flavors share one contract, [Chan]:
//
//   - [SPSC]: one sending goroutine at a time, one receiving goroutine at a
//     time. A Lamport ring with cached indices (spsc.go).
//   - [MPSC]: many senders, one receiver. Vyukov's bounded MPMC queue
//     (ring.go, mpsc.go).
//   - [SPMC]: one sender, many receivers (ring.go, spmc.go).
//   - [MPMC]: many senders, many receivers (ring.go, mpmc.go).
//
// Every flavor is linearizable as a bounded FIFO queue: values from one sender
// arrive in the order sent, every value whose Send returned nil is received
// exactly once, and values buffered at Close are still delivered before
// receivers see [ErrClosed].
//
// Operations never allocate and never touch their context on the fast path.
// (Parking allocates a channel side's wait list the first time a goroutine
// parks there, once: a channel nobody waits on carries no list.)
// An operation that must wait spins briefly (a bounded number of polls and
// yields, see park.go) and then parks its goroutine, which then uses no CPU
// until a peer, Close, or the context wakes it.
//
// # Scopes
//
// A [Scope] is a node in a cancellation tree and a context.Context.
// Cancelling a scope cancels its whole subtree before Cancel returns, with a
// cause that context.Cause reports; Cancelled is one atomic load. Cancelled
// children unlink from their parent, and no goroutine is started per scope
// (except where package context needs one to follow a parent it cannot
// register with, such as a context.WithValue over a scope: scope.go).
//
// Variants: [NewScopeWithDeadline], [NewScopeWithTimeout], and
// [NewShieldedScope] for work that must outlive its parent's cancellation;
// [Scope.OnCancel] runs a hook exactly once with the cause.
//
// # Task groups
//
// A [Group] runs tasks, func(ctx context.Context) error, under a child scope
// of its parent and waits for them, like errgroup.Group: every function
// passed to [Group.Go] is called exactly once (with the cancelled context if
// the group was cancelled first, so its deferred cleanup runs); the first
// failure cancels the group and is what [Group.Wait] returns; a task's panic
// is re-raised by Wait as a [*PanicError] with the task's stack. Tasks run on a
// shared pool of reused goroutines (pool.go), so spawning costs a queue slot,
// not a goroutine; tasks may block on anything, each other included, since
// a queued task waits for a goroutine only while other tasks are starting
// (see [Group]). Options: [WithLimit] bounds the tasks pending at once,
// [WithAllErrors] collects every error. [Group.TryGo] never blocks,
// [Group.GoRange] runs an index range in chunks, [Run] is a nursery, and
// [ResultGroup] collects typed results in submission order (group_result.go).
//
// # Contracts
//
// The single-sided flavors trust their caller. A second concurrent sender or
// receiver on an SPSC channel, or a second concurrent receiver on an MPSC
// channel, corrupts the ring (for SPSC the race detector reports it). A second
// concurrent sender on an SPMC channel breaks only its ordering promise. Use
// [MPMC] when in doubt. A build with failpoints (scripts/chaos-test,
// scripts/nimsync) checks these rules and reports a violation with both
// goroutines' stacks (the contract/ markers of internal/failpoints).
//
// # Counters
//
// [ReadStats] reports the runtime's own counters (goroutines parked in wait
// queues, tasks queued and live, scopes linked under a live parent, pool
// workers), so that tests and monitoring can check that nothing leaked.
package core
