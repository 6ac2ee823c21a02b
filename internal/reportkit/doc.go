// Package reportkit holds what nimsync's reports share: the soak's report
// (package report), the performance report (package bench) and the soak's
// progress line.
//
//   - units.go: the one formatter of human units ("59.6 ns", "12.3M/s",
//     "1.5 KiB", "3.10×"), so every report writes a figure the same way;
//   - ticks.go: gonum/plot tick markers that label axes in those units;
//   - markdown.go: Markdown escaping, first lines and file name stems;
//   - machine.go: the machine a report was measured on, and its cache-line
//     round trip;
//   - mannwhitney.go: benchstat's comparison of two sets of samples (the
//     Mann-Whitney U test with a noise floor) and its verdicts;
//   - schema.go: reading a versioned report.json, and the finiteness check
//     before writing one.
//
// Every function is pure or reads only the machine, and is safe for
// concurrent use.
package reportkit
