package reportkit

import (
	"fmt"
	"strings"
)

// TableRow is one line of a comparison's Markdown table: its two leading
// cells, its base, current and change cells (all formatted and escaped by
// the caller), its [Result] (for p, n and the verdict), and the label its
// notes are listed under.
type TableRow struct {
	Lead              [2]string
	Base, Cur, Change string
	Label             string
	Result
}

// CompareTable writes to b a comparison's table: the two leading columns
// named by lead, then base, current, change, p, n and verdict; one line
// per row; and after the table, under "Notes:", each row's notes labelled
// with its Label.
func CompareTable(b *strings.Builder, lead [2]string, rows []TableRow) {
	fmt.Fprintf(b, "| %s | %s | base | current | change | p | n | verdict |\n", lead[0], lead[1])
	b.WriteString("|---|---|--:|--:|--:|--:|--:|---|\n")
	var notes []string
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d+%d | %s |\n",
			r.Lead[0], r.Lead[1], r.Base, r.Cur, r.Change, r.PCell(), r.NBase, r.NCur, r.VerdictCell())
		for _, n := range r.Notes {
			notes = append(notes, fmt.Sprintf("- %s: %s", r.Label, n))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(b, "\nNotes:\n\n%s\n", strings.Join(notes, "\n"))
	}
}
