//go:build chaos

package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/report"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relay is a small scenario that runs in milliseconds free-running and
// serialized alike: a goroutine sends 64 values through an MPMC of 4 slots
// to the scenario's goroutine (exactly once, in order); then the scenario
// fills a box of 16 slots with 8 values, closes it, and a second goroutine
// drains it (all 8 must come out). bug/close-drops-values loses the 8 in
// every run, whatever the strategy.
var relay = scenarios.Scenario{Name: "relay", Ops: 72, Run: func(ctx context.Context, c scenarios.Config) error {
	viol := func(inv, format string, args ...any) error {
		return &scenarios.Violation{Scenario: "relay", Invariant: inv, Detail: fmt.Sprintf(format, args...)}
	}
	start := func(f func()) {
		if c.Sched != nil {
			c.Sched.Go(f)
		} else {
			go f()
		}
	}
	wait := func(done *atomic.Bool) {
		for !done.Load() {
			if c.Sched != nil {
				c.Sched.Wait(done.Load, 0)
			} else {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	const n = 64
	ch := core.NewMPMC[int](4)
	var sent atomic.Bool
	var sendErr error
	start(func() {
		defer sent.Store(true)
		for i := range n {
			if sendErr = ch.Send(ctx, i); sendErr != nil {
				return
			}
			c.Meter.Add(1)
		}
	})
	for i := range n {
		v, err := ch.Recv(ctx)
		if err != nil {
			return err
		}
		if v != i {
			return viol("order", "received %d, want %d", v, i)
		}
	}
	wait(&sent)
	if sendErr != nil {
		return sendErr
	}

	box := core.NewMPMC[int](16)
	for i := range 8 {
		if err := box.Send(ctx, i); err != nil {
			return err
		}
	}
	if err := box.Close(); err != nil {
		return err
	}
	var drained atomic.Bool
	var got int
	start(func() {
		defer drained.Store(true)
		for {
			if _, err := box.Recv(ctx); err != nil {
				return
			}
			got++
			c.Meter.Add(1)
		}
	})
	wait(&drained)
	if got != 8 {
		return viol("no loss", "drained %d of the 8 values sent before Close", got)
	}
	return nil
}}

// TestSwarmSoak: a swarm soak runs each run in the strategy its seed draws
// (SwarmDraw), records it per run in report.json and sums the runs up by
// strategy (in the report files, on stdout's summary and in the metrics).
func TestSwarmSoak(t *testing.T) {
	const runs = 15
	out := t.TempDir()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	r, err := Run(context.Background(), Config{Runs: runs, Seed: 5, Scale: 0.01, Chaos: true, Sched: "swarm:pct:3,random,free,pct:2,pct:1",
		Scenarios: []scenarios.Scenario{relay}, Out: out, Metrics: m})
	require.NoError(t, err)
	require.True(t, r.Passed, "%+v", r.Failures)
	require.Equal(t, "swarm", r.Sched, "the default swarm, in its canonical spelling")
	require.Len(t, r.Runs, runs)

	members, _, err := ParseSwarm("swarm")
	require.NoError(t, err)
	drawn := map[string]int{}
	for _, run := range r.Runs {
		want := SwarmDraw(run.Seed, members)
		require.Equal(t, want, run.Strategy, "run of seed %d", run.Seed)
		if want == Free {
			require.Zero(t, run.Steps, "a free-running run takes no scheduling steps")
		} else {
			require.Positive(t, run.Steps, "a serialized run counts its steps")
		}
		drawn[want]++
	}
	t.Logf("drawn: %v", drawn)
	require.GreaterOrEqual(t, len(drawn), 3, "15 runs draw at least 3 of the 5 strategies (seed 5 draws %v)", drawn)

	require.Len(t, r.Strategies, len(members), "every member listed, those that drew no run too")
	for i, s := range r.Strategies {
		require.Equal(t, members[i], s.Strategy)
		require.Equal(t, drawn[s.Strategy], s.Runs)
		require.Zero(t, s.Failures)
		assert.Equal(t, float64(drawn[s.Strategy]), strategyRuns(t, reg, s.Strategy), s.Strategy)
	}

	back, err := report.Read(out)
	require.NoError(t, err)
	require.Equal(t, r.Strategies, back.Strategies)
	md, err := os.ReadFile(filepath.Join(out, report.MarkdownFile))
	require.NoError(t, err)
	require.Contains(t, string(md), "## Strategies")
	require.Contains(t, string(md), fmt.Sprintf("| random | %d | 0 |", drawn["random"]))
}

// TestSwarmPlantedBugReplays: with a planted bug, a swarm soak fails in
// the runs of every strategy; each failure's report entry and artifact
// name the strategy its run drew, and repro of the artifact replays it in
// that strategy: a serialized run from its schedule, word for word and
// step for step; a free-running one free-running, under its plan.
func TestSwarmPlantedBugReplays(t *testing.T) {
	// ReadArtifact and Repro find an artifact's scenario in the table:
	// relay joins it for the test (no soak test runs in parallel).
	all := scenarios.All
	scenarios.All = append(slices.Clone(all), relay)
	t.Cleanup(func() { scenarios.All = all })

	plan := chaos.NewPlan(1)
	plan.Bugs = map[string]chaos.Action{"bug/close-drops-values": {Kind: chaos.Decide, Prob: 1}}
	members := []string{Free, "random", "pct:2"}
	// A soak seed whose first runs draw each of the three.
	seed := uint64(0)
	for ; ; seed++ {
		got := map[string]bool{}
		for _, st := range Sequence(seed, []string{relay.Name}, 0, 4) {
			got[SwarmDraw(st.Seed, members)] = true
		}
		if len(got) == 3 {
			break
		}
	}
	out := t.TempDir()
	r, err := Run(context.Background(), Config{Runs: 4, Seed: seed, Scale: 0.01, Plan: &plan, Sched: "swarm:free,random,pct:2",
		Scenarios: []scenarios.Scenario{relay}, Out: out})
	require.NoError(t, err)
	require.False(t, r.Passed)
	require.Len(t, r.Failures, 4, "every run fails, whatever its strategy")
	for _, s := range r.Strategies {
		require.Equal(t, s.Runs, s.Failures, s.Strategy)
		require.Equal(t, []report.Found{{Scenario: "relay", Kind: "violation", Count: s.Runs}}, s.Found, s.Strategy)
	}

	replayed := map[string]bool{}
	for i, f := range r.Failures {
		run := r.Runs[i]
		require.Equal(t, run.Seed, f.Seed)
		require.Equal(t, run.Strategy, f.Strategy)
		require.Contains(t, f.Error, "no loss violated")
		a, err := ReadArtifact(filepath.Join(out, f.Artifact))
		require.NoError(t, err)
		require.Equal(t, "swarm:free,random,pct:2", a.Swarm)
		require.Equal(t, f.Strategy, a.Strategy)
		if replayed[a.Strategy] {
			continue // one replay per strategy keeps the test short
		}
		replayed[a.Strategy] = true
		rr, err := Repro(context.Background(), a, 2, 10*time.Second, Config{})
		require.NoError(t, err)
		require.Len(t, rr.Failures, 2, "%s: every replay fails", a.Strategy)
		if a.Strategy == Free {
			require.Empty(t, a.Sched, "a free-running run")
			require.Nil(t, a.Schedule)
			require.Empty(t, rr.Sched, "replayed free-running")
			for _, run := range rr.Runs {
				require.Zero(t, run.Steps)
			}
			continue
		}
		require.Equal(t, a.Strategy, a.Sched)
		require.NotNil(t, a.Schedule, "a serialized run's artifact keeps its schedule")
		require.Equal(t, a.Strategy, a.Schedule.Strategy)
		require.Equal(t, a.Strategy, rr.Sched, "replayed in the drawn strategy")
		for j, g := range rr.Failures {
			require.Equal(t, a.Error, g.Error, "a replay fails word for word")
			require.Equal(t, int64(a.Steps), rr.Runs[j].Steps, "a replay takes the recorded steps")
		}
	}
	require.Len(t, replayed, 3)
	t.Logf("soak seed %d: %v", seed, strings.Join(func() []string {
		var s []string
		for _, x := range r.Strategies {
			s = append(s, fmt.Sprintf("%s %d/%d", x.Strategy, x.Failures, x.Runs))
		}
		return s
	}(), ", "))
}

// strategyRuns reads nimsync_soak_strategy_runs_total{strategy, result="pass"}.
func strategyRuns(t *testing.T, reg *prometheus.Registry, strategy string) float64 {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "nimsync_soak_strategy_runs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["strategy"] == strategy && labels["result"] == "pass" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestSwarmPlantedSweep measures which strategies of the default swarm find
// planted bugs of core in the real scenarios: a 20-run swarm soak per bug,
// each run in the strategy its seed draws, and the summary by strategy
// logged. It takes minutes, so it runs only with NIMSYNC_SWARM_SWEEP=1
// (docs/harness.md has its numbers; cancel-storm is left out: its
// serialized runs take a minute or more each):
//
//	NIMSYNC_SWARM_SWEEP=1 scripts/chaos-test -run '^TestSwarmPlantedSweep$' -v
func TestSwarmPlantedSweep(t *testing.T) {
	if os.Getenv("NIMSYNC_SWARM_SWEEP") == "" {
		t.Skip("set NIMSYNC_SWARM_SWEEP=1 to run the sweep (minutes)")
	}
	for _, tc := range []struct{ bug, scenario string }{
		{"bug/close-drops-values", "pipeline"},
		{"bug/task-done-before-defer", "group-100k"},
		{"bug/child-not-cancelled", "nested-groups"},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			plan := chaos.NewPlan(1)
			plan.Bugs = map[string]chaos.Action{tc.bug: {Kind: chaos.Decide, Prob: 1}}
			sc, ok := scenarios.Lookup(tc.scenario)
			require.True(t, ok)
			t0 := time.Now()
			r, err := Run(context.Background(), Config{Runs: 20, Seed: 11, Scale: 0.01, Plan: &plan, Sched: Swarm,
				Scenarios: []scenarios.Scenario{sc}, Out: t.TempDir(), Stall: 10 * time.Second})
			require.NoError(t, err)
			var line []string
			for _, s := range r.Strategies {
				line = append(line, fmt.Sprintf("%s %d/%d (%.1fs a run)", s.Strategy, s.Failures, s.Runs, s.Seconds/float64(max(s.Runs, 1))))
			}
			t.Logf("%s in %s, %v: found/runs by strategy: %s", tc.bug, tc.scenario, time.Since(t0).Round(time.Second), strings.Join(line, ", "))
		})
	}
}
