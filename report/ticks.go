package report

import (
	"math"
	"strings"

	"gonum.org/v1/plot"
)

// This file holds the plots' tick markers: labels in human units
// ("400k", "2µs") rather than gonum/plot's plain floats.

// relabel is a [plot.Ticker] that keeps another ticker's positions but
// writes their labels with format, trailing zeros trimmed.
type relabel struct {
	plot.Ticker
	format func(float64) string
}

// Ticks implements [plot.Ticker].
func (t relabel) Ticks(lo, hi float64) []plot.Tick {
	ticks := t.Ticker.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = trimZeros(t.format(ticks[i].Value))
		}
	}
	return ticks
}

// logTicks is a [plot.Ticker] for a log axis: a tick at every m·10^k,
// labelled at 1·10^k, and also at 2·10^k and 5·10^k when the range spans
// less than two decades, so a narrow range still gets labels. The range
// must be positive.
type logTicks struct {
	format func(float64) string
}

// Ticks implements [plot.Ticker].
func (t logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi >= lo) {
		panic("report: log ticks need 0 < lo <= hi")
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
				tick.Label = trimZeros(t.format(v))
			}
			ticks = append(ticks, tick)
		}
	}
	return ticks
}

// trimZeros drops trailing zeros of the number a label starts with:
// "1.00µs" → "1µs", "2.50 MiB" → "2.5 MiB", "400k" stays.
func trimZeros(s string) string {
	end := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' })
	if end < 0 {
		end = len(s)
	}
	num, unit := s[:end], s[end:]
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	return num + unit
}
