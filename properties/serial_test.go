package properties_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
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

func genSerialCase(strategy string) gopter.Gen {
	strat := gen.OneConstOf(anys(serialStrategies)...)
	if strategy != "" {
		strat = gen.Const(strategy)
	}
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
		"Strategy":   strat,
		"Seed":       gen.UInt64(),
	}).Map(func(c serialCase) serialCase { return c.norm() })
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// serialArtifact is what a failing serialized episode leaves: the fields of
// a failure artifact (scripts/chaos-test -replay reads test, seed and
// plan), the case, and the schedule that replays it step for step.
type serialArtifact struct {
	Test     string          `json:"test"`
	Seed     uint64          `json:"seed"`
	Chaos    bool            `json:"chaos_build"`
	Plan     chaos.Plan      `json:"plan"`
	Case     serialCase      `json:"case"`
	Why      string          `json:"why"`
	Schedule *sched.Artifact `json:"schedule"`
}

// readSerialArtifact reads the serialized-episode artifact NIMSYNC_PLAN
// names, or returns nil if it names none (or another kind of artifact).
func readSerialArtifact(t *testing.T) *serialArtifact {
	t.Helper()
	file := os.Getenv("NIMSYNC_PLAN")
	if file == "" {
		return nil
	}
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var raw struct {
		Schedule json.RawMessage `json:"schedule"`
	}
	require.NoError(t, json.Unmarshal(b, &raw))
	if len(raw.Schedule) == 0 {
		return nil
	}
	var a serialArtifact
	require.NoError(t, json.Unmarshal(b, &a))
	a.Schedule, err = sched.ParseArtifact(raw.Schedule, a.Case.Strategy)
	require.NoError(t, err, "the artifact's schedule")
	return &a
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

// replaySerialArtifact replays a n times and fails t with the recorded
// failure if every replay took the recorded steps to it, or with the first
// divergence.
func replaySerialArtifact(t *testing.T, a *serialArtifact, n int) {
	t.Helper()
	same := 0
	for i := range n {
		res, why := replaySerial(currentRun, a.Case, a.Schedule)
		if res.Failure != nil && res.Failure.Kind == sched.Divergence {
			t.Fatalf("replay %d of %d diverged: %v", i+1, n, res.Failure)
		}
		if res.Hash != mustHash(t, a.Schedule) || why != a.Why {
			t.Fatalf("replay %d of %d took the recorded steps (trace hash %016x) but ended with %q, recorded %q", i+1, n, res.Hash, why, a.Why)
		}
		same++
	}
	t.Errorf("the recorded failure reproduced in %d of %d replays, each with the recorded trace (hash %s, %d steps): %s; case %v",
		same, n, a.Schedule.TraceHash, len(a.Schedule.Decisions), a.Why, a.Case)
}

func mustHash(t *testing.T, a *sched.Artifact) uint64 {
	var h uint64
	_, err := fmt.Sscanf(a.TraceHash, "%x", &h)
	require.NoError(t, err)
	return h
}

// serialFailure is the last failing episode a property saw: while gopter
// shrinks, each smaller failing case replaces it.
type serialFailure struct {
	c   serialCase
	res *sched.Result
	why string
}

// checkSerialCase runs c as a serialized episode. If it fails, it replays
// the episode once from its decision list with the trace comparison on and
// returns an error that says whether the replay took the same steps to the
// same end; a replay that diverges is a failure of the serialized mode
// itself, reported as such.
func checkSerialCase(c serialCase, last *serialFailure) (steps int, err error) {
	res, why := runSerial(currentRun, c)
	if why == "" {
		return res.Steps, nil
	}
	*last = serialFailure{c, res, why}
	rep, rwhy := replaySerial(currentRun, c, res.Artifact())
	switch {
	case rep.Failure != nil && rep.Failure.Kind == sched.Divergence:
		return res.Steps, fmt.Errorf("%s; and its replay DIVERGED: %v", why, rep.Failure)
	case rep.Hash != res.Hash || rwhy != why:
		return res.Steps, fmt.Errorf("%s; and its replay ended differently: %q", why, rwhy)
	}
	return res.Steps, fmt.Errorf("%s (replayed once: same %d steps, same end)", why, res.Steps)
}

// writeSerialArtifact writes f's artifact and logs the command that
// replays it.
// The artifact names TestSerialChan, which replays it.
func writeSerialArtifact(t *testing.T, s uint64, p chaos.Plan, f serialFailure) string {
	t.Helper()
	a := serialArtifact{Test: "TestSerialChan", Seed: s, Chaos: chaosBuild, Plan: p, Case: f.c, Why: f.why, Schedule: f.res.Artifact()}
	b, err := json.MarshalIndent(a, "", "  ")
	require.NoError(t, err)
	path := writeArtifact(t, fmt.Sprintf("%s-seed%d-%d.json", a.Test, s, time.Now().UnixNano()), b)
	t.Logf("serialized failure artifact %s (%d steps, trace hash %s); replay it 100 times: scripts/chaos-test -replay %s -runs 100", path, f.res.Steps, a.Schedule.TraceHash, path)
	return path
}

// TestSerialChan: property 8 (serial_chan_test.go), channels under the
// serialized mode, on every flavor. It needs the chaos build; with
// NIMSYNC_PLAN naming a serialized artifact it replays that artifact
// NIMSYNC_REPLAYS times instead.
func TestSerialChan(t *testing.T) {
	if !chaosBuild {
		t.Skip("the serialized mode needs the chaos build: scripts/chaos-test -run '^TestSerialChan$'")
	}
	s := seed(t)
	plan := startPlan(t, s)
	if a := readSerialArtifact(t); a != nil {
		replaySerialArtifact(t, a, replays(t))
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
			ps.Property("a serialized episode keeps exactly-once, FIFO, errors, Len and liveness", prop.ForAll(func(c serialCase) *gopter.PropResult {
				if skipShrink() {
					return gopter.NewPropResult(true, "")
				}
				c = c.norm()
				n, err := checkSerialCase(c, &last)
				episodes, steps, most = episodes+1, steps+n, max(most, n)
				if err != nil {
					t.Logf("%v: %v", c, err)
					return noteFailure(gopter.NewPropResult(false, err.Error()))
				}
				return gopter.NewPropResult(true, "")
			}, fresh(genSerialCase(strategy))))
		})
	}
	el := time.Since(start)
	t.Logf("%d serialized episodes, %d steps (at most %d in one) in %v: %.0f episodes/s, %.0f steps/s",
		episodes, steps, most, el.Round(time.Millisecond), float64(episodes)/el.Seconds(), float64(steps)/el.Seconds())
	if last.res != nil {
		writeSerialArtifact(t, s, plan, last)
	}
}
