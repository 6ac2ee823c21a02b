package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestVersusPeer: too few rounds are not judged, a difference inside the
// ±5% band is on par, and only an interval clear of the band decides.
func TestVersusPeer(t *testing.T) {
	for _, tc := range []struct {
		ratios []float64
		metric string
		want   string
	}{
		{[]float64{3, 3.1}, "items/s", verdictUnknown},
		{[]float64{1.02, 1.03, 1.04}, "items/s", verdictOnPar},
		{[]float64{0.5, 2, 3}, "items/s", verdictOnPar},
		{[]float64{1.2, 1.3, 1.4}, "items/s", verdictFaster},
		{[]float64{1.2, 1.3, 1.4}, "B/channel", verdictSmaller},
		{[]float64{0.5, 0.6, 0.7}, "ns/op", verdictSlower},
		{[]float64{0.5, 0.6, 0.7}, "B/scope", verdictLarger},
	} {
		assert.Equal(t, tc.want, versusPeer(tc.metric, summarizeRatios(tc.ratios)), "%v %s", tc.ratios, tc.metric)
	}
}

// TestClaimVerdicts: a claim is judged on its own; a clearly better peer is
// noted beside the verdict, not turned into a shortfall.
func TestClaimVerdicts(t *testing.T) {
	row := func(ours, peer float64, ratios ...float64) *Row {
		return &Row{Metric: "items/s", Higher: true, Claim: &Claim{Text: "10M+", Value: 10e6},
			Impls:  []Result{{Name: "nimsync", Median: ours, Samples: []float64{ours}}, {Name: "gochan", Median: peer, Samples: []float64{peer}}},
			Ratios: ratios}
	}
	j := judge(row(27e6, 28e6, 0.9, 0.95, 1.03))
	assert.Equal(t, "met", verdictCell(j))
	j = judge(row(12e6, 20e6, 0.58, 0.6, 0.62))
	assert.Equal(t, "met (but slower than gochan)", verdictCell(j))
	j = judge(row(8e6, 20e6, 0.38, 0.4, 0.42))
	assert.Equal(t, "**short** (claim; slower than gochan)", verdictCell(j))
	j = judge(row(8e6, 6e6, 1.3, 1.33, 1.4))
	assert.Equal(t, "**short** (claim)", verdictCell(j))
}
