package core

// Scope: a node in a cancellation tree that is also a context.Context.
//
// Invariants:
//
//  1. state goes 0 (live) -> stateCanceled or stateDeadline once, under
//     s.mu, and never back. Cancelled() is one atomic load of it.
//  2. A live scope whose parent is a *Scope is linked in the parent's child
//     list (first, and the siblings' prev/next); the list and each child's
//     linked flag are guarded by the PARENT's mu. A cancelled scope is
//     unlinked, so a parent retains only live children (no leak across
//     create/cancel cycles).
//  3. Cancel holds s.mu while it cancels s's children, each under its own
//     mu, recursively. So when Cancel returns, every descendant is cancelled
//     and its Done channel closed, even if another goroutine was cancelling
//     part of the subtree at the same time: reaching a child means locking
//     it, which waits for that other canceller to finish the child's subtree.
//  4. Lock order: a parent's mu before its children's, top down only. A
//     scope unlinks itself from its parent (taking parent.mu) only after
//     releasing its own mu, so no goroutine ever holds a child's mu while it
//     waits for its parent's.
//  5. No goroutine is started per scope under a scope or a context package
//     context can follow without one. A scope under a foreign context (not
//     a *Scope) follows it through context.AfterFunc, which costs no
//     goroutine while the parent is live, except where package context
//     itself needs one: under a context it cannot register with (a
//     context.WithValue over a scope, say), it follows the parent with a
//     goroutine of its own while both are live.
//  6. liveScopes counts the scopes (and AfterFunc/OnCancel hooks, which are
//     scopes too) linked in a parent's child list: +1 when linked, -1 when
//     unlinked, both under the parent's mu. ReadStats reports it, so a
//     leak check sees children a cancelled or finished tree kept linked.

import (
	"context"
	"errors"
	"time"

	"github.com/pingcap/failpoint"
)

const (
	stateLive uint32 = iota
	stateCanceled
	stateDeadline
)

// Scope is a node in a cancellation tree. *Scope implements context.Context,
// so it can be passed anywhere a context is expected; contexts derived from
// it with package context follow it without a goroutine.
//
// Create one with [NewScope] (or [NewScopeWithDeadline],
// [NewScopeWithTimeout]); the zero value is not usable, and a Scope must not
// be copied. All methods may be called from any goroutine. A child scope
// costs one allocation of 96 bytes; Done allocates its channel on first use.
//
// context.Cause(s) reports the cause s was cancelled with. Package context
// offers custom Contexts no way to report a cause, so at init core learns
// the private key context.Cause asks Value for, by probing it. Should a Go
// release change that detail and the probe fail, core does not panic: it
// falls back to a weaker behaviour, in which context.Cause of a scope (and
// of contexts derived from it) reports its Err(), context.Canceled or
// context.DeadlineExceeded, instead of the cause. [Scope.OnCancel] hooks
// still receive the cause.
type Scope struct {
	state  atomicUint32    // invariant 1
	mu     mutex           // guards cause, first, and the child list links of children (invariant 2)
	linked bool            // guarded by the parent's mu: s is in the parent's child list
	parent context.Context // never nil; a *Scope or a foreign context
	first  *Scope          // first live child (guarded by mu)
	prev   *Scope          // siblings (guarded by the parent's mu)
	next   *Scope
	done   atomicValue // chan struct{}, created lazily by Done
	cause  error       // set once with state (guarded by mu)
	ext    *scopeExt   // optional parts, set at construction
}

// scopeExt holds what few scopes need, so that plain child scopes stay small.
type scopeExt struct {
	deadline time.Time
	timer    *time.Timer
	stop     func() bool // stops following a foreign parent (and an episode's deadline timer: step.go)
	fn       func()      // a hook node's function (AfterFunc, OnCancel)
	// async: if the hook's parent is already cancelled when it attaches,
	// fn runs in a goroutine of its own (AfterFunc) rather than before
	// attach returns (OnCancel).
	async bool
}

// closedChan is the Done channel of scopes cancelled before anyone asked.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// NewScope returns a live scope under parent: cancelling parent cancels it,
// cancelling it never cancels parent. parent may be a *Scope or any
// context.Context; if parent is already done, the scope starts cancelled
// with parent's cause. NewScope panics if parent is nil.
func NewScope(parent context.Context) *Scope {
	if parent == nil {
		panic("core: NewScope: nil parent context")
	}
	s := &Scope{parent: parent}
	s.attach()
	return s
}

