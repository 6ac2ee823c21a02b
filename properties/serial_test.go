package properties_test

// The serialized properties' shared harness: strategies, artifacts, replay,
// and the property loop that every serialized property runs (TestSerialChan
// and TestSerialGroup here; TestSerialLinearizability, TestSerialContract and
// TestSerialScope in their own files).

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/require"
)

// serialEpisode is a generated serialized episode: a case that knows its
// test, its strategy and its seed, and runs itself under r, with its
// strategy (a == nil) or following the recorded schedule a. The string it
// returns is its verdict, "" if it kept its property's rules.
type serialEpisode interface {
	fmt.Stringer
	test() string
	strategy() string
	episode(r *chaos.Run, a *sched.Artifact) (*sched.Result, string)
	// program returns the episode's bounds and a maker of its program: a
	// main goroutine with fresh state and the verdict on its run ("" if
	// the run kept the rules), for runs whose schedule someone else
	// chooses (the minimization's search).
	program() (sched.Options, func() (func(*sched.G), func(*sched.Result) string))
}

// serialStrategies are the strategies a serialized episode draws from
// when NIMSYNC_SCHED does not name one.
var serialStrategies = []string{"random", "pct:1", "pct:2", "pct:3"}

// schedStrategy returns the strategy NIMSYNC_SCHED names (scripts/chaos-test
// -sched), or "" to draw one per episode.
func schedStrategy(t *testing.T) string {
	t.Helper()
	s := os.Getenv("NIMSYNC_SCHED")
	if s != "" {
		_, err := sched.ParseStrategy(s)
		require.NoError(t, err, "NIMSYNC_SCHED")
	}
	return s
}

// genStrategy draws a strategy, or always strategy if it is not "".
func genStrategy(strategy string) gopter.Gen {
	if strategy != "" {
		return gen.Const(strategy)
	}
	return gen.OneConstOf(anys(serialStrategies)...)
}

func genSerialCase(strategy string) gopter.Gen {
	return gen.Struct(reflect.TypeOf(serialCase{}), map[string]gopter.Gen{
		"Flavor":     gen.IntRange(0, len(chantest.Flavors)-1),
		"Cap":        gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(1)}, {Weight: 2, Gen: gen.IntRange(2, 4)}}),
		"Senders":    gen.IntRange(1, 3),
		"Receivers":  gen.IntRange(1, 3),
		"PerSender":  gen.IntRange(1, 6),
		"Mode":       gen.IntRange(0, nModes-1),
		"CancelAt":   gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(0)}, {Weight: 1, Gen: gen.IntRange(1, 40)}}),
		"CloseEarly": gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(false)}, {Weight: 1, Gen: gen.Const(true)}}),
		"Quota":      gen.Weighted([]gen.WeightedGen{{Weight: 2, Gen: gen.Const(0)}, {Weight: 2, Gen: gen.Const(1)}, {Weight: 1, Gen: gen.Const(2)}}),
		"Strategy":   genStrategy(strategy),
		"Seed":       gen.UInt64(),
	}).Map(func(c serialCase) serialCase { return c.norm() })
}

func genGroupTask() gopter.Gen {
	return gen.Struct(reflect.TypeOf(groupTask{}), map[string]gopter.Gen{
		"Via":     gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(0)}, {Weight: 1, Gen: gen.Const(1)}, {Weight: 2, Gen: gen.Const(2)}}),
		"Outcome": gen.Weighted([]gen.WeightedGen{{Weight: 4, Gen: gen.Const(outOK)}, {Weight: 2, Gen: gen.Const(outErr)}, {Weight: 1, Gen: gen.Const(outPanic)}, {Weight: 1, Gen: gen.Const(outGoexit)}, {Weight: 2, Gen: gen.Const(outWaitCancel)}}),
		"Yields":  gen.IntRange(0, 3),
		// GoRange splits n items into chunks of n/(range-split×GOMAXPROCS)
		// (at least one): only a long range has chunks of more than one
		// item, whose rest must run after an item fails (GROUP-RANGE).
		"RangeN": gen.Weighted([]gen.WeightedGen{{Weight: 2, Gen: gen.Const(2)}, {Weight: 1, Gen: gen.Const(8)}, {Weight: 2, Gen: gen.Const(40)}}),
		"Spawn":  gen.Weighted([]gen.WeightedGen{{Weight: 4, Gen: gen.Const(false)}, {Weight: 1, Gen: gen.Const(true)}}),
	})
}

