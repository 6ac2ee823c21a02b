package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// This file compares two nights the way benchstat compares benchmarks:
// golang.org/x/perf/benchmath with [benchmath.AssumeNothing], that is
// medians and the Mann-Whitney U test, over each scenario's per-interval
// samples. The U test takes the intervals of one night as independent
// measurements; neighbouring intervals are correlated, so its p-values are
// optimistic. The noise floor keeps that from flagging small drifts.

// NoiseFloor is the smallest relative change of a median that [Compare]
// calls a regression or an improvement, however small its p-value: 0.05,
// that is 5%.
const NoiseFloor = 0.05

// MinSamples is the fewest samples each night must have for [Compare] to
// judge a metric; with fewer the row says [reportkit.Insufficient].
const MinSamples = 5

// Metric names a compared quantity.
type Metric string

// The metrics [Compare] compares for each scenario.
const (
	// MetricThroughput is Sample.OpsPerSec; higher is better.
	MetricThroughput Metric = "ops/s"
	// MetricP99 is Sample.Latency.P99 in nanoseconds over intervals that
	// measured latency (Count > 0); lower is better.
	MetricP99 Metric = "P99"
)

// ComparisonRow is one metric of one scenario compared across two nights:
// Base and Cur are the medians of the two nights' samples, Change is
// Cur/Base.
type ComparisonRow struct {
	Scenario string
	Metric   Metric
	reportkit.Result
}

// Comparison is the result of [Compare]: one row per scenario and metric,
// scenarios in the base's order, then those only the current night has,
// compared with [NoiseFloor] as the noise floor. Its notes are warnings,
// e.g. that the two nights ran on different machines.
type Comparison struct {
	reportkit.Comparison[Report, ComparisonRow]
}

// Compare compares the night cur against the night base. For each scenario
// in either report it compares the per-interval throughput samples and,
// separately, the per-interval P99 latencies, with the Mann-Whitney U test
// at level alpha (benchmath.AssumeNothing, as benchstat does). A metric
// regresses when p < alpha and its median moved the wrong way by more than
// [NoiseFloor]: throughput below (1-NoiseFloor)·base, P99 above
// (1+NoiseFloor)·base. A side with fewer than [MinSamples] samples (a
// scenario missing from one night has none), or too few for any p-value
// to fall below alpha, makes the row [reportkit.Insufficient].
//
// Compare compares like with like only: it refuses, with an error wrapping
// [ErrUnlike] that says what differs, two nights of different lanes, shard
// counts, scales or scenario sets (where both reports record them: schema
// 1 did not record the shard count), whose samples measure different
// work. It warns (Comparison.Notes) when the machines, Go versions, chaos
// modes, schedulers, seeds or durations differ.
//
// It returns an error for a nil report or an alpha outside (0, 1). Compare
// does not modify the reports, may be called concurrently, and costs
// O(n log n) in the number of samples.
func Compare(base, cur *Report, alpha float64) (Comparison, error) {
	if base == nil || cur == nil {
		return Comparison{}, fmt.Errorf("report: Compare: nil report")
	}
	if !(alpha > 0 && alpha < 1) {
		return Comparison{}, fmt.Errorf("report: Compare: alpha %v is not in (0, 1)", alpha)
	}
	if diff := unlike(base, cur); len(diff) > 0 {
		return Comparison{}, fmt.Errorf("%w: %s", ErrUnlike, strings.Join(diff, "; "))
	}
	var c Comparison
	c.Base, c.Cur = base, cur
	c.MannWhitney = reportkit.MannWhitney{Alpha: alpha, NoiseFloor: NoiseFloor, MinSamples: MinSamples, Side: "night"}
	if bm, cm := base.Machine.Line(), cur.Machine.Line(); bm != cm {
		c.Notes = append(c.Notes, fmt.Sprintf("the nights ran on different machines or Go versions (base: %s; current: %s); differences may be theirs", bm, cm))
	}
	if base.Chaos != cur.Chaos || base.ChaosBuild != cur.ChaosBuild {
		c.Notes = append(c.Notes, fmt.Sprintf("chaos differs (base %q, failpoint build %t; current %q, failpoint build %t)",
			base.Chaos, base.ChaosBuild, cur.Chaos, cur.ChaosBuild))
	}
	if base.Seed != cur.Seed {
		c.Notes = append(c.Notes, fmt.Sprintf("the seeds differ (base %s, current %s): the fault plans and the scenarios' shapes differ too; a fixed-seed lane (scripts/nightly -lane perf) compares performance alone",
			fmtSeed(base.Seed), fmtSeed(cur.Seed)))
	}
	if base.Duration != cur.Duration && base.Duration > 0 && cur.Duration > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("the durations differ (base %gs, current %gs): a longer soak reaches later, warmer states", base.Duration, cur.Duration))
	}
	if base.Sched != cur.Sched {
		// A swarm's strategy is the swarm (its runs' own vary by run);
		// its samples mix free-running and serialized runs.
		c.Notes = append(c.Notes, fmt.Sprintf("the serialized mode differs (base %s, current %s): serialized runs are far slower, and a swarm mixes them with free-running ones",
			schedName(base), schedName(cur)))
	}

	var names []string
	for _, r := range []*Report{base, cur} {
		for _, sc := range r.Scenarios {
			if !slices.Contains(names, sc.Name) {
				names = append(names, sc.Name)
			}
		}
	}
	for _, name := range names {
		bs, cs := scenarioSamples(base, name), scenarioSamples(cur, name)
		c.Rows = append(c.Rows,
			compareMetric(name, MetricThroughput, bs, cs, c.MannWhitney, func(s Sample) (float64, bool) { return s.OpsPerSec, true }),
			compareMetric(name, MetricP99, bs, cs, c.MannWhitney, func(s Sample) (float64, bool) { return float64(s.Latency.P99), s.Latency.Count > 0 }),
		)
	}
	return c, nil
}

