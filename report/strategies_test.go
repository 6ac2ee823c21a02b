package report_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nimsync/nimsync/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// swarmSynth is synth's report as a swarm's: the runs cycle through free,
// random and pct:2 (pct:3 drew none), and the failure (when failing) is a
// pct:2 run's.
func swarmSynth(seed uint64, shard string, failing bool) *report.Report {
	r := synth(seed, shard, failing)
	r.Sched = "swarm:free,random,pct:2,pct:3"
	cycle := []string{"free", "pct:2", "random"}
	for i := range r.Runs {
		r.Runs[i].Strategy = cycle[i%3]
		if r.Runs[i].Strategy != "free" {
			r.Runs[i].Steps = 1000
		}
	}
	if failing {
		r.Failures[0].Strategy = r.Runs[25].Strategy
	}
	r.Strategies = []report.StrategyStats{{Strategy: "pct:3"}} // a member that drew no run
	r.Strategies = report.StrategiesOf(r)
	return r
}

func TestStrategiesOf(t *testing.T) {
	r := swarmSynth(7, "0/1", true)
	require.Equal(t, "pct:2", r.Runs[25].Strategy)
	ss := report.StrategiesOf(r)
	var names []string
	runs := 0
	for _, s := range ss {
		names = append(names, s.Strategy)
		runs += s.Runs
	}
	require.Equal(t, []string{"free", "random", "pct:2", "pct:3"}, names, "canonical order, the member without runs kept")
	require.Equal(t, len(r.Runs), runs)
	assert.Equal(t, 20, ss[0].Runs)
	assert.Zero(t, ss[0].Steps, "free runs have no steps")
	assert.Equal(t, int64(20*1000), ss[1].Steps)
	assert.Equal(t, 1, ss[2].Failures)
	assert.Equal(t, []report.Found{{Scenario: "chan/mpmc", Kind: "violation", Count: 1}}, ss[2].Found)
	assert.Zero(t, ss[3].Runs)
	assert.Equal(t, ss, r.Strategies)

	// A leak is no run's: no strategy found it.
	r.Failures = append(r.Failures, report.Failure{Kind: "leak", Error: "heap grows"})
	assert.Equal(t, ss, report.StrategiesOf(r))

	// A report of one strategy (or of none: free-running) from before
	// swarms: every run is the report's.
	old := synth(7, "0/1", true)
	assert.False(t, old.IsSwarm())
	ss = report.StrategiesOf(old)
	require.Len(t, ss, 1)
	assert.Equal(t, "free", ss[0].Strategy)
	assert.Equal(t, []report.Found{{Scenario: "chan/mpmc", Kind: "violation", Count: 1}}, ss[0].Found)
	old.Sched = "pct:3"
	assert.Equal(t, "pct:3", report.StrategiesOf(old)[0].Strategy)

	assert.Negative(t, report.CompareStrategies("free", "random"))
	assert.Negative(t, report.CompareStrategies("pct:2", "pct:10"))
	assert.Positive(t, report.CompareStrategies("pct:1", "random"))
}

