package properties_test

// The system under the group model test (group_model_test.go): a Group, a
// ResultGroup[int], or the Group that Run hands its body, with the record
// of every function it was given.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nimsync/nimsync/core"
)

// groupKind is what a model run drives.
type groupKind int

const (
	kindGroup  groupKind = iota // core.NewGroup
	kindResult                  // core.NewResultGroup[int]: Wait's values are checked too
	kindRun                     // core.Run: the body hands out its group and returns at Wait
)

func (k groupKind) String() string { return [...]string{"Group", "ResultGroup", "Run"}[k] }

// gSUT is the system under test. calls[id] and ends[id] count the calls of
// function id and their returns (panics and Goexits included).
type gSUT struct {
	kind      groupKind
	g         *core.Group            // kindGroup, kindRun
	rg        *core.ResultGroup[int] // kindResult
	release   chan struct{}          // one receive per released held task
	limit     int
	allErrors bool

	base  core.Stats       // the runtime's counters before the group existed
	body  chan error       // kindRun: what the body returns, sent by the first Wait
	ran   chan waitOutcome // kindRun: Run's outcome
	first *waitOutcome     // the first Wait's outcome

	// broken is set once a command failed: gopter runs the rest of the
	// sequence anyway, and they would only pile up behind the failure (a
	// deadlocked group blocks every later Go).
	broken bool

	mu    sync.Mutex
	calls []int
	ends  []int
	bad   []string // violations seen inside tasks
	// live counts the calls running that started while the group was
	// live; maxLive is its highest value: WithLimit bounds it.
	live, maxLive int
}

func newSUT(m *gModel) *gSUT {
	var opts []core.GroupOption
	if m.limit > 0 {
		opts = append(opts, core.WithLimit(m.limit))
	}
	if m.all {
		opts = append(opts, core.WithAllErrors())
	}
	// The baseline: the previous run's last tasks are counted finished a
	// moment after its Wait returned (Stats.LiveTasks lags), so wait for
	// them (a broken run may have left tasks behind for good: then take
	// what is there).
	waitUntil(time.Second, func() bool { st := core.ReadStats(); return st.LiveTasks == 0 && st.QueuedTasks == 0 })
	s := &gSUT{kind: m.kind, release: make(chan struct{}), limit: m.limit, allErrors: m.all, base: core.ReadStats()}
	ctx := context.Background()
	switch m.kind {
	case kindGroup:
		s.g = core.NewGroup(ctx, opts...)
	case kindResult:
		s.rg = core.NewResultGroup[int](ctx, opts...)
	case kindRun:
		got := make(chan *core.Group)
		s.body, s.ran = make(chan error, 1), make(chan waitOutcome, 1)
		go func() {
			s.ran <- catchWait(func() ([]int, error) {
				return nil, core.Run(ctx, func(g *core.Group) error {
					got <- g
					err := <-s.body
					if p, ok := err.(bodyPanic); ok {
						panic(p.v)
					}
					return err
				}, opts...)
			})
		}()
		s.g = <-got
	}
	return s
}

func (s *gSUT) scope() *core.Scope {
	if s.rg != nil {
		return s.rg.Scope()
	}
	return s.g.Scope()
}

func (s *gSUT) cancel(cause error) {
	if s.rg != nil {
		s.rg.Cancel(cause)
		return
	}
	s.g.Cancel(cause)
}

// goFn is Go of fn (its value is dropped unless the group is a
// ResultGroup).
func (s *gSUT) goFn(fn func(context.Context) (int, error)) {
	if s.rg != nil {
		s.rg.Go(fn)
		return
	}
	s.g.Go(func(ctx context.Context) error { _, err := fn(ctx); return err })
}

func (s *gSUT) tryGo(fn func(context.Context) (int, error)) bool {
	if s.rg != nil {
		return s.rg.TryGo(fn)
	}
	return s.g.TryGo(func(ctx context.Context) error { _, err := fn(ctx); return err })
}

// submit reserves n function ids and returns the first.
func (s *gSUT) submit(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := len(s.calls)
	s.calls = append(s.calls, make([]int, n)...)
	s.ends = append(s.ends, make([]int, n)...)
	return id
}

// task wraps do as function id: it records the call and its return, that
// a function submitted to a cancelled group (cancelled) sees a cancelled
// context, and that it does not run on the goroutine that submitted it
// (caller, 0 for unknown).
func (s *gSUT) task(id int, cancelled bool, caller int64, do func(context.Context) (int, error)) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		s.mu.Lock()
		s.calls[id]++
		if cancelled && ctx.Err() == nil {
			s.bad = append(s.bad, fmt.Sprintf("function %d, submitted to a cancelled group, was called with a live context", id))
		}
		if caller != 0 && goid() == caller {
			s.bad = append(s.bad, fmt.Sprintf("function %d ran on the goroutine that called Go", id))
		}
		live := ctx.Err() == nil
		if live {
			s.live++
			s.maxLive = max(s.maxLive, s.live)
		}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.ends[id]++
			if live {
				s.live--
			}
			s.mu.Unlock()
		}()
		return do(ctx)
	}
}

