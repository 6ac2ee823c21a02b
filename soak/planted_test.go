//go:build chaos

package soak

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/require"
)

// TestPlantedBugFailsTheSoak: with a planted bug of core switched on, the
// soak fails with an artifact, and replaying the artifact reproduces the
// failure. (Runs in the chaos build: scripts/chaos-test.)
func TestPlantedBugFailsTheSoak(t *testing.T) {
	for _, tc := range []struct{ bug, scenario string }{
		{"bug/task-done-before-defer", "group-100k"},
		{"bug/close-drops-values", "pipeline"},
		{"bug/cancel-hook-skipped", "cancel-storm"},
		{"bug/recv-after-close-runaway", "mpmc-contention"},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			plan := chaos.NewPlan(1)
			plan.Bugs = map[string]chaos.Action{tc.bug: {Kind: chaos.Decide, Prob: 1}}
			sc, ok := scenarios.Lookup(tc.scenario)
			require.True(t, ok)
			out := t.TempDir()
			r, err := Run(context.Background(), Config{Runs: 3, Seed: 3, Scale: 0.05, Plan: &plan, Out: out,
				Scenarios: []scenarios.Scenario{sc}, Stall: 10 * time.Second})
			require.NoError(t, err)
			require.False(t, r.Passed, "the soak must catch %s", tc.bug)
			f := r.Failures[0]
			t.Logf("caught: %s; repro: %s", f.Error, f.Repro)
			require.Contains(t, f.Repro, "scripts/nimsync repro ")
			a, err := ReadArtifact(filepath.Join(out, f.Artifact))
			require.NoError(t, err)
			require.Contains(t, a.Plan.Bugs, tc.bug)
			rr, err := Repro(context.Background(), a, 3, 10*time.Second, Config{})
			require.NoError(t, err)
			require.NotEmpty(t, rr.Failures, "replaying the artifact reproduces the failure")
			t.Logf("reproduced in %d of %d replays", len(rr.Failures), len(rr.Runs))
		})
	}
}

// TestPlantedRunawayIsCut: with receives that keep handing out values after
// Close (bug/recv-after-close-runaway), a RecvBatch loop that trusts
// ErrClosed to end it never ends, and its operations count as progress, so the stall
// watchdog never fires. The soak cuts the run at its budget of operations,
// as a "runaway" with every goroutine's stack, and ends; without the bug
// the same run passes.
func TestPlantedRunawayIsCut(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	drain := scenarios.Scenario{Name: "drain", Ops: 1000, Run: func(ctx context.Context, c scenarios.Config) error {
		ch := core.NewMPMC[int](16)
		for i := range 16 {
			if err := ch.Send(ctx, i); err != nil {
				return err
			}
		}
		if err := ch.Close(); err != nil {
			return err
		}
		buf := make([]int, 16)
		for {
			select {
			case <-release:
				return nil
			default:
			}
			n, err := ch.RecvBatch(ctx, buf)
			if errors.Is(err, core.ErrClosed) {
				return nil
			} else if err != nil {
				return err
			}
			c.Meter.Add(n)
		}
	}}
	plan := chaos.Plan{Seed: 1, Points: map[string]chaos.Action{}, Consts: map[string]int{}} // no delays: the runaway runs at full speed
	r, err := Run(context.Background(), Config{Runs: 2, Plan: &plan, Scenarios: []scenarios.Scenario{drain}})
	require.NoError(t, err)
	require.True(t, r.Passed, "without the bug: %+v", r.Failures)

	plan.Bugs = map[string]chaos.Action{"bug/recv-after-close-runaway": {Kind: chaos.Decide, Prob: 1}}
	out := t.TempDir()
	t0 := time.Now()
	r, err = Run(context.Background(), Config{Runs: 2, Plan: &plan, Out: out, Scenarios: []scenarios.Scenario{drain}})
	require.ErrorIs(t, err, ErrOverrun)
	t.Logf("cut after %v: %v", time.Since(t0).Round(time.Millisecond), err)
	require.Len(t, r.Failures, 1)
	f := r.Failures[0]
	require.Equal(t, "runaway", f.Kind)
	stacks, err := os.ReadFile(filepath.Join(out, f.Artifact, "stacks.txt"))
	require.NoError(t, err)
	require.Contains(t, string(stacks), "TestPlantedRunawayIsCut", "the runaway loop's stack")
}

