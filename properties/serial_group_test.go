package properties_test

// Property 9, groups under the serialized mode (issue 14). A generated
// episode submits tasks to a Group with Go, TryGo and GoRange (a limit or
// none, first-failure or all-errors), tasks that succeed, fail, panic, call
// runtime.Goexit, spawn a task of the group from inside, or wait for the
// group's cancellation, and an optional canceller (of the group, or of the
// scope the group was made under); then Wait, twice, and a Go after Wait. The task pool's workers, the monitor and Wait run under
// the scheduler, so the episode replays step for step. What must hold:
//
//   - Every function passed to Go, every accepted TryGo and every GoRange
//     item is called exactly once, on a goroutine of the episode, never
//     inline inside the call that submitted it; a refused TryGo's never,
//     and a TryGo on a cancelled group is refused (GROUP-CALL-ONCE,
//     GROUP-OFF-CALLER, GROUP-TRYGO).
//   - Wait returns after every call returned and its deferred calls ran,
//     and no call starts or ends after it, its parent cancelled or not
//     (GROUP-WAIT-WAITS).
//   - While the group is live, at most Limit calls run at once
//     (GROUP-LIMIT).
//   - Wait's result: a *PanicError with the panic's value if a task
//     panicked (GROUP-PANIC); otherwise with all-errors every error and one
//     ErrGoexit per Goexit, joined, and no task starts in a cancelled group
//     unless a task panicked or the canceller ran (GROUP-ALL-ERRORS);
//     otherwise one of the failures, the one that cancelled the group (its
//     cause), or nil if no task failed (GROUP-FIRST-FAILURE, GROUP-GOEXIT,
//     GROUP-NO-ERROR). A second Wait returns the same (GROUP-WAIT-AGAIN),
//     and Go after Wait panics (GROUP-AFTER-WAIT).
//   - Settled after Wait (every worker idle and gone in virtual time), the
//     runtime's counters are back to their baseline (STATS-BASELINE).
//   - The episode ends: no deadlock, no livelock.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/sched"
)

// groupTask is one generated task.
type groupTask struct {
	Via     int  `json:"via"`     // 0 Go, 1 TryGo, 2 GoRange of RangeN items
	RangeN  int  `json:"range_n"` // GoRange's item count, 2..40
	Outcome int  `json:"outcome"` // one of the outcome constants
	Yields  int  `json:"yields"`  // scheduling points inside the task, 0..3
	Spawn   bool `json:"spawn"`   // it submits one more (succeeding) task: Go, or TryGo under a limit
}

const (
	outOK = iota
	outErr
	outPanic
	outGoexit
	outWaitCancel // waits for the group's cancellation, returns ctx.Err(): a failure
	nOutcomes
)

// serialGroupCase is one generated episode. It is JSON in a failure artifact.
type serialGroupCase struct {
	Limit     int         `json:"limit"` // 0: none
	AllErrors bool        `json:"all_errors"`
	Tasks     []groupTask `json:"tasks"`
	CancelAt  int         `json:"cancel_at"` // 0: no canceller; k: cancel the group after k yields
	// CancelParent: the group is made under a scope of its own, which the
	// canceller cancels instead of the group (Wait must still wait).
	CancelParent bool   `json:"cancel_parent,omitempty"`
	Strategy     string `json:"strategy"`
	Seed         uint64 `json:"seed"`
}

func (c serialGroupCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "limit %d, all-errors %v, cancel at %d:", c.Limit, c.AllErrors, c.CancelAt)
	if c.CancelParent {
		b.WriteString(" (the parent),")
	}
	for _, t := range c.Tasks {
		via := [3]string{"Go", "TryGo", fmt.Sprintf("GoRange(%d)", t.RangeN)}[t.Via]
		fmt.Fprintf(&b, " %s/%s/%d", via, [nOutcomes]string{"ok", "err", "panic", "goexit", "wait-cancel"}[t.Outcome], t.Yields)
		if t.Spawn {
			b.WriteString("+spawn")
		}
	}
	return b.String() + fmt.Sprintf("; %s seed %d", c.Strategy, c.Seed)
}