// NewScopeWithDeadline is [NewScope] with a deadline: at d the scope is
// cancelled with context.DeadlineExceeded as both its Err and its cause.
// Deadline reports the earlier of d and parent's deadline. If parent's
// deadline is the earlier, the scope has no deadline of its own: as with
// context.WithDeadline, it is cancelled through its parent, with the
// parent's Err and cause.
func NewScopeWithDeadline(parent context.Context, d time.Time) *Scope {
	if parent == nil {
		panic("core: NewScopeWithDeadline: nil parent context")
	}
	s := &Scope{parent: parent}
	// PLANTED: the scope keeps its own, later deadline.
	inherited := false
	if pd, ok := parent.Deadline(); ok && pd.Before(d) && !(plantedBugs && planted(fpBugOwnDeadline)) {
		d, inherited = pd, true
	}
	s.ext = &scopeExt{deadline: d}
	s.attach()
	if s.Cancelled() {
		return s
	}
	dur := time.Until(d)
	if stepMarkers { // the serialized mode (step.go): an episode's clock
		if now, ok := nowStep(); ok {
			dur = d.Sub(now)
		}
	}
	if dur <= 0 {
		s.cancelTree(context.DeadlineExceeded, stateDeadline)
		return s
	}
	// A deadline inherited from the parent arms no timer of its own: the
	// parent's deadline cancels the parent, and its cancellation reaches s
	// (through the parent's walk, or following a foreign parent), with
	// whatever Err and cause the parent had first, as context.WithDeadline
	// does. A timer of s's own at the parent's deadline could fire while a
	// Cancel of the parent that came first is still walking towards s, and
	// give s context.DeadlineExceeded under a parent cancelled with another
	// cause (TestSerialScopeInheritedDeadline). (A deadline that has
	// passed cancels s above, inherited or not: its parent is cancelled,
	// or about to be.)
	if inherited {
		return s
	}
	if stepMarkers { // the serialized mode: an episode's timer, stopped by cancel through ext.stop
		if stop := afterStep(dur, func() { s.cancelTree(context.DeadlineExceeded, stateDeadline) }); stop != nil {
			s.mu.Lock()
			if follow := s.ext.stop; follow != nil {
				s.ext.stop = func() bool { follow(); return stop() }
			} else {
				s.ext.stop = stop
			}
			s.mu.Unlock()
			if s.Cancelled() { // cancelled between attach and the timer: free it
				stop()
			}
			return s
		}
	}
	t := time.AfterFunc(dur, func() { s.cancelTree(context.DeadlineExceeded, stateDeadline) })
	s.mu.Lock()
	s.ext.timer = t
	s.mu.Unlock()
	if s.Cancelled() { // cancelled between attach and the timer: free it
		t.Stop()
	}
	return s
}

// NewScopeWithTimeout is NewScopeWithDeadline(parent, time.Now().Add(d)).
func NewScopeWithTimeout(parent context.Context, d time.Duration) *Scope {
	if stepMarkers { // the serialized mode (step.go): an episode's clock
		if now, ok := nowStep(); ok {
			return NewScopeWithDeadline(parent, now.Add(d))
		}
	}
	return NewScopeWithDeadline(parent, time.Now().Add(d))
}

// attach links s under its parent, or arranges to follow a foreign parent.
func (s *Scope) attach() {
	failpoint.InjectCall(fpScopeAttach)
	if p, ok := s.parent.(*Scope); ok {
		p.mu.Lock()
		// PLANTED: a plain child skips this and is linked, live, under the cancelled parent.
		if st := p.state.Load(); st != stateLive && !(plantedBugs && s.ext == nil && planted(fpBugBornLive)) {
			cause := p.cause
			p.mu.Unlock()
			if s.ext != nil && s.ext.async {
				if stepMarkers { // the serialized mode (step.go): an episode's goroutine
					goStep(func() { s.cancelTree(cause, st) })
				} else {
					go s.cancelTree(cause, st) // a hook nobody else can see
				}
				return
			}
			s.cancelTree(cause, st)
			return
		}
		s.next = p.first
		if p.first != nil {
			p.first.prev = s
		}
		p.first = s
		s.linked = true
		liveScopes.Add(1) // invariant 6
		p.mu.Unlock()
		return
	}
	done := s.parent.Done()
	if done == nil {
		return // never cancelled (context.Background and the like)
	}
	select {
	case <-done:
		s.followParent()
		return
	default:
	}
	stop := context.AfterFunc(s.parent, s.followParent)
	s.mu.Lock() // the callback may already be running: cancel reads ext under mu
	if s.ext == nil {
		s.ext = &scopeExt{}
	}
	s.ext.stop = stop
	s.mu.Unlock()
}

