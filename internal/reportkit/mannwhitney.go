package reportkit

import (
	"fmt"
	"math"

	"golang.org/x/perf/benchmath"
)

// This file compares two sets of samples the way benchstat compares
// benchmarks: golang.org/x/perf/benchmath with [benchmath.AssumeNothing],
// that is medians and the Mann-Whitney U test, plus a noise floor: on a
// shared machine a real but small change is significant and still says
// nothing, so a verdict needs the median to move by more than the floor.

// Verdict is the outcome of one comparison. The zero value is
// [Insufficient]: a comparison not judged is never a pass.
type Verdict int

// The verdicts of a [Result].
const (
	// Insufficient: too few samples on a side to judge (or to ever reach
	// p < alpha), or a base median that is not positive, or the caller
	// found the two sides not comparable; neither a regression nor a pass.
	Insufficient Verdict = iota
	// Unchanged: p ≥ alpha, or a change within the noise floor.
	Unchanged
	// Improved: significantly better, by more than the noise floor.
	Improved
	// Regressed: significantly worse, by more than the noise floor.
	Regressed
	// Info: compared for information only (see [Neither]); never a
	// regression.
	Info
)

// String returns "insufficient samples", "unchanged", "improved",
// "regressed" or "information only".
func (v Verdict) String() string {
	switch v {
	case Insufficient:
		return "insufficient samples"
	case Unchanged:
		return "unchanged"
	case Improved:
		return "improved"
	case Regressed:
		return "regressed"
	case Info:
		return "information only"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Better says which way a compared quantity improves.
type Better int

// The directions of a comparison.
const (
	Higher  Better = iota // throughput, ratios
	Lower                 // latency, time, bytes
	Neither               // information only: the verdict is [Info]
)

// MannWhitney is the test [MannWhitney.Compare] runs. It is a value; it
// may be used concurrently.
type MannWhitney struct {
	Alpha      float64 // the significance level, in (0, 1)
	NoiseFloor float64 // the smallest relative change of the median judged: 0.05 is 5%
	MinSamples int     // the fewest samples each side must have
	Side       string  // what the notes call one side: "side", "night"
}

// Result is one comparison of two sets of samples.
type Result struct {
	// Base and Cur are the medians of the two sides; NaN when a side has
	// no sample.
	Base, Cur float64
	// NBase and NCur are the numbers of samples compared (the finite ones).
	NBase, NCur int
	// Change is Cur/Base; NaN unless Base is positive and Cur a number.
	Change float64
	// P is the U test's p-value; NaN when the test did not run.
	P       float64
	Verdict Verdict
	// Notes say why a result was not judged and carry benchmath's
	// warnings.
	Notes []string
}

// PCell is r's p-value for a table cell: "0.012", or "—" where the test
// did not run.
func (r Result) PCell() string {
	if math.IsNaN(r.P) {
		return "—"
	}
	return fmt.Sprintf("%.3f", r.P)
}

// VerdictCell is r's verdict for a table cell, in bold for a regression.
func (r Result) VerdictCell() string {
	if r.Verdict == Regressed {
		return "**" + r.Verdict.String() + "**"
	}
	return r.Verdict.String()
}

// NotJudged returns a Result with no sample and the verdict [Insufficient],
// for a comparison the caller refuses, with note saying why.
func NotJudged(note string) Result {
	return Result{Base: math.NaN(), Cur: math.NaN(), Change: math.NaN(), P: math.NaN(), Notes: []string{note}}
}

// Compare compares the samples cur against base (neither is modified; NaNs
// and infinities are left out). It regresses when p < Alpha and the median
// moved the wrong way by more than NoiseFloor (below (1 − NoiseFloor)·base
// when higher is better, above (1 + NoiseFloor)·base when lower is); an
// improvement likewise. Fewer than MinSamples samples on a side, sides too
// small for any p-value to fall below Alpha, or a base median that is not
// positive make it [Insufficient], with a note. With better = [Neither]
// the verdict is [Info] and the figures are still filled in. It costs
// O(n log n) in the number of samples.
func (t MannWhitney) Compare(base, cur []float64, better Better) Result {
	bv, cv := finite(base), finite(cur)
	r := Result{Base: math.NaN(), Cur: math.NaN(), Change: math.NaN(), P: math.NaN(), NBase: len(bv), NCur: len(cv)}
	if better == Neither {
		r.Verdict = Info
	}
	th := &benchmath.Thresholds{CompareAlpha: t.Alpha}
	// NewSample sorts its values in place; bv and cv are our own copies.
	var bs, cs *benchmath.Sample
	if len(bv) > 0 {
		bs = benchmath.NewSample(bv, th)
		r.Base = benchmath.AssumeNothing.Summary(bs, 0.95).Center
	}
	if len(cv) > 0 {
		cs = benchmath.NewSample(cv, th)
		r.Cur = benchmath.AssumeNothing.Summary(cs, 0.95).Center
	}
	if r.Base > 0 && !math.IsNaN(r.Cur) {
		r.Change = r.Cur / r.Base
	}
	switch {
	case r.NBase < t.MinSamples || r.NCur < t.MinSamples:
		r.Notes = append(r.Notes, fmt.Sprintf("need ≥ %d samples on each %s, have %d (base) and %d (current)", t.MinSamples, t.Side, r.NBase, r.NCur))
		return r
	case minUTestP(r.NBase, r.NCur) >= t.Alpha:
		r.Notes = append(r.Notes, fmt.Sprintf("%d+%d samples cannot reach p < %v", r.NBase, r.NCur, t.Alpha))
		return r
	case !(r.Base > 0) && better != Neither:
		r.Notes = append(r.Notes, "base median is not positive; no ratio")
		return r
	}
	res := benchmath.AssumeNothing.Compare(bs, cs)
	r.P = res.P
	for _, w := range res.Warnings {
		r.Notes = append(r.Notes, w.Error())
	}
	if better == Neither {
		return r
	}
	worse, improved := r.Change < 1-t.NoiseFloor, r.Change > 1+t.NoiseFloor
	if better == Lower {
		worse, improved = improved, worse
	}
	switch {
	case res.P < t.Alpha && worse:
		r.Verdict = Regressed
	case res.P < t.Alpha && improved:
		r.Verdict = Improved
	default:
		r.Verdict = Unchanged
	}
	return r
}

// Comparison is two reports of type Report compared row by row by one
// test; each Row embeds the [Result] of its comparison. A package's
// comparison embeds it and adds its Markdown.
type Comparison[Report any, Row judged] struct {
	Base, Cur   *Report // the compared reports, for headings
	MannWhitney         // the test the rows were judged by
	Rows        []Row
	// Notes are about the comparison as a whole: rows only one report
	// has, different machines.
	Notes []string
}

// Regressed reports whether any row is [Regressed].
func (c Comparison[Report, Row]) Regressed() bool {
	for _, r := range c.Rows {
		if r.result().Verdict == Regressed {
			return true
		}
	}
	return false
}

// Tally counts the rows of each verdict.
func (c Comparison[Report, Row]) Tally() map[Verdict]int {
	counts := map[Verdict]int{}
	for _, r := range c.Rows {
		counts[r.result().Verdict]++
	}
	return counts
}

// judged is a row that embeds a [Result].
type judged interface{ result() Result }

func (r Result) result() Result { return r }

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

// minUTestP is the smallest two-sided p-value the U test can give for
// samples of sizes n1 and n2 without ties: 2/C(n1+n2, n1).
func minUTestP(n1, n2 int) float64 {
	lg := func(n int) float64 { v, _ := math.Lgamma(float64(n) + 1); return v }
	return math.Min(1, 2*math.Exp(lg(n1)+lg(n2)-lg(n1+n2)))
}
