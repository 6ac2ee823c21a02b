package properties_test

// Property 5: Group semantics, model-based. gopter's commands drive a real
// Group (with or without a limit) through Go of tasks that succeed, fail,
// panic or block until released, TryGo, Cancel, Wait and Go after Wait, one
// command at a time, and check each outcome against a model of the rules in
// Group's documentation: a task submitted after cancellation never runs;
// the first failure cancels the group with itself as the cause; TryGo fails
// while the limit is reached or the group is cancelled; Wait returns the
// first error, else the cause of a cancellation that skipped tasks, else
// nil, and re-panics a task's panic as a *PanicError; Go after Wait panics.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"
	"github.com/nimsync/nimsync/core"
)

// gModel is the model's state.
type gModel struct {
	limit      int   // 0: none
	held       int   // tasks blocked until Release
	cancelled  bool  // the group's scope is cancelled
	cause      error // context.Cause of the scope, once cancelled (nil if a panic's)
	causePanic bool  // the cause is a task's *PanicError
	firstErr   error // what Wait will return, if no panic
	panicked   bool
	skipped    bool // a task was not run because of cancellation
	waited     bool
	nextErrID  int
	prev       *gModel // the state before the last command (for PostCondition)
}

// gSUT is the system under test.
type gSUT struct {
	g       *core.Group
	release chan struct{} // one receive per released held task
}

// canGo is the precondition of a Go: it would not block (the held tasks
// leave a slot of the limit free) and Wait has not returned.
func canGo(st commands.State) bool {
	m := st.(*gModel)
	return !m.waited && (m.limit == 0 || m.held < m.limit)
}

// heldTask returns a task that closes started (if not nil) and then blocks
// until a Release or the group's cancellation.
func heldTask(sut *gSUT, started chan struct{}) func(context.Context) error {
	return func(ctx context.Context) error {
		if started != nil {
			close(started)
		}
		select {
		case <-sut.release:
		case <-ctx.Done():
		}
		return nil
	}
}

func cloneModel(m *gModel) *gModel {
	c := *m
	return &c
}

// waitFor polls cond for up to two seconds (chaos plans sleep at markers).
func waitFor(cond func() bool) bool {
	for t0 := time.Now(); time.Since(t0) < 2*time.Second; time.Sleep(20 * time.Microsecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// submitAndSettle runs fn in the group and waits until it has run (and, if
// it fails, until the group is cancelled) or, if the group is cancelled, at
// once. It reports whether fn ran.
func submitAndSettle(s *gSUT, fn func(context.Context) error, fails bool) bool {
	ran := make(chan struct{})
	cancelledBefore := s.g.Scope().Cancelled()
	s.g.Go(func(ctx context.Context) error {
		close(ran)
		return fn(ctx)
	})
	if cancelledBefore {
		select {
		case <-ran:
			return true // a violation: the model says it must not run
		case <-time.After(10 * time.Millisecond):
			return false
		}
	}
	select {
	case <-ran:
	case <-time.After(2 * time.Second):
		return false
	}
	if fails {
		waitFor(s.g.Scope().Cancelled)
	}
	return true
}

func expectRan(st commands.State, res commands.Result) *gopter.PropResult {
	m := st.(*gModel) // the state before the command
	if ran := res.(bool); ran == m.cancelled {
		return gopter.NewPropResult(false, fmt.Sprintf("task ran=%v, but the group was cancelled=%v", ran, m.cancelled))
	}
	return gopter.NewPropResult(true, "")
}

var (
	cmdGoOK = &commands.ProtoCommand{
		Name: "Go(ok)",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			return submitAndSettle(s.(*gSUT), func(context.Context) error { return nil }, false)
		},
		PreConditionFunc: canGo,
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			m.skipped = m.skipped || m.cancelled
			return m
		},
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult { return expectRan(prevState(st), res) },
	}
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
	cmdGoHeld = &commands.ProtoCommand{
		Name: "Go(held)",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			return submitAndSettle(sut, heldTask(sut, nil), false)
		},
		PreConditionFunc: canGo,
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			if m.cancelled {
				m.skipped = true
			} else {
				m.held++
			}
			return m
		},
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult { return expectRan(prevState(st), res) },
	}
	cmdRelease = &commands.ProtoCommand{
		Name: "Release",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			s.(*gSUT).release <- struct{}{}
			return nil
		},
		PreConditionFunc: func(st commands.State) bool { m := st.(*gModel); return !m.waited && m.held > 0 && !m.cancelled },
		NextStateFunc:    func(st commands.State) commands.State { m := cloneModel(st.(*gModel)); m.held--; return m },
	}
	cmdWait = &commands.ProtoCommand{
		Name: "Wait",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			return waitResult(s.(*gSUT).g)
		},
		PreConditionFunc: func(st commands.State) bool { m := st.(*gModel); return !m.waited && m.held == 0 },
		NextStateFunc:    func(st commands.State) commands.State { m := cloneModel(st.(*gModel)); m.waited = true; return m },
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			m, r := prevState(st), res.(waitOutcome)
			switch {
			case m.panicked:
				if r.panic == nil {
					return gopter.NewPropResult(false, fmt.Sprintf("Wait returned %v, want a panic", r.err))
				}
			case r.panic != nil:
				return gopter.NewPropResult(false, fmt.Sprintf("Wait panicked with %v", r.panic))
			case m.firstErr != nil:
				if r.err != m.firstErr {
					return gopter.NewPropResult(false, fmt.Sprintf("Wait = %v, want the first error %v", r.err, m.firstErr))
				}
			case m.skipped:
				if r.err != m.cause {
					return gopter.NewPropResult(false, fmt.Sprintf("Wait = %v, want the cause of the cancellation %v", r.err, m.cause))
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
			started := make(chan struct{})
			task := heldTask(sut, started)
			ok := sut.g.TryGo(task)
			for t0 := time.Now(); want && !ok && time.Since(t0) < 2*time.Second; {
				time.Sleep(20 * time.Microsecond)
				ok = sut.g.TryGo(task)
			}
			if ok { // settle: the task runs before the next command, as with Go
				select {
				case <-started:
				case <-time.After(2 * time.Second):
				}
			}
			return ok
		},
		// The prediction must still hold in the state it runs in (shrinking
		// drops commands before it).
		PreConditionFunc: func(st commands.State) bool { m := st.(*gModel); return !m.waited && tryGoWants(m) == want },
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			switch {
			case m.cancelled:
				m.skipped = true
			case want:
				m.held++
			}
			return m
		},
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			if res.(bool) != want {
				m := prevState(st)
				return gopter.NewPropResult(false, fmt.Sprintf("TryGo = %v, want %v (limit %d, held %d, cancelled %v)", res, want, m.limit, m.held, m.cancelled))
			}
			return gopter.NewPropResult(true, "")
		},
	}
}

