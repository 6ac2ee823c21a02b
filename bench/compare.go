package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"
)

// This file compares a report with a baseline to catch regressions.
//
// It compares ratios, not absolute values: a row's per-round ratios
// (nimsync against its primary peer, measured seconds apart in the same
// process) move little when the machine changes, while its items/s or
// ns/op move with the CPU, its clock, its neighbours and the placement of
// its vCPUs. So a baseline made on another machine still judges a change
// in nimsync relative to Go, and a faster or slower machine never reads as
// a regression. Rows without a peer have only absolute values: they are
// compared as information and never flagged.
//
// The test is benchstat's: golang.org/x/perf/benchmath with AssumeNothing,
// that is the Mann-Whitney U test over the rounds. On a shared 2-core VM
// the per-round ratio still wanders by 10–30% from round to round (the
// host moves the vCPUs near and apart; see the README), so besides p <
// alpha a regression needs the median ratio to drop by more than
// [RatioNoiseFloor].

// RatioNoiseFloor is the smallest relative drop of a row's median ratio
// that [Compare] calls a regression (and rise that it calls an
// improvement), however small its p-value: 0.10, that is 10%.
const RatioNoiseFloor = 0.10

// MinCompareSamples is the fewest ratios (rounds) each report must have for
// [Compare] to judge a row; with fewer the row is [CompareInsufficient].
// With 4 and 4 the U test can reach p ≈ 0.029.
const MinCompareSamples = 4

// CompareVerdict is the outcome of comparing one row. The zero value is
// [CompareInsufficient]: a row not judged is never a pass.
type CompareVerdict int

// The verdicts of a [CompareRow].
const (
	// CompareInsufficient: fewer than [MinCompareSamples] ratios on a
	// side, or the primary peer differs; neither a regression nor a pass.
	CompareInsufficient CompareVerdict = iota
	// CompareUnchanged: p ≥ alpha, or a change within the noise floor.
	CompareUnchanged
	// CompareImproved: the ratio rose significantly, by more than the
	// noise floor.
	CompareImproved
	// CompareRegressed: the ratio fell significantly, by more than the
	// noise floor.
	CompareRegressed
	// CompareInfo: a row without a peer, whose absolute values are
	// compared for information only.
	CompareInfo
)

// String returns "insufficient samples", "unchanged", "improved",
// "regressed" or "information only".
func (v CompareVerdict) String() string {
	switch v {
	case CompareInsufficient:
		return "insufficient samples"
	case CompareUnchanged:
		return "unchanged"
	case CompareImproved:
		return "improved"
	case CompareRegressed:
		return "regressed"
	case CompareInfo:
		return "information only"
	}
	return fmt.Sprintf("CompareVerdict(%d)", int(v))
}

// CompareRow is one row (Group, Name, Metric, Procs) present in both
// reports.
type CompareRow struct {
	Group, Name, Metric string
	Procs               int
	// Peer is the primary peer the ratios are taken against; "" for a
	// row without one, whose Base and Cur are nimsync's own medians.
	Peer string
	// Base and Cur are the median ratios (or nimsync medians) of the two
	// reports; NaN when a side has none.
	Base, Cur float64
	// NBase and NCur are the numbers of samples compared.
	NBase, NCur int
	// Change is Cur/Base; NaN when not computed.
	Change float64
	// P is the U test's p-value; NaN when the test did not run.
	P       float64
	Verdict CompareVerdict
	// Notes say why a row was not judged and carry benchmath's warnings.
	Notes []string
}

// Comparison is the result of [Compare].
type Comparison struct {
	Base, Cur  *Report // the compared reports, for headings
	Alpha      float64
	NoiseFloor float64
	// Rows follow the current report's order.
	Rows []CompareRow
	// Notes are about the comparison as a whole: rows only one report
	// has, different machines.
	Notes []string
}

// Regressed reports whether any row is [CompareRegressed].
func (c Comparison) Regressed() bool {
	return slices.ContainsFunc(c.Rows, func(r CompareRow) bool { return r.Verdict == CompareRegressed })
}