// norm makes a case valid, generated or shrunk: a task that waits for the
// cancellation needs a canceller or a failure that cancels.
func (c serialGroupCase) norm() serialGroupCase {
	c.Limit, c.CancelAt = max(c.Limit, 0), max(c.CancelAt, 0)
	c.CancelParent = c.CancelParent && c.CancelAt > 0
	if len(c.Tasks) == 0 {
		c.Tasks = []groupTask{{}}
	}
	ts := make([]groupTask, len(c.Tasks))
	copy(ts, c.Tasks)
	cancels := c.CancelAt > 0
	for _, t := range ts {
		cancels = cancels || t.Outcome == outPanic || !c.AllErrors && (t.Outcome == outErr || t.Outcome == outGoexit)
	}
	for i := range ts {
		ts[i].Via = min(max(ts[i].Via, 0), 2)
		ts[i].Outcome = min(max(ts[i].Outcome, 0), nOutcomes-1)
		ts[i].Yields = min(max(ts[i].Yields, 0), 3)
		ts[i].RangeN = min(max(ts[i].RangeN, 2), 40)
		if ts[i].Outcome == outWaitCancel && (!cancels || c.Limit > 0) {
			// With a limit, a waiting task holds a slot that a failing
			// task submitted after it may need: no cancellation would come.
			ts[i].Outcome = outOK
		}
	}
	c.Tasks = ts
	if _, err := sched.ParseStrategy(c.Strategy); err != nil {
		c.Strategy = "random"
	}
	return c
}

// groupObs is what an episode's goroutines saw; they run one at a time.
type groupObs struct {
	calls, ends   map[int]int
	accepted      map[int]bool // ids whose function the group accepted
	submitting    map[int]bool // goroutines inside a Go, TryGo or GoRange call
	live, maxLive int
	waited        bool
	errs          []string
	failures      []error // each failing call's error (ErrGoexit for a Goexit), in the order their bodies ended
	panics        []any
	waitErr       error
	waitPanic     any
}

func (o *groupObs) errorf(format string, args ...any) {
	o.errs = append(o.errs, fmt.Sprintf(format, args...))
}

// errTask is task id's error.
type errTask int

func (e errTask) Error() string { return fmt.Sprintf("task %d failed", int(e)) }

var errStop = errors.New("the canceller's cause")

