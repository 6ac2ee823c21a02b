package report

import (
	"fmt"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// PercentilesOf summarizes h: its count, P50, P95, P99, P99.9 and maximum
// (the zero Percentiles when h is empty).
func PercentilesOf(h *hdrhistogram.Histogram) Percentiles {
	if h == nil || h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count: h.TotalCount(),
		P50:   h.ValueAtQuantile(50),
		P95:   h.ValueAtQuantile(95),
		P99:   h.ValueAtQuantile(99),
		P999:  h.ValueAtQuantile(99.9),
		Max:   h.Max(),
	}
}

// EncodeHDR returns h as Scenario.LatencyHDR holds it: hdrhistogram-go's
// V2 compressed encoding, base64 ("" for a nil or empty histogram).
func EncodeHDR(h *hdrhistogram.Histogram) (string, error) {
	if h == nil || h.TotalCount() == 0 {
		return "", nil
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("report: encoding a latency histogram: %w", err)
	}
	return string(b), nil
}

// DecodeHDR decodes a Scenario.LatencyHDR.
func DecodeHDR(s string) (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("report: decoding a latency histogram: %w", err)
	}
	return h, nil
}

// mergeHDR merges the encoded histograms hs (all non-empty) into one and
// returns its percentiles and encoding. The merged histogram takes the
// widest range of the inputs' (the first's geometry, widened as
// hdrhistogram's Merge does by recording each value): so the percentiles
// are those of the union of the shards' samples, at the histograms'
// precision.
func mergeHDR(hs []string) (Percentiles, string, error) {
	var sum *hdrhistogram.Histogram
	for _, s := range hs {
		h, err := DecodeHDR(s)
		if err != nil {
			return Percentiles{}, "", err
		}
		if sum == nil {
			sum = h
			continue
		}
		if dropped := sum.Merge(h); dropped > 0 {
			return Percentiles{}, "", fmt.Errorf("report: merging latency histograms: %d values out of the range [%d, %d]", dropped, sum.LowestTrackableValue(), sum.HighestTrackableValue())
		}
	}
	enc, err := EncodeHDR(sum)
	return PercentilesOf(sum), enc, err
}