// Compare compares cur with the baseline base, row by row; rows match by
// Group, Name, Metric and Procs, and rows only one report has are named in
// Notes. For a row with a primary peer (the same in both) it compares the
// per-round Ratios with the Mann-Whitney U test at level alpha
// (benchmath.AssumeNothing, as benchstat does) and flags a regression when
// p < alpha and the current median ratio is below (1 − [RatioNoiseFloor])
// times the base's; an improvement likewise. Fewer than
// [MinCompareSamples] ratios on either side make the row
// [CompareInsufficient]. A row without a peer compares nimsync's own
// samples the same way but only as [CompareInfo], never a regression,
// since absolute values depend on the machine.
//
// An alpha outside (0, 1) is replaced by 0.05 (and noted). Compare does
// not modify the reports, may be called concurrently, and costs
// O(n log n) in the number of samples.
func Compare(base, cur *Report, alpha float64) Comparison {
	c := Comparison{Base: base, Cur: cur, Alpha: alpha, NoiseFloor: RatioNoiseFloor}
	if !(alpha > 0 && alpha < 1) {
		c.Alpha = benchmath.DefaultThresholds.CompareAlpha
		c.Notes = append(c.Notes, fmt.Sprintf("alpha %v is not in (0, 1); used %v", alpha, c.Alpha))
	}
	if base == nil || cur == nil {
		c.Notes = append(c.Notes, "a report is missing; nothing compared")
		return c
	}
	// The cache-line round trip is a measurement, not an identity: it
	// varies on one machine (a VM's vCPUs placed near or far apart).
	bmach, cmach := base.Machine, cur.Machine
	bmach.LineRTTNs, cmach.LineRTTNs = 0, 0
	if bm, cm := machineLine(bmach), machineLine(cmach); bm != cm {
		c.Notes = append(c.Notes, fmt.Sprintf("the reports come from different machines or Go versions (base: %s; current: %s): "+
			"the ratios are compared all the same, absolute values are not comparable", bm, cm))
	}
	if b, k := base.Machine.LineRTTNs, cur.Machine.LineRTTNs; b > 0 && k > 0 && max(b, k) >= 1.5*min(b, k) {
		c.Notes = append(c.Notes, fmt.Sprintf("the cache-line round trip differs (base %.0f ns, current %.0f ns): "+
			"the cores sit nearer or farther apart, which moves the channel ratios", b, k))
	}
	key := func(r *Row) string { return fmt.Sprintf("%s\x00%s\x00%s\x00%d", r.Group, r.Name, r.Metric, r.Procs) }
	baseRows := map[string]*Row{}
	for i := range base.Rows {
		baseRows[key(&base.Rows[i])] = &base.Rows[i]
	}
	th := &benchmath.Thresholds{CompareAlpha: c.Alpha}
	seen := map[string]bool{}
	var onlyCur, onlyBase []string
	for i := range cur.Rows {
		cr := &cur.Rows[i]
		k := key(cr)
		br, ok := baseRows[k]
		if !ok {
			onlyCur = append(onlyCur, caseLabel(cr))
			continue
		}
		seen[k] = true
		c.Rows = append(c.Rows, compareRow(br, cr, th))
	}
	for i := range base.Rows {
		if !seen[key(&base.Rows[i])] {
			onlyBase = append(onlyBase, caseLabel(&base.Rows[i]))
		}
	}
	if len(onlyCur) > 0 {
		c.Notes = append(c.Notes, "only in the current report (not compared): "+strings.Join(onlyCur, ", "))
	}
	if len(onlyBase) > 0 {
		c.Notes = append(c.Notes, "only in the baseline (not compared): "+strings.Join(onlyBase, ", "))
	}
	return c
}

// ratiosOf returns r's per-round ratios: Row.Ratios, else the pairs of
// nimsync's and the peer's samples.
func ratiosOf(r *Row) []float64 {
	if len(r.Ratios) > 0 {
		return finite(r.Ratios)
	}
	if len(r.Impls) >= 2 {
		return pairedRatios(r.Higher, r.Impls[0].Samples, r.Impls[1].Samples)
	}
	return nil
}

