package core

// Group: structured concurrency. A group runs tasks on the shared pool
// (pool.go) under a child scope of its parent and waits for all of them.
// GoRange is in group_range.go, Run in group_run.go and ResultGroup in
// group_result.go; the invariants below hold for them too.
//
// Invariants:
//
//  1. state holds the number of pending tasks (submitted by Go or TryGo and
//     not yet finished) in its low bits and waiterBit. Go adds 1
//     before it queues the task; a worker subtracts a batch of finished
//     tasks in finish (pool.go counts them), after they returned and after
//     their failure, if any, was recorded. So a Wait that sees the count at
//     zero sees every task's outcome.
//  2. waiterBit is set by a Wait that must block, with a CAS, after it
//     created waitCh under mu. The finish that brings the count to zero
//     with waiterBit set clears the bit with a CAS and closes waitCh: only
//     one finish can win that CAS, so waitCh is closed once.
//  3. With a limit, Go takes a slot by a CAS that raises the count only
//     while it is below the limit. A Go that finds no slot registers in
//     lwait and re-checks the count (Dekker, as in park.go); finish lowers
//     the count and then loads lwait, and sends a token on slot (capacity
//     1) if anyone waits. A waiter that takes a slot passes a token on if
//     waiters and free slots remain, so tokens are never lost.
//     Two submissions count their task beyond the limit, so the count may
//     exceed it: a Go that finds the group cancelled (acquire: its function
//     is called at once with the cancelled context, and a Go blocked for a
//     slot must neither block on nor drop it), and the rest of a GoRange
//     chunk resubmitted by the chunk's own dying task (addOver, in
//     group_range.go), which still holds the chunk's slot (waiting for a
//     slot there deadlocks with a limit of 1). The resubmitted rest runs no
//     user code beside the dying chunk: every item of the chunk before it
//     has returned, and what is left of the dying task is core's own
//     unwinding. So the calls of user functions started while the group is
//     live never exceed the limit.
//  4. err, errs and panicked are guarded by mu; the first error (and the
//     first panic) is recorded before the group's scope is cancelled with it.
//  5. Every function passed to Go (and every accepted TryGo, every GoRange
//     item) is called exactly once: a worker calls the body of every task
//     it claims, whether or not the group is cancelled, and Go never
//     returns without counting and queueing its task. A function whose group
//     was cancelled before it started is called with the cancelled context,
//     so its own deferred calls run (errgroup's rule).

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/pingcap/failpoint"
)

// ErrGoexit is the error a Group records for a task that called
// runtime.Goexit (for example through testing.T.FailNow): the task is over,
// its deferred calls ran, and it counts as failed.
var ErrGoexit = errors.New("core: task called runtime.Goexit")

// PanicError is what Group.Wait panics with when a task panicked: the value
// passed to panic and the stack of the task's goroutine at that moment.
type PanicError struct {
	Value any
	Stack []byte
}

