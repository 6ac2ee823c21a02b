package properties_test

// Property 5: Group semantics, model-based. gopter's commands drive a real
// Group, ResultGroup[int] or Run's group (without a limit or WithLimit(1..4),
// with or without WithAllErrors) through Go of tasks that succeed, fail,
// panic, call runtime.Goexit or block until released; GoRange with a fault
// at any item; a Go blocked on a full limit when the group is cancelled;
// TryGo; Cancel; Wait (for Run: the body returns nil or an error), Wait
// while a task submits more tasks, Wait again, and Go after Wait, one
// command at a time (group_cmds_test.go holds the commands,
// group_sut_test.go the system under test). Each
// outcome is checked against a model of the rules in the documentation of
// Group, ResultGroup and Run:
//
//   - every function passed to Go (and every GoRange item, and every TryGo
//     that returned true) is called exactly once, never on the goroutine
//     that called Go, and Wait returns only after all of them returned,
//     those that tasks submitted while Wait waited included; a function
//     submitted to a cancelled group is called with the cancelled context;
//   - no call runs beyond the limit while the group is live, a Go blocked
//     for a slot is not left blocked by a cancellation, and GoRange never
//     deadlocks, whatever its items do;
//   - the first failure (error, panic, Goexit, Run's body's error) cancels
//     the group with itself as the cause; with WithAllErrors only a panic
//     does;
//   - TryGo fails while the limit is reached or the group is cancelled;
//   - Wait returns the first error (WithAllErrors: all of them), or nil, and
//     re-panics a task's panic as a *PanicError; every later Wait returns the
//     same; ResultGroup's Wait returns each task's value in submission
//     order (the zero value for a panic or Goexit); Go after Wait panics.
//
// Every blocking step has a bound: a command whose calls do not all happen
// within it fails the property (it would otherwise hang the suite).

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"
	"github.com/nimsync/nimsync/core"
)

// settleBound is how long a command of the group and scope models may take
// to settle (chaos plans sleep at markers, up to 2 ms a hit). The self-test
// shortens it, as it does episodeDeadline: what did not happen shows only
// at this bound, and it waits it out for every catch and replay.
var settleBound = 3 * time.Second

// gModel is the model's state.
type gModel struct {
	kind       groupKind
	limit      int   // 0: none
	all        bool  // WithAllErrors
	held       int   // tasks blocked until Release
	cancelled  bool  // the group's scope is cancelled
	cause      error // context.Cause of the scope, once cancelled (nil if a panic's)
	causePanic bool  // the cause is a task's *PanicError
	errs       []error
	firstFixed bool // errs[0] is the first error recorded for certain (see failed)
	panicked   bool
	// bodyPanicked: Run's body panicked; Run re-panicked its value, and a
	// later Wait of its group reports the group's own result instead.
	bodyPanicked bool
	results      []int // ResultGroup: the value of each slot, in submission order
	waited       bool
	nextErrID    int
	prev         *gModel // the state before the last command (for PostCondition)
}

func (m *gModel) String() string {
	return fmt.Sprintf("%v(limit %d, all errors %v)", m.kind, m.limit, m.all)
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

// canGo is the precondition of a Go: it would not block (the held tasks
// leave a slot of the limit free) and Wait has not returned.
func canGo(st commands.State) bool {
	m := st.(*gModel)
	return !m.waited && (m.limit == 0 || m.held < m.limit || m.cancelled)
}

// do returns a task body that does f: returns v with an error (err),
// panics (with err), calls runtime.Goexit, or returns v.
func do(f fault, v int, err error) func() (int, error) {
	return func() (int, error) {
		switch f {
		case faultError:
			return v, err
		case faultPanic:
			panic(err)
		case faultGoexit:
			runtime.Goexit()
		}
		return v, nil
	}
}

// valueOf is what ResultGroup's Wait reports for a task that does f and
// returns v: the zero value if it panics or calls Goexit.
func valueOf(f fault, v int) int {
	if f == faultPanic || f == faultGoexit {
		return 0
	}
	return v
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
	c.results = slices.Clone(m.results)
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
		// A failure is recorded a moment after its task returned. One
		// that cancels the group is seen recorded (the command waits for
		// the cancellation), so it is certainly first; one recorded while
		// the group is already cancelled cannot be seen, and may be
		// recorded after a later command's failure.
		if len(m.errs) == 0 {
			m.firstFixed = !m.cancelled && !m.all
		}
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

// prevState recovers the state before a command: gopter passes the state
// after NextState to PostCondition, so the model keeps the previous one.
func prevState(st commands.State) *gModel { return st.(*gModel).prev }

// genModel is the initial state: a Group, a ResultGroup or Run's group; no
// limit or 1..4; WithAllErrors in one run of four.
var genModel = gopter.CombineGens(gen.IntRange(0, 2), gen.IntRange(0, 4), gen.IntRange(0, 3)).Map(func(v []any) *gModel {
	return &gModel{kind: groupKind(v[0].(int)), limit: v[1].(int), all: v[2].(int) == 0}
})

func groupCommands() *commands.ProtoCommands {
	return &commands.ProtoCommands{
		NewSystemUnderTestFunc:     func(st commands.State) commands.SystemUnderTest { return newSUT(st.(*gModel)) },
		DestroySystemUnderTestFunc: func(s commands.SystemUnderTest) { s.(*gSUT).destroy() },
		InitialStateGen:            genModel,
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
			add(3, tryGo(id, tryGoWants(m)))
			add(2, goTask(id, faultError, false))
			add(1, goTask(id, faultPanic, false))
			add(1, goTask(id, faultGoexit, false))
			add(1, cmdCancel)
			add(2, cmdGoBlockedThenCancel)
			add(2, waitCmd(id, bodyReturns, 0))
			add(1, waitCmd(id, bodyFails, 0))
			add(1, waitCmd(id, bodyPanics, 0))
			add(1, waitCmd(id, bodyReturns, 1+id%8))
			add(1, cmdWaitAgain)
			add(1, cmdGoAfterWait)
			if canGo(m) && m.kind != kindResult {
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
// command once an earlier one of the sequence failed, or when it belongs
// to a shrink candidate past the shrink budget (skipShrink): gopter runs
// every command of a sequence and shrinks at least once, and a broken
// group's commands each wait out their bounds.
func withPrev(c commands.Command) commands.Command {
	p := c.(*commands.ProtoCommand)
	return &commands.ProtoCommand{
		Name: p.Name,
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			if sut.broken || skipShrink() {
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
				noteFailure(pr)
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
