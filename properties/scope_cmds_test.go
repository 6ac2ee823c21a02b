package properties_test

// The commands of the scope model test (scope_model_test.go): each makes
// its calls on a goroutine of its own, bounded, checks what the tree is
// when they returned (what must hold by then), and then waits, bounded,
// for the tree to be what the model says once the asynchronous parts are
// done.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
)

// cmdWatchers counts package context's goroutines that follow a parent.
var cmdWatchers = &scCmd{
	name: "count context's watcher goroutines",
	pre:  func(*scModel) bool { return true },
	next: func(*scModel) {},
	run:  func(*scSUT, *scObs) {},
}

// scCmd is a command of the model test.
type scCmd struct {
	name string
	pre  func(m *scModel) bool
	next func(m *scModel)                     // changes a copy of the state
	run  func(s *scSUT, o *scObs)             // the calls, on a goroutine of their own
	now  func(prev *scModel, o *scObs) string // checks of the state when the call returned (may be nil)
}

func (c *scCmd) String() string { return c.name }

func (c *scCmd) PreCondition(st commands.State) bool { return c.pre(st.(*scModel)) }

func (c *scCmd) NextState(st commands.State) commands.State {
	m := st.(*scModel).clone()
	c.next(m)
	m.prev, m.step = st.(*scModel), m.step+1
	return m
}

// scRan is what a command's Run returns: nil for a skipped command (an
// earlier one failed, or shrinking ran out of time).
type scRan struct {
	sut *scSUT
	obs *scObs
}

func (c *scCmd) Run(sut commands.SystemUnderTest) commands.Result {
	s := sut.(*scSUT)
	if s.broken || skipShrink() {
		return scRan{}
	}
	return scRan{s, s.call(c.name, func(o *scObs) { c.run(s, o) })}
}

// PostCondition checks what the call left when it returned, then waits
// (bounded) for the tree to be as the model says once the asynchronous
// parts are done.
func (c *scCmd) PostCondition(st commands.State, res commands.Result) *gopter.PropResult {
	r := res.(scRan)
	if r.sut == nil {
		return gopter.NewPropResult(true, "")
	}
	m := st.(*scModel)
	why := r.obs.err
	if why == "" && c.now != nil {
		why = c.now(m.prev, r.obs)
	}
	if why == "" {
		why = r.sut.conform(m)
	}
	if why == "" && c == cmdWatchers {
		why = r.sut.watchers(m)
	}
	if why != "" {
		r.sut.broken = true
		return noteFailure(gopter.NewPropResult(false, fmt.Sprintf("step %d, %s: %s", m.step, c.name, why)))
	}
	return gopter.NewPropResult(true, "")
}

func validNode(i int, ok func(scNode) bool) func(*scModel) bool {
	return func(m *scModel) bool { return i < len(m.nodes) && ok(m.nodes[i]) }
}

func anyNode(scNode) bool { return true }

// newNodeCmd makes a node of kind under p (far: a virtual deadline's hour;
// key: a WithValue's key). When it returns, the node is cancelled if and
// only if the model says so.
func newNodeCmd(kind scKind, p, far, key int) *scCmd {
	name := fmt.Sprintf("%v(n%d)", kind, p)
	switch kind {
	case scDeadline, scDeadlineCtx:
		name = fmt.Sprintf("%v(n%d, far+%dh)", kind, p, far)
	case scValue:
		name = fmt.Sprintf("%v(n%d, key %d)", kind, p, key)
	}
	return &scCmd{
		name: name,
		pre:  validNode(p, anyNode),
		next: func(m *scModel) { m.add(scNode{kind: kind, parent: p, far: far, key: key}) },
		run:  func(s *scSUT, _ *scObs) { s.newNode(kind, p, far, key) },
		now: func(prev *scModel, o *scObs) string {
			m := prev.clone()
			i := m.add(scNode{kind: kind, parent: p, far: far, key: key})
			if o.cancelled[i] != m.nodes[i].cancelled {
				return fmt.Sprintf("the new node is cancelled: %v, want %v (its parent is cancelled: %v)", o.cancelled[i], m.nodes[i].cancelled, m.nodes[p].cancelled)
			}
			return ""
		},
	}
}