// TestSwarmReportFiles: a swarm's report.json keeps each run's strategy and
// the summary by strategy, and report.md and report.html show which
// strategy found what.
func TestSwarmReportFiles(t *testing.T) {
	dir := t.TempDir()
	r := swarmSynth(42, "0/1", true)
	require.NoError(t, report.Write(dir, r))
	back, err := report.Read(dir)
	require.NoError(t, err)
	require.Equal(t, r.Strategies, back.Strategies)
	require.Equal(t, "pct:2", back.Runs[25].Strategy)
	require.Equal(t, "pct:2", back.Failures[0].Strategy)

	md, err := os.ReadFile(filepath.Join(dir, report.MarkdownFile))
	require.NoError(t, err)
	for _, want := range []string{
		"each run in a strategy drawn from its seed (swarm:free,random,pct:2,pct:3)",
		"## Strategies",
		"| free | 20 | 0 | 3m20s | 10s | — |",
		"| pct:2 | 20 | **1** | 3m20s | 10s | chan/mpmc violation |",
		"| pct:3 | 0 | 0 | 0s | — | — |",
		"seed " + strconv.FormatUint(r.Failures[0].Seed, 10) + ", strategy pct:2:",
	} {
		assert.Contains(t, string(md), want)
	}
	html, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	require.NoError(t, err)
	for _, want := range []string{"<h2>Strategies</h2>", "<td>chan/mpmc violation</td>", "<th>strategy</th><td><code>pct:2</code></td>"} {
		assert.Contains(t, string(html), want)
	}

	// Not a swarm: no strategy table.
	plain := t.TempDir()
	require.NoError(t, report.Write(plain, synth(42, "0/1", true)))
	md, err = os.ReadFile(filepath.Join(plain, report.MarkdownFile))
	require.NoError(t, err)
	assert.NotContains(t, string(md), "## Strategies")
	assert.NotContains(t, string(md), "strategy")
}

// TestReadReportBeforeSwarms: a report.json written before runs recorded
// their strategy reads, and its runs are the report's strategy.
func TestReadReportBeforeSwarms(t *testing.T) {
	dir := t.TempDir()
	js := `{"schema": 1, "tool": "nimsync", "seed": 3, "shards": ["0/1"], "chaos": "swarm", "sched": "random",
	"runs": [{"scenario": "pipeline", "seed": 9, "shard": "0/1", "seconds": 2, "steps": 500, "error": "lost"}],
	"failures": [{"scenario": "pipeline", "seed": 9, "kind": "violation", "error": "lost"}], "passed": false}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, report.JSONFile), []byte(js), 0o644))
	r, err := report.Read(dir)
	require.NoError(t, err)
	assert.Empty(t, r.Strategies)
	assert.Equal(t, "random", r.RunStrategy(r.Runs[0]))
	assert.Equal(t, []report.StrategyStats{{Strategy: "random", Runs: 1, Failures: 1, Seconds: 2, Steps: 500,
		Found: []report.Found{{Scenario: "pipeline", Kind: "violation", Count: 1}}}}, report.StrategiesOf(r))
}

// TestMergeSwarm: the merged swarm's summary is recounted from the shards'
// runs, with every member any shard listed.
func TestMergeSwarm(t *testing.T) {
	a, b := swarmSynth(5, "0/2", true), swarmSynth(5, "1/2", false)
	b.Strategies = b.Strategies[:3] // as if shard 1 had not listed pct:3
	m, err := report.Merge(a, b)
	require.NoError(t, err)
	require.True(t, m.IsSwarm())
	require.Len(t, m.Strategies, 4)
	total := 0
	for _, s := range m.Strategies {
		total += s.Runs
	}
	assert.Equal(t, len(a.Runs)+len(b.Runs), total)
	assert.Equal(t, 40, m.Strategies[1].Runs)
	assert.Equal(t, 1, m.Strategies[2].Failures)

	b.Sched = "random"
	_, err = report.Merge(a, b)
	assert.ErrorContains(t, err, `sched "random"`, "shards of one soak share the swarm")
}

// TestCompareSwarm: a swarm's strategy is the swarm: two swarms compare
// without a note, a swarm and one strategy (or Go's scheduler) with one.
func TestCompareSwarm(t *testing.T) {
	base, cur := swarmSynth(1, "0/1", false), swarmSynth(2, "0/1", false)
	cur.Seed = base.Seed // a seed's note aside
	c, err := report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	assert.Empty(t, c.Notes)
	cur.Sched = "random"
	c, err = report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	require.Len(t, c.Notes, 1)
	assert.Contains(t, c.Notes[0], `base "swarm:free,random,pct:2,pct:3", each run drawing its strategy, current "random"`)
	cur.Sched = ""
	c, err = report.Compare(base, cur, 0.05)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(c.Notes, " "), "current Go's scheduler")
}
