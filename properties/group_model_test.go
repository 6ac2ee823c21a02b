package properties_test

// Property 5: Group semantics, model-based. gopter's commands drive a real
// Group (without a limit or WithLimit(1..4), with or without WithAllErrors)
// through Go of tasks that succeed, fail, panic, call runtime.Goexit or
// block until released; GoRange with a fault at any item; a Go blocked on a
// full limit when the group is cancelled; TryGo; Cancel; Wait; and Go after
// Wait, one command at a time. Each outcome is checked against a model of
// the rules in Group's documentation:
//
//   - every function passed to Go (and every GoRange item, and every TryGo
//     that returned true) is called exactly once, and Wait returns only
//     after all of them returned; a function submitted to a cancelled group
//     is called with the cancelled context;
//   - no call runs beyond the limit while the group is live, a Go blocked
//     for a slot is not left blocked by a cancellation, and GoRange never
//     deadlocks, whatever its items do;
//   - the first failure (error, panic or Goexit) cancels the group with
//     itself as the cause; with WithAllErrors only a panic does;
//   - TryGo fails while the limit is reached or the group is cancelled;
//   - Wait returns the first error (WithAllErrors: all of them), or nil,
//     and re-panics a task's panic as a *PanicError; Go after Wait panics.
//
// Every blocking step has a bound: a command whose calls do not all happen
// within it fails the property (it would otherwise hang the suite).

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"
	"github.com/nimsync/nimsync/core"
)

// settleBound is how long a command may take to settle (chaos plans sleep
// at markers, up to 2 ms a hit).
const settleBound = 3 * time.Second

// gModel is the model's state.
type gModel struct {
	limit      int   // 0: none
	all        bool  // WithAllErrors
	held       int   // tasks blocked until Release
	cancelled  bool  // the group's scope is cancelled
	cause      error // context.Cause of the scope, once cancelled (nil if a panic's)
	causePanic bool  // the cause is a task's *PanicError
	errs       []error
	panicked   bool
	waited     bool
	nextErrID  int
	prev       *gModel // the state before the last command (for PostCondition)
}

// gSUT is the system under test, and the record of every function it was
// given: calls[id] counts the calls of function id.
type gSUT struct {
	g         *core.Group
	release   chan struct{} // one receive per released held task
	limit     int
	allErrors bool

	// broken is set once a command failed: gopter runs the rest of the
	// sequence anyway, and they would only pile up behind the failure (a
	// deadlocked group blocks every later Go).
	broken bool

	mu    sync.Mutex
	calls []int
	early []string // calls that ran though the model said they must not yet, or saw the wrong context
}

// fault is what a generated task (or GoRange item) does.
type fault int

const (
	faultNone fault = iota
	faultError
	faultPanic
	faultGoexit
)

func (f fault) String() string { return [...]string{"ok", "error", "panic", "Goexit"}[f] }

// submit reserves n function ids and returns the first.
func (s *gSUT) submit(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := len(s.calls)
	s.calls = append(s.calls, make([]int, n)...)
	return id
}

// call records a call of function id; ctxDone is whether its context was
// already cancelled, wantDone whether the model requires it.
func (s *gSUT) call(id int, ctx context.Context, wantDone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[id]++
	if wantDone && ctx.Err() == nil {
		s.early = append(s.early, fmt.Sprintf("function %d, submitted to a cancelled group, was called with a live context", id))
	}
}

// calledOnce waits until functions [lo, hi) were each called and returns
// "" or what is wrong: a function called twice, or not called within the
// bound.
func (s *gSUT) calledOnce(lo, hi int, bound time.Duration) string {
	var why string
	waitUntil(bound, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		why = ""
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
		if len(s.early) > 0 {
			why = s.early[0]
			return true
		}
		return missing == 0
	})
	return why
}

// everyCallOnce reports a function submitted so far that was not called
// exactly once ("" if none).
func (s *gSUT) everyCallOnce() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.calls {
		if c != 1 {
			return fmt.Sprintf("function %d of %d submitted was called %d times when Wait returned, want exactly once", id, len(s.calls), c)
		}
	}
	return ""
}

