package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file turns the report's raw numbers (nanoseconds, bytes, ops/s,
// seconds) into the short human units report.md, report.html and the plot
// axes show. Every function is pure and safe for concurrent use.

// fmtSig formats v (expected in [0, 1000)) with three significant digits and
// no exponent: 1.23, 12.3, 123.
func fmtSig(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100 || a == 0:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// fmtLatency formats a latency in nanoseconds: "850ns", "12.3µs", "4.56ms",
// "1.20s". Zero is "0".
func fmtLatency(ns float64) string {
	switch a := math.Abs(ns); {
	case ns == 0:
		return "0"
	case a < 1e3:
		return fmtSig(ns) + "ns"
	case a < 1e6:
		return fmtSig(ns/1e3) + "µs"
	case a < 1e9:
		return fmtSig(ns/1e6) + "ms"
	default:
		return fmtSig(ns/1e9) + "s"
	}
}

// fmtCount formats a count or rate with an SI suffix: "950", "12.3k",
// "4.56M", "1.20G".
func fmtCount(v float64) string {
	switch a := math.Abs(v); {
	case a < 1e3:
		return fmtSig(v)
	case a < 1e6:
		return fmtSig(v/1e3) + "k"
	case a < 1e9:
		return fmtSig(v/1e6) + "M"
	default:
		return fmtSig(v/1e9) + "G"
	}
}

// fmtRate formats a throughput: "12.3k/s".
func fmtRate(opsPerSec float64) string { return fmtCount(opsPerSec) + "/s" }

// fmtBytes formats a (possibly negative) byte count in binary units:
// "512 B", "12.3 KiB", "4.56 MiB", "1.20 GiB".
func fmtBytes(b float64) string {
	switch a := math.Abs(b); {
	case a < 1<<10:
		return fmtSig(b) + " B"
	case a < 1<<20:
		return fmtSig(b/(1<<10)) + " KiB"
	case a < 1<<30:
		return fmtSig(b/(1<<20)) + " MiB"
	default:
		return fmtSig(b/(1<<30)) + " GiB"
	}
}

// fmtSeconds formats a wall time given in seconds: "1h2m3s", "4.5s",
// "120ms".
func fmtSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// fmtSigned prefixes a formatted non-negative magnitude with the sign of v:
// "+1.2 KiB", "-3.4 KiB".
func fmtSigned(v float64, format func(float64) string) string {
	if v < 0 {
		return "-" + format(-v)
	}
	return "+" + format(v)
}

// fmtSeed formats a seed as decimal, the form the repro commands take.
func fmtSeed(seed uint64) string { return strconv.FormatUint(seed, 10) }

// fmtPercent formats a ratio change (cur/base - 1) as "+12.3%" or "-4.0%".
func fmtPercent(ratio float64) string {
	return fmt.Sprintf("%+.1f%%", (ratio-1)*100)
}

// firstLine returns s up to its first newline, cut to at most n runes, with
// "…" appended when anything was dropped.
func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	cut := false
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s, cut = strings.TrimSpace(s[:i]), true
	}
	if r := []rune(s); len(r) > n {
		s, cut = string(r[:n]), true
	}
	if cut {
		s += "…"
	}
	return s
}
