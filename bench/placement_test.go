package bench_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/bench"
	"github.com/nimsync/nimsync/internal/reportkit"
)

// scriptedRTT returns a LineRTT that measures values in turn (Run calls it
// before and after each case's round).
func scriptedRTT(values ...float64) func() float64 {
	var mu sync.Mutex
	k := 0
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		v := values[k%len(values)]
		k++
		return v
	}
}

// TestRunSplitsByPlacement: rounds measured with the cores near and far
// give two rows, each with the samples and ratios of its own rounds, and a
// round whose placement changed midway a row of its own.
func TestRunSplitsByPlacement(t *testing.T) {
	rec := newRecorder()
	o := tiny
	o.Rounds = 5
	// Round trips before and after each round: near, far, near, far, mixed.
	o.LineRTT = scriptedRTT(100, 102, 360, 350, 98, 101, 370, 365, 100, 360)
	rep, err := bench.Run(context.Background(), []bench.Case{{
		Group: "channels", Name: "Fake", Metric: "items/s", Higher: true,
		Impls: []bench.Contender{rec.impl("nimsync", "items/s", 30, 10, 32, 11, 20), rec.impl("gochan", "items/s", 10, 10, 10, 10, 10)},
	}}, o)
	require.NoError(t, err)
	require.Len(t, rep.Rows, 3)
	near, far, mixed := rep.Rows[0], rep.Rows[1], rep.Rows[2]
	assert.Equal(t, bench.PlaceNear, near.Place)
	assert.Equal(t, []float64{30, 32}, near.Impls[0].Samples)
	assert.Equal(t, []float64{3, 3.2}, near.Ratios)
	assert.Equal(t, []float64{100, 98}, near.LineRTTNs)
	assert.Equal(t, bench.PlaceFar, far.Place)
	assert.Equal(t, []float64{10, 11}, far.Impls[0].Samples)
	assert.Equal(t, []float64{1, 1.1}, far.Ratios)
	assert.Equal(t, []float64{350, 365}, far.LineRTTNs)
	assert.Equal(t, bench.PlaceMixed, mixed.Place)
	assert.Equal(t, []float64{20}, mixed.Impls[0].Samples)
	for _, r := range rep.Rows {
		assert.Equal(t, "Fake", r.Name, "the placement is a field, not part of the name")
	}

	p := rep.Placement
	require.NotNil(t, p)
	assert.Equal(t, bench.RuleGap, p.Rule)
	assert.Greater(t, p.ThresholdNs, 102.0)
	assert.Less(t, p.ThresholdNs, 350.0)
	assert.Equal(t, []bench.PlaceCount{{Place: "near", Rounds: 2, MedianRTTNs: 99}, {Place: "far", Rounds: 2, MedianRTTNs: 357.5},
		{Place: "mixed", Rounds: 1, MedianRTTNs: 100}}, p.Places)
}

// TestMemoryRowsIgnorePlacement: a memory case's bytes do not move with
// the vCPUs' placement: it keeps one row over every round, near or far.
func TestMemoryRowsIgnorePlacement(t *testing.T) {
	rec := newRecorder()
	o := tiny
	o.Rounds = 4
	o.LineRTT = scriptedRTT(100, 102, 360, 350, 98, 101, 370, 365)
	rep, err := bench.Run(context.Background(), []bench.Case{{
		Group: "memory", Name: "FakeMem", Metric: "B/channel",
		Impls: []bench.Contender{rec.impl("nimsync", "B/channel", 200, 200, 200, 200), rec.impl("gochan", "B/channel", 128, 128, 128, 128)},
	}}, o)
	require.NoError(t, err)
	require.Len(t, rep.Rows, 1)
	assert.Empty(t, rep.Rows[0].Place)
	assert.Len(t, rep.Rows[0].Impls[0].Samples, 4, "every round")
	assert.Empty(t, rep.Rows[0].LineRTTNs)
}