// waitUntil polls cond until it holds or bound passes; it reports cond.
func waitUntil(bound time.Duration, cond func() bool) bool {
	for t0 := time.Now(); time.Since(t0) < bound; time.Sleep(20 * time.Microsecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// waitFor polls cond for up to the settle bound.
func waitFor(cond func() bool) bool { return waitUntil(settleBound, cond) }

// canGo is the precondition of a Go: it would not block (the held tasks
// leave a slot of the limit free) and Wait has not returned.
func canGo(st commands.State) bool {
	m := st.(*gModel)
	return !m.waited && (m.limit == 0 || m.held < m.limit || m.cancelled)
}

// body returns a task body that does f: an error (err), a panic (with
// err), runtime.Goexit, or nothing.
func body(f fault, err error) func() error {
	return func() error {
		switch f {
		case faultError:
			return err
		case faultPanic:
			panic(err)
		case faultGoexit:
			runtime.Goexit()
		}
		return nil
	}
}

// result is what a command observed: "" or what went wrong.
type result string

func check(res commands.Result) *gopter.PropResult {
	if r := res.(result); r != "" {
		return gopter.NewPropResult(false, string(r))
	}
	return gopter.NewPropResult(true, "")
}

func cloneModel(m *gModel) *gModel {
	c := *m
	c.errs = slices.Clone(m.errs)
	return &c
}

// failed updates the model for a task that failed with f: an error or
// Goexit is recorded (and cancels the group unless WithAllErrors); a panic
// always cancels it.
func (m *gModel) failed(f fault, err error) {
	switch f {
	case faultNone:
		return
	case faultGoexit:
		err = core.ErrGoexit
		fallthrough
	case faultError:
		m.errs = append(m.errs, err)
		if m.all {
			return
		}
		if !m.cancelled {
			m.cancelled, m.cause = true, err
		}
	case faultPanic:
		m.panicked = true
		if !m.cancelled {
			m.cancelled, m.causePanic = true, true
		}
	}
	m.held = 0 // held tasks see the cancellation and return
}

// goTask is Go of a task that does f (or blocks until Release, if held).
func goTask(id int, f fault, held bool) commands.Command {
	err := fmt.Errorf("task error %d", id)
	name := fmt.Sprintf("Go(%v %d)", f, id)
	if held {
		name = "Go(held)"
	}
	return &commands.ProtoCommand{
		Name: name,
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			cancelled := sut.g.Scope().Cancelled()
			fid := sut.submit(1)
			do := body(f, err)
			returned := make(chan struct{})
			go func() { // bounded: a Go that blocks with a free slot fails the property
				defer close(returned)
				sut.g.Go(func(ctx context.Context) error {
					sut.call(fid, ctx, cancelled)
					if held {
						select {
						case <-sut.release:
						case <-ctx.Done():
						}
					}
					return do()
				})
			}()
			select {
			case <-returned:
			case <-time.After(settleBound):
				return result(fmt.Sprintf("Go blocked for %v though the model has a slot of the limit (%d) free", settleBound, sut.limit))
			}
			if why := sut.calledOnce(fid, fid+1, settleBound); why != "" {
				return result(why)
			}
			if f != faultNone && (f == faultPanic || !sut.allErrors) {
				if !waitFor(sut.g.Scope().Cancelled) {
					return result(fmt.Sprintf("a task's %v did not cancel the group within %v", f, settleBound))
				}
			}
			return result("")
		},
		PreConditionFunc: canGo,
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			if held && !m.cancelled {
				m.held++
			}
			m.failed(f, err)
			return m
		},
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult { return check(res) },
	}
}

// goRange is GoRange(n) whose item at does f (at < 0: none does).
func goRange(id, n, at int, f fault) commands.Command {
	err := fmt.Errorf("item error %d", id)
	return &commands.ProtoCommand{
		Name: fmt.Sprintf("GoRange(%d, %v at %d)", n, f, at),
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			cancelled := sut.g.Scope().Cancelled()
			fid := sut.submit(n)
			do := body(f, err)
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				sut.g.GoRange(n, func(ctx context.Context, i int) error {
					sut.call(fid+i, ctx, cancelled)
					if i == at {
						return do()
					}
					return nil
				})
			}()
			why := sut.calledOnce(fid, fid+n, settleBound)
			select {
			case <-returned:
			case <-time.After(settleBound):
				why += fmt.Sprintf("; GoRange(%d) did not return within %v (limit %d): deadlock", n, settleBound, sut.limit)
			}
			return result(strings.TrimPrefix(why, "; "))
		},
		PreConditionFunc: canGo,
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			if at >= 0 {
				m.failed(f, err)
			}
			return m
		},
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult { return check(res) },
	}
}

