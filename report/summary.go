package report

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// This file builds the summary both report.md and report.html show: the
// verdict and why, the facts of the soak, one row per scenario, the leak
// verdict and the failures, every number already in human units. The two
// renderers only lay it out, so they cannot disagree.

// summary is the human view of a [Report].
type summary struct {
	Passed  bool
	Verdict string // "PASS" or "FAIL"
	// PassText is the verdict's sentence when the report passed.
	PassText string
	Reasons  []string // why it failed; empty when it passed
	Facts    []fact
	Rows     []scenarioRow
	// Strategies is a swarm's table by strategy; empty otherwise.
	Strategies []strategyRow
	Leak       leakView
	Fails      []failureView
}

// fact is one labelled line of the header table.
type fact struct{ Label, Value string }

// scenarioRow is one scenario's line of the scenario table.
type scenarioRow struct {
	Name, Runs, Failures, Ops, OpsPerSec string
	P50, P95, P99, P999, Max             string
	Failed                               bool
}

// strategyRow is one strategy's line of a swarm's table.
type strategyRow struct {
	Name, Runs, Failures, Seconds, PerRun, Found string
	Failed                                       bool
}

// leakView is the leak verdict with one row per watched quantity.
type leakView struct {
	OK      bool
	Verdict string // "OK" or "LEAK"
	Rows    []leakRow
	Samples int
	Note    string
}

// leakRow is one watched quantity: its fitted slope against its tolerance.
type leakRow struct {
	Metric, Slope, Tolerance, Mark string
	Over                           bool
}

// failureView is one failure, ready to print.
type failureView struct {
	N                    int // 1-based position in the list
	Scenario, Kind, Seed string
	Strategy             string // a swarm's: the failed run's strategy
	Shard                string // the shard that found it ("" unrecorded)
	Error                string // the whole message
	Line                 string // its first line, cut short
	Artifact, Repro      string
}

