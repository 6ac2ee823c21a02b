package bench

import (
	"fmt"
	"math"
	"slices"

	"golang.org/x/perf/benchmath"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// This file judges a row: its verdict against the seed report's claim, or,
// without a claim, against its primary peer, from the spread of the
// per-round ratios.

// The verdicts report.md and the README table give a row.
const (
	verdictMet    = "met"    // the claim holds (Why notes a peer that is clearly better)
	verdictShort  = "short"  // the claim does not hold
	verdictFaster = "faster" // no claim; the ratios' interval lies above the on-par band
	verdictSlower = "slower" // no claim; the ratios' interval lies below the on-par band
	// For sizes (see reportkit.IsSize), "smaller" and "larger" say the same.
	verdictSmaller = "smaller"
	verdictLarger  = "larger"
	verdictOnPar   = "on par"     // no claim; the ratios' interval meets the on-par band
	verdictUnknown = "not judged" // no claim; fewer than minJudged rounds
	verdictNone    = ""           // neither a claim nor a peer: a figure only
	verdictNoData  = "no data"
)

// A comparison with a peer is judged only on minJudged rounds or more, and
// a difference of less than onParMargin (5%) either way is on par: one
// round, or a 2% edge, says nothing on a shared 2-core machine.
const (
	minJudged   = 3
	onParMargin = 0.05
)

// confidence is the level of the confidence interval of the median ratio.
const confidence = 0.95

// spread is the summary of a row's per-round ratios: their median and an
// interval around it.
type spread struct {
	Center, Lo, Hi float64
	// Kind is "95% CI" (benchmath's distribution-free interval of the
	// median, which needs ≥ 6 samples), "range" (min to max, for 2 to 5
	// samples: that interval holds the median with probability
	// 1 − 2^(1−n), 87.5% at 4 and 94% at 5) or "" for a single sample,
	// where the median is all there is.
	Kind string
	N    int
}

// summarizeRatios summarizes ratios (not modified). N is 0 when there are
// none; non-finite or non-positive values are ignored.
func summarizeRatios(ratios []float64) spread {
	var vs []float64
	for _, v := range ratios {
		if v > 0 && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	s := spread{N: len(vs)}
	switch {
	case len(vs) == 0:
		return s
	case len(vs) == 1:
		s.Center, s.Lo, s.Hi = vs[0], vs[0], vs[0]
		return s
	}
	sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(vs, &benchmath.DefaultThresholds), confidence)
	s.Center = sum.Center
	if math.IsInf(sum.Lo, 0) || math.IsInf(sum.Hi, 0) {
		s.Lo, s.Hi, s.Kind = vs[0], vs[len(vs)-1], "range" // NewSample sorted vs
	} else {
		s.Lo, s.Hi, s.Kind = sum.Lo, sum.Hi, fmt.Sprintf("%.0f%% CI", confidence*100)
	}
	return s
}

// judgement is a row's verdict and why.
type judgement struct {
	Verdict string
	Why     string // "claim", "slower than gochan", both, or for "met" "but slower than gochan"
	Ratio   spread
	// ClaimMet is whether the claim holds; nil without a claim or data.
	ClaimMet *bool
}

// judge gives r its verdict. With a claim: "met" when nimsync's median
// meets it (Row.ClaimMet when the runner set it, else the median against
// Claim.Value in the direction of Higher), "short" otherwise; either notes
// a peer that is clearly better (versusPeer). Without a claim but with a
// peer: versusPeer's verdict.
func judge(r *Row) judgement {
	j := judgement{Ratio: summarizeRatios(r.Ratios)}
	ours := impl(r, 0)
	if ours == nil || len(ours.Samples) == 0 {
		j.Verdict = verdictNoData
		return j
	}
	peer := impl(r, 1)
	if j.Ratio.N == 0 && peer != nil && peer.Median > 0 && ours.Median > 0 {
		// The runner gave no per-round ratios: fall back on the medians.
		j.Ratio = spread{Center: orient(r.Higher, ours.Median, peer.Median), N: 1}
		j.Ratio.Lo, j.Ratio.Hi = j.Ratio.Center, j.Ratio.Center
	}
	hasRatio := peer != nil && j.Ratio.N > 0
	if r.Claim != nil {
		met := r.ClaimMet
		if met == nil {
			m := ours.Median >= r.Claim.Value
			if !r.Higher {
				m = ours.Median < r.Claim.Value
			}
			met = &m
		}
		j.ClaimMet = met
		// The claim is what is judged; the peer comparison, judged as
		// for rows without a claim, is noted when the peer is clearly
		// better.
		worse := hasRatio && versusPeer(r.Metric, j.Ratio) == worseWord(r.Metric)
		switch {
		case *met && worse:
			j.Verdict, j.Why = verdictMet, "but "+worseWord(r.Metric)+" than "+peer.Name
		case *met:
			j.Verdict = verdictMet
		case worse:
			j.Verdict, j.Why = verdictShort, "claim; "+worseWord(r.Metric)+" than "+peer.Name
		default:
			j.Verdict, j.Why = verdictShort, "claim"
		}
		return j
	}
	if !hasRatio {
		j.Verdict = verdictNone
		return j
	}
	j.Verdict = versusPeer(r.Metric, j.Ratio)
	return j
}

// versusPeer judges the ratios against the peer: not judged on fewer than
// minJudged rounds; on par when their interval meets the band 1 ±
// onParMargin; faster (smaller) or slower (larger) when it lies above or
// below it.
func versusPeer(metric string, s spread) string {
	switch {
	case s.N < minJudged:
		return verdictUnknown
	case s.Lo > 1+onParMargin:
		if reportkit.IsSize(metric) {
			return verdictSmaller
		}
		return verdictFaster
	case s.Hi < 1-onParMargin:
		return worseWord(metric)
	}
	return verdictOnPar
}

// worseWord is what nimsync is when its ratio is below 1: "slower", or
// "larger" for a size.
func worseWord(metric string) string {
	if reportkit.IsSize(metric) {
		return verdictLarger
	}
	return verdictSlower
}

// impl returns r.Impls[i], or nil.
func impl(r *Row, i int) *Result {
	if i < len(r.Impls) {
		return &r.Impls[i]
	}
	return nil
}

// orient returns nimsync's advantage given its value and a peer's: > 1
// means nimsync is better.
func orient(higher bool, ours, peer float64) float64 {
	if higher {
		return ours / peer
	}
	return peer / ours
}

// peerRatio is the median advantage of nimsync over r.Impls[i]: the median
// of per-round ratios when both have one sample per round, else the ratio
// of the medians. 0 when it cannot be computed.
func peerRatio(r *Row, i int) float64 {
	ours, peer := impl(r, 0), impl(r, i)
	if ours == nil || peer == nil {
		return 0
	}
	if rs := pairedRatios(r.Higher, ours.Samples, peer.Samples); len(rs) > 0 {
		return median(rs)
	}
	if ours.Median > 0 && peer.Median > 0 {
		return orient(r.Higher, ours.Median, peer.Median)
	}
	return 0
}

// pairedRatios pairs ours[k] with peer[k] (the same round), or returns nil
// when the lengths differ or a value is not positive.
func pairedRatios(higher bool, ours, peer []float64) []float64 {
	if len(ours) != len(peer) || len(ours) == 0 {
		return nil
	}
	rs := make([]float64, len(ours))
	for k := range ours {
		if !(ours[k] > 0 && peer[k] > 0) {
			return nil
		}
		rs[k] = orient(higher, ours[k], peer[k])
	}
	return rs
}

// median returns the median of vs (not modified); NaN for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// verdictCell renders a judgement for a table: "met", "**short** (claim)",
// "faster", "on par", "—".
func verdictCell(j judgement) string {
	switch j.Verdict {
	case verdictShort:
		return "**short** (" + j.Why + ")"
	case verdictNone:
		return "—"
	}
	if j.Why != "" {
		return j.Verdict + " (" + j.Why + ")"
	}
	return j.Verdict
}

// ratioCell renders a row's primary ratio with its interval: "3.10×
// (95% CI 2.95–3.30)", "3.10× (range 2.9–3.3)", "3.10×".
func ratioCell(s spread) string {
	if s.N == 0 {
		return "—"
	}
	c := reportkit.Ratio(s.Center)
	if s.Kind != "" {
		c += fmt.Sprintf(" (%s %s–%s)", s.Kind, trimX(reportkit.Ratio(s.Lo)), trimX(reportkit.Ratio(s.Hi)))
	}
	return c
}

// trimX drops the "×" of a formatted ratio.
func trimX(s string) string {
	if len(s) >= len("×") && s[len(s)-len("×"):] == "×" {
		return s[:len(s)-len("×")]
	}
	return s
}

// claimCell renders a claim: its text and bound, "SPSC: 50M+ ops/s (≥
// 50M/s)".
func claimCell(r *Row) string {
	if r.Claim == nil {
		return "—"
	}
	op := "≥" // as Run judges a claim: at least the bound, or below it
	if !r.Higher {
		op = "<"
	}
	return fmt.Sprintf("%s (%s %s)", reportkit.MDCell(r.Claim.Text), op, reportkit.Value(r.Metric, r.Claim.Value))
}

// valueCell renders implementation i's median, with its name when named
// is set: "31.0 ns" or "gochan 31 ns".
func valueCell(r *Row, i int, named bool) string {
	im := impl(r, i)
	if im == nil {
		return "—"
	}
	v := "—"
	if len(im.Samples) > 0 || im.Median != 0 {
		v = reportkit.Value(r.Metric, im.Median)
	}
	if named {
		return reportkit.MDCell(im.Name) + " " + v
	}
	return v
}