func genSerialGroupCase(strategy string) gopter.Gen {
	return gen.Struct(reflect.TypeOf(serialGroupCase{}), map[string]gopter.Gen{
		"Limit":        gen.Weighted([]gen.WeightedGen{{Weight: 2, Gen: gen.Const(0)}, {Weight: 1, Gen: gen.IntRange(1, 3)}}),
		"AllErrors":    gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(false)}, {Weight: 1, Gen: gen.Const(true)}}),
		"Tasks":        gen.SliceOfN(6, genGroupTask()).SuchThat(func(ts []groupTask) bool { return len(ts) > 0 }),
		"CancelAt":     gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(0)}, {Weight: 1, Gen: gen.IntRange(1, 30)}}),
		"CancelParent": gen.Bool(),
		"Strategy":     genStrategy(strategy),
		"Seed":         gen.UInt64(),
	}).Map(func(c serialGroupCase) serialGroupCase { return c.norm() })
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// The two serialized properties' cases.
func (c serialCase) test() string     { return "TestSerialChan" }
func (c serialCase) strategy() string { return c.Strategy }
func (c serialCase) episode(r *chaos.Run, a *sched.Artifact) (*sched.Result, string) {
	if a == nil {
		return runSerial(r, c)
	}
	return replaySerial(r, c, a)
}

func (c serialGroupCase) test() string     { return "TestSerialGroup" }
func (c serialGroupCase) strategy() string { return c.Strategy }
func (c serialGroupCase) episode(r *chaos.Run, a *sched.Artifact) (*sched.Result, string) {
	if a == nil {
		return runSerialGroup(r, c)
	}
	return replaySerialGroup(r, c, a)
}

// serialArtifact is what a failing serialized episode leaves: the fields of
// a failure artifact (scripts/chaos-test -replay reads test, seed and
// plan), the case (its test's type), and the schedule that replays it step
// for step.
type serialArtifact struct {
	Test     string          `json:"test"`
	Seed     uint64          `json:"seed"`
	Chaos    bool            `json:"chaos_build"`
	Plan     chaos.Plan      `json:"plan"`
	Case     json.RawMessage `json:"case"`
	Why      string          `json:"why"`
	Schedule *sched.Artifact `json:"schedule"`
	// ReducedFrom names the artifact this one was reduced from
	// (reduceFailure): the same case, with a smaller plan and a schedule
	// with fewer preemptions; both replay.
	ReducedFrom string `json:"reduced_from,omitempty"`
}

// readSerialArtifact reads the serialized-episode artifact NIMSYNC_PLAN
// names, with its case as a C, or returns nil if it names none (or another
// kind of artifact).
func readSerialArtifact[C serialEpisode](t *testing.T) (*serialArtifact, C) {
	t.Helper()
	var c C
	file := os.Getenv("NIMSYNC_PLAN")
	if file == "" {
		return nil, c
	}
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var raw struct {
		Schedule json.RawMessage `json:"schedule"`
	}
	require.NoError(t, json.Unmarshal(b, &raw))
	if len(raw.Schedule) == 0 {
		return nil, c
	}
	var a serialArtifact
	require.NoError(t, json.Unmarshal(b, &a))
	require.NoError(t, json.Unmarshal(a.Case, &c), "the artifact's case")
	a.Schedule, err = parseSchedule(raw.Schedule, c)
	require.NoError(t, err, "the artifact's schedule")
	return &a, c
}

// parseSchedule parses the schedule of c's artifact (sched.ParseArtifact):
// its strategy is c's own, or that of a search's step (dfs:K) for a
// schedule a reduction found (reduceFailure).
func parseSchedule(data []byte, c serialEpisode) (*sched.Artifact, error) {
	a, err := sched.ParseArtifact(data, "")
	if err != nil {
		return nil, err
	}
	if st, _ := sched.ParseStrategy(a.Strategy); a.Strategy != c.strategy() && !st.Exhaustive() {
		return nil, fmt.Errorf("the schedule was recorded with strategy %q, the case has %q", a.Strategy, c.strategy())
	}
	return a, nil
}

