package properties_test

// The system under the scope model test (scope_model_test.go): a tree of
// core scopes and of contexts derived from them with package context, the
// AfterFunc and OnCancel hooks registered on the scopes, and what each hook
// saw when it ran.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimsync/nimsync/core"
)

// scNodeSUT is one node of the tree: a scope (scope is set) or a context
// derived from its parent (cancel is set unless it is a WithValue).
type scNodeSUT struct {
	ctx    context.Context
	scope  *core.Scope
	cancel context.CancelCauseFunc
	kind   scKind
	parent int
	// dlLo, dlHi bound a real (short) deadline given to the node: exact
	// for NewScopeWithDeadline, the clock before and after the call for
	// NewScopeWithTimeout. Zero for the other nodes.
	dlLo, dlHi time.Time
	// known is set once the property saw the node cancelled as the model
	// says: a storm may then cancel it again, which must change nothing.
	known atomic.Bool
}

// scHookSUT is an OnCancel or AfterFunc hook and what it saw.
type scHookSUT struct {
	node       int
	registrant int64       // the goroutine that registered it
	stop       func() bool // set once registration returned
	started    atomic.Int32
	finished   atomic.Int32
	goid       atomic.Int64          // the goroutine of its first run
	cause      atomic.Pointer[error] // OnCancel: the cause it got; AfterFunc: context.Cause then
}

// scSUT is the system under test.
type scSUT struct {
	base     int64 // core.ReadStats().LiveScopes before the tree was made
	ctxWatch int   // package context's watcher goroutines then

	// broken is set once a command failed: the rest of the sequence is
	// skipped.
	broken bool

	mu    sync.Mutex // guards nodes, hooks and bad (hooks and storms read them)
	nodes []*scNodeSUT
	hooks []*scHookSUT
	bad   []string // violations seen inside hooks and storms
}

// scCurrent is the tree storms work on (nil between trees); scStorms counts
// the storms running.
var (
	scCurrent atomic.Pointer[scSUT]
	scStorms  atomic.Int64
)

// scTally counts what the checks saw, for the test's log: a property that
// never reached a situation has not checked it.
var scTally struct {
	countChecks atomic.Int64 // LiveScopes compared while the root was live and the model expected entries
	late        atomic.Int64 // hooks registered on a cancelled scope
	followed    atomic.Int64 // nodes cancelled after their canceller returned (through a derived context)
	storms      atomic.Int64
	watchers    atomic.Int64 // context's watcher goroutines counted while the model expected some
}

// scKey is the type of the keys of the tree's values.
type scKey int

// scValueOf is the value that node i (a WithValue, or the base) binds.
func scValueOf(i int) string { return fmt.Sprintf("value of node %d", i) }

func newScopeSUT() *scSUT {
	waitUntil(settleBound, func() bool { return scStorms.Load() == 0 })
	s := &scSUT{base: core.ReadStats().LiveScopes, ctxWatch: scWatchers()}
	base := context.WithValue(context.Background(), scKey(0), scValueOf(0))
	s.nodes = append(s.nodes, &scNodeSUT{ctx: base, kind: scBase, parent: -1})
	root := core.NewScope(base)
	s.nodes = append(s.nodes, &scNodeSUT{ctx: root, scope: root, kind: scScope, parent: 0})
	scCurrent.Store(s)
	return s
}

// destroy cancels every node and waits (bounded) until every hook that
// started has finished, no storm runs, and the live-scope count and
// package context's watcher goroutines are back to where they were before
// the tree: the next tree's baselines.
func (s *scSUT) destroy() {
	scCurrent.Store(nil)
	s.mu.Lock()
	nodes, hooks := slices.Clone(s.nodes), slices.Clone(s.hooks)
	s.mu.Unlock()
	cancelled := make(chan struct{})
	go func() { // bounded: a broken tree's Cancel may never return (the property has failed)
		defer close(cancelled)
		for _, n := range nodes {
			switch {
			case n.scope != nil:
				n.scope.Cancel(nil)
			case n.cancel != nil:
				n.cancel(nil)
			}
		}
	}()
	select {
	case <-cancelled:
	case <-time.After(settleBound):
		return
	}
	waitUntil(settleBound, func() bool {
		for _, h := range hooks {
			if h.started.Load() != h.finished.Load() {
				return false
			}
		}
		return scStorms.Load() == 0 && core.ReadStats().LiveScopes == s.base && scWatchers() == s.ctxWatch
	})
}

