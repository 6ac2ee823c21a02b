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
