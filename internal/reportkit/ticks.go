package reportkit

import (
	"math"

	"gonum.org/v1/plot"
)

// This file holds the plots' tick markers: labels in human units ("400k",
// "2 µs") rather than gonum/plot's plain floats.

// Relabel is a [plot.Ticker] that keeps another ticker's positions and
// writes their labels with Format (one of this package's formatters).
type Relabel struct {
	plot.Ticker
	Format func(float64) string
}

// Ticks implements [plot.Ticker].
func (t Relabel) Ticks(lo, hi float64) []plot.Tick {
	ticks := t.Ticker.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = t.Format(ticks[i].Value)
		}
	}
	return ticks
}

// LogTicks is a [plot.Ticker] for a log axis: a tick at every m·10^k,
// labelled with Format at 1·10^k, and also at 2·10^k and 5·10^k when the
// range spans less than two decades, so a narrow range still gets labels.
// The range must be positive; Ticks panics otherwise.
type LogTicks struct {
	Format func(float64) string
}

// Ticks implements [plot.Ticker].
func (t LogTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi >= lo) {
		panic("reportkit: log ticks need 0 < lo <= hi")
	}
	labelled := map[int]bool{1: true}
	if hi/lo < 100 {
		labelled[2], labelled[5] = true, true
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			tick := plot.Tick{Value: v}
			if labelled[m] {
				tick.Label = t.Format(v)
			}
			ticks = append(ticks, tick)
		}
	}
	return ticks
}
