package sched_test

import (
	"testing"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStrategy(t *testing.T) {
	for _, s := range []string{"random", "pct:1", "pct:3", "dfs:0", "dfs:2"} {
		st, err := sched.ParseStrategy(s)
		require.NoError(t, err)
		assert.Equal(t, s, st.String())
	}
	assert.Equal(t, "random", sched.Strategy{}.String())
	for in, msg := range map[string]string{
		"foo":    `sched: unknown strategy "foo" (want random, pct:D or dfs:K)`,
		"":       `sched: unknown strategy "" (want random, pct:D or dfs:K)`,
		"PCT:2":  `sched: unknown strategy "PCT:2" (want random, pct:D or dfs:K)`,
		"pct:x":  `sched: pct depth "x" is not an integer ≥ 1`,
		"pct:0":  `sched: pct depth "0" is not an integer ≥ 1`,
		"pct:-1": `sched: pct depth "-1" is not an integer ≥ 1`,
		"pct:":   `sched: pct depth "" is not an integer ≥ 1`,
		"dfs:-1": `sched: dfs preemption bound "-1" is not an integer ≥ 0`,
		"dfs:k":  `sched: dfs preemption bound "k" is not an integer ≥ 0`,
	} {
		_, err := sched.ParseStrategy(in)
		assert.EqualError(t, err, msg, "input %q", in)
	}
	assert.PanicsWithValue(t, "sched: pct depth 0 is not ≥ 1", func() { sched.PCT(0) })
	assert.PanicsWithValue(t, "sched: dfs preemption bound -1 is negative", func() { sched.DFS(-1) })
	assert.True(t, sched.DFS(1).Exhaustive())
	assert.False(t, sched.PCT(1).Exhaustive())
}

// TestPCTHorizon: PCT's change points fall in [0, Options.Horizon). With a
// horizon far past the runs' length (the livelock bound) they rarely fall
// inside a run, and pct:2 finds the lost update (which needs one change
// point between a read and its write) on few seeds; with a horizon about
// the runs' length it finds it on many more.
func TestPCTHorizon(t *testing.T) {
	const n = 300
	found := func(opts sched.Options) int {
		lost := 0
		for seed := range uint64(n) {
			r, c := runCounter(seed, sched.PCT(2), opts, false)
			require.Nil(t, r.Failure)
			if c.lost() {
				lost++
			}
		}
		return lost
	}
	far := found(sched.Options{MaxSteps: 5000})
	near := found(sched.Options{MaxSteps: 5000, Horizon: 60})
	t.Logf("pct:2 lost updates over %d seeds: %d with the horizon at the step bound (5000), %d with a horizon of 60 steps", n, far, near)
	assert.Greater(t, near, 3*far+10)
	r, _ := runCounter(1, sched.Random(), sched.Options{MaxSteps: 5000, Horizon: 60}, false)
	assert.Less(t, r.Steps, 100, "the counter's runs are shorter than the horizon")
}