// timerCmd makes D, a scope under p with a real deadline d from now (by
// NewScopeWithTimeout if timeout), C = NewScope(D), E =
// NewScopeWithDeadline(D, far) and an AfterFunc hook on D and an OnCancel
// hook on C, then waits for D's deadline.
func timerCmd(p int, d time.Duration, timeout bool) *scCmd {
	fn := "NewScopeWithDeadline(n%d, %v from now)"
	if timeout {
		fn = "NewScopeWithTimeout(n%d, %v)"
	}
	build := func(m *scModel) {
		dn := m.add(scNode{kind: scTimer, parent: p})
		cn := m.add(scNode{kind: scScope, parent: dn})
		m.add(scNode{kind: scDeadline, parent: dn, far: 5})
		m.addHook(dn, false)
		m.addHook(cn, true)
		m.cancel(dn, context.DeadlineExceeded, true) // nothing if it started cancelled
	}
	return &scCmd{
		name: fmt.Sprintf(fn+" with a child, a grandchild and hooks; its deadline passes", p, d),
		pre:  validNode(p, anyNode),
		next: build,
		run: func(s *scSUT, o *scObs) {
			defer s.watchErr()()
			dn := s.newTimer(p, d, timeout)
			cn := s.newNode(scScope, dn, 0, 0)
			s.newNode(scDeadline, dn, 5, 0)
			s.hook(dn, false, o.gid)
			s.hook(cn, true, o.gid)
			select {
			case <-s.node(dn).scope.Done():
			case <-time.After(settleBound):
				o.err = fmt.Sprintf("the deadline %v away did not cancel its scope within %v", d, settleBound)
			}
		},
	}
}

// cancelCmd cancels node i with cause (nil: Scope.Cancel(nil), or the
// context's cancel(nil); WithDeadlineCause's cancel takes no cause).
func cancelCmd(i int, cause error) *scCmd {
	want := func(m *scModel) error {
		if cause == nil || m.nodes[i].kind == scDeadlineCtx {
			return context.Canceled
		}
		return cause
	}
	return &scCmd{
		name: fmt.Sprintf("Cancel(n%d, %v)", i, cause),
		pre:  validNode(i, func(n scNode) bool { return n.kind.cancellable() }),
		next: func(m *scModel) { m.cancel(i, want(m), false) },
		run: func(s *scSUT, _ *scObs) {
			defer s.watchErr()()
			s.cancelNode(i, cause)
		},
		now: func(prev *scModel, o *scObs) string {
			m := prev.clone()
			sync := m.cancel(i, want(m), false)
			for j := range m.nodes {
				if m.nodes[j].cancelled && !prev.nodes[j].cancelled && !slices.Contains(sync, j) {
					scTally.followed.Add(1)
				}
			}
			for _, j := range sync {
				if !o.cancelled[j] {
					return fmt.Sprintf("node %d (%v), below the cancelled node, was live when Cancel returned", j, m.nodes[j].kind)
				}
				for h, mh := range prev.hooks {
					if mh.node != j || mh.state != hookPending {
						continue
					}
					if o.started[h] != 1 {
						return fmt.Sprintf("hook %d (%s on node %d) had run %d times when Cancel returned, want once", h, mh.name(), j, o.started[h])
					}
					if o.goids[h] != o.gid {
						return fmt.Sprintf("hook %d (%s on node %d) ran on another goroutine than the one that cancelled it", h, mh.name(), j)
					}
				}
			}
			return ""
		},
	}
}

// hookCmd registers an OnCancel (onCancel) or AfterFunc hook on scope i.
func hookCmd(i int, onCancel bool) *scCmd {
	name := fmt.Sprintf("AfterFunc(n%d)", i)
	if onCancel {
		name = fmt.Sprintf("OnCancel(n%d)", i)
	}
	return &scCmd{
		name: name,
		pre:  validNode(i, func(n scNode) bool { return n.kind.isScope() }),
		next: func(m *scModel) { m.addHook(i, onCancel) },
		run:  func(s *scSUT, o *scObs) { s.hook(i, onCancel, o.gid) },
		now: func(prev *scModel, o *scObs) string {
			h := len(prev.hooks)
			if prev.nodes[i].cancelled {
				scTally.late.Add(1)
			}
			switch {
			case onCancel && prev.nodes[i].cancelled && (o.started[h] != 1 || o.goids[h] != o.gid):
				return "OnCancel on a cancelled scope: the hook had not run on the caller's goroutine when OnCancel returned"
			case !prev.nodes[i].cancelled && o.started[h] != 0:
				return "the hook ran on registration, though its scope is live"
			}
			return ""
		},
	}
}

// stopCmd calls the stop function of hook h: true if and only if the hook
// was pending.
func stopCmd(h int) *scCmd {
	return &scCmd{
		name: fmt.Sprintf("stop(hook %d)", h),
		pre:  func(m *scModel) bool { return h < len(m.hooks) },
		next: func(m *scModel) {
			if m.hooks[h].state == hookPending {
				m.hooks[h].state = hookStopped
			}
		},
		run: func(s *scSUT, o *scObs) {
			s.mu.Lock()
			stop := s.hooks[h].stop
			s.mu.Unlock()
			o.stopped = stop()
		},
		now: func(prev *scModel, o *scObs) string {
			if want := prev.hooks[h].state == hookPending; o.stopped != want {
				return fmt.Sprintf("stop() = %v, want %v (the hook is %v)", o.stopped, want, prev.hooks[h].state)
			}
			return ""
		},
	}
}
