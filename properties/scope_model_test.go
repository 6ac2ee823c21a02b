package properties_test

// Property: Scope semantics, model-based. gopter's commands grow a tree
// under a root scope (itself under a context carrying a value): NewScope,
// NewScopeWithDeadline with far-future ("virtual") deadlines, scopes with
// real deadlines a few milliseconds away or already passed (with a child,
// a grandchild with a later deadline and hooks below them, built before
// or after the deadline fires), NewShieldedScope, and contexts derived with
// package context (WithCancelCause, WithDeadlineCause, WithValue), under
// any node, live or cancelled; Cancel of any node, with a cause or nil;
// OnCancel and AfterFunc hooks on any scope, and their stop functions.
// Each step is checked against a model of the rules in Scope's
// documentation (scope_cmds_test.go holds the commands, scope_sut_test.go
// the system under test):
//
//   - a new scope (or derived context) under a cancelled node starts
//     cancelled with the parent's cause and Err; a shielded scope starts
//     live under any parent;
//   - Deadline reports the earlier of a node's own deadline and its
//     ancestors'; a shielded scope has none; a real deadline cancels its
//     scope and subtree with context.DeadlineExceeded as Err and cause,
//     and Err is DeadlineExceeded under an ancestor's deadline;
//   - Cancel cancels the node's whole subtree (not below a shield), each
//     part not cancelled before with this cause (nil: context.Canceled):
//     the scopes linked below it, and the contexts derived from them, when
//     Cancel returns, their hooks run by then, on the caller's goroutine;
//     scopes under a derived context follow it soon after;
//   - Cancel never cancels an ancestor or a sibling, and only the first
//     cause counts;
//   - every hook runs exactly once, with its scope's cause, after the
//     scope and the scopes linked below it are cancelled and with no lock
//     of its scope or its parent held; OnCancel on a cancelled scope runs
//     before OnCancel returns, AfterFunc on one in a goroutine of its own;
//     stop before the cancellation returns true and the hook never runs;
//     stop after it, or a second time, returns false;
//   - Value finds the nearest binding of a key above a node, through
//     scopes and shields;
//   - at every step, while the root is live (and after), ReadStats's
//     LiveScopes is its baseline plus the live scopes linked under a live
//     scope, the hooks registered on a live scope and not stopped, and the
//     contexts derived directly from a live scope and not cancelled (they
//     are AfterFunc hooks of the scope);
//   - a cancelled node stops following its parent: package context's
//     goroutines that follow a parent (one per live node under a WithValue
//     over a live scope) are as many as the model says;
//   - Err is non-nil only once Done is closed (context.Context's rule;
//     scErrWaitsForDone), and a scope's only once Cancelled is true:
//     checked at every step, and all along a Cancel call (and a deadline's
//     command) by a goroutine that polls every node while the call runs.
//
// Each step has a bound: a call that does not return, or a state the model
// predicts that does not come about, within it fails the property. In a
// chaos build the plan's storms cancel again nodes already cancelled and
// make, cancel and check scopes of their own under the tree's nodes.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"
	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// scKind is what a node of the tree is.
type scKind int

const (
	scBase        scKind = iota // context.WithValue(context.Background(), key 0, ...): never cancelled
	scScope                     // core.NewScope
	scDeadline                  // core.NewScopeWithDeadline, a far (virtual) deadline
	scTimer                     // a scope with a real deadline a few ms away, or passed
	scShielded                  // core.NewShieldedScope
	scCancelCtx                 // context.WithCancelCause
	scDeadlineCtx               // context.WithDeadlineCause, a far deadline
	scValue                     // context.WithValue
)

func (k scKind) String() string {
	return [...]string{"base", "NewScope", "NewScopeWithDeadline", "real deadline", "NewShieldedScope",
		"WithCancelCause", "WithDeadlineCause", "WithValue"}[k]
}