func (c serialGroupCase) body(o *groupObs) func(*sched.G) {
	return func(g *sched.G) {
		var opts []core.GroupOption
		if c.Limit > 0 {
			opts = append(opts, core.WithLimit(c.Limit))
		}
		if c.AllErrors {
			opts = append(opts, core.WithAllErrors())
		}
		base := core.ReadStats()
		var parent *core.Scope
		var pctx context.Context = context.Background()
		if c.CancelParent {
			parent = core.NewScope(context.Background()) // a root: no counter counts it
			pctx = parent
			defer parent.Cancel(nil)
		}
		grp := core.NewGroup(pctx, opts...)
		o.calls, o.ends, o.accepted, o.submitting = map[int]int{}, map[int]int{}, map[int]bool{}, map[int]bool{}
		// submit calls f, a Go, TryGo or GoRange by goroutine g, marked as
		// inside a submission: a task must never run there (GROUP-OFF-CALLER).
		submit := func(g int, f func()) {
			o.submitting[g] = true
			defer delete(o.submitting, g)
			f()
		}
		next := 0
		var fn func(id int, t groupTask) func(context.Context) error
		fn = func(id int, t groupTask) func(context.Context) error {
			return func(ctx context.Context) error {
				me := sched.Self()
				switch {
				case me == nil:
					o.errorf("task %d runs on a goroutine outside the episode", id)
					return nil
				case o.submitting[me.ID()]:
					o.errorf("task %d runs inline, on g%d, inside the call that submits a task", id, me.ID())
				}
				if o.waited {
					o.errorf("task %d started after Wait returned", id)
				}
				// ctx.Err() first: it passes scheduling points, where a
				// task may panic (recording it before it cancels).
				if cancelled := ctx.Err() != nil; cancelled && c.AllErrors && c.CancelAt == 0 && len(o.panics) == 0 {
					o.errorf("task %d started with its group cancelled, under all-errors with no panic and no Cancel", id)
				}
				o.calls[id]++
				o.live++
				if ctx.Err() == nil && c.Limit > 0 && o.live > c.Limit {
					o.errorf("%d tasks run at once in a live group with limit %d", o.live, c.Limit)
				}
				o.maxLive = max(o.maxLive, o.live)
				defer func() {
					o.live--
					o.ends[id]++
					if o.waited {
						o.errorf("task %d ended after Wait returned", id)
					}
				}()
				for range t.Yields {
					me.Yield("task works")
				}
				if t.Spawn {
					cid := next
					next++
					if c.Limit == 0 {
						o.accepted[cid] = true
						submit(me.ID(), func() { grp.Go(fn(cid, groupTask{})) })
					} else {
						// With a limit, Go from a task that holds a slot
						// may wait for ever, as errgroup's does: TryGo.
						submit(me.ID(), func() { o.accepted[cid] = grp.TryGo(fn(cid, groupTask{})) })
					}
				}
				switch t.Outcome {
				case outErr:
					o.failures = append(o.failures, errTask(id))
					return errTask(id)
				case outPanic:
					o.panics = append(o.panics, id)
					panic(id)
				case outGoexit:
					o.failures = append(o.failures, core.ErrGoexit)
					runtime.Goexit()
				case outWaitCancel:
					// A condition must not block: the scope's Err and Done
					// take its lock, so read the channel got here.
					done := ctx.Done()
					me.Block("task waits for the cancellation", func() bool {
						select {
						case <-done:
							return true
						default:
							return false
						}
					})
					// The cancelled context's error is the task's own
					// failure, as a task that did not finish reports it.
					err := ctx.Err()
					o.failures = append(o.failures, err)
					return err
				}
				return nil
			}
		}
		if c.CancelAt > 0 {
			g.Go(func(cg *sched.G) {
				for range c.CancelAt {
					cg.Yield("canceller")
				}
				if parent != nil {
					parent.Cancel(errStop)
				} else {
					grp.Cancel(errStop)
				}
			})
		}
		for _, t := range c.Tasks {
			switch t.Via {
			case 1:
				id := next
				next++
				cancelled := grp.Scope().Err() != nil
				submit(g.ID(), func() { o.accepted[id] = grp.TryGo(fn(id, t)) })
				if cancelled && o.accepted[id] {
					o.errorf("TryGo of task %d on a cancelled group accepted it", id)
				}
			case 2:
				first := next
				next += t.RangeN
				for i := range t.RangeN {
					o.accepted[first+i] = true
				}
				submit(g.ID(), func() {
					grp.GoRange(t.RangeN, func(ctx context.Context, i int) error { return fn(first+i, t)(ctx) })
				})
			default:
				id := next
				next++
				o.accepted[id] = true
				submit(g.ID(), func() { grp.Go(fn(id, t)) })
			}
		}
		wait := func() (p any, err error) {
			defer func() { p = recover() }()
			return nil, grp.Wait()
		}
		o.waitPanic, o.waitErr = wait()
		o.waited = true
		for id := range next { // in id order: a verdict must not depend on map order
			switch {
			case o.accepted[id] && (o.calls[id] != 1 || o.ends[id] != 1):
				o.errorf("when Wait returned, task %d was called %d times and ended %d times, want 1 and 1", id, o.calls[id], o.ends[id])
			case !o.accepted[id] && o.calls[id] > 0:
				o.errorf("task %d, refused by TryGo, was called", id)
			}
		}
		p2, err2 := wait()
		if !sameOutcome(o.waitErr, o.waitPanic, err2, p2) {
			o.errorf("a second Wait returned (%s, panic %s), the first (%s, panic %s)", describe(err2), describe(p2), describe(o.waitErr), describe(o.waitPanic))
		}
		func() {
			defer func() {
				if recover() == nil {
					o.errorf("Go after Wait returned did not panic")
				}
			}()
			grp.Go(func(context.Context) error { return nil })
		}()
		c.checkResult(o, context.Cause(grp.Scope()))
		// Settled (the pool's workers idle out in virtual time), the
		// runtime's counters are back to their baseline (STATS-BASELINE).
		g.Quiesce("settle after Wait")
		// The differences alone: the process-wide counters' baseline is not
		// the episode's to print (a replay in another process has another).
		if st := core.ReadStats(); st.ParkedWaiters != base.ParkedWaiters || st.QueuedTasks != base.QueuedTasks ||
			st.LiveTasks != base.LiveTasks || st.LiveScopes != base.LiveScopes {
			o.errorf("settled after Wait, the runtime's counters are off their baseline by ParkedWaiters %+d, QueuedTasks %+d, LiveTasks %+d, LiveScopes %+d",
				st.ParkedWaiters-base.ParkedWaiters, st.QueuedTasks-base.QueuedTasks, st.LiveTasks-base.LiveTasks, st.LiveScopes-base.LiveScopes)
		}
	}
}

