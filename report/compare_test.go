package report_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/internal/reportkit"
	"github.com/nimsync/nimsync/report"
)

// night is one night's report with one scenario per entry of scs: n
// samples of throughput around ops and P99 around p99ns, both with 3%
// Gaussian noise drawn from seed.
func night(seed uint64, scs ...nightScenario) *report.Report {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	r := &report.Report{Seed: seed, Shards: []string{"0/1"}, Machine: report.Machine{CPU: "Test CPU", Cores: 8, GOMAXPROCS: 8, GoVersion: "go1.26.0", OS: "linux", Arch: "amd64"}}
	for _, s := range scs {
		sc := report.Scenario{Name: s.name}
		for i := range s.n {
			p99 := int64(s.p99 * (1 + 0.03*rng.NormFloat64()))
			sc.Samples = append(sc.Samples, report.Sample{
				T:         float64(10 * (i + 1)),
				OpsPerSec: s.ops * (1 + 0.03*rng.NormFloat64()),
				Latency:   report.Percentiles{Count: 500, P50: p99 / 8, P95: p99 / 2, P99: p99, P999: p99 * 3, Max: p99 * 10},
			})
		}
		r.Scenarios = append(r.Scenarios, sc)
	}
	return r
}

type nightScenario struct {
	name     string
	n        int
	ops, p99 float64
}

// rows indexes c's rows by "scenario metric".
func rows(c report.Comparison) map[string]report.ComparisonRow {
	m := map[string]report.ComparisonRow{}
	for _, r := range c.Rows {
		m[r.Scenario+" "+string(r.Metric)] = r
	}
	return m
}

func TestCompareFlagsRegression(t *testing.T) {
	base := night(1, nightScenario{"chan/mpmc", 30, 1000, 5000}, nightScenario{"group", 30, 2000, 3000})
	cur := night(2, nightScenario{"chan/mpmc", 30, 700, 5000}, nightScenario{"group", 30, 2000, 8000})

	c, err := report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	require.True(t, c.Regressed())
	require.Len(t, c.Rows, 4)
	rs := rows(c)

	thr := rs["chan/mpmc ops/s"]
	assert.Equal(t, reportkit.Regressed, thr.Verdict)
	assert.InDelta(t, 0.7, thr.Change, 0.03)
	assert.InDelta(t, 1000, thr.Base, 30)
	assert.InDelta(t, 700, thr.Cur, 30)
	assert.Less(t, thr.P, 0.001)
	assert.Equal(t, 30, thr.NBase)
	assert.Equal(t, 30, thr.NCur)
	assert.Equal(t, reportkit.Unchanged, rs["chan/mpmc P99"].Verdict)

	assert.Equal(t, reportkit.Unchanged, rs["group ops/s"].Verdict)
	lat := rs["group P99"]
	assert.Equal(t, reportkit.Regressed, lat.Verdict, "P99 rose")
	assert.InDelta(t, 8.0/3, lat.Change, 0.1)

	md := c.Markdown()
	assert.Contains(t, md, "REGRESSED")
	assert.Contains(t, md, "2 regressed, 0 improved, 2 unchanged, 0 not judged")
	assert.Regexp(t, `\| chan/mpmc \| ops/s \| 99\d/s \| 69\d/s \| -3\d\.\d% \| 0\.000 \|`, md)
	assert.Regexp(t, `\| group \| P99 \| 3(\.\d+)? µs \| 7\.\d+ µs \| \+16\d\.\d% \|`, md)
	assert.Contains(t, md, "| 30+30 | **regressed** |")
	assert.Contains(t, md, "alpha = 0.05")
}

func TestCompareNoise(t *testing.T) {
	for seed := uint64(0); seed < 10; seed++ {
		base := night(100+seed, nightScenario{"chan/spsc", 30, 1000, 5000})
		cur := night(200+seed, nightScenario{"chan/spsc", 30, 1000, 5000})
		c, err := report.Compare(base, cur, 0.05)
		require.NoError(t, err)
		assert.False(t, c.Regressed(), "seed %d:\n%s", seed, c.Markdown())
		for _, r := range c.Rows {
			assert.Equal(t, reportkit.Unchanged, r.Verdict, "seed %d %s", seed, r.Metric)
			assert.False(t, math.IsNaN(r.P))
		}
	}
}

// A real but small change (2%) is significant yet under the noise floor.
func TestCompareNoiseFloor(t *testing.T) {
	base := night(1, nightScenario{"s", 200, 1000, 5000})
	cur := night(2, nightScenario{"s", 200, 980, 5000})
	c, err := report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	row := rows(c)["s ops/s"]
	assert.Less(t, row.P, 0.05, "the change is significant")
	assert.Equal(t, reportkit.Unchanged, row.Verdict, "but within the noise floor")
	assert.False(t, c.Regressed())
}

func TestCompareImprovement(t *testing.T) {
	base := night(1, nightScenario{"s", 30, 1000, 5000})
	cur := night(2, nightScenario{"s", 30, 1300, 2500})
	c, err := report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	assert.False(t, c.Regressed())
	rs := rows(c)
	assert.Equal(t, reportkit.Improved, rs["s ops/s"].Verdict)
	assert.Equal(t, reportkit.Improved, rs["s P99"].Verdict)
	assert.Contains(t, c.Markdown(), "no regression")
}