// scWatchers counts the goroutines package context started to follow a
// parent it cannot register with.
func scWatchers() int {
	return strings.Count(allStacks(), "created by context.(*cancelCtx).propagateCancel")
}

// add appends n to the tree and returns its index.
func (s *scSUT) add(n *scNodeSUT) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes = append(s.nodes, n)
	return len(s.nodes) - 1
}

func (s *scSUT) node(i int) *scNodeSUT {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[i]
}

func (s *scSUT) violate(format string, args ...any) {
	s.mu.Lock()
	s.bad = append(s.bad, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// newNode makes a node of kind under node p (far: the virtual deadline's
// hour; key: a WithValue's key) and returns its index.
func (s *scSUT) newNode(kind scKind, p, far, key int) int {
	parent := s.node(p).ctx
	n := &scNodeSUT{kind: kind, parent: p}
	switch kind {
	case scScope:
		n.scope = core.NewScope(parent)
	case scDeadline:
		n.scope = core.NewScopeWithDeadline(parent, scFar(far))
	case scShielded:
		n.scope = core.NewShieldedScope(parent)
	case scCancelCtx:
		n.ctx, n.cancel = context.WithCancelCause(parent)
	case scDeadlineCtx:
		var cancel context.CancelFunc
		n.ctx, cancel = context.WithDeadlineCause(parent, scFar(far), errors.New("far deadline"))
		n.cancel = func(error) { cancel() }
	case scValue:
		s.mu.Lock()
		i := len(s.nodes)
		s.mu.Unlock()
		n.ctx = context.WithValue(parent, scKey(key), scValueOf(i))
	default:
		panic(fmt.Sprintf("newNode: kind %v", kind))
	}
	if n.scope != nil {
		n.ctx = n.scope
	}
	return s.add(n)
}

// newTimer makes a scope under node p with a real deadline d from now
// (d <= 0: already passed), by NewScopeWithTimeout or NewScopeWithDeadline,
// and returns its index.
func (s *scSUT) newTimer(p int, d time.Duration, timeout bool) int {
	parent := s.node(p).ctx
	n := &scNodeSUT{kind: scTimer, parent: p}
	if timeout {
		n.dlLo = time.Now().Add(d)
		n.scope = core.NewScopeWithTimeout(parent, d)
		n.dlHi = time.Now().Add(d)
	} else {
		n.dlLo = time.Now().Add(d)
		n.dlHi = n.dlLo
		n.scope = core.NewScopeWithDeadline(parent, n.dlLo)
	}
	n.ctx = n.scope
	return s.add(n)
}

// cancelNode cancels node i: Scope.Cancel, or the derived context's cancel.
func (s *scSUT) cancelNode(i int, cause error) {
	n := s.node(i)
	if n.scope != nil {
		n.scope.Cancel(cause)
		return
	}
	n.cancel(cause)
}

// hook registers an OnCancel (onCancel) or AfterFunc hook on scope node i,
// from goroutine gid, and returns it.
func (s *scSUT) hook(i int, onCancel bool, gid int64) *scHookSUT {
	n := s.node(i)
	h := &scHookSUT{node: i, registrant: gid}
	s.mu.Lock()
	s.hooks = append(s.hooks, h)
	s.mu.Unlock()
	if onCancel {
		h.stop = n.scope.OnCancel(func(cause error) { s.ran(h, n, cause) })
	} else {
		h.stop = n.scope.AfterFunc(func() { s.ran(h, n, context.Cause(n.scope)) })
	}
	return h
}

// ran is what every hook does: it records its run, and checks that its
// scope and the scopes linked below it are cancelled (a hook runs after
// the whole subtree is) and that no lock of its scope or of its parent is
// held (Deadline takes the scope's lock; a held one would deadlock the
// canceller, which the command's bound catches).
func (s *scSUT) ran(h *scHookSUT, n *scNodeSUT, cause error) {
	if h.started.Add(1) == 1 {
		h.goid.Store(goid())
		h.cause.Store(&cause)
	}
	defer h.finished.Add(1)
	if !n.scope.Cancelled() {
		s.violate("hook %d on node %d ran while its scope was live", s.hookIndex(h), h.node)
	}
	s.mu.Lock()
	nodes := slices.Clone(s.nodes)
	s.mu.Unlock()
	for j := h.node + 1; j < len(nodes); j++ {
		if scLinkedBelow(nodes, j, h.node) && !nodes[j].scope.Cancelled() {
			s.violate("hook %d on node %d ran while node %d, linked below it, was still live", s.hookIndex(h), h.node, j)
		}
	}
	n.scope.Deadline()
	if p := nodes[n.parent]; p.scope != nil {
		p.scope.Deadline()
	}
}

func (s *scSUT) hookIndex(h *scHookSUT) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Index(s.hooks, h)
}

// scLinkedBelow reports whether node j is linked below node i through
// scope-to-scope links only (no shield, no derived context between).
func scLinkedBelow(nodes []*scNodeSUT, j, i int) bool {
	for j != i {
		p := nodes[j].parent
		if p < 0 || !nodes[j].kind.linksInScope() || nodes[p].scope == nil {
			return false
		}
		j = p
	}
	return true
}

// scObs is what a command saw: the goroutine that made its call, what
// went wrong, and each node's and hook's state when the call returned.
type scObs struct {
	gid       int64
	err       string
	stopped   bool    // a stop's result
	cancelled []bool  // node i: Err() != nil
	started   []int32 // hook i: its runs
	goids     []int64 // hook i: the goroutine of its first run
}

// snapshot records each of s's nodes' and hooks' state into o.
func (o *scObs) snapshot(s *scSUT) {
	s.mu.Lock()
	nodes, hooks := slices.Clone(s.nodes), slices.Clone(s.hooks)
	s.mu.Unlock()
	for _, n := range nodes {
		o.cancelled = append(o.cancelled, n.ctx.Err() != nil)
	}
	for _, h := range hooks {
		o.started = append(o.started, h.started.Load())
		o.goids = append(o.goids, h.goid.Load())
	}
}

// call runs f (a command's calls) on a goroutine of its own, bounded by
// settleBound, and snapshots the tree as soon as f returned.
func (s *scSUT) call(name string, f func(o *scObs)) *scObs {
	o := &scObs{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.gid = goid()
		f(o)
		o.snapshot(s)
	}()
	select {
	case <-done:
		return o
	case <-time.After(settleBound):
		return &scObs{err: fmt.Sprintf("%s did not return within %v (a deadlock: a hook run with a lock held?)", name, settleBound)}
	}
}

// watchErr checks, on a goroutine of its own, until the returned stop is
// called (stop waits for it), that every node of the tree reports an Err
// only once its Done is closed, and, for a scope, only once Cancelled is
// true: a command whose call cancels nodes runs it while the call runs, so
// that the rule is checked while the cancellation walks the tree, not only
// once it is over. It reports the first violation it sees.
func (s *scSUT) watchErr() (stop func()) {
	var quit atomic.Bool
	over := make(chan struct{})
	// A call that never returns (a planted bug's Cancel deadlocked on a
	// scope's lock) never stops its watcher: it gives up after the
	// episode's bound, by which the call itself is reported, rather than
	// poll on for the rest of the process (CI: six such watchers, left by
	// the self-test's hook-runs-mid-walk, took both CPUs from every test
	// after it, and TestExhaustive ran 40 times slower, into the timeout).
	until := time.Now().Add(episodeDeadline)
	go func() {
		defer close(over)
		var done []<-chan struct{}
		for !quit.Load() && time.Now().Before(until) {
			s.mu.Lock()
			nodes := slices.Clone(s.nodes)
			s.mu.Unlock()
			for i, n := range nodes {
				if i == len(done) { // a node the call made: from the next pass on
					done = append(done, n.ctx.Done())
					continue
				}
				err := n.ctx.Err()
				if err == nil || done[i] == nil {
					continue
				}
				if n.scope != nil && !n.scope.Cancelled() {
					s.violate("node %d (%v): Err() = %v while Cancelled() was false", i, n.kind, err)
					return
				}
				select {
				case <-done[i]:
				default:
					s.violate("node %d (%v): Err() = %v while Done() was still open", i, n.kind, err)
					return
				}
			}
		}
	}()
	return func() {
		quit.Store(true)
		<-over
	}
}

// scErrWaitsForDone makes "Err() is non-nil only once Done() is closed"
// (context.Context's rule) a failure at once. (Scope.Err used to report the
// state its cancel stored before that cancel closed Done; while it did, the
// model only required Done to be closed soon after.)
const scErrWaitsForDone = true

// conform waits (bounded) until the tree is as model m says it ends up
// once every asynchronous part is done, and returns "" or what differs. A
// difference that cannot go away (a node cancelled that should be live, a
// wrong cause, deadline or value, a hook run twice) is reported at once.
func (s *scSUT) conform(m *scModel) string {
	res := make(chan string, 1)
	go func() { // bounded: Deadline and Done take a scope's lock, which a broken core may hold for ever
		var why string
		var final bool
		waitUntil(settleBound, func() bool {
			why, final = s.diff(m)
			return why == "" || final
		})
		if why != "" && !final {
			why += fmt.Sprintf(" (still, %v later)", settleBound)
		}
		res <- why
	}()
	select {
	case why := <-res:
		return why
	case <-time.After(2 * settleBound):
		return fmt.Sprintf("checking the tree did not end within %v (a scope's lock held for ever?)", 2*settleBound)
	}
}

// watchers waits (bounded) until the goroutines that package context
// started to follow a parent it cannot register with (a WithValue over a
// scope) are as many as the model says, and returns "" or the difference.
// A scope that stopped following its parent without stopping its
// context.AfterFunc would leave its watcher running while the parent is
// live.
func (s *scSUT) watchers(m *scModel) string {
	want := m.watchers()
	if want > 0 {
		scTally.watchers.Add(1)
	}
	var got int
	if waitUntil(settleBound, func() bool {
		got = scWatchers() - s.ctxWatch
		return got == want
	}) {
		return ""
	}
	return fmt.Sprintf("%d goroutines of package context follow a parent (beyond the %d before the tree), want %d: one for each live node under a WithValue over a live scope", got, s.ctxWatch, want)
}

func (s *scSUT) diff(m *scModel) (string, bool) {
	s.mu.Lock()
	nodes, hooks, bad := slices.Clone(s.nodes), slices.Clone(s.hooks), slices.Clone(s.bad)
	s.mu.Unlock()
	if len(bad) > 0 {
		return bad[0], true
	}
	if len(nodes) != len(m.nodes) || len(hooks) != len(m.hooks) {
		return fmt.Sprintf("the tree has %d nodes and %d hooks, the model %d and %d", len(nodes), len(hooks), len(m.nodes), len(m.hooks)), true
	}
	for i, mn := range m.nodes {
		if why, final := s.diffNode(m, nodes, i); why != "" {
			return fmt.Sprintf("node %d (%v under node %d): %s", i, mn.kind, mn.parent, why), final
		}
	}
	for i, mh := range m.hooks {
		if why, final := diffHook(m, mh, hooks[i]); why != "" {
			return fmt.Sprintf("hook %d (%s on node %d): %s", i, mh.name(), mh.node, why), final
		}
	}
	got, want := core.ReadStats().LiveScopes-s.base, int64(m.linked())
	if got != want {
		return fmt.Sprintf("ReadStats().LiveScopes is the baseline %+d, want %+d: the live scopes, hooks and derived contexts linked under a live scope (root live: %v)",
			got, want, !m.nodes[1].cancelled), false
	}
	if want > 0 && !m.nodes[1].cancelled {
		scTally.countChecks.Add(1)
	}
	return "", false
}

// diffNode compares node i with the model: its state, Err, cause, Done,
// Deadline and values.
func (s *scSUT) diffNode(m *scModel, nodes []*scNodeSUT, i int) (string, bool) {
	st := snapNode(nodes[i])
	if why, final := diffNodeCancel(m.nodes[i], st); why != "" {
		return why, final
	}
	if m.nodes[i].cancelled {
		nodes[i].known.Store(true)
	}
	return diffNodeRest(m, nodes, i, st)
}

// scNodeState is what a node reports: what diffNode compares with the
// model. The serialized scope property (serial_scope_test.go) takes it
// inside its episode and compares it outside.
type scNodeState struct {
	err        error
	cause      error
	cancelled  bool // a scope's Cancelled(), else err != nil
	done       bool // Done() is closed
	deadline   time.Time
	deadlineOK bool
	values     [scKeys]any
}

// snapNode reads node n's state.
func snapNode(n *scNodeSUT) scNodeState {
	st := scNodeState{err: n.ctx.Err()}
	st.cancelled = st.err != nil
	if n.scope != nil {
		st.cancelled = n.scope.Cancelled()
	}
	if d := n.ctx.Done(); d != nil {
		select {
		case <-d:
			st.done = true
		default:
		}
	}
	if st.err != nil {
		st.cause = context.Cause(n.ctx)
	}
	st.deadline, st.deadlineOK = n.ctx.Deadline()
	for k := range scKeys {
		st.values[k] = n.ctx.Value(scKey(k))
	}
	return st
}

// diffNodeCancel compares a node's cancellation with the model's node mn:
// its state, Err, cause and Done.
func diffNodeCancel(mn scNode, st scNodeState) (string, bool) {
	err := st.err
	if st.cancelled != (err != nil) {
		return fmt.Sprintf("Cancelled() = %v but Err() = %v", st.cancelled, err), true
	}
	switch {
	case !mn.cancelled && err != nil:
		return fmt.Sprintf("cancelled (Err %v, cause %v), want live", err, st.cause), true
	case !mn.cancelled && st.done:
		return "Done() is closed, want live", true
	case mn.cancelled && err == nil:
		return fmt.Sprintf("live, want cancelled with cause %v", mn.cause), false
	case mn.cancelled:
		want := context.Canceled
		if mn.byDeadline {
			want = context.DeadlineExceeded
		}
		if err != want {
			return fmt.Sprintf("Err() = %v, want %v", err, want), true
		}
		if st.cause != mn.cause {
			return fmt.Sprintf("context.Cause = %v, want %v", st.cause, mn.cause), true
		}
		if !st.done {
			return "Err() is not nil, but Done() is not closed", scErrWaitsForDone
		}
	}
	return "", false
}

// diffNodeRest compares node i's Deadline and values with the model's.
func diffNodeRest(m *scModel, nodes []*scNodeSUT, i int, st scNodeState) (string, bool) {
	lo, hi, ok := m.deadline(i, nodes)
	if got := st.deadline; st.deadlineOK != ok || ok && (got.Before(lo) || got.After(hi)) {
		return fmt.Sprintf("Deadline() = %v, %v; want %v, %v (the earlier of its own and its ancestors'; a shield has none)", got, st.deadlineOK, lo, ok), true
	}
	for k := range scKeys {
		if got, want := st.values[k], m.value(i, k); got != want {
			return fmt.Sprintf("Value(key %d) = %v, want %v", k, got, want), true
		}
	}
	return "", false
}

// diffHook compares a hook with the model: how often it ran, with which
// cause, and on which goroutine when that is promised.
func diffHook(m *scModel, mh scHook, h *scHookSUT) (string, bool) {
	runs, fin := h.started.Load(), h.finished.Load()
	switch {
	case runs > 1:
		return fmt.Sprintf("ran %d times, want once", runs), true
	case mh.state != hookRan && runs != 0:
		return fmt.Sprintf("ran, but it is %v", mh.state), true
	case mh.state == hookRan && (runs == 0 || fin == 0):
		return "has not run, want it run once", false
	case mh.state != hookRan:
		return "", false
	}
	if c := *h.cause.Load(); c != m.nodes[mh.node].cause {
		return fmt.Sprintf("ran with cause %v, want its scope's %v", c, m.nodes[mh.node].cause), true
	}
	if mh.late {
		g := h.goid.Load()
		if mh.onCancel && g != h.registrant {
			return "registered on a cancelled scope, ran on another goroutine than the one that called OnCancel", true
		}
		if !mh.onCancel && g == h.registrant {
			return "registered on a cancelled scope, ran on the goroutine that called AfterFunc, want one of its own", true
		}
	}
	return "", false
}

// scStorm is the chaos plan's cancellation storm for the scope model. It
// never changes what the model predicts: it cancels again a node already
// seen cancelled (which must change nothing), and under a node of the tree
// it makes a scope with an OnCancel and an AfterFunc hook (stopping the
// latter for odd seeds), cancels it, and checks that each hook not
// stopped ran exactly once.
func scStorm(seed uint64) {
	scStorms.Add(1)
	defer scStorms.Add(-1)
	s := scCurrent.Load()
	if s == nil {
		return
	}
	scTally.storms.Add(1)
	s.mu.Lock()
	nodes := slices.Clone(s.nodes)
	s.mu.Unlock()
	n := nodes[seed%uint64(len(nodes))]
	if n.known.Load() && (n.scope != nil || n.cancel != nil) {
		if n.scope != nil {
			n.scope.Cancel(errStorm)
		} else {
			n.cancel(errStorm)
		}
	}
	if n.scope == nil {
		return
	}
	c := core.NewScope(n.scope)
	var runs atomic.Int32
	c.OnCancel(func(error) { runs.Add(1) })
	stop := c.AfterFunc(func() { runs.Add(1) })
	want := int32(2)
	if seed&(1<<20) != 0 && stop() {
		want = 1
	}
	c.Cancel(errStorm)
	if !waitUntil(settleBound, func() bool { return runs.Load() >= want }) || runs.Load() != want {
		s.violate("a storm's scope under node %d: its hooks ran %d times, want %d", slices.Index(nodes, n), runs.Load(), want)
	}
}

var errStorm = errors.New("storm")
