package sched_test

import (
	"testing"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStrategy(t *testing.T) {
	for _, s := range []string{"random", "pct:1", "pct:3"} {
		st, err := sched.ParseStrategy(s)
		require.NoError(t, err)
		assert.Equal(t, s, st.String())
	}
	assert.Equal(t, "random", sched.Strategy{}.String())
	for in, msg := range map[string]string{
		"foo":    `sched: unknown strategy "foo" (want random or pct:D)`,
		"":       `sched: unknown strategy "" (want random or pct:D)`,
		"PCT:2":  `sched: unknown strategy "PCT:2" (want random or pct:D)`,
		"pct:x":  `sched: pct depth "x" is not an integer ≥ 1`,
		"pct:0":  `sched: pct depth "0" is not an integer ≥ 1`,
		"pct:-1": `sched: pct depth "-1" is not an integer ≥ 1`,
		"pct:":   `sched: pct depth "" is not an integer ≥ 1`,
	} {
		_, err := sched.ParseStrategy(in)
		assert.EqualError(t, err, msg, "input %q", in)
	}
	assert.PanicsWithValue(t, "sched: pct depth 0 is not ≥ 1", func() { sched.PCT(0) })
}