func (k scKind) isScope() bool      { return k >= scScope && k <= scShielded }
func (k scKind) isCtx() bool        { return k == scCancelCtx || k == scDeadlineCtx }
func (k scKind) cancellable() bool  { return k.isScope() || k.isCtx() }
func (k scKind) linksInScope() bool { return k == scScope || k == scDeadline || k == scTimer }

// scKeys is how many value keys there are: few, so that bindings shadow.
const scKeys = 3

// scFarBase is the far future the virtual deadlines are hours after: a
// fixed date, decades after any run and a century after the serialized
// episodes' clock starts (chaos.SerialNow), so that a far deadline printed
// in a verdict is the same in every process (a serialized episode's replay
// compares verdicts).
var scFarBase = time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC)

func scFar(h int) time.Time { return scFarBase.Add(time.Duration(h) * time.Hour) }

// scNode is the model of a node.
type scNode struct {
	kind       scKind
	parent     int // -1: the base
	far        int // scDeadline, scDeadlineCtx: the deadline is scFar(far)
	key        int // scValue, scBase: the key it binds
	cancelled  bool
	byDeadline bool // Err is context.DeadlineExceeded
	cause      error
}

type hookState int

const (
	hookPending hookState = iota
	hookRan
	hookStopped
)

func (h hookState) String() string { return [...]string{"pending", "ran", "stopped"}[h] }

// scHook is the model of a hook.
type scHook struct {
	node     int
	onCancel bool
	state    hookState
	late     bool // registered on a cancelled scope
}

func (h scHook) name() string {
	if h.onCancel {
		return "OnCancel"
	}
	return "AfterFunc"
}

// scModel is the model's state.
type scModel struct {
	nodes []scNode
	hooks []scHook
	step  int
	prev  *scModel // the state before the last command (for PostCondition)
}

func newScModel() *scModel {
	return &scModel{nodes: []scNode{
		{kind: scBase, parent: -1, key: 0},
		{kind: scScope, parent: 0}, // the root
	}}
}

func (m *scModel) String() string { return "a root scope under a context with a value" }

func (m *scModel) clone() *scModel {
	c := *m
	c.nodes, c.hooks = slices.Clone(m.nodes), slices.Clone(m.hooks)
	return &c
}

// follows reports whether node c follows its parent's cancellation, and
// whether it does so synchronously: by the time the parent's cancel
// returned. A scope follows a scope through the walk; a derived context
// follows a scope through an AfterFunc hook and a context through package
// context, both synchronously; a scope follows a derived context (and
// anything follows a WithValue over a scope) through a goroutine that
// package context starts, so later.
func (m *scModel) follows(c int) (follows, sync bool) {
	n := m.nodes[c]
	if n.kind == scShielded || n.parent < 0 {
		return false, false
	}
	p := m.nodes[n.parent]
	switch {
	case n.kind == scValue: // no state of its own
		return true, true
	case n.kind.isScope():
		return true, p.kind.isScope()
	}
	for p.kind == scValue { // a context finds a *cancelCtx through values
		p = m.nodes[p.parent]
	}
	return true, p.kind.isCtx() || p.kind.isScope() && m.nodes[n.parent].kind != scValue
}

// cancel marks node i cancelled with cause (by a deadline if byDeadline),
// and every node that follows it, except those cancelled before; each hook
// of a newly cancelled scope runs. It returns the newly cancelled nodes
// that are cancelled before the cancelling call returns.
func (m *scModel) cancel(i int, cause error, byDeadline bool) (sync []int) {
	var walk func(i int, syncPath bool)
	walk = func(i int, syncPath bool) {
		n := &m.nodes[i]
		if n.cancelled {
			return
		}
		n.cancelled, n.cause, n.byDeadline = true, cause, byDeadline
		if syncPath {
			sync = append(sync, i)
		}
		for h := range m.hooks {
			if m.hooks[h].node == i && m.hooks[h].state == hookPending {
				m.hooks[h].state = hookRan
			}
		}
		for c := i + 1; c < len(m.nodes); c++ {
			if m.nodes[c].parent == i {
				if f, s := m.follows(c); f {
					walk(c, syncPath && s)
				}
			}
		}
	}
	walk(i, true)
	return sync
}