var (
	cmdCancel = &commands.ProtoCommand{
		Name: "Cancel",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			s.(*gSUT).g.Cancel(errCancelled)
			return context.Cause(s.(*gSUT).g.Scope())
		},
		PreConditionFunc: func(st commands.State) bool { return !st.(*gModel).waited },
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			if !m.cancelled {
				m.cancelled, m.cause = true, errCancelled
			}
			m.held = 0 // held tasks return when they see the cancellation
			return m
		},
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			m := st.(*gModel)
			if m.causePanic {
				var pe *core.PanicError
				if err, _ := res.(error); !errors.As(err, &pe) {
					return gopter.NewPropResult(false, fmt.Sprintf("cause %v, want the task's *PanicError", res))
				}
			} else if res != m.cause {
				return gopter.NewPropResult(false, fmt.Sprintf("cause %v, want %v", res, m.cause))
			}
			return gopter.NewPropResult(true, "")
		},
	}
	// cmdGoBlockedThenCancel is Go on a full limit: it must not call its
	// function while the slots are held, and once the group is cancelled
	// it must neither stay blocked nor drop the function.
	cmdGoBlockedThenCancel = &commands.ProtoCommand{
		Name: "Go(blocked on the limit), Cancel",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			fid := sut.submit(1)
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				sut.g.Go(func(ctx context.Context) error { sut.call(fid, ctx, true); return nil })
			}()
			select {
			case <-returned:
				return result("Go returned while every slot of the limit was held")
			case <-time.After(2 * time.Millisecond):
			}
			sut.mu.Lock()
			early := sut.calls[fid]
			sut.mu.Unlock()
			sut.g.Cancel(errCancelled)
			if early != 0 {
				return result("a Go blocked on a full limit called its function while every slot was held")
			}
			if why := sut.calledOnce(fid, fid+1, settleBound); why != "" {
				return result(why + " (a Go blocked on the limit when the group was cancelled)")
			}
			select {
			case <-returned:
			case <-time.After(settleBound):
				return result("a Go blocked on the limit did not return after the group was cancelled")
			}
			return result("")
		},
		PreConditionFunc: func(st commands.State) bool {
			m := st.(*gModel)
			return !m.waited && !m.cancelled && m.limit > 0 && m.held == m.limit
		},
		NextStateFunc: func(st commands.State) commands.State { return cmdCancel.NextState(st) },
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult {
			return check(res)
		},
	}
	cmdRelease = &commands.ProtoCommand{
		Name: "Release",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			select {
			case s.(*gSUT).release <- struct{}{}:
				return result("")
			case <-time.After(settleBound):
				return result("no held task took the release")
			}
		},
		PreConditionFunc:  func(st commands.State) bool { m := st.(*gModel); return !m.waited && m.held > 0 && !m.cancelled },
		NextStateFunc:     func(st commands.State) commands.State { m := cloneModel(st.(*gModel)); m.held--; return m },
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult { return check(res) },
	}
	cmdWait = &commands.ProtoCommand{
		Name: "Wait",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			o, ok := waitBounded(sut.g, settleBound)
			if !ok {
				o.bad = fmt.Sprintf("Wait did not return within %v with no task blocked", settleBound)
			} else if o.bad == "" {
				o.bad = sut.everyCallOnce()
			}
			return o
		},
		PreConditionFunc: func(st commands.State) bool { m := st.(*gModel); return !m.waited && m.held == 0 },
		NextStateFunc:    func(st commands.State) commands.State { m := cloneModel(st.(*gModel)); m.waited = true; return m },
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			m, r := prevState(st), res.(waitOutcome)
			if r.bad != "" {
				return gopter.NewPropResult(false, r.bad)
			}
			switch {
			case m.panicked:
				if r.panic == nil {
					return gopter.NewPropResult(false, fmt.Sprintf("Wait returned %v, want a panic", r.err))
				}
			case r.panic != nil:
				return gopter.NewPropResult(false, fmt.Sprintf("Wait panicked with %v", r.panic))
			case m.all:
				if why := sameErrors(r.err, m.errs); why != "" {
					return gopter.NewPropResult(false, why)
				}
			case len(m.errs) > 0:
				if r.err != m.errs[0] {
					return gopter.NewPropResult(false, fmt.Sprintf("Wait = %v, want the first error %v", r.err, m.errs[0]))
				}
			case r.err != nil:
				return gopter.NewPropResult(false, fmt.Sprintf("Wait = %v, want nil", r.err))
			}
			return gopter.NewPropResult(true, "")
		},
	}
	cmdGoAfterWait = &commands.ProtoCommand{
		Name: "Go after Wait",
		RunFunc: func(s commands.SystemUnderTest) (res commands.Result) {
			defer func() { res = fmt.Sprint(recover()) }()
			s.(*gSUT).g.Go(func(context.Context) error { return nil })
			return "no panic"
		},
		PreConditionFunc: func(st commands.State) bool { return st.(*gModel).waited },
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			return gopter.NewPropResult(strings.Contains(res.(string), "after Wait"), "Go after Wait: "+res.(string))
		},
	}
)

