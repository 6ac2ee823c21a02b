package chaos_test

import (
	"testing"

	"github.com/nimsync/nimsync/chaos"
	"github.com/stretchr/testify/require"
)

func TestMinimize(t *testing.T) {
	p := chaos.NewPlan(3)
	for len(p.Points) < 3 {
		p = chaos.NewPlan(p.Seed + 1)
	}
	p.Bugs = map[string]chaos.Action{"bug/lost-wakeup": {Kind: chaos.Decide, Prob: 1}}
	var keep []string
	for name := range p.Points {
		keep = append(keep, name)
		if len(keep) == 2 {
			break
		}
	}
	// The failure needs the bug and two particular markers, and shows only
	// on every other attempt (a scheduler-dependent failure).
	attempt := 0
	fails := func(q chaos.Plan) bool {
		attempt++
		_, bug := q.Bugs["bug/lost-wakeup"]
		_, a := q.Points[keep[0]]
		_, b := q.Points[keep[1]]
		return bug && a && b && attempt%2 == 0
	}
	m, runs := chaos.Minimize(p, 2, fails)
	require.Len(t, m.Points, 2)
	require.Contains(t, m.Points, keep[0])
	require.Contains(t, m.Points, keep[1])
	require.Len(t, m.Bugs, 1)
	require.Empty(t, m.Tuning, "the failure needs no tuned knob")
	require.Equal(t, p.Consts, m.Consts)
	require.NoError(t, m.Validate())
	require.Greater(t, runs, len(p.Points))
	require.Len(t, p.Points, len(chaos.NewPlan(p.Seed).Points), "the input plan is not modified")

	// A failure that needs one tuned knob keeps it, and only it; knobs at
	// their defaults go without a run.
	p.Tuning = map[string]int{"pool/batch-max": 1, "park/active-spins": 0, "pool/min-queue": 256}
	needsKnob := func(q chaos.Plan) bool { return q.Tuning["pool/batch-max"] == 1 }
	m, runs = chaos.Minimize(p, 1, needsKnob)
	require.Equal(t, map[string]int{"pool/batch-max": 1}, m.Tuning)
	require.Empty(t, m.Points)
	require.Empty(t, m.Bugs)
	require.Equal(t, 1+len(p.Points)+len(p.Bugs)+2+1, runs, "the first run, one per marker and bug, one per tuned knob not at its default, and a last round for the one knob left")
	require.Len(t, p.Tuning, 3, "the input plan is not modified")

	// A plan that does not fail comes back as it was.
	same, _ := chaos.Minimize(p, 3, func(chaos.Plan) bool { return false })
	require.Equal(t, p, same)
}