// add appends a node under p; under a cancelled parent it starts
// cancelled as the parent is (a shield starts live).
func (m *scModel) add(n scNode) int {
	m.nodes = append(m.nodes, n)
	i := len(m.nodes) - 1
	if p := m.nodes[n.parent]; p.cancelled {
		if f, _ := m.follows(i); f {
			m.nodes[i].cancelled, m.nodes[i].cause, m.nodes[i].byDeadline = true, p.cause, p.byDeadline
		}
	}
	return i
}

// addHook appends a hook on scope node i; on a cancelled scope it runs.
func (m *scModel) addHook(i int, onCancel bool) {
	h := scHook{node: i, onCancel: onCancel}
	if m.nodes[i].cancelled {
		h.state, h.late = hookRan, true
	}
	m.hooks = append(m.hooks, h)
}

// deadline is node i's expected Deadline, as a range [lo, hi] (a real
// deadline is known to the system: nodes gives it).
func (m *scModel) deadline(i int, nodes []*scNodeSUT) (lo, hi time.Time, ok bool) {
	n := m.nodes[i]
	switch n.kind {
	case scBase, scShielded:
		return time.Time{}, time.Time{}, false
	}
	lo, hi, ok = m.deadline(n.parent, nodes)
	var own, ownHi time.Time
	switch n.kind {
	case scDeadline, scDeadlineCtx:
		own = scFar(n.far)
		ownHi = own
	case scTimer:
		own, ownHi = nodes[i].dlLo, nodes[i].dlHi
	default:
		return lo, hi, ok
	}
	if ok && lo.Before(own) {
		return lo, hi, ok
	}
	return own, ownHi, true
}

// value is what node i's Value(key k) must return.
func (m *scModel) value(i, k int) any {
	for ; i >= 0; i = m.nodes[i].parent {
		if n := m.nodes[i]; (n.kind == scValue || n.kind == scBase) && n.key == k {
			return scValueOf(i)
		}
	}
	return nil
}

// linked is how many entries core's LiveScopes counter must hold for the
// tree: live scopes linked under a scope, hooks pending on a live scope,
// and live contexts derived directly from a scope (package context
// registers an AfterFunc hook on it).
func (m *scModel) linked() int {
	n := 0
	for _, c := range m.nodes {
		if !c.cancelled && c.parent >= 0 && m.nodes[c.parent].kind.isScope() && (c.kind.linksInScope() || c.kind.isCtx()) {
			n++
		}
	}
	for _, h := range m.hooks {
		if h.state == hookPending {
			n++
		}
	}
	return n
}

// watchers is how many goroutines package context runs to follow a
// parent: one for each live node (not a shield, nor a WithValue, which
// follows nothing) whose parent is a WithValue over a scope, since such a
// parent offers neither a *cancelCtx nor an AfterFunc method. Invariant 5
// of scope.go ("no goroutine is started per scope") does not hold for them.
func (m *scModel) watchers() int {
	n := 0
	for _, c := range m.nodes {
		if c.cancelled || c.parent < 0 || c.kind == scShielded || c.kind == scValue {
			continue
		}
		a := m.nodes[c.parent]
		if a.kind != scValue {
			continue
		}
		for a.kind == scValue {
			a = m.nodes[a.parent]
		}
		if a.kind.isScope() {
			n++
		}
	}
	return n
}

