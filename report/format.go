package report

import "strconv"

// Figures are written in internal/reportkit's human units ("59.6 ns",
// "12.3k/s", "1.5 KiB"), the same in report.md, report.html, the plot axes
// and the performance report.

// fmtSeed formats a seed as decimal, the form the repro commands take.
func fmtSeed(seed uint64) string { return strconv.FormatUint(seed, 10) }
