package bench

// The placement of the vCPUs: on a VM the host puts the two vCPUs near
// each other (a shared cache: a cache line goes from one core to the other
// and back in about 100 ns) or far apart (about 360 ns), and changes its
// mind from minute to minute. nimsync's channels, whose two ends run on two
// cores, feel it; Go channels, whose woken goroutine runs on the waker's
// core, barely do. So a ratio taken over rounds of both placements is an
// average of two machines. Run measures the round trip just before and
// just after each case's round, classes the round near or far by the rule
// below, and reports every row once per placement.
//
// The rule (classify), over every round trip measured in the run:
//
//  1. Sort them and look at the gaps between neighbours that are at least
//     minGap (1.5×) wide, leave two values or more on each side, and have
//     the median of the upper side at least minClusterRatio (2×) that of
//     the lower side. If there is one, the run saw two placements: the
//     threshold is the geometric middle of the widest such gap; a round
//     trip below it is near, one at or above it far. (An outlier alone
//     above the rest, a round trip slowed by the OS, makes no cluster.)
//  2. Otherwise the run saw one placement, and all its round trips are
//     classed alike: near when their median is below fallbackNearNs
//     (200 ns, the geometric middle of the 100 and 360 ns seen on the
//     development VM), far otherwise.
//
// A round whose two round trips fall on different sides is "mixed" (the
// host moved the vCPUs during it), and one with no round trip measured (the
// machine too busy to bounce a line within the deadline) is "unknown":
// both are reported as rows of their own, never merged into near or far.

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// The placements a sample is classed as (Row.Place). A report measured
// with GOMAXPROCS 1, where no line can bounce, has rows with Place "".
const (
	PlaceNear    = "near"
	PlaceFar     = "far"
	PlaceMixed   = "mixed"
	PlaceUnknown = "unknown"
)

// placeOrder is the order a case's rows are reported in.
var placeOrder = []string{PlaceNear, PlaceFar, PlaceMixed, PlaceUnknown, ""}

// Constants of the classification rule (see the file comment).
const (
	minGap          = 1.5
	minClusterRatio = 2.0
	fallbackNearNs  = 200.0
)

// The rules [Placement.Rule] names.
const (
	RuleGap    = "gap"    // two clusters, split at the gap between them
	RuleSingle = "single" // one cluster, classed as a whole by fallbackNearNs
)

// Placement is how a run classed its rounds: the rule and threshold, and
// how many case-rounds each placement got. Report.Placement is nil when
// no round trip was measured.
type Placement struct {
	// Rule is [RuleGap] or [RuleSingle].
	Rule string `json:"rule"`
	// ThresholdNs separates near (below) from far (at or above) under
	// RuleGap; under RuleSingle it is fallbackNearNs, which the cluster's
	// median was held to.
	ThresholdNs float64 `json:"threshold_ns"`
	// Single is the placement of every round under RuleSingle.
	Single string `json:"single,omitempty"`
	// Places are the placements seen, in report order.
	Places []PlaceCount `json:"places"`
	// LoadAvg is the 1-minute load average (/proc/loadavg) when the run
	// started and when it ended, and CPUs the machine's CPU count; nil and
	// 0 where the system does not say.
	LoadAvg []float64 `json:"load_avg,omitempty"`
	CPUs    int       `json:"cpus,omitempty"`
}

// PlaceCount is one placement of a run: how many case-rounds it got and
// the median of their round trips (0 for unknown).
type PlaceCount struct {
	Place       string  `json:"place"`
	Rounds      int     `json:"rounds"`
	MedianRTTNs float64 `json:"median_rtt_ns"`
}