// followParent cancels s as its foreign parent was: with its cause, and as
// by a deadline if the parent's Err says so.
func (s *Scope) followParent() {
	st := stateCanceled
	if s.parent.Err() == context.DeadlineExceeded {
		st = stateDeadline
	}
	s.cancelTree(context.Cause(s.parent), st)
}

// Cancel cancels s and its whole subtree with cause (context.Canceled if
// cause is nil). When Cancel returns, Cancelled() is true and Done() is
// closed for s, for every scope linked below it and for every context
// derived from them with package context, and the functions registered
// with AfterFunc or OnCancel on them have run, except those of a part of
// the subtree that another goroutine cancelled first: that goroutine runs
// them, perhaps still while this Cancel returns. Each runs exactly once.
// A scope made under such a derived context (not linked to s) follows it
// a moment later, on the goroutine package context cancels it from. Cancel
// never cancels s's parent, and only the first call has an effect: later
// causes are ignored. Its cost is proportional to the size of the subtree.
func (s *Scope) Cancel(cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	s.cancelTree(cause, stateCanceled)
}

// cancelTree cancels s's subtree, unlinks s from its parent and then runs
// the subtree's hooks, with no lock held.
func (s *Scope) cancelTree(cause error, state uint32) {
	var hooks []func()
	if !s.cancel(cause, state, &hooks) {
		return
	}
	if p, ok := s.parent.(*Scope); ok && !(plantedBugs && planted(fpBugScopeStaysLinked)) {
		p.unlink(s) // after s.mu is released: invariant 4
		if plantedBugs && p.liveAndChildless() && planted(fpBugCancelsParent) {
			p.Cancel(cause) // PLANTED: the parent's last child takes the parent with it
		}
	}
	failpoint.InjectCall(fpScopeHooks)
	if plantedBugs && len(hooks) > 0 && planted(fpBugHookSkipped) {
		return // PLANTED: the hooks never run
	}
	for _, f := range hooks {
		f()
	}
}

// cancel moves s to state and cancels its children, collecting the hooks
// to run (invariants 1, 3, 4). It reports whether s was live. The caller
// unlinks s from its parent: the parent's walk has done so already.
func (s *Scope) cancel(cause error, state uint32, hooks *[]func()) bool {
	s.mu.Lock()
	if s.state.Load() != stateLive {
		if plantedBugs && cause != s.cause && planted(fpBugLaterCause) {
			s.cause = cause // PLANTED: the last cause wins
		}
		s.mu.Unlock()
		return false
	}
	s.cause = cause      // published by the state store below
	s.state.Store(state) // invariant 1
	if d, _ := s.done.Load().(chan struct{}); d != nil {
		close(d)
	} else {
		s.done.Store(closedChan)
	}
	unlinked := int64(0)
	var next *Scope
	for c := s.first; c != nil; c = next {
		next = c.next
		c.prev, c.next, c.linked = nil, nil, false // unlink: invariant 2
		unlinked++
		failpoint.InjectCall(fpScopeCancel)
		if plantedBugs && planted(fpBugChildLive) {
			continue // PLANTED: c is unlinked but never cancelled
		}
		if plantedBugs && c.ext != nil && c.ext.fn != nil && planted(fpBugHookMidWalk) {
			c.bugHookRunsMidWalk(cause, state)
			continue
		}
		c.cancel(cause, state, hooks) // locks c below s: invariant 4
	}
	if unlinked > 0 {
		liveScopes.Add(-unlinked) // invariant 6
	}
	s.first = nil
	if s.ext != nil {
		if s.ext.fn != nil {
			*hooks = append(*hooks, s.ext.fn)
		}
		if s.ext.timer != nil {
			s.ext.timer.Stop()
		}
		if s.ext.stop != nil {
			s.ext.stop() // stop following a foreign parent
		}
	}
	s.mu.Unlock()
	return true
}

