//go:build chaos

package soak

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
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
