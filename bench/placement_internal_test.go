package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClassifyTwoPlacements: round trips in two clusters, as the
// development VM gives them (about 100 and 360 ns, each with the OS's
// noise), are split at the gap between them.
func TestClassifyTwoPlacements(t *testing.T) {
	rtts := []float64{98, 104, 101, 362, 355, 120, 99, 371, 390, 0, 101}
	p := classify(rtts)
	require.Equal(t, RuleGap, p.Rule)
	assert.InDelta(t, 206.4, p.ThresholdNs, 0.1, "the geometric middle of 120 and 355")
	for _, v := range []float64{98, 104, 120} {
		assert.Equal(t, PlaceNear, p.of(v), v)
	}
	for _, v := range []float64{355, 390, 1000} {
		assert.Equal(t, PlaceFar, p.of(v), v)
	}
	assert.Empty(t, p.of(0), "not measured")
	assert.Equal(t, []float64{98, 104, 101, 362, 355, 120, 99, 371, 390, 0, 101}, rtts, "not modified")
}

// TestClassifyOnePlacement: one cluster is classed as a whole, by its
// median against fallbackNearNs, and says so.
func TestClassifyOnePlacement(t *testing.T) {
	near := classify([]float64{98, 104, 101, 120, 99, 150})
	assert.Equal(t, RuleSingle, near.Rule)
	assert.Equal(t, PlaceNear, near.Single)
	assert.Equal(t, PlaceNear, near.of(150))
	assert.Equal(t, PlaceNear, near.of(900), "one cluster: every round trip alike")

	far := classify([]float64{362, 355, 371, 390, 300})
	assert.Equal(t, RuleSingle, far.Rule)
	assert.Equal(t, PlaceFar, far.Single)
	assert.Equal(t, PlaceFar, far.of(300))

	// A lone outlier (a round trip slowed by the OS) makes no cluster.
	outlier := classify([]float64{98, 104, 101, 99, 5000})
	assert.Equal(t, RuleSingle, outlier.Rule)
	assert.Equal(t, PlaceNear, outlier.Single)

	// A gap wide enough between clusters too close in median: one.
	close := classify([]float64{100, 101, 102, 160, 170, 180})
	assert.Equal(t, RuleSingle, close.Rule, "160/102 is a 1.5× gap, but 170 is not twice 101")

	none := classify(nil)
	assert.Equal(t, RuleSingle, none.Rule)
	assert.Empty(t, none.Single)
	assert.Equal(t, PlaceUnknown, none.place(rtt{}))
}

// TestPlaceOfRound: a case-round is classed by the round trips before and
// after it.
func TestPlaceOfRound(t *testing.T) {
	p := classify([]float64{100, 100, 360, 360})
	require.Equal(t, RuleGap, p.Rule)
	for _, tc := range []struct {
		r    rtt
		want string
	}{
		{rtt{100, 105}, PlaceNear},
		{rtt{360, 350}, PlaceFar},
		{rtt{100, 360}, PlaceMixed},
		{rtt{360, 100}, PlaceMixed},
		{rtt{0, 360}, PlaceFar},
		{rtt{100, 0}, PlaceNear},
		{rtt{0, 0}, PlaceUnknown},
	} {
		assert.Equal(t, tc.want, p.place(tc.r), "%+v", tc.r)
	}
	assert.Equal(t, 100.0, rtt{100, 360}.least())
	assert.Equal(t, 360.0, rtt{0, 360}.least())
}

// TestDescribePlacement: the report says how the rounds were classed, and
// when only one placement was observed.
func TestDescribePlacement(t *testing.T) {
	two := classify([]float64{100, 100, 360, 360})
	two.Places = []PlaceCount{{PlaceNear, 30, 101}, {PlaceFar, 12, 362}, {PlaceMixed, 1, 100}}
	s := two.Describe()
	assert.Contains(t, s, "This run saw two placements, split at 190 ns")
	assert.Contains(t, s, "case-rounds near 30 (median 101 ns), far 12 (median 362 ns), mixed 1 (median 100 ns).")
	assert.NotContains(t, s, "Only one placement")

	one := classify([]float64{100, 101})
	one.Places = []PlaceCount{{PlaceNear, 40, 100}}
	assert.Contains(t, one.Describe(), "**Only one placement was observed in this run: near**")
	assert.Contains(t, one.Describe(), "so it has no far rows")

	assert.NotContains(t, s, "busy")
	busy := classify([]float64{900, 1100, 1200})
	busy.Places = []PlaceCount{{PlaceFar, 10, 1100}, {PlaceUnknown, 5, 0}}
	busy.LoadAvg, busy.CPUs = []float64{1.2, 6.5}, 2
	assert.Contains(t, busy.Describe(), "**The machine was busy during this run (load average 6.5 on 2 CPUs; 5 of 15 case-rounds without a round trip)")
	far := classify([]float64{1000, 1100, 1200})
	far.Places = []PlaceCount{{PlaceFar, 10, 1100}}
	far.LoadAvg, far.CPUs = []float64{0.9, 1.1}, 2
	assert.NotContains(t, far.Describe(), "busy", "a far placement's long round trip on a quiet machine is not busy")

	var none *Placement
	assert.Contains(t, none.Describe(), "not split by placement")
}

// TestSweepProcs: 1, 2 and the machine's CPUs, once each, none above them.
func TestSweepProcs(t *testing.T) {
	assert.Equal(t, []int{1}, sweepProcs(1))
	assert.Equal(t, []int{1}, sweepProcs(0))
	assert.Equal(t, []int{1, 2}, sweepProcs(2))
	assert.Equal(t, []int{1, 2, 3}, sweepProcs(3))
	assert.Equal(t, []int{1, 2, 64}, sweepProcs(64))
}