// describe prints an error or a panic value for a verdict: a *PanicError
// by its value alone, since its stack differs from run to run and a
// verdict must not.
func describe(v any) string {
	var pe *core.PanicError
	if err, ok := v.(error); ok && errors.As(err, &pe) {
		return fmt.Sprintf("*PanicError(%v)", pe.Value)
	}
	if pe, ok := v.(*core.PanicError); ok {
		return fmt.Sprintf("*PanicError(%v)", pe.Value)
	}
	return fmt.Sprint(v)
}

func sameOutcome(e1 error, p1 any, e2 error, p2 any) bool {
	if (p1 == nil) != (p2 == nil) {
		return false
	}
	if p1 != nil {
		a, ok1 := p1.(*core.PanicError)
		b, ok2 := p2.(*core.PanicError)
		return ok1 && ok2 && a.Value == b.Value
	}
	return e1 == e2 // the same error, not an equal one: a Wait must not join anew
}

// checkResult checks Wait's outcome against the model (the rules at the
// top of this file); cause is the group scope's cause.
func (c serialGroupCase) checkResult(o *groupObs, cause error) {
	if len(o.panics) > 0 {
		pe, ok := o.waitPanic.(*core.PanicError)
		switch {
		case !ok:
			o.errorf("Wait returned (%s, panic %s) after a task panicked, want a *PanicError panic", describe(o.waitErr), describe(o.waitPanic))
		case !containsAny(o.panics, pe.Value):
			o.errorf("Wait panicked with %v, which no task panicked with (%v)", pe.Value, o.panics)
		}
		return
	}
	if o.waitPanic != nil {
		o.errorf("Wait panicked with %s, but no task panicked", describe(o.waitPanic))
		return
	}
	if len(o.failures) == 0 {
		if o.waitErr != nil {
			o.errorf("Wait returned %s, but no task failed (a cancellation alone is no error)", describe(o.waitErr))
		}
		return
	}
	if c.AllErrors {
		want := map[string]int{}
		for _, f := range o.failures {
			want[f.Error()]++
		}
		got := map[string]int{}
		if o.waitErr != nil {
			for _, line := range strings.Split(o.waitErr.Error(), "\n") {
				got[line]++
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			o.errorf("with all-errors Wait returned %q, want the failures %v joined", describe(o.waitErr), o.failures)
		}
		return
	}
	if !containsErr(o.failures, o.waitErr) {
		o.errorf("Wait returned %s, not one of the failures %v", describe(o.waitErr), o.failures)
		return
	}
	if c.CancelAt == 0 && cause != o.waitErr && (cause == nil || o.waitErr == nil || cause.Error() != o.waitErr.Error()) {
		o.errorf("Wait returned %s, but the failure that cancelled the group (its cause) was %s", describe(o.waitErr), describe(cause))
	}
}

func containsAny(xs []any, v any) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func containsErr(xs []error, e error) bool {
	for _, x := range xs {
		if x == e || e != nil && x.Error() == e.Error() {
			return true
		}
	}
	return false
}

// groupVerdict is "" if the episode kept the rules.
func groupVerdict(res *sched.Result, o *groupObs) string {
	if res.Failure != nil {
		return res.Failure.Error()
	}
	return strings.Join(o.errs, "; ")
}

// groupOptions bounds a group episode: up to six submissions of up to 40
// items each, at about ten steps a task; the longest passing episode of 600
// (seed 5) took 2,905 steps.
var groupOptions = sched.Options{MaxSteps: 20000, Horizon: 1500} // PCT's horizon: about a typical episode's length

func (c serialGroupCase) program() (sched.Options, func() (func(*sched.G), func(*sched.Result) string)) {
	c = c.norm()
	return groupOptions, func() (func(*sched.G), func(*sched.Result) string) {
		o := &groupObs{}
		return c.body(o), func(res *sched.Result) string { return groupVerdict(res, o) }
	}
}

func runSerialGroup(r *chaos.Run, c serialGroupCase) (*sched.Result, string) {
	c = c.norm()
	strat, err := sched.ParseStrategy(c.Strategy)
	if err != nil {
		panic(err)
	}
	o := &groupObs{}
	res := r.Serialize(c.Seed, strat, groupOptions, c.body(o))
	return res, groupVerdict(res, o)
}

func replaySerialGroup(r *chaos.Run, c serialGroupCase, a *sched.Artifact) (*sched.Result, string) {
	c = c.norm()
	o := &groupObs{}
	res := r.ReplaySerial(a, groupOptions, c.body(o))
	return res, groupVerdict(res, o)
}
