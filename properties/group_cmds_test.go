package properties_test

// The commands of the group model test (group_model_test.go): Go of a task
// that succeeds, fails, panics, calls runtime.Goexit or is held; GoRange;
// Release; TryGo; Cancel; a Go blocked for a slot when the group is
// cancelled; Wait (with tasks submitted while it waits), Wait again, and Go
// after Wait. Each runs its calls on the system under test
// (group_sut_test.go), bounded, and checks what they returned against the
// model.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/stacks"
)

// goTask is Go of a task that does f (or blocks until Release, if held).
func goTask(id int, f fault, held bool) commands.Command {
	err := fmt.Errorf("task error %d", id)
	name := fmt.Sprintf("Go(%v %d)", f, id)
	if held {
		name = "Go(held)"
	}
	v := id + 1
	return &commands.ProtoCommand{
		Name: name,
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			cancelled := sut.scope().Cancelled()
			fid := sut.submit(1)
			body := do(f, v, err)
			returned := sut.async(func() { // bounded: a Go that blocks with a free slot fails the property
				sut.goFn(sut.task(fid, cancelled, goid(), func(ctx context.Context) (int, error) {
					if held {
						select {
						case <-sut.release:
						case <-ctx.Done():
						}
					}
					return body()
				}))
			})
			select {
			case <-returned:
			case <-time.After(settleBound):
				return result(fmt.Sprintf("Go blocked for %v though the model has a slot of the limit (%d) free", settleBound, sut.limit))
			}
			if why := sut.calledOnce(fid, fid+1, settleBound); why != "" {
				return result(why)
			}
			if f != faultNone && (f == faultPanic || !sut.allErrors) {
				if !waitUntil(settleBound, sut.scope().Cancelled) {
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
			m.results = append(m.results, valueOf(f, v))
			m.failed(f, err)
			return m
		},
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult { return check(res) },
	}
}

// goRange is GoRange(n) whose item at does f (at < 0: none does). Only
// Group has GoRange (Run's body gets a Group too).
func goRange(id, n, at int, f fault) commands.Command {
	err := fmt.Errorf("item error %d", id)
	return &commands.ProtoCommand{
		Name: fmt.Sprintf("GoRange(%d, %v at %d)", n, f, at),
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			cancelled := sut.scope().Cancelled()
			fid := sut.submit(n)
			body := do(f, 0, err)
			returned := sut.async(func() {
				sut.g.GoRange(n, func(ctx context.Context, i int) error {
					_, err := sut.task(fid+i, cancelled, 0, func(context.Context) (int, error) {
						if i == at {
							return body()
						}
						return 0, nil
					})(ctx)
					return err
				})
			})
			// The bound grows with the items: with chunks of one item (a
			// chaos plan's tuning), a limit of 1 and sleeps at markers,
			// they run one after another. One bound for both waits:
			// GoRange must return within it too, and a deadlock is not
			// waited out twice.
			bound := settleBound + time.Duration(n)*20*time.Millisecond
			deadline := time.Now().Add(bound)
			why := sut.calledOnce(fid, fid+n, bound)
			select {
			case <-returned:
			case <-time.After(time.Until(deadline)):
				why += fmt.Sprintf("; GoRange(%d) did not return within %v (limit %d): deadlock", n, bound, sut.limit)
			}
			// The failure is recorded a moment after the item returned
			// (a panic or Goexit when it unwinds): settle, as Go does.
			if why == "" && at >= 0 && (f == faultPanic || !sut.allErrors) && !waitUntil(settleBound, sut.scope().Cancelled) {
				why = fmt.Sprintf("item %d's %v did not cancel the group within %v", at, f, settleBound)
			}
			return result(strings.TrimPrefix(why, "; "))
		},
		PreConditionFunc: func(st commands.State) bool { return canGo(st) && st.(*gModel).kind != kindResult },
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

func cancelNext(st commands.State) commands.State {
	m := cloneModel(st.(*gModel))
	if !m.cancelled {
		m.cancelled, m.cause = true, errCancelled
	}
	m.held = 0 // held tasks return when they see the cancellation
	return m
}

var (
	cmdCancel = &commands.ProtoCommand{
		Name: "Cancel",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			s.(*gSUT).cancel(errCancelled)
			return context.Cause(s.(*gSUT).scope())
		},
		PreConditionFunc: func(st commands.State) bool { return !st.(*gModel).waited },
		NextStateFunc:    cancelNext,
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
			returned := sut.async(func() {
				sut.goFn(sut.task(fid, true, goid(), func(context.Context) (int, error) { return 7, nil }))
			})
			// Wait until the Go is blocked in the limit's acquire (or has
			// returned, which is a violation), bounded.
			if !waitUntil(settleBound, func() bool {
				select {
				case <-returned:
					return true
				default:
					return strings.Contains(allStacks(), "core.(*Group).acquire")
				}
			}) {
				return result(fmt.Sprintf("a Go on a full limit neither blocked nor returned within %v", settleBound))
			}
			select {
			case <-returned:
				return result("Go returned while every slot of the limit was held")
			default:
			}
			sut.mu.Lock()
			early := sut.calls[fid]
			sut.mu.Unlock()
			sut.cancel(errCancelled)
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
		NextStateFunc: func(st commands.State) commands.State {
			m := cancelNext(st).(*gModel)
			m.results = append(m.results, 7)
			return m
		},
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult { return check(res) },
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
	// cmdWaitAgain: every Wait returns what the first returned.
	cmdWaitAgain = &commands.ProtoCommand{
		Name: "Wait again",
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			o, ok := sut.waitAgain(settleBound)
			switch {
			case !ok:
				return result("a second Wait did not return")
			case !o.same(*sut.first):
				return result(fmt.Sprintf("a second Wait returned %v %v (panic %v), the first %v %v (panic %v)",
					o.vals, o.err, o.panic != nil, sut.first.vals, sut.first.err, sut.first.panic != nil))
			}
			return result("")
		},
		PreConditionFunc:  func(st commands.State) bool { m := st.(*gModel); return m.waited && !m.bodyPanicked },
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult { return check(res) },
	}
	cmdGoAfterWait = &commands.ProtoCommand{
		Name: "Go after Wait",
		RunFunc: func(s commands.SystemUnderTest) (res commands.Result) {
			defer func() { res = fmt.Sprint(recover()) }()
			s.(*gSUT).goFn(func(context.Context) (int, error) { return 0, nil })
			return "no panic"
		},
		PreConditionFunc: func(st commands.State) bool { return st.(*gModel).waited },
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			return gopter.NewPropResult(strings.Contains(res.(string), "after Wait"), "Go after Wait: "+res.(string))
		},
	}
)