// summarize builds the human view of r.
func summarize(r *Report) summary {
	s := summary{Passed: r.Passed, Verdict: "PASS"}
	if !r.Passed {
		s.Verdict = "FAIL"
		s.Reasons = reasons(r)
	}

	failedRuns := 0
	for _, run := range r.Runs {
		if run.Error != "" {
			failedRuns++
		}
	}
	chaos := r.Chaos
	if chaos == "" {
		chaos = "off"
	}
	if r.ChaosBuild {
		chaos += " (failpoint build)"
	} else {
		chaos += " (no failpoints in build)"
	}
	switch {
	case r.IsSwarm():
		chaos += ", each run in a strategy drawn from its seed (" + r.Sched + ")"
	case r.Sched != "":
		chaos += ", serialized (" + r.Sched + ")"
	}
	shards := strings.Join(r.Shards, ", ")
	if shards == "" {
		shards = "—"
	}
	started := "—"
	if !r.Started.IsZero() {
		started = r.Started.UTC().Format(time.RFC3339)
	}
	s.Facts = []fact{
		{"Started", started},
		{"Elapsed", reportkit.Elapsed(r.Elapsed)},
		{"Machine", r.Machine.Line()},
		{"Go", r.Machine.GoVersion},
		{"Seed", fmtSeed(r.Seed)},
		{"Shards", shards},
		{"Chaos", chaos},
		{"Runs", fmt.Sprintf("%d (%d failed)", len(r.Runs), failedRuns)},
	}
	// What the soak tested (schema 2): the build, the requested bounds, the
	// scenarios and scale, the lane, the flags.
	if r.Schema == 0 || r.Schema >= 2 {
		tested := []fact{{"nimsync", buildLine(r.Build)}}
		bound := "none"
		switch {
		case r.Duration > 0 && r.RunsBound > 0:
			bound = fmt.Sprintf("%s or %d runs", reportkit.Elapsed(r.Duration), r.RunsBound)
		case r.Duration > 0:
			bound = reportkit.Elapsed(r.Duration)
		case r.RunsBound > 0:
			bound = fmt.Sprintf("%d runs", r.RunsBound)
		}
		tested = append(tested, fact{"Requested", bound + fmt.Sprintf(", %d shard(s)", max(r.ShardCount, 1))})
		if len(r.ScenarioSet) > 0 {
			tested = append(tested, fact{"Scenarios", fmt.Sprintf("%s at scale %g", strings.Join(r.ScenarioSet, ", "), r.Scale)})
		}
		if r.Lane != "" {
			tested = append(tested, fact{"Lane", r.Lane})
		}
		if len(r.Flags) > 0 {
			var fl []string
			for _, k := range slices.Sorted(maps.Keys(r.Flags)) {
				fl = append(fl, "--"+k+"="+r.Flags[k])
			}
			tested = append(tested, fact{"Flags", strings.Join(fl, " ")})
		}
		s.Facts = append(s.Facts, tested...)
	}

	for _, sc := range r.Scenarios {
		l := sc.Latency
		s.Rows = append(s.Rows, scenarioRow{
			Name:      sc.Name,
			Runs:      fmt.Sprint(sc.Runs),
			Failures:  fmt.Sprint(sc.Failures),
			Ops:       reportkit.Count(float64(sc.Ops)),
			OpsPerSec: reportkit.Rate(sc.OpsPerSec),
			P50:       reportkit.Nanos(float64(l.P50)),
			P95:       reportkit.Nanos(float64(l.P95)),
			P99:       reportkit.Nanos(float64(l.P99)),
			P999:      reportkit.Nanos(float64(l.P999)),
			Max:       reportkit.Nanos(float64(l.Max)),
			Failed:    sc.Failures > 0,
		})
	}

	if r.IsSwarm() {
		for _, st := range StrategiesOf(r) {
			row := strategyRow{Name: st.Strategy, Runs: fmt.Sprint(st.Runs), Failures: fmt.Sprint(st.Failures),
				Seconds: reportkit.Elapsed(st.Seconds), PerRun: "—", Found: "—", Failed: st.Failures > 0}
			if st.Runs > 0 {
				row.PerRun = reportkit.Elapsed(st.Seconds / float64(st.Runs))
			}
			var found []string
			for _, f := range st.Found {
				x := f.Scenario + " " + f.Kind
				if f.Count > 1 {
					x += fmt.Sprintf(" ×%d", f.Count)
				}
				found = append(found, x)
			}
			if len(found) > 0 {
				row.Found = strings.Join(found, ", ")
			}
			s.Strategies = append(s.Strategies, row)
		}
	}

	lk := r.Leak
	s.Leak = leakView{OK: lk.OK, Verdict: "OK", Samples: lk.Samples, Note: lk.Note}
	judged := lk.GoroutineTolerance > 0 || lk.HeapTolerance > 0 // the soak sets tolerances only when it judged
	s.PassText = "No run failed, no stall, and the leak check passed."
	switch {
	case !lk.OK:
		s.Leak.Verdict = "LEAK"
	case !judged:
		s.Leak.Verdict = "NOT JUDGED"
		s.PassText = "No run failed and no stall; too few samples to judge leaks."
	}
	s.Leak.Rows = []leakRow{
		leakLine("goroutines", lk.GoroutineSlope, lk.GoroutineTolerance, func(v float64) string { return fmt.Sprintf("%.3g/s", v) }),
		leakLine("heap", lk.HeapSlope, lk.HeapTolerance, func(v float64) string { return reportkit.Bytes(v) + "/s" }),
	}

	for i, f := range r.Failures {
		s.Fails = append(s.Fails, failureView{
			N:        i + 1,
			Scenario: f.Scenario,
			Kind:     f.Kind,
			Seed:     fmtSeed(f.Seed),
			Strategy: swarmStrategy(r, f),
			Shard:    f.Shard,
			Error:    f.Error,
			Line:     reportkit.FirstLine(f.Error, 200),
			Artifact: f.Artifact,
			Repro:    f.Repro,
		})
	}
	return s
}

// buildLine describes a build: "commit 1a2b3c4d5e6f+dirty (2026-12-07T21:28:37Z),
// v0.0.0-…", or "commit unknown" when the build recorded none.
func buildLine(b Build) string {
	line := "commit " + b.Short()
	if b.CommitTime != "" {
		line += " (" + b.CommitTime + ")"
	}
	if b.Version != "" {
		line += ", " + b.Version
	}
	return line
}

// swarmStrategy is, in a swarm, the strategy of f's run; "" otherwise.
func swarmStrategy(r *Report, f Failure) string {
	if !r.IsSwarm() {
		return ""
	}
	return r.FailureStrategy(f)
}

// leakLine is one row of the leak table. A slope is marked over when it
// exceeds a positive tolerance; the report's own Leak.OK stays the verdict.
func leakLine(metric string, slope, tol float64, format func(float64) string) leakRow {
	row := leakRow{Metric: metric, Slope: reportkit.Signed(slope, format), Tolerance: "—", Mark: "—"}
	if tol > 0 {
		row.Tolerance = format(tol)
		row.Mark = "within"
		if slope > tol {
			row.Mark, row.Over = "over", true
		}
	}
	return row
}

// reasons lists why r failed: its failures by kind and the leak verdict.
func reasons(r *Report) []string {
	var out []string
	kinds := map[string]int{}
	for _, f := range r.Failures {
		k := f.Kind
		if k == "" {
			k = "unknown"
		}
		kinds[k]++
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		out = append(out, fmt.Sprintf("%d %s", kinds[k], k))
	}
	if !r.Leak.OK {
		why := "leak check failed"
		if r.Leak.Note != "" {
			why += " (" + r.Leak.Note + ")"
		}
		out = append(out, why)
	}
	if len(out) == 0 {
		out = append(out, "marked failed with no recorded failure")
	}
	return out
}
