package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// This file turns the report's numbers into the short human units
// report.md, the README table and the plot axes show: "12.3M/s",
// "59.6 ns", "2.1 µs", "384 B", "1.5 KiB", "3.10×". Every function is pure
// and safe for concurrent use.

// FormatValue formats v, a value of the given metric, in human units:
//
//   - rates (the metric ends in "/s": items/s, tasks/s) as "12.3M/s";
//   - nanoseconds (the metric is "ns", starts with "ns/" or ends in "-ns":
//     ns/op, ns/task, p99-ns) as "59.6 ns", "2.1 µs", "4.56 ms";
//   - seconds ("s" or "s/…": s/run) likewise, "1.2 s", "850 ms";
//   - bytes ("B", "B/…", "…-B/…", or mentioning "bytes": B/channel,
//     stack-B/task) as "384 B", "1.5 KiB"; MiB and KiB ("MiB",
//     "peak-heap-MiB") scaled to bytes first;
//   - anything else as a count with an SI suffix followed by the metric,
//     "1.2k allocs/op".
//
// Three significant digits, trailing zeros dropped; NaN and infinities
// print as "—". Pure; it costs a few hundred nanoseconds.
func FormatValue(metric string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	m := strings.ToLower(metric)
	switch {
	case strings.HasSuffix(m, "/s"):
		return fmtCount(v) + "/s"
	case m == "ns" || strings.HasPrefix(m, "ns/") || strings.HasSuffix(m, "-ns"):
		return fmtNs(v)
	case m == "s" || strings.HasPrefix(m, "s/"):
		return fmtNs(v * 1e9)
	case m == "kib" || strings.HasSuffix(m, "-kib"):
		return fmtBytes(v * (1 << 10))
	case m == "mib" || strings.HasSuffix(m, "-mib"):
		return fmtBytes(v * (1 << 20))
	case isSize(metric):
		return fmtBytes(v)
	}
	return fmtCount(v) + " " + metric
}

// isSize reports whether metric is a size (bytes, KiB, MiB), for which
// nimsync is "smaller" or "larger" than a peer rather than "faster" or
// "slower".
func isSize(metric string) bool {
	m := strings.ToLower(metric)
	return m == "b" || strings.HasPrefix(m, "b/") || strings.Contains(m, "-b/") || strings.Contains(m, "bytes") ||
		m == "kib" || strings.HasSuffix(m, "-kib") || m == "mib" || strings.HasSuffix(m, "-mib")
}

// sig formats v with three significant digits and no exponent, trailing
// zeros of the fraction dropped: 1.23, 12.3, 123, 2.1, 100.
func sig(v float64) string {
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

// fmtCount formats a count or rate with an SI suffix: "950", "12.3k",
// "4.56M", "1.2G".
func fmtCount(v float64) string {
	switch a := math.Abs(v); {
	case a < 1e3:
		return sig(v)
	case a < 1e6:
		return sig(v/1e3) + "k"
	case a < 1e9:
		return sig(v/1e6) + "M"
	default:
		return sig(v/1e9) + "G"
	}
}

// fmtNs formats nanoseconds: "0.24 ns", "59.6 ns", "2.1 µs", "8.7 ms",
// "1.2 s".
func fmtNs(ns float64) string {
	switch a := math.Abs(ns); {
	case a < 1e3:
		return sig(ns) + " ns"
	case a < 1e6:
		return sig(ns/1e3) + " µs"
	case a < 1e9:
		return sig(ns/1e6) + " ms"
	default:
		return sig(ns/1e9) + " s"
	}
}

// fmtBytes formats a byte count in binary units: "384 B", "1.5 KiB",
// "9 MiB", "1.2 GiB".
func fmtBytes(b float64) string {
	switch a := math.Abs(b); {
	case a < 1<<10:
		return sig(b) + " B"
	case a < 1<<20:
		return sig(b/(1<<10)) + " KiB"
	case a < 1<<30:
		return sig(b/(1<<20)) + " MiB"
	default:
		return sig(b/(1<<30)) + " GiB"
	}
}

// fmtRatio formats a ratio with two decimals below 10 and three
// significant digits above: "0.47×", "3.10×", "26.9×", "124×". Zero, NaN
// and infinities print as "—".
func fmtRatio(r float64) string {
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

// fmtPercent formats a relative change x/base - 1 as "+12.3%" or "-4.0%".
func fmtPercent(ratio float64) string {
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
		return "—"
	}
	return fmt.Sprintf("%+.1f%%", (ratio-1)*100)
}

// caseLabel names a row in tables: its name, with the GOMAXPROCS it ran
// with when set and the name does not say it ("procs=N").
func caseLabel(r *Row) string {
	if r.Procs != 0 && !strings.Contains(r.Name, "procs=") {
		return fmt.Sprintf("%s, GOMAXPROCS=%d", r.Name, r.Procs)
	}
	return r.Name
}

// mdCell makes s safe inside a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", " ")
}

// mdCode wraps s in a code span (safe in a table cell), with a fence
// longer than any run of backticks inside it.
func mdCode(s string) string {
	if s == "" {
		return "—"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + mdCell(s) + pad + fence
}

// machineLine describes m on one line: "AMD EPYC 7B13, 2 cores,
// GOMAXPROCS 2, go1.26.8 linux/amd64, cache-line round trip 100 ns".
func machineLine(m Machine) string {
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	parts := []string{cpu}
	if m.Cores > 0 {
		parts = append(parts, fmt.Sprintf("%d cores", m.Cores))
	}
	if m.GOMAXPROCS > 0 {
		parts = append(parts, fmt.Sprintf("GOMAXPROCS %d", m.GOMAXPROCS))
	}
	goLine := strings.TrimSpace(strings.Join([]string{m.GoVersion, osArch(m)}, " "))
	if goLine != "" {
		parts = append(parts, goLine)
	}
	if m.LineRTTNs > 0 {
		parts = append(parts, "cache-line round trip "+fmtNs(m.LineRTTNs))
	}
	return strings.Join(parts, ", ")
}

func osArch(m Machine) string {
	switch {
	case m.OS != "" && m.Arch != "":
		return m.OS + "/" + m.Arch
	default:
		return m.OS + m.Arch
	}
}
