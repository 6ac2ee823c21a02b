package report

import (
	"fmt"
	"strings"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// markdown renders report.md: the verdict first, then the facts of the
// soak, a table with one row per scenario, the leak verdict and the
// failures with their artifacts and repro commands. Pure; safe for
// concurrent use.
func markdown(r *Report) []byte {
	s := summarize(r)
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	tool := r.Tool
	if tool == "" {
		tool = "nimsync"
	}
	p("# %s soak report: %s\n\n", tool, s.Verdict)
	if s.Passed {
		p("**Verdict: PASS.** %s\n\n", s.PassText)
	} else {
		p("**Verdict: FAIL:** %s.\n\n", strings.Join(s.Reasons, "; "))
	}

	p("| | |\n|---|---|\n")
	for _, f := range s.Facts {
		p("| %s | %s |\n", f.Label, reportkit.MDCell(f.Value))
	}

	p("\n## Scenarios\n\n")
	if len(s.Rows) == 0 {
		p("No scenario ran.\n")
	} else {
		p("Latency percentiles are over every sample of every run.\n\n")
		p("| scenario | runs | failures | ops | ops/s | P50 | P95 | P99 | P99.9 | max |\n")
		p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, row := range s.Rows {
			fails := row.Failures
			if row.Failed {
				fails = "**" + fails + "**"
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				reportkit.MDCell(row.Name), row.Runs, fails, row.Ops, row.OpsPerSec,
				row.P50, row.P95, row.P99, row.P999, row.Max)
		}
	}

	if len(s.Strategies) > 0 {
		p("\n## Strategies\n\n")
		p("A swarm: each run drew its strategy from its seed (free: free-running under its fault plan; random, pct:D: serialized).\n\n")
		p("| strategy | runs | failures | time | time/run | found |\n")
		p("|---|--:|--:|--:|--:|---|\n")
		for _, row := range s.Strategies {
			fails := row.Failures
			if row.Failed {
				fails = "**" + fails + "**"
			}
			p("| %s | %s | %s | %s | %s | %s |\n", reportkit.MDCell(row.Name), row.Runs, fails, row.Seconds, row.PerRun, reportkit.MDCell(row.Found))
		}
	}

	p("\n## Leak check: %s\n\n", s.Leak.Verdict)
	p("Least-squares slope of samples taken between runs, after a GC (%d samples).\n\n", s.Leak.Samples)
	p("| | slope | tolerance | |\n|---|--:|--:|---|\n")
	for _, row := range s.Leak.Rows {
		mark := row.Mark
		if row.Over {
			mark = "**" + mark + "**"
		}
		p("| %s | %s | %s | %s |\n", row.Metric, row.Slope, row.Tolerance, mark)
	}
	if s.Leak.Note != "" {
		p("\nNote: %s\n", s.Leak.Note)
	}

	p("\n## Failures (%d)\n\n", len(s.Fails))
	if len(s.Fails) == 0 {
		p("None.\n")
	}
	for i, f := range s.Fails {
		strategy := ""
		if f.Strategy != "" {
			strategy = ", strategy " + reportkit.MDInline(f.Strategy)
		}
		if f.Shard != "" {
			strategy += ", shard " + reportkit.MDInline(f.Shard)
		}
		p("%d. **%s**, %s, seed %s%s: %s\n", i+1, reportkit.MDInline(f.Scenario), reportkit.MDInline(f.Kind), f.Seed, strategy, reportkit.MDCode(f.Line))
		if f.Artifact != "" {
			p("   - artifact: %s\n", reportkit.MDCode(f.Artifact))
		}
		if f.Repro != "" {
			p("   - repro: %s\n", reportkit.MDCode(reportkit.FirstLine(f.Repro, 1000)))
		}
	}
	return []byte(b.String())
}
