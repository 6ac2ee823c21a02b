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
		p("%d. **%s**, %s, seed %s: %s\n", i+1, reportkit.MDInline(f.Scenario), reportkit.MDInline(f.Kind), f.Seed, reportkit.MDCode(f.Line))
		if f.Artifact != "" {
			p("   - artifact: %s\n", reportkit.MDCode(f.Artifact))
		}
		if f.Repro != "" {
			p("   - repro: %s\n", reportkit.MDCode(reportkit.FirstLine(f.Repro, 1000)))
		}
	}
	return []byte(b.String())
}