// TestRunOnePlacement: a run that saw one placement gives one row per case
// at it, and its report says that only one was observed.
func TestRunOnePlacement(t *testing.T) {
	rec := newRecorder()
	o := tiny
	o.Rounds = 3
	o.LineRTT = scriptedRTT(360, 371, 355, 380, 362, 359)
	rep, err := bench.Run(context.Background(), []bench.Case{{
		Group: "channels", Name: "Fake", Metric: "items/s", Higher: true,
		Impls: []bench.Contender{rec.impl("nimsync", "items/s", 1, 2, 3), rec.impl("gochan", "items/s", 1)},
	}}, o)
	require.NoError(t, err)
	require.Len(t, rep.Rows, 1)
	assert.Equal(t, bench.PlaceFar, rep.Rows[0].Place)
	assert.Len(t, rep.Rows[0].Impls[0].Samples, 3)
	assert.Equal(t, bench.RuleSingle, rep.Placement.Rule)
	assert.Contains(t, bench.ReadmeTable(rep), "**Only one placement was observed in this run: far**")
	assert.Contains(t, bench.ReadmeTable(rep), "| `Fake/place=far` (items/s) |")

	// No round trip measured at all: every round unknown, one row.
	o.LineRTT = func() float64 { return 0 }
	rep, err = bench.Run(context.Background(), []bench.Case{{
		Group: "channels", Name: "Fake", Metric: "items/s", Higher: true,
		Impls: []bench.Contender{rec.impl("nimsync", "items/s", 1)},
	}}, o)
	require.NoError(t, err)
	require.Len(t, rep.Rows, 1)
	assert.Equal(t, bench.PlaceUnknown, rep.Rows[0].Place)
}

// TestRunWarmsUp: a warm-up round runs every implementation of every case
// once, under its GOMAXPROCS, before the measured rounds, and is neither
// recorded nor reported to Progress.
func TestRunWarmsUp(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rec := newRecorder()
	o := tiny
	o.Rounds = 2
	o.WarmUp = 0 // the default: a fifth of the benchtime
	var progress int
	o.Progress = func(int, int, *bench.Case, string, float64) { progress++ }
	var mu sync.Mutex
	var procs []int
	counted := func(c bench.Contender) bench.Contender {
		run := c.Run
		c.Run = func(b *testing.B) {
			mu.Lock()
			procs = append(procs, runtime.GOMAXPROCS(0))
			mu.Unlock()
			run(b)
		}
		return c
	}
	rep, err := bench.Run(context.Background(), []bench.Case{
		{Group: "g", Name: "A", Metric: "x", Higher: true,
			Impls: []bench.Contender{rec.impl("nimsync", "x", 99, 1, 2), rec.impl("peer", "x", 99, 1, 1)}},
		{Group: "scaling", Name: "B/procs=1", Metric: "x", Procs: 1,
			Impls: []bench.Contender{counted(rec.impl("b", "x", 99, 5, 6))}},
	}, o)
	require.NoError(t, err)
	assert.Equal(t, strings.Fields("nimsync peer b  nimsync peer b  peer nimsync b"), rec.measured(), "warm-up, then the rounds")
	assert.Equal(t, []float64{1, 2}, rep.Rows[0].Impls[0].Samples, "the warm-up's 99 is not recorded")
	assert.Equal(t, []float64{5, 6}, rep.Rows[1].Impls[0].Samples)
	assert.Equal(t, 6, progress, "Progress: the measured runs, not the warm-up's")
	assert.False(t, slices.ContainsFunc(procs, func(p int) bool { return p != 1 }), "B warmed up and measured at GOMAXPROCS 1: %v", procs)
}

// TestCompareSegregatesPlacements: a row is compared with the baseline's
// row of the same placement only; a case the baseline has only at another
// placement is not judged.
func TestCompareSegregatesPlacements(t *testing.T) {
	placed := func(place string, ratios []float64) bench.Row {
		r := ratioReport(ratios, nil).Rows[0]
		r.Place = place
		return r
	}
	base := ratioReport(nil, nil)
	// Near, nimsync is 3× Go; far, 1×.
	base.Rows = []bench.Row{placed(bench.PlaceNear, jitter(3, 0.01, 8)), placed(bench.PlaceFar, jitter(1, 0.01, 8))}
	cur := ratioReport(nil, nil)
	cur.Rows = []bench.Row{placed(bench.PlaceFar, jitter(1, 0.01, 8))}
	c := bench.Compare(base, cur, 0.05)
	require.Len(t, c.Rows, 1)
	assert.Equal(t, bench.PlaceFar, c.Rows[0].Place)
	assert.Equal(t, reportkit.Unchanged, c.Rows[0].Verdict, "far against far: no regression, though near was 3×")
	assert.False(t, c.Regressed())
	assert.Contains(t, strings.Join(c.Notes, "\n"), "only in the baseline (not compared): Chan/topo=1p1c/place=near")
	assert.Contains(t, c.Markdown(), "| `Chan/topo=1p1c/place=far` (items/s) | gochan |")

	// The baseline saw only near: the current far row is refused.
	base.Rows = base.Rows[:1]
	c = bench.Compare(base, cur, 0.05)
	require.Len(t, c.Rows, 1)
	r := c.Rows[0]
	assert.Equal(t, reportkit.Insufficient, r.Verdict)
	assert.Contains(t, strings.Join(r.Notes, ";"), "measured at place=far; the baseline has this case only at place=near, and placements are not compared with each other")
	assert.False(t, c.Regressed())
	assert.NotContains(t, strings.Join(c.Notes, "\n"), "only in the baseline", "the refused row names it")
}