// failing returns the commands Go(error #id) and Go(panic #id).
func failing(id int, panics bool) commands.Command {
	name := fmt.Sprintf("Go(error %d)", id)
	if panics {
		name = fmt.Sprintf("Go(panic %d)", id)
	}
	err := fmt.Errorf("task error %d", id)
	return &commands.ProtoCommand{
		Name: name,
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			return submitAndSettle(s.(*gSUT), func(context.Context) error {
				if panics {
					panic(err)
				}
				return err
			}, true)
		},
		PreConditionFunc: canGo,
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			if m.cancelled {
				m.skipped = true
				return m
			}
			if panics {
				m.panicked = true
			} else if m.firstErr == nil {
				m.firstErr = err
			}
			m.cancelled = true
			if m.cause == nil && !m.causePanic {
				if panics {
					m.causePanic = true // the cause is the task's *PanicError
				} else {
					m.cause = err
				}
			}
			m.held = 0 // held tasks see the cancellation and return
			return m
		},
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult { return expectRan(prevState(st), res) },
	}
}

type waitOutcome struct {
	err   error
	panic any
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

// prevState recovers the state before a command: gopter passes the state
// after NextState to PostCondition, so the model keeps the previous one.
func prevState(st commands.State) *gModel { return st.(*gModel).prev }

func groupCommands() *commands.ProtoCommands {
	return &commands.ProtoCommands{
		NewSystemUnderTestFunc: func(st commands.State) commands.SystemUnderTest {
			m := st.(*gModel)
			var opts []core.GroupOption
			if m.limit > 0 {
				opts = append(opts, core.WithLimit(m.limit))
			}
			return &gSUT{g: core.NewGroup(context.Background(), opts...), release: make(chan struct{})}
		},
		DestroySystemUnderTestFunc: func(s commands.SystemUnderTest) {
			sut := s.(*gSUT)
			sut.g.Cancel(nil) // release held tasks
			waitResult(sut.g)
		},
		InitialStateGen: gen.IntRange(0, 3).Map(func(limit int) *gModel { return &gModel{limit: limit} }),
		GenCommandFunc: func(st commands.State) gopter.Gen {
			m := st.(*gModel)
			var choices []gen.WeightedGen
			for _, c := range []struct {
				w   int
				cmd commands.Command
			}{
				{5, cmdGoOK}, {4, cmdGoHeld}, {4, cmdRelease}, {3, tryGo(tryGoWants(m))},
				{2, failing(m.nextErrID, false)}, {1, failing(m.nextErrID+100, true)},
				{1, cmdCancel}, {2, cmdWait}, {1, cmdGoAfterWait},
			} {
				if c.cmd.PreCondition(m) { // only what applies: fewer discarded sequences
					choices = append(choices, gen.WeightedGen{Weight: c.w, Gen: gen.Const(withPrev(c.cmd))})
				}
			}
			return gen.Weighted(choices)
		},
	}
}

// withPrev wraps a command so that its next state remembers the state
// before it (for PostCondition) and numbers errors apart.
func withPrev(c commands.Command) commands.Command {
	p := c.(*commands.ProtoCommand)
	return &commands.ProtoCommand{
		Name:             p.Name,
		RunFunc:          p.RunFunc,
		PreConditionFunc: p.PreConditionFunc,
		NextStateFunc: func(st commands.State) commands.State {
			before := st.(*gModel)
			next := p.NextState(before).(*gModel)
			if next == before {
				next = cloneModel(before)
			}
			next.prev = before
			next.nextErrID = before.nextErrID + 1
			return next
		},
		PostConditionFunc: p.PostConditionFunc,
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