// sameErrors compares Wait's joined error with the recorded errors, as
// multisets: WithAllErrors joins them in the order they were recorded,
// and a task's error is recorded a moment after it returned.
func sameErrors(got error, want []error) string {
	var list []error
	if j, ok := got.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else if got != nil {
		list = []error{got}
	}
	key := func(es []error) []string {
		var s []string
		for _, e := range es {
			s = append(s, e.Error())
		}
		slices.Sort(s)
		return s
	}
	if !slices.Equal(key(list), key(want)) {
		return fmt.Sprintf("Wait = %v, want all of %v", key(list), key(want))
	}
	return ""
}

var errCancelled = errors.New("cancelled by the model test")

// tryGoWants is the model's prediction for TryGo.
func tryGoWants(m *gModel) bool { return !m.cancelled && (m.limit == 0 || m.held < m.limit) }

// tryGo is TryGo of a held task, generated with the model's prediction: a
// slot freed by a Release frees a moment after the released task returned,
// so when the model predicts success, Run retries for a while.
func tryGo(want bool) commands.Command {
	return &commands.ProtoCommand{
		Name: fmt.Sprintf("TryGo(held, want %v)", want),
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			fid := sut.submit(1)
			task := func(ctx context.Context) error {
				sut.call(fid, ctx, false)
				select {
				case <-sut.release:
				case <-ctx.Done():
				}
				return nil
			}
			ok := sut.g.TryGo(task)
			for t0 := time.Now(); want && !ok && time.Since(t0) < settleBound; {
				time.Sleep(20 * time.Microsecond)
				ok = sut.g.TryGo(task)
			}
			if ok != want {
				return result(fmt.Sprintf("TryGo = %v, want %v", ok, want))
			}
			if !ok { // refused: the function is not the group's to call
				sut.mu.Lock()
				sut.calls[fid] = 1
				sut.mu.Unlock()
				return result("")
			}
			return result(sut.calledOnce(fid, fid+1, settleBound))
		},
		// The prediction must still hold in the state it runs in (shrinking
		// drops commands before it).
		PreConditionFunc: func(st commands.State) bool { m := st.(*gModel); return !m.waited && tryGoWants(m) == want },
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			if want {
				m.held++
			}
			return m
		},
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult { return check(res) },
	}
}

type waitOutcome struct {
	err   error
	panic any
	bad   string // a violation seen by Run
}

func waitResult(g *core.Group) (o waitOutcome) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(*core.PanicError); !ok {
				o.panic = fmt.Sprintf("not a *PanicError: %v", p)
				return
			}
			o.panic = p
		}
	}()
	return waitOutcome{err: g.Wait()}
}

// waitBounded is waitResult with a bound; ok is false if Wait did not
// return within it (its goroutine is then left blocked: the property fails).
func waitBounded(g *core.Group, bound time.Duration) (waitOutcome, bool) {
	ch := make(chan waitOutcome, 1)
	go func() { ch <- waitResult(g) }()
	select {
	case o := <-ch:
		return o, true
	case <-time.After(bound):
		return waitOutcome{}, false
	}
}

// prevState recovers the state before a command: gopter passes the state
// after NextState to PostCondition, so the model keeps the previous one.
func prevState(st commands.State) *gModel { return st.(*gModel).prev }