// TestQuickHasTheNewRows: --quick runs the MPMC rows at 4p4c, 8p8c and
// 16p16c, and the GOMAXPROCS sweep of the five channel rows, each with a
// Go channel in the same case.
func TestQuickHasTheNewRows(t *testing.T) {
	quick := map[string]bench.Case{}
	for _, c := range bench.Cases() {
		if c.Quick {
			quick[c.Name] = c
		}
	}
	want := []string{
		"Chan/flavor=mpmc/topo=4p4c/cap=64", "Chan/flavor=mpmc/topo=8p8c/cap=64", "Chan/flavor=mpmc/topo=16p16c/cap=64",
	}
	procs := []int{1, 2, runtime.NumCPU()}
	for _, p := range procs {
		if p > runtime.NumCPU() {
			continue
		}
		for _, ch := range []string{"spsc/topo=1p1c", "mpsc/topo=2p1c", "spmc/topo=1p2c", "mpmc/topo=2p2c", "mpmc/topo=8p8c"} {
			want = append(want, "Chan/flavor="+ch+"/cap=1024/procs="+strconv.Itoa(p))
		}
	}
	for _, name := range want {
		c, ok := quick[name]
		if !assert.True(t, ok, "no quick case %s", name) {
			continue
		}
		require.GreaterOrEqual(t, len(c.Impls), 2, name)
		assert.Equal(t, "gochan", c.Impls[1].Name, name)
		if strings.Contains(name, "procs=") {
			assert.Equal(t, "scaling", c.Group, name)
			assert.Positive(t, c.Procs, name)
		}
	}
	// The sweep names each GOMAXPROCS once.
	seen := map[string]int{}
	for _, c := range bench.Cases() {
		seen[c.Name]++
	}
	for name, n := range seen {
		assert.Equal(t, 1, n, name)
	}
}

// TestReportShowsPlacements: raw.txt names the placement as a key of the
// benchmark's name, and report.md says how the rounds were classed and
// labels each row with its placement.
func TestReportShowsPlacements(t *testing.T) {
	rep := synthReport(5)
	near, far := rep.Rows[0], rep.Rows[0]
	near.Place, far.Place = bench.PlaceNear, bench.PlaceFar
	rep.Rows = []bench.Row{near, far}
	rep.Placement = &bench.Placement{Rule: bench.RuleGap, ThresholdNs: 190,
		Places: []bench.PlaceCount{{Place: "near", Rounds: 5, MedianRTTNs: 101}, {Place: "far", Rounds: 5, MedianRTTNs: 362}}}

	var raw bytes.Buffer
	require.NoError(t, bench.WriteRaw(&raw, rep))
	assert.Contains(t, raw.String(), "BenchmarkChan/topo=1p1c/cap=1024/place=near/impl=nimsync-2 \t1\t")
	assert.Contains(t, raw.String(), "BenchmarkChan/topo=1p1c/cap=1024/place=far/impl=gochan-2 \t1\t")

	dir := t.TempDir()
	require.NoError(t, bench.WriteReport(dir, rep, raw.Bytes()))
	md, err := os.ReadFile(filepath.Join(dir, bench.MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "**Placement of the vCPUs.** Each case's round is classed")
	assert.Contains(t, string(md), "This run saw two placements, split at 190 ns")
	assert.Contains(t, string(md), "| `Chan/topo=1p1c/cap=1024/place=near` (items/s) |")
	assert.Contains(t, string(md), "| `Chan/topo=1p1c/cap=1024/place=far` (items/s) |")
	back, err := bench.ReadReport(dir)
	require.NoError(t, err)
	assert.Equal(t, rep.Placement, back.Placement)
	assert.Equal(t, bench.PlaceFar, back.Rows[1].Place)
}
