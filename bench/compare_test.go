package bench_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/bench"
	"github.com/nimsync/nimsync/internal/reportkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ratioReport is a report with one peered row whose per-round ratios are
// ratios, and one peerless row with nimsync samples own.
func ratioReport(ratios, own []float64) *bench.Report {
	r := &bench.Report{Schema: bench.SchemaVersion, Date: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
		Machine: bench.Machine{Machine: reportkit.Machine{CPU: "test CPU", Cores: 2, GOMAXPROCS: 2}}, Rounds: len(ratios)}
	peered := bench.Row{Group: "channels", Name: "Chan/topo=1p1c", Metric: "items/s", Higher: true,
		Impls: []bench.Result{{Name: "nimsync"}, {Name: "gochan"}}, Ratios: ratios}
	for _, x := range ratios {
		peered.Impls[0].Samples = append(peered.Impls[0].Samples, 10e6*x)
		peered.Impls[1].Samples = append(peered.Impls[1].Samples, 10e6)
	}
	peerless := bench.Row{Group: "memory", Name: "ChanSize", Metric: "B/channel",
		Impls: []bench.Result{{Name: "nimsync", Samples: own}}}
	r.Rows = []bench.Row{peered, peerless}
	return r
}

func rowOf(t *testing.T, c bench.Comparison, name string) bench.CompareRow {
	t.Helper()
	for _, r := range c.Rows {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no row %s in %+v", name, c.Rows)
	return bench.CompareRow{}
}

func TestCompareFlagsRatioRegression(t *testing.T) {
	base := ratioReport(jitter(3.0, 0.1, 8), jitter(384, 0.01, 8))
	cur := ratioReport(jitter(2.0, 0.1, 8), jitter(384, 0.01, 8))
	c := bench.Compare(base, cur, 0.05)
	require.True(t, c.Regressed())
	r := rowOf(t, c, "Chan/topo=1p1c")
	assert.Equal(t, reportkit.Regressed, r.Verdict)
	assert.Equal(t, "gochan", r.Peer)
	assert.Equal(t, 8, r.NBase)
	assert.Equal(t, 8, r.NCur)
	assert.Less(t, r.P, 0.05)
	assert.InDelta(t, 2.0/3.0, r.Change, 0.02)

	md := c.Markdown()
	assert.Contains(t, md, "## Comparison with the baseline: REGRESSED")
	assert.Contains(t, md, "| `Chan/topo=1p1c` (items/s) | gochan | 3.03× | 2.02× | -33.3% | 0.000 | 8+8 | **regressed** |")
	assert.Contains(t, md, "**regressed**")

	// The other way round it is an improvement, not a regression.
	c = bench.Compare(cur, base, 0.05)
	assert.False(t, c.Regressed())
	assert.Equal(t, reportkit.Improved, rowOf(t, c, "Chan/topo=1p1c").Verdict)
}

func TestCompareIgnoresNoise(t *testing.T) {
	// The same ratio with ±10% noise, and a shift that is significant
	// but within the noise floor.
	for name, cur := range map[string][]float64{
		"noise":       {3.1, 2.8, 3.3, 2.9, 3.0, 2.75, 3.2, 3.05},
		"small shift": jitter(2.85, 0.01, 8),
	} {
		c := bench.Compare(ratioReport(jitter(3.0, 0.01, 8), nil), ratioReport(cur, nil), 0.05)
		assert.False(t, c.Regressed(), name)
		assert.Equal(t, reportkit.Unchanged, rowOf(t, c, "Chan/topo=1p1c").Verdict, name)
	}
}

func TestCompareInsufficient(t *testing.T) {
	base := ratioReport(jitter(3.0, 0.1, 8), nil)
	cur := ratioReport([]float64{1.0, 1.1, 0.9}, nil) // a collapse, but 3 rounds
	c := bench.Compare(base, cur, 0.05)
	assert.False(t, c.Regressed())
	r := rowOf(t, c, "Chan/topo=1p1c")
	assert.Equal(t, reportkit.Insufficient, r.Verdict)
	assert.Contains(t, strings.Join(r.Notes, ";"), "need ≥ 4 samples on each side, have 8 (base) and 3 (current)")
	assert.Contains(t, c.Markdown(), "insufficient samples")

	// A different primary peer makes the ratios incomparable.
	cur = ratioReport(jitter(1.0, 0.1, 8), nil)
	cur.Rows[0].Impls[1].Name = "ants"
	r = rowOf(t, bench.Compare(base, cur, 0.05), "Chan/topo=1p1c")
	assert.Equal(t, reportkit.Insufficient, r.Verdict)
	assert.Contains(t, r.Notes[0], "primary peer changed")
}

func TestComparePeerlessNeverRegresses(t *testing.T) {
	// nimsync's own bytes per channel tripled: information only.
	base := ratioReport(jitter(3.0, 0.01, 8), jitter(384, 0.01, 8))
	cur := ratioReport(jitter(3.0, 0.01, 8), jitter(1152, 0.01, 8))
	c := bench.Compare(base, cur, 0.05)
	assert.False(t, c.Regressed())
	r := rowOf(t, c, "ChanSize")
	assert.Equal(t, reportkit.Info, r.Verdict)
	assert.Empty(t, r.Peer)
	assert.Less(t, r.P, 0.05)
	assert.InDelta(t, 3.0, r.Change, 0.05)
	assert.Contains(t, c.Markdown(), "| `ChanSize` (B/channel) | — | 384 B | 1.13 KiB | +200.0% |")
}

func TestCompareRowsOnOneSide(t *testing.T) {
	base := ratioReport(jitter(3.0, 0.01, 8), nil)
	cur := ratioReport(jitter(3.0, 0.01, 8), nil)
	cur.Rows[0].Procs = 4 // no longer the same row
	cur.Machine.CPU = "other CPU"
	c := bench.Compare(base, cur, 0.05)
	assert.False(t, c.Regressed())
	require.Len(t, c.Rows, 1)
	notes := strings.Join(c.Notes, "\n")
	assert.Contains(t, notes, "only in the current report (not compared): Chan/topo=1p1c, GOMAXPROCS=4")
	assert.Contains(t, notes, "only in the baseline (not compared): Chan/topo=1p1c")
	assert.Contains(t, notes, "different machines")

	c = bench.Compare(base, cur, 7)
	assert.Equal(t, 0.05, c.Alpha)
	assert.Contains(t, c.Notes[0], "alpha 7 is not in (0, 1)")
	assert.Contains(t, bench.Compare(nil, cur, 0.05).Markdown(), "No row to compare.")
}