// ErrUnlike is wrapped by the error of [Compare] when the two nights
// measured different work; check with errors.Is.
var ErrUnlike = errors.New("report: the nights are not comparable")

// unlike lists what makes base and cur not comparable (Compare).
func unlike(base, cur *Report) []string {
	var d []string
	if base.Lane != cur.Lane {
		d = append(d, fmt.Sprintf("the lanes differ (base %q, current %q)", base.Lane, cur.Lane))
	}
	if base.ShardCount != 0 && cur.ShardCount != 0 && base.ShardCount != cur.ShardCount {
		d = append(d, fmt.Sprintf("the shard counts differ (base %d, current %d)", base.ShardCount, cur.ShardCount))
	}
	if base.Scale != cur.Scale {
		d = append(d, fmt.Sprintf("the scales differ (base %g, current %g)", base.Scale, cur.Scale))
	}
	if !slices.Equal(base.ScenarioSet, cur.ScenarioSet) {
		d = append(d, fmt.Sprintf("the scenario sets differ (base %v, current %v)", base.ScenarioSet, cur.ScenarioSet))
	}
	return d
}

// scenarioSamples returns the samples of the named scenario in r (of every
// entry with that name; a merged report has one).
func scenarioSamples(r *Report, name string) []Sample {
	var out []Sample
	for _, sc := range r.Scenarios {
		if sc.Name == name {
			out = append(out, sc.Samples...)
		}
	}
	return out
}

// compareMetric judges one metric, picked from each sample by pick (which
// reports false for a sample without the metric).
func compareMetric(name string, m Metric, base, cur []Sample, t reportkit.MannWhitney, pick func(Sample) (float64, bool)) ComparisonRow {
	values := func(ss []Sample) []float64 {
		var vs []float64
		for _, s := range ss {
			if v, ok := pick(s); ok {
				vs = append(vs, v)
			}
		}
		return vs
	}
	better := reportkit.Higher
	if m == MetricP99 {
		better = reportkit.Lower
	}
	return ComparisonRow{Scenario: name, Metric: m, Result: t.Compare(values(base), values(cur), better)}
}

// Markdown renders c as a Markdown section: the verdict, the method, a
// table with one row per scenario and metric, and the notes. Safe for
// concurrent use.
func (c Comparison) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	counts := c.Tally()
	p("## Comparison with the previous night: ")
	if c.Regressed() {
		p("REGRESSED\n\n")
	} else {
		p("no regression\n\n")
	}
	p("%d regressed, %d improved, %d unchanged, %d not judged (insufficient samples).\n\n",
		counts[reportkit.Regressed], counts[reportkit.Improved], counts[reportkit.Unchanged], counts[reportkit.Insufficient])
	if c.Base != nil && c.Cur != nil {
		p("Base: seed %s, started %s, nimsync commit %s. Current: seed %s, started %s, nimsync commit %s.\n\n",
			fmtSeed(c.Base.Seed), startedLine(c.Base), c.Base.Build.Short(), fmtSeed(c.Cur.Seed), startedLine(c.Cur), c.Cur.Build.Short())
	}
	p("Medians of per-interval samples, compared with the Mann-Whitney U test (benchmath, as benchstat does) at alpha = %v; changes within ±%.0f%% count as noise.\n\n",
		c.Alpha, c.NoiseFloor*100)
	for _, w := range c.Notes {
		p("**Warning:** %s.\n\n", w)
	}
	if len(c.Rows) == 0 {
		p("No scenario to compare.\n")
		return b.String()
	}

	var rows []reportkit.TableRow
	for _, r := range c.Rows {
		format := reportkit.Rate
		if r.Metric == MetricP99 {
			format = reportkit.Nanos
		}
		val := func(v float64) string {
			if math.IsNaN(v) {
				return "—"
			}
			return format(v)
		}
		change := "?"
		if !math.IsNaN(r.P) {
			change = "~"
			if r.P < c.Alpha {
				change = reportkit.Percent(r.Change)
			}
		}
		rows = append(rows, reportkit.TableRow{
			Lead: [2]string{reportkit.MDCell(r.Scenario), string(r.Metric)},
			Base: val(r.Base), Cur: val(r.Cur), Change: change,
			Label: reportkit.MDInline(r.Scenario) + " " + string(r.Metric), Result: r.Result,
		})
	}
	reportkit.CompareTable(&b, [2]string{"scenario", "metric"}, rows)
	return b.String()
}

// schedName describes r's scheduling for a note of Compare.
func schedName(r *Report) string {
	switch {
	case r.Sched == "":
		return "Go's scheduler"
	case r.IsSwarm():
		return fmt.Sprintf("%q, each run drawing its strategy", r.Sched)
	}
	return fmt.Sprintf("%q", r.Sched)
}

// startedLine is when r started, or "—".
func startedLine(r *Report) string {
	if r.Started.IsZero() {
		return "—"
	}
	return r.Started.UTC().Format("2006-01-02 15:04 MST")
}