// unlink removes child c from s's list if it is still there, and reports
// whether it was.
func (s *Scope) unlink(c *Scope) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.linked {
		return false
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		s.first = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next, c.linked = nil, nil, false
	liveScopes.Add(-1) // invariant 6
	return true
}

// liveAndChildless reports whether s is live with no child or hook linked
// under it. Only a planted bug asks.
func (s *Scope) liveAndChildless() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.Cancelled() && s.first == nil
}

// Cancelled reports whether s has been cancelled: one atomic load, cheap
// enough for hot loops.
func (s *Scope) Cancelled() bool { return s.state.Load() != stateLive }

// Done returns a channel that is closed when s is cancelled. The channel is
// created on the first call.
func (s *Scope) Done() <-chan struct{} {
	if d, _ := s.done.Load().(chan struct{}); d != nil {
		return d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.done.Load().(chan struct{})
	// PLANTED (the second test): a lazy init without its second check: the
	// channel a concurrent Done made, or the closed one cancel stored, is
	// overwritten, and the one stored now is never closed (invariant 1).
	if d == nil || plantedBugs && planted(fpBugDoneNoRecheck) {
		d = make(chan struct{})
		s.done.Store(d)
	}
	return d
}

// Err returns nil while s is live, context.DeadlineExceeded if a deadline
// (its own or an ancestor's) cancelled it, and context.Canceled otherwise.
// context.Cause(s) returns the cause given to Cancel. As context.Context
// requires, Err is non-nil only once Done is closed.
func (s *Scope) Err() error {
	st := s.state.Load()
	if p, ok := s.parent.(*Scope); plantedBugs && st == stateLive && ok && p.Cancelled() && planted(fpBugErrFromParent) {
		return p.Err() // PLANTED: the parent's Err, before the walk reaches s and closes its Done
	}
	if st == stateLive {
		return nil
	}
	// cancel stores the state and then, still holding s.mu, closes Done
	// (or stores the closed channel): wait for that, as package context's
	// Err does. Done returns at once, or after cancel releases s.mu.
	done := s.Done()
	if stepMarkers { // the serialized mode (step.go): wait where its scheduler sees it
		awaitStep(func() bool { return isClosed(done) })
	}
	<-done
	switch st {
	case stateDeadline:
		return context.DeadlineExceeded
	default:
		return context.Canceled
	}
}

// Deadline returns s's deadline, or its parent's.
func (s *Scope) Deadline() (time.Time, bool) {
	s.mu.Lock()
	ext := s.ext
	s.mu.Unlock()
	if ext != nil && !ext.deadline.IsZero() {
		return ext.deadline, true
	}
	return s.parent.Deadline()
}

// Value returns the value associated with key by s's ancestors. Scopes
// carry no values of their own.
func (s *Scope) Value(key any) any {
	if key == cancelCtxKey && cancelCtxKey != nil {
		return s.causeCtx()
	}
	if _, ok := s.parent.(*Scope); plantedBugs && ok && planted(fpBugValueOneLevel) {
		return nil // PLANTED: a parent scope has no values of its own, so look no further
	}
	return s.parent.Value(key)
}

// String describes s for debugging.
func (s *Scope) String() string {
	if s.Cancelled() {
		return "core.Scope(cancelled)"
	}
	return "core.Scope"
}

// context.Cause(c) reads the cause of a custom Context through
// c.Value(&cancelCtxKey), a key private to package context. cancelCtxKey
// holds that key, learned once by asking context.Cause about a probe; a
// cancelled scope answers it with a cancelled context carrying its cause.
// The probe then checks the protocol end to end: a Context that answers
// that key as a scope does must get its cause from context.Cause. If the
// probe finds no key, or the check fails (a Go release whose context.Cause
// no longer asks Value, or asks it something else), cancelCtxKey is nil
// and scopes fall back to what
// context.Cause does for any Context it does not know: it reports Err()
// (see [Scope]). Only tests write cancelCtxKey after init, while no scope
// is in use.
var cancelCtxKey = probeCancelCtxKey(context.Cause)

// probeCancelCtxKey returns the key cause asks a cancelled Context's Value
// for, or nil if it asks for none or if answering it as a scope does
// (causeCtx) does not make cause report the cause.
func probeCancelCtxKey(cause func(context.Context) error) any {
	var p probeCtx
	cause(&p)
	if p.key == nil {
		return nil
	}
	ref, cancel := context.WithCancelCause(context.Background())
	cancel(errProbeCause)
	if cause(&answerCtx{probeCtx{p.key}, ref}) != errProbeCause {
		return nil
	}
	return p.key
}

var errProbeCause = errors.New("core: the cause probe's cause")

// answerCtx is a cancelled Context that answers key as a cancelled scope
// does: with ref, a context cancelled with a cause.
type answerCtx struct {
	probeCtx
	ref context.Context
}

func (a *answerCtx) Value(key any) any {
	if key == a.key {
		return a.ref.Value(key)
	}
	return nil
}

type probeCtx struct{ key any }

func (*probeCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*probeCtx) Done() <-chan struct{}       { return nil }
func (*probeCtx) Err() error                  { return context.Canceled } // Cause asks Value only then
func (p *probeCtx) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}