// TestSerialPlantedBugReplays: in the serialized mode (Config.Sched), a
// planted bug fails the soak with an artifact that holds the run's
// schedule, and every replay of it (Repro) takes the recorded steps to the
// same failure, word for word; a schedule that no longer matches the run
// (as after a change of the code) is reported as a divergence at its
// first differing step, never as a pass or a reproduction.
func TestSerialPlantedBugReplays(t *testing.T) {
	for _, tc := range []struct{ bug, scenario, strategy, kind string }{
		{"bug/task-done-before-defer", "group-100k", "random", "violation"},
		{"bug/close-drops-values", "pipeline", "pct:3", "violation"},
		{"bug/child-not-cancelled", "nested-groups", "random", "violation"},
		{"bug/lost-wakeup", "spsc-stream", "pct:2", "deadlock"},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			plan := chaos.NewPlan(1)
			plan.Bugs = map[string]chaos.Action{tc.bug: {Kind: chaos.Decide, Prob: 1}}
			sc, ok := scenarios.Lookup(tc.scenario)
			require.True(t, ok)
			out := t.TempDir()
			r, err := Run(context.Background(), Config{Runs: 3, Seed: 3, Scale: 0.01, Plan: &plan, Sched: tc.strategy, Out: out,
				Scenarios: []scenarios.Scenario{sc}})
			require.NoError(t, err)
			require.False(t, r.Passed, "the serialized soak must catch %s", tc.bug)
			require.Equal(t, tc.strategy, r.Sched)
			f := r.Failures[0]
			t.Logf("caught: %s: %s", f.Kind, firstLine(f.Error))
			require.Equal(t, tc.kind, f.Kind)
			a, err := ReadArtifact(filepath.Join(out, f.Artifact))
			require.NoError(t, err)
			require.Equal(t, tc.strategy, a.Sched)
			require.NotNil(t, a.Schedule, "the artifact keeps the schedule")
			require.Equal(t, a.Steps, len(a.Schedule.Decisions))
			trace, err := os.ReadFile(filepath.Join(out, f.Artifact, TraceFile))
			require.NoError(t, err, "a serialized failure's artifact has its trace")
			require.Contains(t, string(trace), "Strategy `"+tc.strategy+"`")
			require.Contains(t, string(trace), "Then: "+oneLineOf(a.Error))
			if tc.kind == "deadlock" {
				stacks, err := os.ReadFile(filepath.Join(out, f.Artifact, "stacks.txt"))
				require.NoError(t, err)
				require.Contains(t, string(stacks), "core.(*SPSC", "each deadlocked goroutine's stack, in core where it waits")
			}

			rr, err := Repro(context.Background(), a, 5, 10*time.Second, Config{})
			require.NoError(t, err)
			require.Len(t, rr.Failures, 5, "every replay fails")
			for _, g := range rr.Failures {
				require.Equal(t, a.Kind, g.Kind)
				require.Equal(t, a.Error, g.Error, "a replay fails word for word as the recorded run")
			}
			for _, run := range rr.Runs {
				require.Equal(t, int64(a.Steps), run.Steps, "a replay takes the recorded steps")
			}

			// A schedule that is not the run's: the goroutine chosen at
			// one step is another one.
			bad := *a.Schedule
			bad.Decisions = append([]int(nil), a.Schedule.Decisions...)
			at := len(bad.Decisions) / 2
			bad.Decisions[at] = (bad.Decisions[at] + 1) % 1000
			a.Schedule = &bad
			rr, err = Repro(context.Background(), a, 1, 10*time.Second, Config{})
			require.NoError(t, err)
			require.Len(t, rr.Failures, 1)
			require.Equal(t, "divergence", rr.Failures[0].Kind)
			require.Contains(t, rr.Failures[0].Error, fmt.Sprintf("diverged at step %d", at))
		})
	}
}

func oneLineOf(s string) string { return strings.Join(strings.Fields(s), " ") }