func TestCompareInsufficient(t *testing.T) {
	base := night(1, nightScenario{"few", 30, 1000, 5000}, nightScenario{"gone", 30, 1000, 5000})
	// Three dreadful samples, a new scenario, and one that vanished.
	cur := night(2, nightScenario{"few", 3, 100, 50000}, nightScenario{"new", 30, 1000, 5000})
	c, err := report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	assert.False(t, c.Regressed(), "too few samples is never a regression")
	require.Len(t, c.Rows, 6)
	for _, r := range c.Rows {
		assert.Equal(t, reportkit.Insufficient, r.Verdict, "%s %s", r.Scenario, r.Metric)
		assert.True(t, math.IsNaN(r.P), "no test ran")
		assert.NotEmpty(t, r.Notes)
	}
	rs := rows(c)
	assert.Equal(t, 3, rs["few ops/s"].NCur)
	assert.Equal(t, 0, rs["gone ops/s"].NCur)
	assert.Equal(t, 0, rs["new P99"].NBase)
	assert.Equal(t, []string{"few", "few", "gone", "gone", "new", "new"}, func() []string {
		var names []string
		for _, r := range c.Rows {
			names = append(names, r.Scenario)
		}
		return names
	}(), "base's scenarios first, then the new ones")

	md := c.Markdown()
	assert.Contains(t, md, "0 regressed, 0 improved, 0 unchanged, 6 not judged")
	assert.Contains(t, md, "| 30+3 | insufficient samples |")
	assert.Contains(t, md, "need ≥ 5 samples")

	// Intervals without latency samples do not count for P99.
	for i := range cur.Scenarios[1].Samples {
		cur.Scenarios[1].Samples[i].Latency = report.Percentiles{}
	}
	c, err = report.Compare(cur, cur, 0.05)
	require.NoError(t, err)
	rs = rows(c)
	assert.Equal(t, reportkit.Unchanged, rs["new ops/s"].Verdict)
	assert.Equal(t, reportkit.Insufficient, rs["new P99"].Verdict)
	assert.Equal(t, 0, rs["new P99"].NBase)

	// A tiny alpha needs more samples than MinSamples to ever be reached.
	c, err = report.Compare(night(1, nightScenario{"s", 5, 1000, 5000}), night(2, nightScenario{"s", 5, 10, 5000}), 0.001)
	require.NoError(t, err)
	assert.Equal(t, reportkit.Insufficient, c.Rows[0].Verdict)
	assert.Contains(t, strings.Join(c.Rows[0].Notes, " "), "cannot reach p < 0.001")
}

func TestCompareWarnsAndRejects(t *testing.T) {
	base := night(1, nightScenario{"s", 30, 1000, 5000})
	cur := night(2, nightScenario{"s", 30, 1000, 5000})
	cur.Seed = base.Seed
	cur.Machine.Cores = 64
	c, err := report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	require.Len(t, c.Notes, 1)
	assert.Contains(t, c.Notes[0], "different machines")
	assert.Contains(t, c.Markdown(), "**Warning:**")

	// A new seed (a bug-hunting lane's every night) and another duration
	// are remarked.
	cur.Machine = base.Machine
	cur.Seed, base.Duration, cur.Duration = 2, 600, 1200
	c, err = report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	require.Len(t, c.Notes, 2)
	assert.Contains(t, c.Notes[0], "the seeds differ (base 1, current 2)")
	assert.Contains(t, c.Notes[1], "the durations differ (base 600s, current 1200s)")

	// Nights that measured different work are refused, saying what differs.
	for _, tc := range []struct {
		change func(b, k *report.Report)
		want   string
	}{
		{func(_, k *report.Report) { k.Scale = 0.5 }, "the scales differ (base 0, current 0.5)"},
		{func(_, k *report.Report) { k.ScenarioSet = []string{"s", "t"} }, "the scenario sets differ"},
		{func(b, k *report.Report) { b.ShardCount, k.ShardCount = 4, 2 }, "the shard counts differ (base 4, current 2)"},
		{func(_, k *report.Report) { k.Lane = "perf" }, `the lanes differ (base "", current "perf")`},
	} {
		b, k := *base, *cur
		tc.change(&b, &k)
		_, err := report.Compare(&b, &k, 0.05)
		require.ErrorIs(t, err, report.ErrUnlike, tc.want)
		assert.ErrorContains(t, err, tc.want)
	}
	old := *base
	old.ShardCount = 0 // schema 1: not recorded
	k := *cur
	k.ShardCount = 3
	_, err = report.Compare(&old, &k, 0.05)
	assert.NoError(t, err, "a shard count only one side records is not a difference")

	for _, alpha := range []float64{0, 1, -0.1, math.NaN()} {
		_, err := report.Compare(base, cur, alpha)
		assert.Error(t, err, "alpha %v", alpha)
	}
	_, err = report.Compare(nil, cur, 0.05)
	assert.Error(t, err)
	_, err = report.Compare(base, nil, 0.05)
	assert.Error(t, err)
	assert.Equal(t, "insufficient samples", reportkit.Verdict(0).String(), "the zero Verdict is not a pass")
}
