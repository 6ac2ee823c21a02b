package properties_test

// Reducing a serialized property's failure before anyone reads it (issue
// 15): gopter shrinks the case while the property runs (each smaller case
// under its own strategy); then reduceFailure reduces the smallest failing
// case's schedule to the fewest preemptions that still fail
// (sched.Minimize), then the fault plan, marker by marker and knob by knob
// (chaos.Minimize), and then the schedule again, under the smaller plan.
// The property writes both the original and the reduced failure as
// artifacts, each of which replays on its own.

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/require"
)

// searchProgram returns what a search of c's schedules runs (sched.Explore,
// sched.Minimize, sched.Follow): c's bounds, a main goroutine that builds
// c's state anew on every call, and the verdict on the run it last built
// ("" if the run kept c's property's rules): main and verdict go together.
func searchProgram(c serialEpisode) (opts sched.Options, main func(*sched.G), verdict func(*sched.Result) string) {
	opts, mk := c.program()
	var v func(*sched.Result) string
	main = func(g *sched.G) {
		var m func(*sched.G)
		m, v = mk()
		m(g)
	}
	return opts, main, func(res *sched.Result) string { return v(res) }
}

// failed says whether a run failed by verdict: a search's Failed.
func failed(verdict func(*sched.Result) string) func(*sched.Result) bool {
	return func(res *sched.Result) bool { return verdict(res) != "" }
}

// minimizeEpisode looks for a failing schedule of c with fewer preemptions
// than res, its failing run (sched.Minimize), within budget schedules per
// preemption bound; any run the property fails counts.
func minimizeEpisode(r *chaos.Run, c serialEpisode, res *sched.Result, budget int) *sched.Minimization {
	opts, main, verdict := searchProgram(c)
	return r.Minimize(res, sched.MinimizeOptions{Options: opts, MaxSchedules: budget, Failed: failed(verdict)}, main)
}

// reduced is what reduceFailure made of a failure.
type reduced struct {
	serialFailure            // the case, its smallest failing run and verdict
	plan          chaos.Plan // the smallest plan under which it fails
	// schedule is the last schedule minimization: from the run found under
	// plan to res.
	schedule *sched.Minimization
	// first is the schedule minimization under the original plan; planRuns
	// the runs chaos.Minimize made.
	first      *sched.Minimization
	planBefore int // planSize of the original plan
	planRuns   int
}

// String says what the reduction did, in one line.
func (d reduced) String() string {
	return fmt.Sprintf("schedule: %d → %d preemptions under the original plan; plan: %d → %d markers and knobs (%d runs); schedule under the smaller plan: %v",
		d.first.Original, d.first.Preemptions, d.planBefore, planSize(d.plan), d.planRuns, d.schedule)
}

// planSize counts a plan's markers (planted bugs included) and tuned knobs:
// what chaos.Minimize can drop.
func planSize(p chaos.Plan) int { return len(p.Points) + len(p.Bugs) + len(p.Tuning) }

// reduceFailure reduces f, a failure of its property under plan p (its
// chaos run r, which reduceFailure stops: every plan it tries runs as a
// chaos run of its own, and only one may be active). In turn:
//
//  1. The schedule: the fewest preemptions of a failing run of f's case
//     under p (sched.Minimize, budget schedules per preemption bound).
//  2. The plan: chaos.Minimize drops each marker and knob after which the
//     case still fails, under the plan tried, either with its own strategy
//     and seed or along step 1's schedule (sched.Follow: its switches,
//     where they still apply). Both are functions of the plan, so one try
//     of each plan tells.
//  3. The schedule again, under the smaller plan, from the failing run
//     step 2 found.
//
// The run it returns fails f's property and replays (its artifact, under
// its plan) step for step.
func reduceFailure(t *testing.T, r *chaos.Run, p chaos.Plan, f serialFailure, budget int) reduced {
	t.Helper()
	first := minimizeEpisode(r, f.c, f.res, budget)
	r.Stop()

	// failing runs f.c under plan q and returns a failing run, or nil.
	failing := func(q chaos.Plan) (*sched.Result, string) {
		rq, err := chaos.Start(q)
		require.NoError(t, err, "starting a smaller plan")
		defer rq.Stop()
		if res, why := f.c.episode(rq, nil); why != "" {
			return res, why
		}
		opts, main, verdict := searchProgram(f.c)
		if res := rq.Follow(first.Result.Artifact(), opts, main); verdict(res) != "" {
			// The verdict's words come with a replay of the run.
			return f.c.episode(rq, res.Artifact())
		}
		return nil, ""
	}
	q, runs := chaos.Minimize(p, 1, func(q chaos.Plan) bool { res, _ := failing(q); return res != nil })
	res, _ := failing(q)
	require.NotNil(t, res, "the plan chaos.Minimize kept, %s, does not fail", compact(q))

	rq, err := chaos.Start(q)
	require.NoError(t, err)
	defer rq.Stop()
	m := minimizeEpisode(rq, f.c, res, budget)
	mres, mwhy := f.c.episode(rq, m.Result.Artifact())
	require.NotEmpty(t, mwhy, "the minimized schedule (%v) replays to a pass", m)
	require.Equal(t, m.Result.Hash, mres.Hash, "the minimized schedule's replay takes other steps")
	return reduced{serialFailure: serialFailure{f.c, m.Result, mwhy}, plan: q, schedule: m, first: first, planBefore: planSize(p), planRuns: runs}
}

// minimizeBudget bounds each search of the self-test's minimizations
// (sched.MinimizeOptions.MaxSchedules): schedules per preemption bound,
// NIMSYNC_MINIMIZE_BUDGET or 300 (CI's).
func minimizeBudget(t *testing.T) int {
	t.Helper()
	n := 300
	if v := os.Getenv("NIMSYNC_MINIMIZE_BUDGET"); v != "" {
		_, err := fmt.Sscan(v, &n)
		require.NoError(t, err, "NIMSYNC_MINIMIZE_BUDGET")
		require.Positive(t, n, "NIMSYNC_MINIMIZE_BUDGET")
	}
	return n
}

// compact renders a plan's markers on one line.
func compact(p chaos.Plan) string {
	var parts []string
	for name, a := range p.Points {
		parts = append(parts, fmt.Sprintf("%s=%s@%v", name, a.Kind, a.Prob))
	}
	for name, a := range p.Bugs {
		parts = append(parts, fmt.Sprintf("%s=%s@%v", name, a.Kind, a.Prob))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, " ") + "}"
}