// replays is how many times a replay of a serialized artifact runs it
// (NIMSYNC_REPLAYS, default 1).
func replays(t *testing.T) int {
	t.Helper()
	v := os.Getenv("NIMSYNC_REPLAYS")
	if v == "" {
		return 1
	}
	var n int
	_, err := fmt.Sscan(v, &n)
	require.NoError(t, err, "NIMSYNC_REPLAYS must be a positive integer")
	require.Positive(t, n, "NIMSYNC_REPLAYS")
	return n
}

// replaySerialArtifact replays a (case c) n times and fails t with the
// recorded failure if every replay took the recorded steps to it, or with
// the first divergence.
func replaySerialArtifact[C serialEpisode](t *testing.T, a *serialArtifact, c C, n int) {
	t.Helper()
	var want uint64
	_, err := fmt.Sscanf(a.Schedule.TraceHash, "%x", &want)
	require.NoError(t, err)
	same := 0
	for i := range n {
		res, why := c.episode(currentRun, a.Schedule)
		if res.Failure != nil && res.Failure.Kind == sched.Divergence {
			t.Fatalf("replay %d of %d diverged: %v", i+1, n, res.Failure)
		}
		if res.Hash != want || why != a.Why {
			t.Fatalf("replay %d of %d took the recorded steps (trace hash %016x) but ended with %q, recorded %q", i+1, n, res.Hash, why, a.Why)
		}
		same++
	}
	t.Errorf("the recorded failure reproduced in %d of %d replays, each with the recorded trace (hash %s, %d steps): %s; case %v",
		same, n, a.Schedule.TraceHash, len(a.Schedule.Decisions), a.Why, c)
}

// serialFailure is a failing episode: while gopter shrinks, each smaller
// failing case replaces the last one a property saw.
type serialFailure struct {
	c   serialEpisode
	res *sched.Result
	why string
}

// checkSerialEpisode runs c under r. If it fails, it replays the episode
// once from its decision list with the trace comparison on and returns an
// error that says whether the replay took the same steps to the same end;
// a replay that diverges is a failure of the serialized mode itself,
// reported as such.
func checkSerialEpisode(r *chaos.Run, c serialEpisode, last *serialFailure) (steps int, err error) {
	res, why := c.episode(r, nil)
	if why == "" {
		return res.Steps, nil
	}
	*last = serialFailure{c, res, why}
	rep, rwhy := c.episode(r, res.Artifact())
	switch {
	case rep.Failure != nil && rep.Failure.Kind == sched.Divergence:
		return res.Steps, fmt.Errorf("%s; and its replay DIVERGED: %v", why, rep.Failure)
	case rep.Hash != res.Hash || rwhy != why:
		return res.Steps, fmt.Errorf("%s; and its replay ended differently: %q", why, rwhy)
	}
	return res.Steps, fmt.Errorf("%s (replayed once: same %d steps, same end)", why, res.Steps)
}

// writeSerialArtifact writes f's artifact, which f's test replays, and logs
// the command that replays it; from, if not "", is the artifact f was
// reduced from, and the name ends in "-reduced".
func writeSerialArtifact(t *testing.T, s uint64, p chaos.Plan, f serialFailure, from string) string {
	t.Helper()
	cb, err := json.Marshal(f.c)
	require.NoError(t, err)
	a := serialArtifact{Test: f.c.test(), Seed: s, Chaos: chaosBuild, Plan: p, Case: cb, Why: f.why, Schedule: f.res.Artifact(), ReducedFrom: from}
	b, err := json.MarshalIndent(a, "", "  ")
	require.NoError(t, err)
	name := fmt.Sprintf("%s-seed%d-%d", a.Test, s, time.Now().UnixNano())
	if from != "" {
		name += "-reduced"
	}
	path := writeArtifact(t, name+".json", b)
	o := sched.TraceOptions{Title: fmt.Sprintf("%s, seed %d: %v", a.Test, s, f.c), Failure: f.why}
	if h, ok := f.c.(serialHistorian); ok {
		o.History = h.history(f.res)
	}
	var md, page strings.Builder
	require.NoError(t, a.Schedule.WriteMarkdown(&md, o))
	require.NoError(t, a.Schedule.WriteHTML(&page, o))
	trace := writeArtifact(t, name+".md", []byte(md.String()))
	html := writeArtifact(t, name+".html", []byte(page.String()))
	t.Logf("serialized failure artifact %s (%d steps, %d preemptions, trace hash %s; the trace: %s, drawn: %s); replay it 100 times: scripts/chaos-test -replay %s -runs 100",
		path, f.res.Steps, len(f.res.Preempted), a.Schedule.TraceHash, trace, html, path)
	return path
}