// scopeCommands generates the commands that apply in a state.
func scopeCommands() *commands.ProtoCommands {
	return &commands.ProtoCommands{
		NewSystemUnderTestFunc:     func(commands.State) commands.SystemUnderTest { return newScopeSUT() },
		DestroySystemUnderTestFunc: func(s commands.SystemUnderTest) { s.(*scSUT).destroy() },
		InitialStateGen: func(*gopter.GenParameters) *gopter.GenResult {
			return gopter.NewGenResult(newScModel(), gopter.NoShrinker)
		},
		GenCommandFunc: func(st commands.State) gopter.Gen {
			m := st.(*scModel)
			var scopes, cancellable []int
			for i, n := range m.nodes {
				if n.kind.isScope() {
					scopes = append(scopes, i)
				}
				if n.kind.cancellable() && i != 1 {
					cancellable = append(cancellable, i)
				}
			}
			id := m.step
			cause := fmt.Errorf("cause %d", id)
			node := gen.IntRange(0, len(m.nodes)-1)
			var choices []gen.WeightedGen
			add := func(w int, g gopter.Gen) { choices = append(choices, gen.WeightedGen{Weight: w, Gen: g}) }
			add(6, node.Map(func(p int) commands.Command { return newNodeCmd(scScope, p, 0, 0) }))
			add(3, gopter.CombineGens(node, gen.IntRange(1, 6)).Map(func(v []any) commands.Command {
				return newNodeCmd(scDeadline, v[0].(int), v[1].(int), 0)
			}))
			add(2, node.Map(func(p int) commands.Command { return newNodeCmd(scShielded, p, 0, 0) }))
			add(2, node.Map(func(p int) commands.Command { return newNodeCmd(scCancelCtx, p, 0, 0) }))
			add(1, gopter.CombineGens(node, gen.IntRange(1, 6)).Map(func(v []any) commands.Command {
				return newNodeCmd(scDeadlineCtx, v[0].(int), v[1].(int), 0)
			}))
			add(2, gopter.CombineGens(node, gen.IntRange(0, scKeys-1)).Map(func(v []any) commands.Command {
				return newNodeCmd(scValue, v[0].(int), 0, v[1].(int))
			}))
			add(2, gopter.CombineGens(node, gen.IntRange(-1, 2), gen.Bool()).Map(func(v []any) commands.Command {
				d := []time.Duration{-time.Millisecond, 0, 300 * time.Microsecond, 2 * time.Millisecond}[v[1].(int)+1]
				return timerCmd(v[0].(int), d, v[2].(bool))
			}))
			if len(cancellable) > 0 {
				target := gen.IntRange(0, len(cancellable)-1).Map(func(k int) int { return cancellable[k] })
				add(4, target.Map(func(i int) commands.Command { return cancelCmd(i, cause) }))
				add(1, target.Map(func(i int) commands.Command { return cancelCmd(i, nil) }))
			}
			if len(m.nodes) > 40 { // the root, once the tree is grown
				add(1, gen.Const(commands.Command(cancelCmd(1, cause))))
			}
			target := gen.IntRange(0, len(scopes)-1).Map(func(k int) int { return scopes[k] })
			add(3, target.Map(func(i int) commands.Command { return hookCmd(i, true) }))
			add(3, target.Map(func(i int) commands.Command { return hookCmd(i, false) }))
			if len(m.hooks) > 0 {
				add(3, gen.IntRange(0, len(m.hooks)-1).Map(func(h int) commands.Command { return stopCmd(h) }))
			}
			add(1, gen.Const(commands.Command(cmdWatchers)))
			return gen.Weighted(choices)
		},
	}
}

func TestScopeModel(t *testing.T) {
	s := seed(t)
	startPlan(t, s)
	setStorm(scStorm)
	defer setStorm(nil)
	base := core.ReadStats()
	runs := 100
	if testing.Short() {
		runs = 30
	}
	deadline := time.Now().Add(budget(t))
	for i := uint64(0); i == 0 || time.Now().Before(deadline); i++ {
		checkProps(t, s+i, runs, func(ps *gopter.Properties) {
			ps.Property("Scope trees follow their model", commands.Prop(scopeCommands()))
		})
	}
	require.NoError(t, settle(base), "every tree was cancelled")
	t.Logf("checked: LiveScopes with the root live %d times; %d hooks registered on cancelled scopes; %d nodes cancelled through a derived context; context's watcher goroutines %d times; %d storms",
		scTally.countChecks.Load(), scTally.late.Load(), scTally.followed.Load(), scTally.watchers.Load(), scTally.storms.Load())
}
