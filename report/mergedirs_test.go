package report_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/report"
)

// shardDir writes shard's report into a directory of its own, with its
// failure's artifact where a soak with --out puts it.
func shardDir(t *testing.T, root, shard string, failing bool) string {
	t.Helper()
	r := synth(7, shard, failing)
	r.ShardCount = 2
	dir := filepath.Join(root, "shard-"+shard[:1])
	if failing {
		f := &r.Failures[0]
		f.Shard = shard
		f.Artifact = filepath.Join("artifacts", "chan_mpmc-3-seed9")
		f.Repro = "scripts/nimsync repro " + filepath.Join(dir, f.Artifact)
		art := filepath.Join(dir, f.Artifact)
		require.NoError(t, os.MkdirAll(filepath.Join(art, "sub"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(art, "artifact.json"), []byte(`{"shard":"`+shard+`"}`), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(art, "sub", "stacks.txt"), []byte("goroutine 1"), 0o644))
	}
	for i := range r.Runtime {
		r.Runtime[i].Shard = shard
	}
	require.NoError(t, report.Write(dir, r))
	return dir
}

// TestMergeDirsKeepsDetail: the merged directory holds every failure's
// artifact (copied under artifacts/SHARD/), its links and repro commands
// name the copies, and each failure and runtime sample keeps its shard.
func TestMergeDirsKeepsDetail(t *testing.T) {
	root := t.TempDir()
	a := shardDir(t, root, "0/2", true)
	b := shardDir(t, root, "1/2", true)
	out := filepath.Join(root, "night")
	m, err := report.MergeDirs(out, b, a)
	require.NoError(t, err)
	require.Len(t, m.Failures, 2)
	for i, shard := range []string{"0/2", "1/2"} {
		f := m.Failures[i]
		assert.Equal(t, shard, f.Shard)
		slug := map[string]string{"0/2": "0-of-2", "1/2": "1-of-2"}[shard]
		assert.Equal(t, filepath.Join("artifacts", slug, "chan_mpmc-3-seed9"), f.Artifact)
		assert.Equal(t, "scripts/nimsync repro "+filepath.Join(out, f.Artifact), f.Repro)
		data, err := os.ReadFile(filepath.Join(out, f.Artifact, "artifact.json"))
		require.NoError(t, err, "the artifact was copied")
		assert.Contains(t, string(data), shard)
		assert.FileExists(t, filepath.Join(out, f.Artifact, "sub", "stacks.txt"))
	}
	shards := map[string]int{}
	for _, rs := range m.Runtime {
		shards[rs.Shard]++
	}
	assert.Equal(t, map[string]int{"0/2": 61, "1/2": 61}, shards, "each runtime sample keeps its shard")

	back, err := report.Read(out)
	require.NoError(t, err)
	assert.Equal(t, m.Failures, back.Failures)
	page, err := os.ReadFile(filepath.Join(out, report.HTMLFile))
	require.NoError(t, err)
	assert.Contains(t, string(page), `href="artifacts/0-of-2/chan_mpmc-3-seed9"`)
	assert.Contains(t, string(page), "shard 1/2", "the runtime plots have a line per shard")
}

// TestMergeDirsWritesNothingOnRefusal: reports that do not merge leave the
// output directory uncreated.
func TestMergeDirsWritesNothingOnRefusal(t *testing.T) {
	root := t.TempDir()
	a := shardDir(t, root, "0/2", true)
	out := filepath.Join(root, "night")
	_, err := report.MergeDirs(out, a, a)
	require.ErrorIs(t, err, report.ErrMerge)
	assert.ErrorContains(t, err, "appears twice")
	assert.NoDirExists(t, out)
}

// hist records n values drawn around center into a fresh histogram of the
// soak's geometry.
func hist(t *testing.T, r *rand.Rand, n int, center float64) *hdrhistogram.Histogram {
	h := hdrhistogram.New(1, 60e9, 3)
	for range n {
		require.NoError(t, h.RecordValue(int64(center*(0.5+r.Float64()))))
	}
	return h
}

// TestMergeExactPercentiles: shards that stored their HDR histograms merge
// into the percentiles of the union of their samples (not the maximum of
// theirs); a shard without one (schema 1) falls back to the bound.
func TestMergeExactPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fast, slow := hist(t, rng, 9000, 1000), hist(t, rng, 1000, 100_000)
	union := hdrhistogram.New(1, 60e9, 3)
	union.Merge(fast)
	union.Merge(slow)

	a, b := synth(7, "0/2", false), synth(7, "1/2", false)
	for _, x := range []struct {
		r *report.Report
		h *hdrhistogram.Histogram
	}{{a, fast}, {b, slow}} {
		enc, err := report.EncodeHDR(x.h)
		require.NoError(t, err)
		x.r.Scenarios[0].Latency, x.r.Scenarios[0].LatencyHDR = report.PercentilesOf(x.h), enc
	}
	m, err := report.Merge(a, b)
	require.NoError(t, err)
	got := m.Scenarios[0].Latency
	assert.Equal(t, report.PercentilesOf(union), got)
	assert.Equal(t, int64(10_000), got.Count)
	assert.Less(t, got.P50, int64(2000), "the union's median is a fast one; the max of the shards' would be slow's")
	assert.Greater(t, got.P99, int64(40_000))
	back, err := report.DecodeHDR(m.Scenarios[0].LatencyHDR)
	require.NoError(t, err)
	assert.Equal(t, union.TotalCount(), back.TotalCount(), "the merged histogram is stored, for a merge of merges")

	b.Scenarios[0].LatencyHDR = "" // schema 1
	m, err = report.Merge(a, b)
	require.NoError(t, err)
	assert.Equal(t, max(report.PercentilesOf(fast).P50, report.PercentilesOf(slow).P50), m.Scenarios[0].Latency.P50, "the bound")
	assert.Empty(t, m.Scenarios[0].LatencyHDR)
}

// TestMergeWhatWasTested: shards must agree on the shard count, the lane
// and the build's commit; the flags they share are kept, their own
// dropped; the requested duration is the largest.
func TestMergeWhatWasTested(t *testing.T) {
	a, b := synth(7, "0/2", false), synth(7, "1/2", false)
	for i, r := range []*report.Report{a, b} {
		r.ShardCount, r.Lane, r.Duration = 2, "bugs", 3600
		r.Build = report.Build{Version: "(devel)", Commit: "0123456789abcdef0123"}
		r.Flags = map[string]string{"scale": "0.1", "chaos": "swarm", "shard": r.Shards[0], "out": "/r/shard-" + string(rune('0'+i))}
	}
	m, err := report.Merge(a, b)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"scale": "0.1", "chaos": "swarm"}, m.Flags)
	assert.Equal(t, 2, m.ShardCount)
	assert.Equal(t, "bugs", m.Lane)
	assert.Equal(t, "0123456789ab", m.Build.Short())
	assert.InDelta(t, 3600, m.Duration, 0)

	for _, tc := range []struct {
		change func(r *report.Report)
		want   string
	}{
		{func(r *report.Report) { r.ShardCount = 3 }, "of 2 shards"},
		{func(r *report.Report) { r.Lane = "perf" }, `lane "perf"`},
		{func(r *report.Report) { r.Build.Commit = "fedcba9876543210" }, "commit fedcba987654"},
	} {
		k := *b
		tc.change(&k)
		_, err := report.Merge(a, &k)
		require.ErrorIs(t, err, report.ErrMerge, tc.want)
		assert.ErrorContains(t, err, tc.want)
	}
}