// serialHistorian is a case whose episodes record a history clocked by
// steps (serial_lin_test.go): the HTML trace draws it.
type serialHistorian interface {
	history(res *sched.Result) []sched.HistoryOp
}

// serialProperty is the body of a serialized property test: it checks
// what with the cases gen draws (given the strategy NIMSYNC_SCHED names,
// or ""), new seeds until the budget is spent, and writes the smallest
// failing episode's artifact. With NIMSYNC_PLAN naming a serialized
// artifact it replays that artifact NIMSYNC_REPLAYS times instead. It needs
// the chaos build.
func serialProperty[C serialEpisode](t *testing.T, what string, gen func(strategy string) gopter.Gen) {
	if !chaosBuild {
		t.Skipf("the serialized mode needs the chaos build: scripts/chaos-test -run '^%s$'", t.Name())
	}
	s := seed(t)
	plan := startPlan(t, s)
	if a, c := readSerialArtifact[C](t); a != nil {
		replaySerialArtifact(t, a, c, replays(t))
		return
	}
	strategy := schedStrategy(t)
	runs := 200
	if testing.Short() {
		runs = 50
	}
	var last serialFailure
	episodes, steps, most, start := 0, 0, 0, time.Now()
	deadline := start.Add(budget(t))
	for i := uint64(0); (i == 0 || time.Now().Before(deadline)) && !t.Failed(); i++ {
		checkProps(t, s+i, runs, func(ps *gopter.Properties) {
			ps.Property(what, prop.ForAll(func(c C) *gopter.PropResult {
				if skipShrink() {
					return gopter.NewPropResult(true, "")
				}
				n, err := checkSerialEpisode(currentRun, c, &last)
				episodes, steps, most = episodes+1, steps+n, max(most, n)
				if err != nil {
					t.Logf("%v: %v", c, err)
					return noteFailure(gopter.NewPropResult(false, err.Error()))
				}
				return gopter.NewPropResult(true, "")
			}, fresh(gen(strategy))))
		})
	}
	el := time.Since(start)
	t.Logf("%d serialized episodes, %d steps (at most %d in one) in %v: %.0f episodes/s, %.0f steps/s",
		episodes, steps, most, el.Round(time.Millisecond), float64(episodes)/el.Seconds(), float64(steps)/el.Seconds())
	if last.res != nil {
		// The smallest case gopter reached, then its schedule and plan
		// reduced (reduceFailure): two artifacts, each of which replays.
		orig := writeSerialArtifact(t, s, plan, last, "")
		d := reduceFailure(t, currentRun, plan, last, minimizeBudget(t))
		t.Logf("reduced the failure: %v", d)
		writeSerialArtifact(t, s, d.plan, d.serialFailure, orig)
	}
}

// TestSerialChan: property 8 (serial_chan_test.go), channels under the
// serialized mode, on every flavor.
func TestSerialChan(t *testing.T) {
	serialProperty[serialCase](t, "a serialized episode keeps exactly-once, FIFO, errors, Len and liveness", genSerialCase)
}

// TestSerialGroup: property 9 (serial_group_test.go), groups and the task
// pool under the serialized mode.
func TestSerialGroup(t *testing.T) {
	serialProperty[serialGroupCase](t, "a serialized group calls each task once, waits for all, keeps its limit and reports its failures", genSerialGroupCase)
}

// TestSerialResult: property 13 (serial_result_test.go), ResultGroup and
// Run under the serialized mode.
func TestSerialResult(t *testing.T) {
	serialProperty[serialResultCase](t, "a serialized ResultGroup returns its values in order and Run reports its body's failure", genSerialResultCase)
}
