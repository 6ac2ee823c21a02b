package report_test

import (
	"cmp"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/report"
)

func TestMerge(t *testing.T) {
	a := synth(42, "1/2", true)
	b := synth(42, "0/2", false)
	b.Elapsed = 700
	b.Started = a.Started.Add(-time.Second)
	b.Scenarios[0].Latency = report.Percentiles{Count: 40000, P50: 700, P95: 3000, P99: 9000, P999: 20000, Max: 5_000_000}
	b.Leak = report.Leak{GoroutineSlope: 0.01, HeapSlope: 4, GoroutineTolerance: 0.02, HeapTolerance: 2048, Samples: 50, OK: false, Note: "goroutines grow"}
	before := func() string { return mustJSON(t, a) + mustJSON(t, b) }()

	m, err := report.Merge(a, b)
	require.NoError(t, err)
	assert.Equal(t, before, mustJSON(t, a)+mustJSON(t, b), "Merge must not modify its arguments")

	assert.Equal(t, report.SchemaVersion, m.Schema)
	assert.Equal(t, []string{"0/2", "1/2"}, m.Shards)
	assert.Equal(t, uint64(42), m.Seed)
	assert.Equal(t, 700.0, m.Elapsed, "Elapsed is the max")
	assert.Equal(t, b.Started, m.Started, "Started is the earliest")
	assert.False(t, m.Passed, "one shard failed")
	assert.Len(t, m.Runs, len(a.Runs)+len(b.Runs))
	assert.Equal(t, "0/2", m.Runs[0].Shard, "runs in shard order")
	assert.Len(t, m.Failures, 1)
	assert.Len(t, m.Runtime, len(a.Runtime)+len(b.Runtime))
	assert.True(t, slices.IsSortedFunc(m.Runtime, func(x, y report.RuntimeSample) int { return cmp.Compare(x.T, y.T) }))

	require.Len(t, m.Scenarios, 3)
	for i, sc := range m.Scenarios {
		sa, sb := a.Scenarios[i], b.Scenarios[i]
		assert.Equal(t, sa.Name, sc.Name)
		assert.Equal(t, sa.Runs+sb.Runs, sc.Runs)
		assert.Equal(t, sa.Failures+sb.Failures, sc.Failures)
		assert.Equal(t, sa.Ops+sb.Ops, sc.Ops)
		assert.Equal(t, sa.Seconds+sb.Seconds, sc.Seconds)
		assert.InDelta(t, float64(sa.Ops+sb.Ops)/(sa.Seconds+sb.Seconds), sc.OpsPerSec, 1e-9)
		assert.Len(t, sc.Samples, len(sa.Samples)+len(sb.Samples))
		assert.True(t, slices.IsSortedFunc(sc.Samples, func(x, y report.Sample) int { return cmp.Compare(x.T, y.T) }))
	}
	// Percentiles: counts summed, each percentile the max over shards.
	assert.Equal(t, report.Percentiles{Count: 100000, P50: 900, P95: 3000, P99: 9000, P999: 27000, Max: 5_000_000}, m.Scenarios[0].Latency)
	assert.Equal(t, 1, m.Scenarios[1].Failures)

	assert.Equal(t, report.Leak{
		GoroutineSlope: 0.01, HeapSlope: 12, GoroutineTolerance: 0.02, HeapTolerance: 1024,
		Samples: 110, OK: false, Note: "0/2: goroutines grow",
	}, m.Leak)

	// The order of the arguments does not matter.
	m2, err := report.Merge(b, a)
	require.NoError(t, err)
	assert.Equal(t, m, m2)

	// A merged report merges again, and writes.
	c := synth(42, "2/3", false)
	c.Shards = []string{"10/12", "2/12"}
	m3, err := report.Merge(m, c)
	require.NoError(t, err)
	assert.Equal(t, []string{"0/2", "1/2", "2/12", "10/12"}, m3.Shards)
	require.NoError(t, report.Write(t.TempDir(), m3))
}

func TestMergeAllPassed(t *testing.T) {
	m, err := report.Merge(synth(5, "0/2", false), synth(5, "1/2", false))
	require.NoError(t, err)
	assert.True(t, m.Passed)
	assert.True(t, m.Leak.OK)
	assert.Empty(t, m.Leak.Note)
}

func TestMergeRejects(t *testing.T) {
	chaosOff := synth(42, "1/2", false)
	chaosOff.Chaos, chaosOff.ChaosBuild = "off", false
	noShard := synth(42, "1/2", false)
	noShard.Shards = nil
	future := synth(42, "1/2", false)
	future.Schema = 99
	for _, tc := range []struct {
		name string
		rs   []*report.Report
		want string
	}{
		{"seed mismatch", []*report.Report{synth(1, "0/2", false), synth(2, "1/2", false)}, "seed 1"},
		{"duplicate shard", []*report.Report{synth(42, "0/2", false), synth(42, "0/2", false)}, "shard 0/2 appears twice"},
		{"duplicate within", []*report.Report{{Seed: 42, Shards: []string{"0/2", "0/2"}}}, "shard 0/2 appears twice"},
		{"chaos mismatch", []*report.Report{synth(42, "0/2", false), chaosOff}, "chaos"},
		{"no shard", []*report.Report{synth(42, "0/2", false), noShard}, "names no shard"},
		{"schema", []*report.Report{synth(42, "0/2", false), future}, "schema 99"},
		{"nil", []*report.Report{synth(42, "0/2", false), nil}, "nil"},
		{"none", nil, "no reports"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := report.Merge(tc.rs...)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
