package soak

import (
	"context"
	"math"
	"testing"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseSwarm: a swarm's members in canonical order whatever the order
// they were listed in, "swarm" for the default set, and clear errors.
func TestParseSwarm(t *testing.T) {
	for _, tc := range []struct{ in, canonical string }{
		{"swarm", "swarm"},
		{"swarm:pct:3,pct:2,random,free,pct:1", "swarm"},
		{"swarm:pct:2,free", "swarm:free,pct:2"},
		{"swarm:pct:10,pct:2,random", "swarm:random,pct:2,pct:10"},
		{"swarm:random", "swarm:random"},
		{"swarm: free , random", "swarm:free,random"},
	} {
		members, canonical, err := ParseSwarm(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.canonical, canonical, tc.in)
		again, c2, err := ParseSwarm(canonical)
		require.NoError(t, err)
		assert.Equal(t, members, again, "the canonical spelling parses to the same members")
		assert.Equal(t, canonical, c2)
	}
	members, _, err := ParseSwarm("swarm")
	require.NoError(t, err)
	require.Equal(t, []string{"free", "random", "pct:1", "pct:2", "pct:3"}, members)

	for _, tc := range []struct{ in, want string }{
		{"swarm:", "lists no strategy"},
		{"swarm:free,,random", `member ""`},
		{"swarm:fifo", `member "fifo"`},
		{"swarm:pct:0", `member "pct:0"`},
		{"swarm:dfs:1", "bounded exhaustive search"},
		{"swarm:random,free,random", "lists random twice"},
		{"swarm:swarm", `member "swarm"`},
		{"random", "not a swarm"},
	} {
		_, _, err := ParseSwarm(tc.in)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want, tc.in)
	}
	assert.True(t, IsSwarm("swarm"))
	assert.True(t, IsSwarm("swarm:free"))
	assert.False(t, IsSwarm("swarmy"))
	assert.False(t, IsSwarm("pct:2"))
}

// TestSwarmDraw: a run's strategy is a pure function of its seed, and over
// the seeds of a soak's runs each member is drawn at its expected
// frequency, 1/n of the runs (within 5 standard deviations: a draw that
// favoured or starved a member, or ignored the seed, fails).
func TestSwarmDraw(t *testing.T) {
	for _, spec := range []string{"swarm", "swarm:free,pct:2", "swarm:random,pct:1,pct:3"} {
		members, _, err := ParseSwarm(spec)
		require.NoError(t, err)
		const n = 20_000
		count := map[string]int{}
		for _, st := range Sequence(42, scenarios.Names(), 0, n) {
			d := SwarmDraw(st.Seed, members)
			require.Equal(t, d, SwarmDraw(st.Seed, members), "the draw is a function of the seed")
			count[d]++
		}
		require.Len(t, count, len(members), "%s: every member is drawn: %v", spec, count)
		p := 1 / float64(len(members))
		sd := math.Sqrt(n * p * (1 - p))
		for _, m := range members {
			assert.InDelta(t, n*p, count[m], 5*sd, "%s: %s drawn %d times of %d", spec, m, count[m], n)
		}
		t.Logf("%s over %d runs: %v", spec, n, count)
	}
	// Consecutive seeds (as `run --seed N`) draw alike.
	members, _, _ := ParseSwarm("swarm")
	count := map[string]int{}
	for seed := range uint64(10_000) {
		count[SwarmDraw(seed, members)]++
	}
	for _, m := range members {
		assert.InDelta(t, 2000, count[m], 200, "%s over seeds 0..9999: %v", m, count)
	}
	// The draw depends on the swarm's set, not on how it was listed.
	a, _, _ := ParseSwarm("swarm:pct:2,free,random")
	b, _, _ := ParseSwarm("swarm:random,pct:2,free")
	for seed := range uint64(100) {
		require.Equal(t, SwarmDraw(seed, a), SwarmDraw(seed, b))
	}
}

// TestSwarmConfig: a swarm that draws free-running runs needs Chaos, and
// any swarm a failpoint build; the error says which.
func TestSwarmConfig(t *testing.T) {
	sc, _ := scenarios.Lookup("spsc-stream")
	c := Config{Runs: 1, Scale: 0.01, Sched: "swarm", Scenarios: []scenarios.Scenario{sc}}
	_, err := Run(context.Background(), c)
	require.ErrorContains(t, err, "draws free-running runs")
	_, err = Run(context.Background(), Config{Runs: 1, Sched: "swarm:pct:0"})
	require.ErrorContains(t, err, `member "pct:0"`)
	if !chaos.Available() {
		c.Chaos = true
		_, err = Run(context.Background(), c)
		require.ErrorIs(t, err, chaos.ErrNoFailpoints)
	}
}