// genModel is the initial state: no limit or 1..4, and WithAllErrors in
// one group of four.
var genModel = gopter.CombineGens(gen.IntRange(0, 4), gen.IntRange(0, 3)).Map(func(v []any) *gModel {
	return &gModel{limit: v[0].(int), all: v[1].(int) == 0}
})

func groupCommands() *commands.ProtoCommands {
	return &commands.ProtoCommands{
		NewSystemUnderTestFunc: func(st commands.State) commands.SystemUnderTest {
			m := st.(*gModel)
			var opts []core.GroupOption
			if m.limit > 0 {
				opts = append(opts, core.WithLimit(m.limit))
			}
			if m.all {
				opts = append(opts, core.WithAllErrors())
			}
			return &gSUT{g: core.NewGroup(context.Background(), opts...), release: make(chan struct{}), limit: m.limit, allErrors: m.all}
		},
		DestroySystemUnderTestFunc: func(s commands.SystemUnderTest) {
			sut := s.(*gSUT)
			sut.g.Cancel(nil) // release held tasks
			waitBounded(sut.g, settleBound)
		},
		InitialStateGen: genModel,
		GenCommandFunc: func(st commands.State) gopter.Gen {
			m := st.(*gModel)
			id := m.nextErrID
			var choices []gen.WeightedGen
			add := func(w int, c commands.Command) {
				if c.PreCondition(m) { // only what applies: fewer discarded sequences
					choices = append(choices, gen.WeightedGen{Weight: w, Gen: gen.Const(withPrev(c))})
				}
			}
			add(5, goTask(id, faultNone, false))
			add(4, goTask(id, faultNone, true))
			add(4, cmdRelease)
			add(3, tryGo(tryGoWants(m)))
			add(2, goTask(id, faultError, false))
			add(1, goTask(id, faultPanic, false))
			add(1, goTask(id, faultGoexit, false))
			add(1, cmdCancel)
			add(2, cmdGoBlockedThenCancel)
			add(2, cmdWait)
			add(1, cmdGoAfterWait)
			if canGo(m) {
				// GoRange: up to 100 items (several chunks), a fault at any
				// item or none.
				g := gopter.CombineGens(gen.IntRange(1, 100), gen.IntRange(-1, 99), gen.IntRange(0, 3)).Map(func(v []any) commands.Command {
					n, at, f := v[0].(int), v[1].(int), fault(v[2].(int))
					if at >= n || f == faultNone {
						at = -1
					}
					return withPrev(goRange(id, n, at, f))
				})
				choices = append(choices, gen.WeightedGen{Weight: 4, Gen: g})
			}
			return gen.Weighted(choices)
		},
	}
}

// ran is a command's result with the system it ran on, so that a failed
// postcondition can mark the system broken.
type ran struct {
	res commands.Result
	sut *gSUT // nil: skipped, an earlier command failed
}

// withPrev wraps a command so that its next state remembers the state
// before it (for PostCondition), numbers errors apart, and skips the
// command once an earlier one of the sequence failed.
func withPrev(c commands.Command) commands.Command {
	p := c.(*commands.ProtoCommand)
	return &commands.ProtoCommand{
		Name: p.Name,
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			if sut.broken {
				return ran{}
			}
			return ran{p.Run(s), sut}
		},
		PreConditionFunc: p.PreConditionFunc,
		NextStateFunc: func(st commands.State) commands.State {
			before := st.(*gModel)
			next := cloneModel(p.NextState(before).(*gModel))
			next.prev = before
			next.nextErrID = before.nextErrID + 1
			return next
		},
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			r := res.(ran)
			if r.sut == nil {
				return gopter.NewPropResult(true, "")
			}
			pr := p.PostCondition(st, r.res)
			if !pr.Success() {
				r.sut.broken = true
			}
			return pr
		},
	}
}

func TestGroupModel(t *testing.T) {
	s := seed(t)
	startPlan(t, s)
	runs := 100
	if testing.Short() {
		runs = 30
	}
	deadline := time.Now().Add(budget(t))
	for i := uint64(0); i == 0 || time.Now().Before(deadline); i++ {
		checkProps(t, s+i, runs, func(ps *gopter.Properties) {
			ps.Property("Group follows its model", commands.Prop(groupCommands()))
		})
	}
}