// Error reports the panic value and the task's stack.
func (p *PanicError) Error() string {
	return fmt.Sprintf("core: task panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error, so that errors.Is and
// errors.As see through a PanicError.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// GroupOption configures a Group; pass options to [NewGroup],
// [NewResultGroup] or [Run].
type GroupOption func(*groupConfig)

type groupConfig struct {
	limit int
	all   bool
}

// WithLimit makes at most n tasks of the group pending at once while the
// group is live: Go blocks while n tasks have been submitted and not
// finished (TryGo returns false). Once the group is cancelled the limit no
// longer holds Go back: a Go blocked for a slot, and every later Go, queues
// its function at once, to be called with the cancelled context, so a limit
// and cancellation never deadlock and no function is dropped. (errgroup's
// Go keeps blocking after a failure; here a producer loop that keeps
// calling Go after the group is cancelled queues every function at once.)
// A GoRange chunk counts as one task. A task that calls Go on its own group
// waits for a slot like any caller: when every slot is held by such tasks
// they wait for each other for ever, as with errgroup (use TryGo there).
// WithLimit panics if n < 1.
func WithLimit(n int) GroupOption {
	if n < 1 {
		panic(fmt.Sprintf("core: WithLimit(%d): the limit must be at least 1", n))
	}
	return func(c *groupConfig) { c.limit = n }
}

// WithAllErrors makes the group collect every task's error instead of
// stopping at the first: an error (or ErrGoexit) no longer cancels the
// group, and Wait returns errors.Join of all of them, in the order they were
// recorded. A panic still cancels the group.
func WithAllErrors() GroupOption {
	return func(c *groupConfig) { c.all = true }
}

const (
	waiterBit   = 1 << 63
	pendingMask = waiterBit - 1
)

// Group runs tasks concurrently and waits for them, as errgroup.Group does,
// on a pool of reused goroutines. Create one with [NewGroup] (or use [Run]);
// the zero value is not usable, and a Group must not be copied.
//
// The group's tasks receive its [Scope], a child of the parent context. The
// first task that fails (returns an error, panics, or calls runtime.Goexit)
// cancels the scope with its error as the cause. Cancel, the parent's
// cancellation, and Wait's return cancel it too.
//
// Rules:
//
//   - Every function passed to Go is called exactly once, and so is every
//     function of a TryGo that returned true and every item of a GoRange,
//     as errgroup calls every function passed to its Go. A function whose
//     group was cancelled before it started (a failure, Cancel, the
//     parent's end) is still called, with the cancelled context: it
//     sees the cancellation at its first check of ctx, and its own deferred
//     calls run, so that `f := open(); g.Go(func(ctx context.Context) error
//     { defer f.Close(); … })` never leaks f. Such a call costs a function
//     call.
//   - Wait returns after every one of those functions returned; every
//     deferred call of every task has run by then. Wait may be called more
//     than once and from several goroutines; each call returns the same
//     result.
//   - A Group runs one batch of work: Go or TryGo after Wait returned panics.
//     Go from a task of the group, while Wait waits, is fine.
//   - A panic in a task is recovered on its worker, cancels the group, and
//     is re-raised by Wait in the caller as a *PanicError with the task's
//     stack. A panic takes precedence over errors.
//   - runtime.Goexit in a task ends that task (its deferred calls run) and
//     counts as a failure with [ErrGoexit], as an error would (so it cancels
//     the group, unless WithAllErrors); the worker goroutine it ran on
//     exits, and the pool replaces it. Tasks never run on the goroutine
//     that calls Go or Wait.
//
// Tasks run on pool goroutines that are reused across tasks and groups: a
// task costs no goroutine start and no allocation beyond its closure, and
// tasks start in roughly the order they were submitted. The pool keeps up to
// GOMAXPROCS workers, which take queued tasks in small batches. Tasks may
// block on anything, each other included, and never deadlock where the
// same functions started by go statements would not: a task that blocks
// in this package (a channel operation, Wait, a Go waiting for a limit
// slot) lets another worker take the queued tasks at once. When workers
// block on something else (I/O, locks, Go channels, timers) while a P is
// idle, every waiting task gets a goroutine of its own within a short
// tick or two of the pool's monitor (200 µs each, about a millisecond when
// the process is otherwise idle); and when a whole 20 ms tick passes in
// which no task started (the workers compute for longer, or block while
// every P is busy), likewise. CPU-bound tasks shorter than 20 ms run on
// GOMAXPROCS goroutines. Idle workers exit within the retry budget of
// goleak.VerifyNone.
type Group struct {
	scope  Scope
	limit  int64 // 0: no limit (read-only after NewGroup)
	all    bool  // collect all errors (read-only)
	waited atomicBool
	slot   chan struct{}

	mu       mutex // invariant 4; also guards waitCh creation
	err      error
	errs     []error
	joined   error // errors.Join(errs...), made by the first Wait that needs it
	panicked *PanicError
	waitCh   chan struct{} // invariant 2

	_     [cacheLine]byte // state is written on every Go: keep it off the lines above
	state atomicUint64    // invariant 1
	lwait atomicInt32     // Go calls waiting for a limit slot (invariant 3)
	_     [cacheLine - 12]byte
}

// NewGroup returns a group whose tasks run under a new child scope of
// parent. It panics if parent is nil.
func NewGroup(parent context.Context, opts ...GroupOption) *Group {
	if parent == nil {
		panic("core: NewGroup: nil parent context")
	}
	g := &Group{}
	var c groupConfig
	for _, o := range opts {
		o(&c)
	}
	g.limit, g.all = int64(c.limit), c.all
	if c.limit > 0 {
		g.slot = make(chan struct{}, 1)
	}
	g.scope.parent = parent
	g.scope.attach()
	return g
}

// Scope returns the group's scope: the context its tasks receive. Use it
// to derive child scopes or groups, or to register OnCancel hooks.
func (g *Group) Scope() *Scope { return &g.scope }

// Cancel cancels the group's scope with cause (context.Canceled if nil):
// running tasks see it, and queued and later tasks are called with the
// cancelled context. Wait still waits for all of them.
func (g *Group) Cancel(cause error) { g.scope.Cancel(cause) }

// Go calls fn in the group, on a pool goroutine, exactly once. It returns
// at once unless the group has a limit and no free slot; then it blocks
// until a slot frees up or the group is cancelled. If the group is
// cancelled, fn is still called, with the cancelled context (see [Group]).
// Go panics if fn is nil or Wait has returned.
func (g *Group) Go(fn func(ctx context.Context) error) {
	if plantedBugs && g.scope.Cancelled() && planted(fpBugGoInline) {
		g.bugCancelledGoRunsInline(fn)
	} else if g.start(fn, true) { // a blocking start counts the task (invariant 5), but under a planted bug
		g.queue(fn)
	}
}

// queue queues a task that start (or addOver) counted.
func (g *Group) queue(fn func(context.Context) error) {
	failpoint.InjectCall(fpGroupGo)
	if stepMarkers { // the serialized mode (step.go): an episode's tasks go to its own pool
		poolStep().submit(task{fn, g})
		return
	}
	tasks.submit(task{fn, g})
}

// TryGo calls fn in the group, as Go does, if it can start now: it returns
// false, and never calls fn, if the group has a limit and no free slot or
// if the group is cancelled. It panics if fn is nil or Wait has returned.
func (g *Group) TryGo(fn func(ctx context.Context) error) bool {
	if !g.start(fn, false) {
		return false
	}
	g.queue(fn)
	return true
}

// start checks a Go call and counts its task (invariant 1); false means
// TryGo refused it (block is false for TryGo): a Go always counts its task
// (invariant 5).
func (g *Group) start(fn func(context.Context) error, block bool) bool {
	if fn == nil {
		panic("core: Group.Go: nil function")
	}
	if g.waited.Load() && !planted(fpBugGoAfterWait) {
		panic("core: Group.Go called after Wait returned; a Group runs one batch of work, create a new one")
	}
	if !block && g.scope.Cancelled() && !(plantedBugs && planted(fpBugTryGoCancelled)) {
		return false
	}
	if g.limit == 0 {
		if plantedBugs && planted(fpBugGoClearsWaiter) {
			return g.bugGoClearsWaitFlag()
		}
		g.state.Add(1)
		return true
	}
	return g.acquire(block)
}

// task0 stands for a non-nil task in start's checks.
func task0(context.Context) error { return nil }

// acquire takes a limit slot (invariant 3). If block, it waits for one
// until the group is cancelled, and then counts the task beyond the limit
// (invariant 3), so that it is called at once with the cancelled context.
func (g *Group) acquire(block bool) bool {
	waited, limit := false, g.limit
	if planted(fpBugLimitOffByOne) {
		limit++
	}
	for {
		s := g.state.Load()
		if int64(s&pendingMask) < limit {
			if plantedBugs && planted(fpBugLimitCheckThenStore) {
				g.bugLimitCheckThenStore(s)
			} else if !g.state.CompareAndSwap(s, s+1) {
				continue
			}
			if waited && g.lwait.Load() > 0 && int64(s&pendingMask)+1 < g.limit {
				g.token() // pass on: more slots and more waiters
			}
			return true
		}
		if !block {
			return false
		}
		if g.scope.Cancelled() {
			if planted(fpBugBlockedGoDropped) {
				return false
			}
			g.state.Add(1) // beyond the limit (invariant 3)
			return true
		}
		g.lwait.Add(1)
		if s := g.state.Load(); int64(s&pendingMask) < g.limit {
			g.lwait.Add(-1)
			continue
		}
		if stepMarkers { // the serialized mode (step.go): the episode's pool
			poolStep().handoff()
		} else {
			tasks.handoff() // a worker blocking here is a runner less (pool.go)
		}
		took := false
		if stepMarkers {
			// The serialized mode (step.go): wait where its scheduler
			// sees it, and take a slot token first if one is there,
			// whether or not the group is cancelled too, so that the
			// schedule decides who gets the token, not select.
			done := g.scope.Done()
			awaitStep(func() bool { return len(g.slot) > 0 || isClosed(done) })
			select {
			case <-g.slot:
				took = true
			default:
			}
		}
		if !took {
			select {
			case <-g.slot:
			case <-g.scope.Done():
			}
		}
		g.lwait.Add(-1)
		waited = true
	}
}

func (g *Group) token() {
	select {
	case g.slot <- struct{}{}:
	default:
	}
}

// finish counts k finished tasks (invariants 1 to 3).
func (g *Group) finish(k uint64) {
	if plantedBugs && g.limit > 0 && planted(fpBugFinishLoadsFirst) {
		g.bugFinishLoadsWaitersFirst(k)
		return
	}
	s := g.state.Add(-k)
	if g.limit > 0 && g.lwait.Load() > 0 {
		g.token()
	}
	if s == waiterBit && g.state.CompareAndSwap(waiterBit, 0) {
		close(g.waitCh)
	}
}

// run calls one task body on a worker, cancelled group or not (invariant
// 5), and records its failure.
func (g *Group) run(fn func(context.Context) error) {
	if plantedBugs && g.scope.Cancelled() && planted(fpBugTaskSkipped) {
		return
	}
	ok := false
	defer func() {
		if !ok {
			g.abort(recover())
		}
	}()
	failpoint.InjectCall(fpTaskStart)
	err := fn(&g.scope)
	failpoint.InjectCall(fpTaskExit)
	ok = true
	if err != nil {
		g.fail(err)
	}
}

// fail records a task's error; the first one cancels the group.
func (g *Group) fail(err error) {
	g.mu.Lock()
	if g.all {
		g.errs = append(g.errs, err)
		g.mu.Unlock()
		if planted(fpBugAllErrorsCancel) {
			g.scope.Cancel(err)
		}
		return
	}
	first := g.err == nil
	if first || planted(fpBugFirstErrLost) {
		g.err = err
	}
	g.mu.Unlock()
	if first {
		g.scope.Cancel(err)
	}
}

// abort records a task that panicked with r, or called runtime.Goexit if r
// is nil (since Go 1.21 panic(nil) raises a *runtime.PanicNilError).
func (g *Group) abort(r any) {
	if r == nil {
		if !planted(fpBugGoexitLost) {
			g.fail(ErrGoexit)
		}
		return
	}
	pe := &PanicError{Value: r, Stack: debug.Stack()}
	if planted(fpBugPanicAsError) {
		g.fail(pe)
		return
	}
	g.mu.Lock()
	if g.panicked == nil {
		g.panicked = pe
	}
	g.mu.Unlock()
	g.scope.Cancel(pe)
}

// Wait blocks until every function passed to Go (or accepted by TryGo) has
// been called and has returned, then cancels the group's scope and returns
// the result: the first error a task returned (with WithAllErrors, all of
// them joined), else nil, as errgroup's Wait does. A cancellation by Cancel
// or by the parent is not an error of its own: the tasks, called with the
// cancelled context, report it if they did not finish their work. If a task
// panicked, Wait panics with its *PanicError instead.
func (g *Group) Wait() error {
	g.wait()
	g.mu.Lock()
	pe, err := g.panicked, g.err
	if g.all {
		// Joined once, so that every Wait returns the same error: no task
		// can record one after wait returned.
		if len(g.errs) > 0 && (g.joined == nil || planted(fpBugWaitRejoins)) {
			g.joined = errors.Join(g.errs...)
		}
		err = g.joined
	}
	g.mu.Unlock()
	if plantedBugs && err == nil && g.scope.Cancelled() && planted(fpBugCancelIsError) {
		err = context.Cause(&g.scope)
	}
	if err != nil {
		g.scope.Cancel(err)
	} else {
		g.scope.Cancel(context.Canceled)
	}
	if pe != nil {
		panic(pe)
	}
	return err
}

// wait blocks until no task is pending and marks the group as waited.
// Before it parks it polls the count for about 3 µs: the last tasks of a
// small group usually finish sooner than a park and wakeup would take.
func (g *Group) wait() {
	for i := 0; ; i++ {
		s := g.state.Load()
		if s&pendingMask == 0 {
			break
		}
		if plantedBugs && g.scope.parent.Err() != nil && planted(fpBugWaitSkips) {
			break // PLANTED: leaves the tasks to whoever waits for the parent
		}
		if i < 8 {
			busyWait(min(spinShift+i, maxShift))
			continue
		}
		g.mu.Lock()
		if g.waitCh == nil {
			g.waitCh = make(chan struct{})
		}
		ch := g.waitCh
		g.mu.Unlock()
		if s&waiterBit == 0 && !g.state.CompareAndSwap(s, s|waiterBit) {
			continue
		}
		if stepMarkers { // the serialized mode (step.go): the episode's pool
			poolStep().handoff()
		} else {
			tasks.handoff() // a worker blocking here is a runner less (pool.go)
		}
		failpoint.InjectCall(fpGroupWait)
		if stepMarkers { // the serialized mode (step.go): wait where its scheduler sees it
			awaitStep(func() bool { return isClosed(ch) })
		}
		<-ch
		break
	}
	g.waited.Store(true)
}
