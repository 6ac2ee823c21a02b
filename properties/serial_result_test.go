package properties_test

// Property 13, ResultGroup and Run under the serialized mode (issue 14): a
// generated episode submits a few tasks, each returning its own value or
// failing after a few scheduling points, to a ResultGroup (with Go, or with
// TryGo under a limit of one, so that some are refused), or to the group
// that Run hands its body, whose body may fail too. What must hold,
// whatever the schedule:
//
//   - ResultGroup's Wait returns one value per Go and per accepted TryGo,
//     in submission order: each what its task returned; a refused TryGo
//     reserves nothing (RESULT-ORDER).
//   - Run returns only once every task returned, and its error is nil if
//     neither the body nor a task failed, else one of their errors: an
//     error of the body fails the group as a task's would (RUN-NURSERY).
//   - Every accepted task is called exactly once (GROUP-CALL-ONCE), and the
//     episode ends: no deadlock, no livelock.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/sched"
)

// resultTask is one generated task.
type resultTask struct {
	TryGo  bool `json:"try_go"` // ResultGroup only: submitted with TryGo
	Fail   bool `json:"fail"`   // returns its value with an error
	Yields int  `json:"yields"` // scheduling points inside the task, 0..3
}

// serialResultCase is one generated episode. It is JSON in a failure
// artifact.
type serialResultCase struct {
	Run        bool         `json:"run"`   // core.Run's nursery, else a ResultGroup
	Limit      int          `json:"limit"` // 0 or 1
	Tasks      []resultTask `json:"tasks"`
	BodyFails  bool         `json:"body_fails"`  // Run: the body returns an error
	BodyYields int          `json:"body_yields"` // Run: scheduling points before the body returns, 0..3
	Strategy   string       `json:"strategy"`
	Seed       uint64       `json:"seed"`
}

func (c serialResultCase) String() string {
	var b strings.Builder
	if c.Run {
		fmt.Fprintf(&b, "Run (body fails %v after %d yields), limit %d:", c.BodyFails, c.BodyYields, c.Limit)
	} else {
		fmt.Fprintf(&b, "ResultGroup, limit %d:", c.Limit)
	}
	for _, t := range c.Tasks {
		via := "Go"
		if t.TryGo {
			via = "TryGo"
		}
		fmt.Fprintf(&b, " %s/%v/%d", via, map[bool]string{false: "ok", true: "err"}[t.Fail], t.Yields)
	}
	return b.String() + fmt.Sprintf("; %s seed %d", c.Strategy, c.Seed)
}

func (c serialResultCase) test() string     { return "TestSerialResult" }
func (c serialResultCase) strategy() string { return c.Strategy }
func (c serialResultCase) episode(r *chaos.Run, a *sched.Artifact) (*sched.Result, string) {
	c = c.norm()
	o := &groupObs{}
	if a != nil {
		res := r.ReplaySerial(a, resultOptions, c.body(o))
		return res, groupVerdict(res, o)
	}
	strat, err := sched.ParseStrategy(c.Strategy)
	if err != nil {
		panic(err)
	}
	res := r.Serialize(c.Seed, strat, resultOptions, c.body(o))
	return res, groupVerdict(res, o)
}

func (c serialResultCase) program() (sched.Options, func() (func(*sched.G), func(*sched.Result) string)) {
	c = c.norm()
	return resultOptions, func() (func(*sched.G), func(*sched.Result) string) {
		o := &groupObs{}
		return c.body(o), func(res *sched.Result) string { return groupVerdict(res, o) }
	}
}

// norm makes a case valid, generated or shrunk.
func (c serialResultCase) norm() serialResultCase {
	c.Limit = min(max(c.Limit, 0), 1)
	c.BodyYields = min(max(c.BodyYields, 0), 3)
	if len(c.Tasks) == 0 {
		c.Tasks = []resultTask{{}}
	}
	ts := slices.Clone(c.Tasks)
	for i := range ts {
		ts[i].Yields = min(max(ts[i].Yields, 0), 3)
		ts[i].TryGo = ts[i].TryGo && !c.Run
	}
	c.Tasks = ts
	c.BodyFails = c.BodyFails && c.Run
	if _, err := sched.ParseStrategy(c.Strategy); err != nil {
		c.Strategy = "random"
	}
	return c
}

// resultOptions bounds an episode: up to five tasks of a few steps each.
var resultOptions = sched.Options{MaxSteps: 20000, Horizon: 600}

