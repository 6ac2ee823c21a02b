package reportkit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file turns numbers into the short human units the reports, the
// README table and the plot axes show: "12.3M/s", "59.6 ns", "2.1 µs",
// "384 B", "1.5 KiB", "3.10×": three significant digits, trailing zeros
// dropped, a space before a unit that is a word or a symbol. Each costs a
// few hundred nanoseconds.

// Value formats v, a value of the given metric, in human units:
//
//   - rates (the metric ends in "/s": items/s, tasks/s, ops/s) as "12.3M/s";
//   - nanoseconds (the metric is "ns", starts with "ns/" or ends in "-ns":
//     ns/op, ns/task, p99-ns) as "59.6 ns", "2.1 µs", "4.56 ms";
//   - seconds ("s" or "s/…": s/run) likewise, "1.2 s", "850 ms";
//   - bytes ("B", "B/…", "…-B/…", or mentioning "bytes": B/channel,
//     stack-B/task) as "384 B", "1.5 KiB"; MiB and KiB ("MiB",
//     "peak-heap-MiB") scaled to bytes first;
//   - anything else as a count with an SI suffix followed by the metric,
//     "1.2k allocs/op".
//
// NaN and infinities print as "—".
func Value(metric string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	m := strings.ToLower(metric)
	switch {
	case strings.HasSuffix(m, "/s"):
		return Rate(v)
	case m == "ns" || strings.HasPrefix(m, "ns/") || strings.HasSuffix(m, "-ns"):
		return Nanos(v)
	case m == "s" || strings.HasPrefix(m, "s/"):
		return Nanos(v * 1e9)
	case m == "kib" || strings.HasSuffix(m, "-kib"):
		return Bytes(v * (1 << 10))
	case m == "mib" || strings.HasSuffix(m, "-mib"):
		return Bytes(v * (1 << 20))
	case IsSize(metric):
		return Bytes(v)
	}
	return Count(v) + " " + metric
}

// IsSize reports whether metric is a size (bytes, KiB, MiB), of which less
// is "smaller" rather than "faster".
func IsSize(metric string) bool {
	m := strings.ToLower(metric)
	return m == "b" || strings.HasPrefix(m, "b/") || strings.Contains(m, "-b/") || strings.Contains(m, "bytes") ||
		m == "kib" || strings.HasSuffix(m, "-kib") || m == "mib" || strings.HasSuffix(m, "-mib")
}

// Sig formats v with three significant digits and no exponent, trailing
// zeros of the fraction dropped: 1.23, 12.3, 123, 2.1, 100; below 1, as
// strconv's 'g' with three digits (0.0123).
func Sig(v float64) string {
	var s string
	switch a := math.Abs(v); {
	case a >= 100 || a == 0:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if strings.Contains(s, ".") && !strings.ContainsAny(s, "eE") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Count formats a count with an SI suffix: "950", "12.3k", "4.56M",
// "1.2G".
func Count(v float64) string {
	switch a := math.Abs(v); {
	case a < 1e3:
		return Sig(v)
	case a < 1e6:
		return Sig(v/1e3) + "k"
	case a < 1e9:
		return Sig(v/1e6) + "M"
	default:
		return Sig(v/1e9) + "G"
	}
}

// Rate formats a rate per second: "12.3k/s".
func Rate(perSec float64) string { return Count(perSec) + "/s" }

// Nanos formats a duration in nanoseconds: "0.24 ns", "59.6 ns", "2.1 µs",
// "8.7 ms", "1.2 s".
func Nanos(ns float64) string {
	switch a := math.Abs(ns); {
	case a < 1e3:
		return Sig(ns) + " ns"
	case a < 1e6:
		return Sig(ns/1e3) + " µs"
	case a < 1e9:
		return Sig(ns/1e6) + " ms"
	default:
		return Sig(ns/1e9) + " s"
	}
}

// Bytes formats a (possibly negative) byte count in binary units: "384 B",
// "1.5 KiB", "9 MiB", "1.2 GiB".
func Bytes(b float64) string {
	switch a := math.Abs(b); {
	case a < 1<<10:
		return Sig(b) + " B"
	case a < 1<<20:
		return Sig(b/(1<<10)) + " KiB"
	case a < 1<<30:
		return Sig(b/(1<<20)) + " MiB"
	default:
		return Sig(b/(1<<30)) + " GiB"
	}
}

// Elapsed formats a wall time given in seconds, as time.Duration does,
// rounded to what a reader of a run's length wants: "1h2m3s", "4.5s",
// "120ms".
func Elapsed(s float64) string {
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

// Ratio formats a ratio with two decimals below 10 and three significant
// digits above: "0.47×", "3.10×", "26.9×", "124×". Zero, NaN and infinities
// print as "—".
func Ratio(r float64) string {
	if r == 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	var s string
	switch {
	case r >= 100:
		s = strconv.FormatFloat(r, 'f', 0, 64)
	case r >= 10:
		s = strconv.FormatFloat(r, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(r, 'f', 2, 64)
	}
	return s + "×"
}

// Percent formats the relative change of a ratio cur/base as "+12.3%" or
// "-4.0%"; NaN and infinities print as "—".
func Percent(ratio float64) string {
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
		return "—"
	}
	return fmt.Sprintf("%+.1f%%", (ratio-1)*100)
}

// Signed formats v with format applied to its magnitude, and its sign in
// front: "+1.2 KiB", "-3.4 KiB".
func Signed(v float64, format func(float64) string) string {
	if v < 0 {
		return "-" + format(-v)
	}
	return "+" + format(v)
}