// classify chooses the rule for the round trips rtts (values ≤ 0 and
// non-finite ones are ignored; rtts is not modified). Places is left empty.
// With no round trip at all it returns RuleSingle with Single "".
func classify(rtts []float64) Placement {
	var vs []float64
	for _, v := range rtts {
		if v > 0 && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	p := Placement{Rule: RuleSingle, ThresholdNs: fallbackNearNs}
	if len(vs) == 0 {
		return p
	}
	gap, at := 0.0, -1
	for i := 2; i <= len(vs)-2; i++ { // two values or more on each side
		r := vs[i] / vs[i-1]
		if r >= minGap && r > gap && median(vs[i:]) >= minClusterRatio*median(vs[:i]) {
			gap, at = r, i
		}
	}
	if at > 0 {
		p.Rule, p.ThresholdNs = RuleGap, math.Sqrt(vs[at-1]*vs[at])
		return p
	}
	p.Single = PlaceFar
	if median(vs) < fallbackNearNs {
		p.Single = PlaceNear
	}
	return p
}

// of classes one round trip; "" for none (≤ 0).
func (p *Placement) of(rtt float64) string {
	switch {
	case !(rtt > 0):
		return ""
	case p.Rule == RuleSingle:
		return p.Single
	case rtt < p.ThresholdNs:
		return PlaceNear
	}
	return PlaceFar
}

// place classes a case-round by the round trips before and after it: the
// placement both agree on, mixed when they differ, the one measured when
// the other is not, unknown when neither is.
func (p *Placement) place(r rtt) string {
	a, b := p.of(r.before), p.of(r.after)
	switch {
	case a == "" && b == "":
		return PlaceUnknown
	case a == "":
		return b
	case b == "" || a == b:
		return a
	}
	return PlaceMixed
}

// rtt is the cache-line round trip measured before and after a case's
// round, in ns; 0 when it could not be measured.
type rtt struct{ before, after float64 }

// least is the smaller measured round trip of r (0 if neither).
func (r rtt) least() float64 {
	switch {
	case r.before > 0 && r.after > 0:
		return min(r.before, r.after)
	case r.before > 0:
		return r.before
	}
	return r.after
}

// Limits of sampleLineRTT.
const (
	rttBounces   = 100                   // per attempt: 10 to 40 µs when both goroutines run
	rttAttempts  = 8                     // at most, per measurement
	rttWanted    = 3                     // plausible attempts, after which it stops
	rttAttempt   = 5 * time.Millisecond  // an attempt's deadline
	rttBudget    = 40 * time.Millisecond // a measurement's
	rttPlausible = 5 * time.Microsecond  // above it, the OS descheduled a goroutine
)

// sampleLineRTT is the default of Options.LineRTT: the least of up to
// rttWanted plausible reportkit.LineRTT runs of rttBounces bounces, out of
// at most rttAttempts, each given rttAttempt and all rttBudget; 0 when
// none was plausible. The runs are short so that the OS seldom deschedules
// one of the two goroutines mid-run, and each has its own deadline so that
// one that was (the other spins until it runs again) does not eat the
// budget; a round trip above rttPlausible (no placement of two cores takes
// that long: the development VM's far is 360 ns) is such a run, and is
// dropped, since it says nothing of where the cores are. On an idle
// machine it costs about 0.03 to 0.1 ms; on a busy one up to rttBudget.
func sampleLineRTT() float64 {
	stop := time.Now().Add(rttBudget)
	best, good := 0.0, 0
	for range rttAttempts {
		now := time.Now()
		if !now.Before(stop) || good >= rttWanted {
			break
		}
		deadline := now.Add(rttAttempt)
		if deadline.After(stop) {
			deadline = stop
		}
		v := reportkit.LineRTT(rttBounces, deadline)
		if v <= 0 || v > float64(rttPlausible.Nanoseconds()) {
			continue
		}
		good++
		if best == 0 || v < best {
			best = v
		}
	}
	return best
}

// lineRTTFunc returns the round-trip measurement of o: o.LineRTT, else
// sampleLineRTT, or nil when GOMAXPROCS is 1 and no line can bounce.
func lineRTTFunc(o Options) func() float64 {
	switch {
	case o.LineRTT != nil:
		return o.LineRTT
	case runtime.GOMAXPROCS(0) < 2:
		return nil
	}
	return sampleLineRTT
}

// placeLabel is the "/place=near" suffix of a row's label; "" for a row
// without a placement.
func placeLabel(place string) string {
	if place == "" {
		return ""
	}
	return "/place=" + place
}

// Describe says in a sentence or two how the run's rounds were classed,
// for report.md and the README: the rule, the placements with their round
// counts and median round trips, and whether only one was observed. nil
// says that no round trip was measured.
func (p *Placement) Describe() string {
	if p == nil {
		return "The cache-line round trip was not measured per round (GOMAXPROCS 1), so the rows are not split by placement."
	}
	var parts []string
	for _, c := range p.Places {
		s := fmt.Sprintf("%s %d", c.Place, c.Rounds)
		if c.MedianRTTNs > 0 {
			s += " (median " + reportkit.Nanos(c.MedianRTTNs) + ")"
		}
		parts = append(parts, s)
	}
	var b strings.Builder
	b.WriteString("Each case's round is classed by the cache-line round trip measured just before and after it, " +
		"and every row is reported per placement (`/place=near`, `/place=far`), so a ratio never mixes the two; " +
		"a round whose two round trips disagree is `mixed`, one where none could be measured `unknown`. ")
	switch {
	case p.Rule == RuleSingle && p.Single == "":
		b.WriteString("No round trip could be measured in this run (the machine too busy to bounce a line): every row is `unknown`: ")
	case p.Rule == RuleGap:
		fmt.Fprintf(&b, "This run saw two placements, split at %s (the geometric middle of the widest gap between the sorted round trips): ", reportkit.Nanos(p.ThresholdNs))
	default:
		other := PlaceFar
		if p.Single == PlaceFar {
			other = PlaceNear
		}
		fmt.Fprintf(&b, "**Only one placement was observed in this run: %s** (no gap of %.1f× or more between two clusters of round trips; "+
			"a single cluster is near when its median is below %s), so it has no %s rows: ", p.Single, minGap, reportkit.Nanos(fallbackNearNs), other)
	}
	fmt.Fprintf(&b, "case-rounds %s.", strings.Join(parts, ", "))
	if why := p.busy(); why != "" {
		fmt.Fprintf(&b, " **The machine was busy during this run (%s): the round trips are inflated by the OS's scheduling, "+
			"and the placements are not to be trusted; rerun on a quiet machine.**", why)
	}
	return b.String()
}

// A run is busy when the load average went above the CPU count (other
// processes wanted the cores) or more than busyUnknown of its case-rounds
// could not be measured. A long round trip alone is not: the host may
// place the vCPUs far apart (about 1 µs on the Xeon VM of 2026-12-07,
// measured on a quiet machine).
const busyUnknown = 0.25

// busy says why p's run looks busy, or "" if it does not.
func (p *Placement) busy() string {
	var why []string
	total, unknown := 0, 0
	for _, c := range p.Places {
		total += c.Rounds
		if c.Place == PlaceUnknown {
			unknown += c.Rounds
		}
	}
	if p.CPUs > 0 && len(p.LoadAvg) > 0 && slices.Max(p.LoadAvg) > float64(p.CPUs) {
		why = append(why, fmt.Sprintf("load average %.1f on %d CPUs", slices.Max(p.LoadAvg), p.CPUs))
	}
	if total > 0 && float64(unknown) > busyUnknown*float64(total) {
		why = append(why, fmt.Sprintf("%d of %d case-rounds without a round trip", unknown, total))
	}
	return strings.Join(why, "; ")
}
