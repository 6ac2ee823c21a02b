package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"
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
// judge a metric; with fewer the row says [VerdictInsufficient].
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

// Verdict is the outcome of comparing one metric of one scenario. The zero
// value is [VerdictInsufficient]: a row not judged is never a pass.
type Verdict int

// The verdicts of a [ComparisonRow].
const (
	// VerdictInsufficient: too few samples on either side to judge, or a
	// base of zero; neither a regression nor a pass.
	VerdictInsufficient Verdict = iota
	// VerdictUnchanged: no significant difference (p ≥ alpha), or one
	// within the noise floor.
	VerdictUnchanged
	// VerdictImproved: significantly better by more than the noise floor.
	VerdictImproved
	// VerdictRegressed: significantly worse by more than the noise floor.
	VerdictRegressed
)

// String returns "insufficient samples", "unchanged", "improved" or
// "regressed".
func (v Verdict) String() string {
	switch v {
	case VerdictInsufficient:
		return "insufficient samples"
	case VerdictUnchanged:
		return "unchanged"
	case VerdictImproved:
		return "improved"
	case VerdictRegressed:
		return "regressed"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// ComparisonRow is one metric of one scenario compared across two nights.
type ComparisonRow struct {
	Scenario string
	Metric   Metric
	// Base and Cur are the medians of the two nights' samples; NaN when a
	// side has no sample.
	Base, Cur float64
	// NBase and NCur are the numbers of samples.
	NBase, NCur int
	// Ratio is Cur/Base (the center change); NaN when not computed.
	Ratio float64
	// P is the U test's p-value; NaN when the test did not run.
	P       float64
	Verdict Verdict
	// Notes say why a row is insufficient and carry benchmath's warnings.
	Notes []string
}

// Comparison is the result of [Compare]: one row per scenario and metric,
// scenarios in the base's order, then those only the current night has.
type Comparison struct {
	Base, Cur  *Report // the compared reports, for headings
	Alpha      float64
	NoiseFloor float64
	Rows       []ComparisonRow
	// Warnings are about the comparison as a whole, e.g. that the two
	// nights ran on different machines.
	Warnings []string
}

// Regressed reports whether any row is [VerdictRegressed].
func (c Comparison) Regressed() bool {
	return slices.ContainsFunc(c.Rows, func(r ComparisonRow) bool { return r.Verdict == VerdictRegressed })
}

// Compare compares the night cur against the night base. For each scenario
// in either report it compares the per-interval throughput samples and,
// separately, the per-interval P99 latencies, with the Mann-Whitney U test
// at level alpha (benchmath.AssumeNothing, as benchstat does). A metric
// regresses when p < alpha and its median moved the wrong way by more than
// [NoiseFloor]: throughput below (1-NoiseFloor)·base, P99 above
// (1+NoiseFloor)·base. A side with fewer than [MinSamples] samples (a
// scenario missing from one night has none), or too few for any p-value
// to fall below alpha, makes the row [VerdictInsufficient].
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
	c := Comparison{Base: base, Cur: cur, Alpha: alpha, NoiseFloor: NoiseFloor}
	if bm, cm := machineLine(base.Machine)+" "+base.Machine.GoVersion, machineLine(cur.Machine)+" "+cur.Machine.GoVersion; bm != cm {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the nights ran on different machines or Go versions (base: %s; current: %s); differences may be theirs", bm, cm))
	}
	if base.Chaos != cur.Chaos || base.ChaosBuild != cur.ChaosBuild {
		c.Warnings = append(c.Warnings, fmt.Sprintf("chaos differs (base %q, failpoint build %t; current %q, failpoint build %t)",
			base.Chaos, base.ChaosBuild, cur.Chaos, cur.ChaosBuild))
	}

	var names []string
	for _, r := range []*Report{base, cur} {
		for _, sc := range r.Scenarios {
			if !slices.Contains(names, sc.Name) {
				names = append(names, sc.Name)
			}
		}
	}
	th := &benchmath.Thresholds{CompareAlpha: alpha}
	for _, name := range names {
		bs, cs := scenarioSamples(base, name), scenarioSamples(cur, name)
		c.Rows = append(c.Rows,
			compareMetric(name, MetricThroughput, bs, cs, th, func(s Sample) (float64, bool) { return s.OpsPerSec, true }),
			compareMetric(name, MetricP99, bs, cs, th, func(s Sample) (float64, bool) { return float64(s.Latency.P99), s.Latency.Count > 0 }),
		)
	}
	return c, nil
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
func compareMetric(name string, m Metric, base, cur []Sample, th *benchmath.Thresholds, pick func(Sample) (float64, bool)) ComparisonRow {
	values := func(ss []Sample) []float64 {
		var vs []float64
		for _, s := range ss {
			if v, ok := pick(s); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				vs = append(vs, v)
			}
		}
		return vs
	}
	bv, cv := values(base), values(cur)
	row := ComparisonRow{
		Scenario: name, Metric: m,
		Base: math.NaN(), Cur: math.NaN(), Ratio: math.NaN(), P: math.NaN(),
		NBase: len(bv), NCur: len(cv),
	}
	// NewSample sorts its values in place; bv and cv are our own copies.
	var bs, cs *benchmath.Sample
	if len(bv) > 0 {
		bs = benchmath.NewSample(bv, th)
		row.Base = benchmath.AssumeNothing.Summary(bs, 0.95).Center
	}
	if len(cv) > 0 {
		cs = benchmath.NewSample(cv, th)
		row.Cur = benchmath.AssumeNothing.Summary(cs, 0.95).Center
	}

	switch {
	case row.NBase < MinSamples || row.NCur < MinSamples:
		row.Notes = append(row.Notes, fmt.Sprintf("need ≥ %d samples on each night, have %d (base) and %d (current)", MinSamples, row.NBase, row.NCur))
		return row
	case minUTestP(row.NBase, row.NCur) >= th.CompareAlpha:
		row.Notes = append(row.Notes, fmt.Sprintf("%d+%d samples cannot reach p < %v", row.NBase, row.NCur, th.CompareAlpha))
		return row
	case row.Base <= 0:
		row.Notes = append(row.Notes, "base median is not positive; no ratio")
		return row
	}

	res := benchmath.AssumeNothing.Compare(bs, cs)
	row.P = res.P
	row.Ratio = row.Cur / row.Base
	for _, w := range res.Warnings {
		row.Notes = append(row.Notes, w.Error())
	}
	worse, better := row.Ratio < 1-NoiseFloor, row.Ratio > 1+NoiseFloor
	if m == MetricP99 {
		worse, better = better, worse
	}
	switch {
	case res.P < res.Alpha && worse:
		row.Verdict = VerdictRegressed
	case res.P < res.Alpha && better:
		row.Verdict = VerdictImproved
	default:
		row.Verdict = VerdictUnchanged
	}
	return row
}

// minUTestP is the smallest two-sided p-value the U test can give for
// samples of sizes n1 and n2 without ties: 2/C(n1+n2, n1).
func minUTestP(n1, n2 int) float64 {
	lg := func(n int) float64 { v, _ := math.Lgamma(float64(n) + 1); return v }
	return math.Min(1, 2*math.Exp(lg(n1)+lg(n2)-lg(n1+n2)))
}

// Markdown renders c as a Markdown section: the verdict, the method, a
// table with one row per scenario and metric, and the notes. Safe for
// concurrent use.
func (c Comparison) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	counts := map[Verdict]int{}
	for _, r := range c.Rows {
		counts[r.Verdict]++
	}
	p("## Comparison with the previous night: ")
	if c.Regressed() {
		p("REGRESSED\n\n")
	} else {
		p("no regression\n\n")
	}
	p("%d regressed, %d improved, %d unchanged, %d not judged (insufficient samples).\n\n",
		counts[VerdictRegressed], counts[VerdictImproved], counts[VerdictUnchanged], counts[VerdictInsufficient])
	if c.Base != nil && c.Cur != nil {
		p("Base: seed %s, started %s. Current: seed %s, started %s.\n\n",
			fmtSeed(c.Base.Seed), startedLine(c.Base), fmtSeed(c.Cur.Seed), startedLine(c.Cur))
	}
	p("Medians of per-interval samples, compared with the Mann-Whitney U test (benchmath, as benchstat does) at alpha = %v; changes within ±%.0f%% count as noise.\n\n",
		c.Alpha, c.NoiseFloor*100)
	for _, w := range c.Warnings {
		p("**Warning:** %s.\n\n", w)
	}
	if len(c.Rows) == 0 {
		p("No scenario to compare.\n")
		return b.String()
	}

	p("| scenario | metric | base | current | change | p | n | verdict |\n")
	p("|---|---|--:|--:|--:|--:|--:|---|\n")
	var notes []string
	for _, r := range c.Rows {
		format := fmtRate
		if r.Metric == MetricP99 {
			format = fmtLatency
		}
		val := func(v float64) string {
			if math.IsNaN(v) {
				return "—"
			}
			return format(v)
		}
		change, pv := "?", "—"
		if !math.IsNaN(r.P) {
			pv = fmt.Sprintf("%.3f", r.P)
			change = "~"
			if r.P < c.Alpha {
				change = fmtPercent(r.Ratio)
			}
		}
		verdict := r.Verdict.String()
		if r.Verdict == VerdictRegressed {
			verdict = "**" + verdict + "**"
		}
		p("| %s | %s | %s | %s | %s | %s | %d+%d | %s |\n",
			mdCell(r.Scenario), r.Metric, val(r.Base), val(r.Cur), change, pv, r.NBase, r.NCur, verdict)
		for _, n := range r.Notes {
			notes = append(notes, fmt.Sprintf("- %s %s: %s", mdInline(r.Scenario), r.Metric, n))
		}
	}
	if len(notes) > 0 {
		p("\nNotes:\n\n%s\n", strings.Join(notes, "\n"))
	}
	return b.String()
}

// startedLine is when r started, or "—".
func startedLine(r *Report) string {
	if r.Started.IsZero() {
		return "—"
	}
	return r.Started.UTC().Format("2006-01-02 15:04 MST")
}