// async runs f in a goroutine of its own, for a call that may block
// (the caller bounds its wait on the returned channel, closed when f
// returns). A panic of f is a violation, recorded, not a crash: after a
// command timed out, f may still run on into a group the property has
// already given up on.
func (s *gSUT) async(f func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				s.mu.Lock()
				s.bad = append(s.bad, fmt.Sprintf("a Go, GoRange or Wait call panicked: %v", p))
				s.mu.Unlock()
			}
		}()
		f()
	}()
	return done
}

// calledOnce waits until functions [lo, hi) were each called and returns
// "" or what is wrong: a function called twice, a violation seen inside a
// task, or a function not called within the bound.
func (s *gSUT) calledOnce(lo, hi int, bound time.Duration) string {
	var why string
	waitUntil(bound, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		why = ""
		if len(s.bad) > 0 {
			why = s.bad[0]
			return true
		}
		missing := 0
		for id := lo; id < hi; id++ {
			switch c := s.calls[id]; {
			case c > 1:
				why = fmt.Sprintf("function %d was called %d times", id, c)
				return true
			case c == 0:
				missing++
			}
		}
		if missing > 0 {
			why = fmt.Sprintf("%d of functions %d..%d were not called within %v", missing, lo, hi-1, bound)
		}
		return missing == 0
	})
	return why
}

// everyCallOnce reports a function submitted so far that was not called
// and did not return exactly once, or a violation seen inside a task (""
// if none). Wait calls it as soon as it returned: every function must have
// returned by then.
func (s *gSUT) everyCallOnce() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bad) > 0 {
		return s.bad[0]
	}
	if s.limit > 0 && s.maxLive > s.limit {
		return fmt.Sprintf("%d calls ran at once while the group was live, over its limit of %d", s.maxLive, s.limit)
	}
	for id, c := range s.calls {
		if c != 1 || s.ends[id] != 1 {
			return fmt.Sprintf("function %d of %d submitted was called %d times and returned %d times when Wait returned, want exactly once", id, len(s.calls), c, s.ends[id])
		}
	}
	return ""
}

// wait is the first Wait (for Run, the body returns bodyErr and Run's
// outcome is Wait's), bounded; ok is false if it did not return in time.
func (s *gSUT) wait(bodyErr error, bound time.Duration) (waitOutcome, bool) {
	ch := s.ran
	switch s.kind {
	case kindRun:
		select {
		case s.body <- bodyErr:
		default: // a Wait that timed out sent it already
		}
	case kindResult:
		ch = make(chan waitOutcome, 1)
		go func() { ch <- catchWait(s.rg.Wait) }()
	default:
		ch = make(chan waitOutcome, 1)
		go func() { ch <- catchWait(func() ([]int, error) { return nil, s.g.Wait() }) }()
	}
	select {
	case o := <-ch:
		s.first = &o
		return o, true
	case <-time.After(bound):
		return waitOutcome{}, false
	}
}

// waitAgain calls Wait once more (Run's group's Wait, for Run), bounded.
func (s *gSUT) waitAgain(bound time.Duration) (waitOutcome, bool) {
	ch := make(chan waitOutcome, 1)
	if s.rg != nil {
		go func() { ch <- catchWait(s.rg.Wait) }()
	} else {
		go func() { ch <- catchWait(func() ([]int, error) { return nil, s.g.Wait() }) }()
	}
	select {
	case o := <-ch:
		return o, true
	case <-time.After(bound):
		return waitOutcome{}, false
	}
}

// destroy releases what a run left: held tasks, the body of Run, and the
// group's tasks (bounded: a broken group is left behind, the property has
// failed already).
func (s *gSUT) destroy() {
	s.cancel(nil)
	if s.first == nil {
		s.wait(nil, settleBound)
	}
}

type waitOutcome struct {
	vals  []int
	err   error
	panic any    // what Wait (or Run) panicked with
	bad   string // a violation seen by Run
}

// same reports whether o and p are the same result of Wait.
func (o waitOutcome) same(p waitOutcome) bool {
	return o.err == p.err && (o.panic == nil) == (p.panic == nil) && slices.Equal(o.vals, p.vals)
}

// catchWait calls wait and returns its outcome, or the *core.PanicError it
// panicked with.
func catchWait(wait func() ([]int, error)) (o waitOutcome) {
	defer func() {
		if p := recover(); p != nil {
			o.panic = p // a *core.PanicError, or Run's body's own panic value
		}
	}()
	vals, err := wait()
	return waitOutcome{vals: vals, err: err}
}
