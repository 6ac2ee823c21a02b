package bench

import (
	"fmt"
	"math"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/nimsync/nimsync/internal/reportkit"
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
// Rows are compared placement with placement (Row.Place): a row measured
// with the vCPUs near each other is compared only with the baseline's
// near row of the same case, never with its far one, since the channel
// ratios of the two placements differ by up to 3×. A case the baseline has
// only at another placement is listed, not judged.
//
// The test is benchstat's: golang.org/x/perf/benchmath with AssumeNothing,
// that is the Mann-Whitney U test over the rounds. On a shared 2-core VM
// the per-round ratio still wanders by 10–30% from round to round, even
// at one placement, so besides p <
// alpha a regression needs the median ratio to drop by more than
// [RatioNoiseFloor].

// RatioNoiseFloor is the smallest relative drop of a row's median ratio
// that [Compare] calls a regression (and rise that it calls an
// improvement), however small its p-value: 0.10, that is 10%.
const RatioNoiseFloor = 0.10

// MinCompareSamples is the fewest ratios (rounds) each report must have for
// [Compare] to judge a row; with fewer the row is [reportkit.Insufficient].
// With 4 and 4 the U test can reach p ≈ 0.029.
const MinCompareSamples = 4

// CompareRow is one row (Group, Name, Metric, Procs, Place) present in both
// reports, and its comparison: Base and Cur are the median ratios (or
// nimsync medians, for a row without a peer) of the two reports, Change
// is Cur/Base.
type CompareRow struct {
	Group, Name, Metric string
	Procs               int
	Place               string
	// Peer is the primary peer the ratios are taken against; "" for a
	// row without one, whose Base and Cur are nimsync's own medians.
	Peer string
	reportkit.Result
}

// Comparison is the result of [Compare]: the rows in the current report's
// order, compared with [RatioNoiseFloor] as the noise floor.
type Comparison struct {
	reportkit.Comparison[Report, CompareRow]
}

// Compare compares cur with the baseline base, row by row; rows match by
// Group, Name, Metric, Procs and Place, and rows only one report has are
// named in Notes, except a current row whose case the baseline has only at
// other placements: that one is a [reportkit.NotJudged] row saying so. For a row with a primary peer (the same in both) it compares the
// per-round Ratios with the Mann-Whitney U test at level alpha
// (benchmath.AssumeNothing, as benchstat does) and flags a regression when
// p < alpha and the current median ratio is below (1 − [RatioNoiseFloor])
// times the base's; an improvement likewise. Fewer than
// [MinCompareSamples] ratios on either side make the row
// [reportkit.Insufficient]. A row without a peer compares nimsync's own
// samples the same way but only as [reportkit.Info], never a regression,
// since absolute values depend on the machine.
//
// An alpha outside (0, 1) is replaced by 0.05 (and noted). Compare does
// not modify the reports, may be called concurrently, and costs
// O(n log n) in the number of samples.
func Compare(base, cur *Report, alpha float64) Comparison {
	var c Comparison
	c.Base, c.Cur = base, cur
	c.MannWhitney = reportkit.MannWhitney{Alpha: alpha, NoiseFloor: RatioNoiseFloor, MinSamples: MinCompareSamples, Side: "side"}
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
	if bm, cm := bmach.Line(), cmach.Line(); bm != cm {
		c.Notes = append(c.Notes, fmt.Sprintf("the reports come from different machines or Go versions (base: %s; current: %s): "+
			"the ratios are compared all the same, absolute values are not comparable", bm, cm))
	}
	caseKey := func(r *Row) string { return fmt.Sprintf("%s\x00%s\x00%s\x00%d", r.Group, r.Name, r.Metric, r.Procs) }
	key := func(r *Row) string { return caseKey(r) + "\x00" + r.Place }
	baseRows := map[string]*Row{}
	basePlaces := map[string][]string{} // case → the baseline's placements of it
	for i := range base.Rows {
		br := &base.Rows[i]
		baseRows[key(br)] = br
		basePlaces[caseKey(br)] = append(basePlaces[caseKey(br)], placeName(br.Place))
	}
	seen := map[string]bool{}
	crossed := map[string]bool{} // cases a not-judged row names the baseline's placements of
	var onlyCur, onlyBase []string
	for i := range cur.Rows {
		cr := &cur.Rows[i]
		k := key(cr)
		br, ok := baseRows[k]
		if !ok {
			if others := basePlaces[caseKey(cr)]; len(others) > 0 {
				crossed[caseKey(cr)] = true
				c.Rows = append(c.Rows, CompareRow{Group: cr.Group, Name: cr.Name, Metric: cr.Metric, Procs: cr.Procs, Place: cr.Place,
					Result: reportkit.NotJudged(fmt.Sprintf("measured at %s; the baseline has this case only at %s, and placements are not compared with each other",
						placeName(cr.Place), strings.Join(others, ", ")))})
				continue
			}
			onlyCur = append(onlyCur, caseLabel(cr))
			continue
		}
		seen[k] = true
		c.Rows = append(c.Rows, compareRow(br, cr, c.MannWhitney))
	}
	for i := range base.Rows {
		if br := &base.Rows[i]; !seen[key(br)] && !crossed[caseKey(br)] {
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
		return r.Ratios
	}
	if len(r.Impls) >= 2 {
		return pairedRatios(r.Higher, r.Impls[0].Samples, r.Impls[1].Samples)
	}
	return nil
}

// compareRow judges one row present in both reports.
func compareRow(br, cr *Row, t reportkit.MannWhitney) CompareRow {
	row := CompareRow{Group: cr.Group, Name: cr.Name, Metric: cr.Metric, Procs: cr.Procs, Place: cr.Place}
	peerOf := func(r *Row) string {
		if len(r.Impls) >= 2 {
			return r.Impls[1].Name
		}
		return ""
	}
	bp, cp := peerOf(br), peerOf(cr)
	row.Peer = cp
	switch {
	case bp == "" && cp == "":
		var bv, cv []float64
		if len(br.Impls) > 0 {
			bv = br.Impls[0].Samples
		}
		if len(cr.Impls) > 0 {
			cv = cr.Impls[0].Samples
		}
		row.Result = t.Compare(bv, cv, reportkit.Neither)
	case bp != cp:
		row.Result = reportkit.NotJudged(fmt.Sprintf("the primary peer changed (base %q, current %q); ratios not comparable", bp, cp))
	default:
		row.Result = t.Compare(ratiosOf(br), ratiosOf(cr), reportkit.Higher)
	}
	return row
}

// Markdown renders c as a Markdown section: the verdict, the method, a
// table with one row per compared row, and the notes. Safe for concurrent
// use.
func (c Comparison) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	counts := c.Tally()
	p("## Comparison with the baseline: ")
	judged := counts[reportkit.Regressed] + counts[reportkit.Improved] + counts[reportkit.Unchanged]
	switch {
	case c.Regressed():
		p("REGRESSED\n\n")
	case judged == 0:
		p("NOT JUDGED (no row had enough rounds on both sides)\n\n")
	default:
		p("no regression\n\n")
	}
	p("%d regressed, %d improved, %d unchanged, %d not judged (insufficient samples), %d without a peer (information only).\n\n",
		counts[reportkit.Regressed], counts[reportkit.Improved], counts[reportkit.Unchanged], counts[reportkit.Insufficient], counts[reportkit.Info])
	if c.Base != nil && c.Cur != nil {
		p("Baseline: %s on %s. Current: %s on %s.\n\n",
			c.Base.Date.UTC().Format("2006-01-02 15:04 MST"), c.Base.Machine.Line(),
			c.Cur.Date.UTC().Format("2006-01-02 15:04 MST"), c.Cur.Machine.Line())
	}
	p("Compared: each row's per-round ratio (nimsync's advantage over its primary peer, > 1× = nimsync better), "+
		"median of each side, Mann-Whitney U test (benchmath, as benchstat does) at alpha = %v; a regression also needs "+
		"the median ratio to fall by more than %.0f%%, since ratios on a shared machine wander that much. "+
		"Rows without a peer show nimsync's own medians for information: absolute values depend on the machine and never count as a regression. "+
		"Each row is compared with the baseline's row of the same placement of the vCPUs (`/place=near` with near, far with far), never across placements.\n\n",
		c.Alpha, c.NoiseFloor*100)
	for _, n := range c.Notes {
		p("**Note:** %s.\n\n", reportkit.MDCell(n))
	}
	if len(c.Rows) == 0 {
		p("No row to compare.\n")
		return b.String()
	}
	var rows []reportkit.TableRow
	for _, r := range c.Rows {
		val := func(v float64) string {
			switch {
			case math.IsNaN(v):
				return "—"
			case r.Peer == "":
				return reportkit.Value(r.Metric, v)
			}
			return reportkit.Ratio(v)
		}
		against := "—"
		if r.Peer != "" {
			against = reportkit.MDCell(r.Peer)
		}
		label := reportkit.MDCode(caseLabel(&Row{Name: r.Name, Procs: r.Procs, Place: r.Place}))
		rows = append(rows, reportkit.TableRow{
			Lead: [2]string{fmt.Sprintf("%s (%s)", label, reportkit.MDCell(r.Metric)), against},
			Base: val(r.Base), Cur: val(r.Cur), Change: reportkit.Percent(r.Change), Label: label, Result: r.Result,
		})
	}
	reportkit.CompareTable(&b, [2]string{"case", "against"}, rows)
	return b.String()
}

// placeName names a placement in notes: "place=near", or "no placement"
// for a row that was not classed.
func placeName(place string) string {
	if place == "" {
		return "no placement"
	}
	return "place=" + place
}