// bodyEnd is how Run's body ends at Wait.
type bodyEnd int

const (
	bodyReturns bodyEnd = iota // returns nil
	bodyFails                  // returns an error: the group fails as with a task's error
	bodyPanics                 // panics: Run cancels the group, waits for its tasks and re-panics the body's value
)

// bodyPanic is what the body sends itself to panic with (group_sut_test.go).
type bodyPanic struct{ v string }

func (b bodyPanic) Error() string { return b.v }

// waitCmd is Wait; for Run, the body ends as end says. With spawn > 0 a
// task is submitted first that, once Wait is waiting (or about to),
// submits spawn more tasks with Go: Wait must wait for them too.
func waitCmd(id int, end bodyEnd, spawn int) commands.Command {
	bodyErr := fmt.Errorf("body error %d", id)
	panicValue := fmt.Sprintf("body panic %d", id)
	name := "Wait"
	switch {
	case end == bodyFails:
		name = "Wait(body fails)"
	case end == bodyPanics:
		name = "Wait(body panics)"
	case spawn > 0:
		name = fmt.Sprintf("Go(spawns %d), Wait", spawn)
	}
	return &commands.ProtoCommand{
		Name: name,
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			var err error
			switch end {
			case bodyFails:
				err = bodyErr
			case bodyPanics:
				err = bodyPanic{panicValue}
			}
			if spawn > 0 {
				cancelled := sut.scope().Cancelled()
				fid := sut.submit(1 + spawn)
				// Waits parked before this one: those of groups that an
				// earlier failed run left behind.
				parked, bound := stacks.ParkedIn("core.(*Group).wait"), settleBound // read here: the self-test sets settleBound
				sut.goFn(sut.task(fid, cancelled, 0, func(context.Context) (int, error) {
					// Let Wait start waiting: one command in four spawns
					// while Wait spins (or is about to be called), the
					// others once it has parked. Wait parks, since this
					// task is pending; the bound is for a broken Wait,
					// whose outcome the command checks.
					for range 3 {
						runtime.Gosched()
					}
					if id%4 != 0 {
						waitUntil(bound, func() bool { return stacks.ParkedIn("core.(*Group).wait") > parked })
					}
					for k := 1; k <= spawn; k++ {
						sut.goFn(sut.task(fid+k, cancelled, 0, func(context.Context) (int, error) { return spawnValue(id, k), nil }))
					}
					return spawnValue(id, 0), nil
				}))
			}
			o, ok := sut.wait(err, settleBound)
			if !ok {
				o.bad = fmt.Sprintf("Wait did not return within %v with no task blocked", settleBound)
			} else if o.bad == "" {
				o.bad = sut.everyCallOnce()
			}
			if o.bad == "" { // quiescent: every task ended, nothing queued or parked
				if err := settle(sut.base); err != nil {
					o.bad = "after Wait: " + err.Error()
				}
			}
			return o
		},
		PreConditionFunc: func(st commands.State) bool {
			m := st.(*gModel)
			if m.waited || m.held > 0 || end != bodyReturns && m.kind != kindRun {
				return false
			}
			// A task blocked in Go for the only slot, which it holds
			// itself, would wait forever (errgroup's rule too).
			return spawn == 0 || m.limit != 1 || m.cancelled
		},
		NextStateFunc: func(st commands.State) commands.State {
			m := cloneModel(st.(*gModel))
			switch end {
			case bodyFails:
				m.failed(faultError, bodyErr)
			case bodyPanics:
				m.bodyPanicked, m.cancelled, m.held = true, true, 0
			}
			if spawn > 0 {
				for k := 0; k <= spawn; k++ {
					m.results = append(m.results, spawnValue(id, k))
				}
			}
			m.waited = true
			return m
		},
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			m, r := prevState(st), res.(waitOutcome)
			if r.bad != "" {
				return gopter.NewPropResult(false, r.bad)
			}
			want := st.(*gModel) // after the command: its failures and results count
			_, isPE := r.panic.(*core.PanicError)
			switch {
			case end == bodyPanics:
				if r.panic != panicValue {
					return gopter.NewPropResult(false, fmt.Sprintf("Run returned %v and panicked with %v, want the body's panic %q", r.err, r.panic, panicValue))
				}
			case want.panicked:
				if !isPE {
					return gopter.NewPropResult(false, fmt.Sprintf("Wait returned %v and panicked with %v, want a *core.PanicError", r.err, r.panic))
				}
			case r.panic != nil:
				return gopter.NewPropResult(false, fmt.Sprintf("Wait panicked with %v", r.panic))
			case m.all:
				if why := sameErrors(r.err, want.errs); why != "" {
					return gopter.NewPropResult(false, why)
				}
			case len(want.errs) > 0:
				if want.firstFixed && r.err != want.errs[0] {
					return gopter.NewPropResult(false, fmt.Sprintf("Wait = %v, want the first error %v", r.err, want.errs[0]))
				}
				if !slices.Contains(want.errs, r.err) {
					return gopter.NewPropResult(false, fmt.Sprintf("Wait = %v, want one of the errors recorded %v (the group was cancelled before the first)", r.err, want.errs))
				}
			case r.err != nil:
				return gopter.NewPropResult(false, fmt.Sprintf("Wait = %v, want nil", r.err))
			}
			if m.kind == kindResult && r.panic == nil && !slices.Equal(r.vals, want.results) {
				return gopter.NewPropResult(false, fmt.Sprintf("ResultGroup.Wait values %v, want %v (submission order)", r.vals, want.results))
			}
			return gopter.NewPropResult(true, "")
		},
	}
}

// spawnValue is the value of the spawning task (k = 0) of command id and
// of the k-th task it submits.
func spawnValue(id, k int) int { return 1000*(id+1) + k }

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
func tryGo(id int, want bool) commands.Command {
	v := id + 1
	return &commands.ProtoCommand{
		Name: fmt.Sprintf("TryGo(held, want %v)", want),
		RunFunc: func(s commands.SystemUnderTest) commands.Result {
			sut := s.(*gSUT)
			fid := sut.submit(1)
			task := sut.task(fid, false, 0, func(ctx context.Context) (int, error) {
				select {
				case <-sut.release:
				case <-ctx.Done():
				}
				return v, nil
			})
			ok := sut.tryGo(task)
			if want && !ok {
				ok = waitUntil(settleBound, func() bool { return sut.tryGo(task) })
			}
			if ok != want {
				return result(fmt.Sprintf("TryGo = %v, want %v", ok, want))
			}
			if !ok { // refused: the function is not the group's to call
				sut.mu.Lock()
				sut.calls[fid], sut.ends[fid] = 1, 1
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
				m.results = append(m.results, v)
			}
			return m
		},
		PostConditionFunc: func(_ commands.State, res commands.Result) *gopter.PropResult { return check(res) },
	}
}