// causeCtx returns what context.Cause needs to see s's cause: nothing while
// s is live (Cause then reports Err(), nil), else a context cancelled with
// s's cause. It allocates, but only Cause and the standard library's
// propagation checks ask, and only of a cancelled scope.
func (s *Scope) causeCtx() any {
	if !s.Cancelled() {
		return nil
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(s.cause) // written before the state store that Cancelled loaded
	return ctx.Value(cancelCtxKey)
}

// AfterFunc arranges for f to run once after s is cancelled, and returns a
// function that prevents the call if s has not been cancelled yet (it
// reports whether it did prevent it; once s is cancelled the call is
// started and stop returns false, as context.AfterFunc's does). f runs on
// the cancelling goroutine, after the whole subtree is cancelled and with
// no lock held; if s is already cancelled, f runs in a goroutine of its
// own, as context.AfterFunc promises: package context calls this method,
// while holding a lock that f takes, when a context is derived from s or
// given to context.AfterFunc, so following a scope costs no goroutine
// while s is live.
func (s *Scope) AfterFunc(f func()) (stop func() bool) { return s.hook(f, true) }

// hook links f under s as a leaf child (a hook node); async is scopeExt's.
func (s *Scope) hook(f func(), async bool) (stop func() bool) {
	h := &Scope{parent: s, ext: &scopeExt{fn: f, async: async}}
	h.attach()
	return func() bool { return s.unlink(h) }
}

// OnCancel arranges for f to run exactly once, with s's cause, after s is
// cancelled; it is [Scope.AfterFunc] with the cause handed over, except
// that if s is already cancelled, f runs before OnCancel returns. The
// returned stop prevents the call if it has not happened yet and reports
// whether it did. OnCancel panics if f is nil.
//
// What it gives over context.AfterFunc(s, func() { f(context.Cause(s)) }):
// f runs on the goroutine that cancels, not on a goroutine started per
// hook, so the hooks of a subtree have all run when Cancel returns (cleanup
// that must finish before the canceller goes on, such as releasing what a
// test then checks), and a cancellation of many hooks starts no goroutine.
// The price is the same as for any code run by Cancel: f must not block on
// something only the canceller's caller would do.
func (s *Scope) OnCancel(f func(cause error)) (stop func() bool) {
	if f == nil {
		panic("core: Scope.OnCancel: nil function")
	}
	// s.cause was written under s.mu before the state store; the hook runs
	// after the cancelling goroutine's walk, or after AfterFunc saw s
	// cancelled under s.mu.
	return s.hook(func() { f(s.cause) }, false)
}

// NewShieldedScope returns a live root scope that carries parent's values
// but not its cancellation or deadline: work under it (cleanup, say) runs to
// the end even when parent is cancelled, until the shielded scope itself is
// cancelled. It panics if parent is nil.
//
// It is NewScope(context.WithoutCancel(parent)). What it gives over
// context.WithoutCancel alone, which can never be cancelled: the cleanup
// keeps a handle of its own to stop it (Cancel, with a cause), scopes,
// groups and hooks hang under it and are cancelled with it, and its
// Cancelled check is an atomic load (see [Scope.Cancelled]).
func NewShieldedScope(parent context.Context) *Scope {
	if parent == nil {
		panic("core: NewShieldedScope: nil parent context")
	}
	if plantedBugs && planted(fpBugShieldNoValues) {
		return NewScope(context.Background()) // PLANTED: a fresh root, without the parent's values
	}
	return NewScope(context.WithoutCancel(parent))
}
