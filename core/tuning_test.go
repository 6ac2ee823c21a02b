package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// TestKnobs: the tuning table is sorted, each default lies in its range,
// and (a plain build) the knobs in effect are the defaults.
func TestKnobs(t *testing.T) {
	knobs := core.Knobs()
	require.NotEmpty(t, knobs)
	defaults := map[string]int{}
	for i, k := range knobs {
		if i > 0 {
			require.Less(t, knobs[i-1].Name, k.Name, "Knobs is sorted by name")
		}
		require.LessOrEqual(t, k.Min, k.Default, k.Name)
		require.LessOrEqual(t, k.Default, k.Max, k.Name)
		defaults[k.Name] = k.Default
	}
	require.NoError(t, core.CheckTuning(defaults))
	require.NoError(t, core.CheckTuning(nil))
	if !chaosBuild {
		require.Equal(t, defaults, core.Tuning(), "a plain build keeps its constants")
	}
	knobs[0].Default = -100
	require.NotEqual(t, -100, core.Knobs()[0].Default, "Knobs returns a copy")
}

func TestCheckTuningRejects(t *testing.T) {
	for _, tc := range []struct {
		m    map[string]int
		want string
	}{
		{map[string]int{"pool/nope": 1}, `unknown tuning knob "pool/nope" (known: group/range-chunk,`},
		{map[string]int{"pool/batch-max": 0}, `"pool/batch-max": 0 is outside [1, 1024]`},
		{map[string]int{"pool/batch-max": 1 << 16}, `is outside`},
		{map[string]int{"park/park-first": 1}, `"park/park-first": 1 is outside [-8, 0]`},
		{map[string]int{"pool/idle-timeout-us": 200000}, `outside [0, 100000]`},
		{map[string]int{"pool/monitor-tick-us": 0}, `outside [10, 20000]`},
		{map[string]int{"pool/min-queue": 3}, `"pool/min-queue": 3 is not a power of two`},
	} {
		require.ErrorContains(t, core.CheckTuning(tc.m), tc.want, "%v", tc.m)
	}
}