// finite returns a copy of vs without NaNs and infinities.
func finite(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// compareRow judges one row present in both reports.
func compareRow(br, cr *Row, th *benchmath.Thresholds) CompareRow {
	row := CompareRow{Group: cr.Group, Name: cr.Name, Metric: cr.Metric, Procs: cr.Procs,
		Base: math.NaN(), Cur: math.NaN(), Change: math.NaN(), P: math.NaN()}
	peerOf := func(r *Row) string {
		if len(r.Impls) >= 2 {
			return r.Impls[1].Name
		}
		return ""
	}
	bp, cp := peerOf(br), peerOf(cr)
	var bv, cv []float64
	info := bp == "" && cp == ""
	switch {
	case info:
		if len(br.Impls) > 0 {
			bv = finite(br.Impls[0].Samples)
		}
		if len(cr.Impls) > 0 {
			cv = finite(cr.Impls[0].Samples)
		}
	case bp != cp:
		row.Peer = cp
		row.Notes = append(row.Notes, fmt.Sprintf("the primary peer changed (base %q, current %q); ratios not comparable", bp, cp))
		return row
	default:
		row.Peer = cp
		bv, cv = ratiosOf(br), ratiosOf(cr)
	}
	row.NBase, row.NCur = len(bv), len(cv)
	if len(bv) > 0 {
		row.Base = median(bv)
	}
	if len(cv) > 0 {
		row.Cur = median(cv)
	}
	if row.Base > 0 && row.Cur > 0 {
		row.Change = row.Cur / row.Base
	}
	if info {
		row.Verdict = CompareInfo
	}
	if row.NBase < MinCompareSamples || row.NCur < MinCompareSamples {
		row.Notes = append(row.Notes, fmt.Sprintf("need ≥ %d samples on each side, have %d (base) and %d (current)",
			MinCompareSamples, row.NBase, row.NCur))
		return row
	}
	res := benchmath.AssumeNothing.Compare(
		benchmath.NewSample(slices.Clone(bv), th), benchmath.NewSample(slices.Clone(cv), th))
	row.P = res.P
	for _, w := range res.Warnings {
		row.Notes = append(row.Notes, w.Error())
	}
	if info || math.IsNaN(row.Change) {
		return row
	}
	switch {
	case res.P < th.CompareAlpha && row.Change < 1-RatioNoiseFloor:
		row.Verdict = CompareRegressed
	case res.P < th.CompareAlpha && row.Change > 1+RatioNoiseFloor:
		row.Verdict = CompareImproved
	default:
		row.Verdict = CompareUnchanged
	}
	return row
}

// Markdown renders c as a Markdown section: the verdict, the method, a
// table with one row per compared row, and the notes. Safe for concurrent
// use.
func (c Comparison) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	counts := map[CompareVerdict]int{}
	for _, r := range c.Rows {
		counts[r.Verdict]++
	}
	p("## Comparison with the baseline: ")
	judged := counts[CompareRegressed] + counts[CompareImproved] + counts[CompareUnchanged]
	switch {
	case c.Regressed():
		p("REGRESSED\n\n")
	case judged == 0:
		p("NOT JUDGED (no row had enough rounds on both sides)\n\n")
	default:
		p("no regression\n\n")
	}
	p("%d regressed, %d improved, %d unchanged, %d not judged (insufficient samples), %d without a peer (information only).\n\n",
		counts[CompareRegressed], counts[CompareImproved], counts[CompareUnchanged], counts[CompareInsufficient], counts[CompareInfo])
	if c.Base != nil && c.Cur != nil {
		p("Baseline: %s on %s. Current: %s on %s.\n\n",
			c.Base.Date.UTC().Format("2006-01-02 15:04 MST"), machineLine(c.Base.Machine),
			c.Cur.Date.UTC().Format("2006-01-02 15:04 MST"), machineLine(c.Cur.Machine))
	}
	p("Compared: each row's per-round ratio (nimsync's advantage over its primary peer, > 1× = nimsync better), "+
		"median of each side, Mann-Whitney U test (benchmath, as benchstat does) at alpha = %v; a regression also needs "+
		"the median ratio to fall by more than %.0f%%, since ratios on a shared machine wander that much. "+
		"Rows without a peer show nimsync's own medians for information: absolute values depend on the machine and never count as a regression.\n\n",
		c.Alpha, c.NoiseFloor*100)
	for _, n := range c.Notes {
		p("**Note:** %s.\n\n", mdCell(n))
	}
	if len(c.Rows) == 0 {
		p("No row to compare.\n")
		return b.String()
	}
	p("| case | against | base | current | change | p | n | verdict |\n")
	p("|---|---|--:|--:|--:|--:|--:|---|\n")
	var notes []string
	for _, r := range c.Rows {
		val := func(v float64) string {
			switch {
			case math.IsNaN(v):
				return "—"
			case r.Peer == "":
				return FormatValue(r.Metric, v)
			}
			return fmtRatio(v)
		}
		against, pv := "—", "—"
		if r.Peer != "" {
			against = mdCell(r.Peer)
		}
		if !math.IsNaN(r.P) {
			pv = fmt.Sprintf("%.3f", r.P)
		}
		verdict := r.Verdict.String()
		if r.Verdict == CompareRegressed {
			verdict = "**" + verdict + "**"
		}
		label := caseLabel(&Row{Name: r.Name, Procs: r.Procs})
		p("| %s (%s) | %s | %s | %s | %s | %s | %d+%d | %s |\n",
			mdCode(label), mdCell(r.Metric), against, val(r.Base), val(r.Cur), fmtPercent(r.Change), pv, r.NBase, r.NCur, verdict)
		for _, n := range r.Notes {
			notes = append(notes, fmt.Sprintf("- %s: %s", mdCode(label), n))
		}
	}
	if len(notes) > 0 {
		p("\nNotes:\n\n%s\n", strings.Join(notes, "\n"))
	}
	return b.String()
}