var errResultTask, errResultBody = errors.New("task failed"), errors.New("body failed")

// body returns the episode's main goroutine, recording into o.
func (c serialResultCase) body(o *groupObs) func(*sched.G) {
	return func(g *sched.G) {
		o.calls, o.ends, o.accepted = map[int]int{}, map[int]int{}, map[int]bool{}
		var opts []core.GroupOption
		if c.Limit > 0 {
			opts = append(opts, core.WithLimit(c.Limit))
		}
		task := func(id int, t resultTask) func(context.Context) (int, error) {
			return func(context.Context) (int, error) {
				o.calls[id]++
				defer func() { o.ends[id]++ }()
				me := sched.Self()
				for range t.Yields {
					me.Yield("task works")
				}
				if t.Fail {
					return 100 + id, errResultTask
				}
				return 100 + id, nil
			}
		}
		if c.Run {
			err := core.Run(context.Background(), func(grp *core.Group) error {
				for id, t := range c.Tasks {
					fn := task(id, t)
					o.accepted[id] = true
					grp.Go(func(ctx context.Context) error { _, err := fn(ctx); return err })
				}
				for range c.BodyYields {
					g.Yield("body works")
				}
				if c.BodyFails {
					return errResultBody
				}
				return nil
			}, opts...)
			c.checkCalls(o, "Run returned")
			failed := c.BodyFails || slices.ContainsFunc(c.Tasks, func(t resultTask) bool { return t.Fail })
			switch {
			case !failed && err != nil:
				o.errorf("Run returned %v with no failure", err)
			case failed && !errors.Is(err, errResultTask) && !errors.Is(err, errResultBody):
				o.errorf("Run returned %v, want one of the failures (the body failed: %v)", err, c.BodyFails)
			case errors.Is(err, errResultBody) && !c.BodyFails:
				o.errorf("Run returned the body's error, but the body did not fail")
			}
			return
		}
		rg := core.NewResultGroup[int](context.Background(), opts...)
		var want []int
		for id, t := range c.Tasks {
			if t.TryGo {
				if rg.TryGo(task(id, t)) {
					o.accepted[id] = true
					want = append(want, 100+id)
				}
				continue
			}
			o.accepted[id] = true
			want = append(want, 100+id)
			rg.Go(task(id, t))
		}
		got, err := rg.Wait()
		c.checkCalls(o, "Wait returned")
		if !slices.Equal(got, want) {
			o.errorf("Wait returned the values %v, want %v (one per Go and accepted TryGo, in submission order)", got, want)
		}
		failed := false
		for id, t := range c.Tasks {
			failed = failed || o.accepted[id] && t.Fail
		}
		switch {
		case !failed && err != nil:
			o.errorf("Wait returned %v with no failure", err)
		case failed && !errors.Is(err, errResultTask):
			o.errorf("Wait returned %v, want the failed task's error", err)
		}
	}
}

// checkCalls checks that each accepted task was called and ended once, and
// no refused one was called.
func (c serialResultCase) checkCalls(o *groupObs, when string) {
	for id := range c.Tasks {
		switch {
		case o.accepted[id] && (o.calls[id] != 1 || o.ends[id] != 1):
			o.errorf("when %s, task %d was called %d times and ended %d times, want 1 and 1", when, id, o.calls[id], o.ends[id])
		case !o.accepted[id] && o.calls[id] > 0:
			o.errorf("task %d, refused by TryGo, was called", id)
		}
	}
}

func genSerialResultCase(strategy string) gopter.Gen {
	return gen.Struct(reflect.TypeOf(serialResultCase{}), map[string]gopter.Gen{
		"Run":   gen.Bool(),
		"Limit": gen.IntRange(0, 1),
		"Tasks": gen.SliceOfN(5, gen.Struct(reflect.TypeOf(resultTask{}), map[string]gopter.Gen{
			"TryGo":  gen.Bool(),
			"Fail":   gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(false)}, {Weight: 1, Gen: gen.Const(true)}}),
			"Yields": gen.IntRange(0, 3),
		})).SuchThat(func(ts []resultTask) bool { return len(ts) > 0 }),
		"BodyFails":  gen.Bool(),
		"BodyYields": gen.IntRange(0, 3),
		"Strategy":   genStrategy(strategy),
		"Seed":       gen.UInt64(),
	}).Map(func(c serialResultCase) serialResultCase { return c.norm() })
}
