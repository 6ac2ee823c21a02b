package bench

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// This file renders the README's performance table from a report and
// splices it between the README's markers.

// The markers around the README's generated performance section; see
// [SpliceReadme].
const (
	ReadmeBegin = "<!-- bench:begin -->"
	ReadmeEnd   = "<!-- bench:end -->"
)

// ErrReadmeMarkers is wrapped by the error [SpliceReadme] returns when the
// README does not hold exactly one [ReadmeBegin] followed by one
// [ReadmeEnd].
var ErrReadmeMarkers = errors.New("bench: README markers missing or misplaced")

// ReadmeTable renders the Markdown the README's performance section shows
// for r: a line naming the date, the machine and the command that made the
// report and how its rounds were classed by placement, then one table of
// the headline rows, each at every placement it was measured at: every
// row with a claim of the seed report, and every row with a peer that ran
// at the default GOMAXPROCS (the scaling rows, Procs ≠ 0, stay in
// report.md). Columns:
// case, nimsync, peer, ratio (× , > 1 = nimsync better), seed report claim
// and verdict, as in report.md. Rows keep the report's order. Pure; safe
// for concurrent use.
func ReadmeTable(r *Report) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("Measured %s with `%s` (%s) on %s. ", r.Date.UTC().Format("2006-01-02"), command(r), runLine(r), r.Machine.Line())
	p("The ratio is nimsync's advantage over the peer, paired within each round, median over the rounds (with the range of the rounds, or the 95%% confidence interval of the median with 6 rounds or more; **on par** when it meets 1× ± 5%%): **> 1× means nimsync is better**. ")
	p("%s ", r.Placement.Describe())
	p("The full report, with the other peers, the plots and the raw benchstat data, is in the report directory; " +
		"this section is regenerated with `nimsync bench readme REPORT_DIR`.\n\n")
	p("| case | nimsync | peer | ratio | seed report claim | verdict |\n")
	p("|---|--:|--:|--:|---|---|\n")
	n := 0
	for i := range r.Rows {
		row := &r.Rows[i]
		if row.Claim == nil && (len(row.Impls) < 2 || row.Procs != 0) {
			continue
		}
		j := judge(row)
		ratio := "—"
		if j.Ratio.N > 0 {
			ratio = ratioCell(j.Ratio)
		}
		p("| %s (%s) | %s | %s | %s | %s | %s |\n",
			reportkit.MDCode(caseLabel(row)), reportkit.MDCell(row.Metric), valueCell(row, 0, false), valueCell(row, 1, true),
			ratio, claimCell(row), verdictCell(j))
		n++
	}
	if n == 0 {
		p("| no headline row | | | | | |\n")
	}
	return b.String()
}

// SpliceReadme returns readme with the text between [ReadmeBegin] and
// [ReadmeEnd] replaced by section, the markers kept and a blank line
// on each side of the section (so a table ends before the end marker). It fails, wrapping [ErrReadmeMarkers], when either
// marker is missing or repeated, or the end comes before the beginning.
// readme is not modified. Pure; safe for concurrent use.
func SpliceReadme(readme []byte, section string) ([]byte, error) {
	nb, ne := bytes.Count(readme, []byte(ReadmeBegin)), bytes.Count(readme, []byte(ReadmeEnd))
	switch {
	case nb == 0 || ne == 0:
		return nil, fmt.Errorf("%w: want a line %s and, after it, a line %s around the generated section", ErrReadmeMarkers, ReadmeBegin, ReadmeEnd)
	case nb > 1 || ne > 1:
		return nil, fmt.Errorf("%w: %s appears %d times and %s %d times; want each once", ErrReadmeMarkers, ReadmeBegin, nb, ReadmeEnd, ne)
	}
	i := bytes.Index(readme, []byte(ReadmeBegin)) + len(ReadmeBegin)
	k := bytes.Index(readme, []byte(ReadmeEnd))
	if k < i {
		return nil, fmt.Errorf("%w: %s comes before %s", ErrReadmeMarkers, ReadmeEnd, ReadmeBegin)
	}
	var out bytes.Buffer
	out.Write(readme[:i])
	out.WriteString("\n\n")
	out.WriteString(strings.TrimRight(section, "\n"))
	out.WriteString("\n\n")
	out.Write(readme[k:])
	return out.Bytes(), nil
}
