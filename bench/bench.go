// Package bench measures nimsync against the alternatives a Go user would
// otherwise pick (Go channels, go+sync.WaitGroup, errgroup, conc, ants,
// context, and Workiva's queue.RingBuffer), in the same process and in alternating rounds, so that the drift
// of a shared, noisy machine hits every implementation alike. It backs
// `nimsync bench`, which writes the performance report (report.md,
// report.json, raw results in benchstat format, plots) and compares it with
// a baseline.
//
// A [Case] is one comparison: nimsync's implementation first, then the
// peers'. [Run] runs every case's implementations once per round, in an
// order rotated each round, through testing.Benchmark, and keeps one sample
// per implementation per round; the ratio of a round pairs samples measured
// seconds apart. A warm-up round, not recorded, runs first; each case's
// round is classed by where the host had placed the vCPUs (near or far,
// placement.go), and a case gives one row per placement.
package bench

import (
	"testing"
	"time"
)

// Case is one comparison.
type Case struct {
	// Group is the report's section: "channels", "latency", "tasks",
	// "cancellation", "memory", "scaling" or "stress".
	Group string
	// Name is the benchmark's name in benchstat's key=value form, without
	// the implementation: e.g. "Chan/topo=1p1c/cap=1024". The raw results
	// name each implementation "Benchmark<Name>/impl=<impl>".
	Name string
	// Metric is the unit compared, as the implementations report it with
	// b.ReportMetric (or "ns/op" for testing's own): e.g. "items/s",
	// "ns/task", "B/channel", "p99-ns".
	Metric string
	// Higher tells whether a higher value is better (items/s) or a lower
	// one (ns/task, bytes).
	Higher bool
	// Impls are the implementations: Impls[0] is nimsync's, Impls[1] the
	// primary peer the ratio is taken against; further peers are reported
	// beside it. A case with one implementation reports a figure with no
	// ratio.
	Impls []Contender
	// Claim is what the seed report claims for this row, if anything.
	Claim *Claim
	// Quick marks the cases `nimsync bench --quick` runs.
	Quick bool
	// Procs, if not 0, is the GOMAXPROCS the case runs with (the scaling
	// section); Run restores the previous value afterwards.
	Procs int
}

// Contender is one implementation of a case: a benchmark function that reports
// the case's Metric.
type Contender struct {
	Name string // e.g. "nimsync", "gochan", "errgroup"
	Run  func(b *testing.B)
}

// Claim is a figure the seed report claims, in the case's Metric.
type Claim struct {
	Text  string  // as the seed report says it, e.g. "SPSC: 50M+ ops/s"
	Value float64 // the bound, in the case's Metric
}

// Options control a Run.
type Options struct {
	// Rounds is how many times each implementation runs (default 5; 3 for
	// quick runs). More rounds give the statistics more to go on.
	Rounds int
	// BenchTime is the target duration of one benchmark run (default
	// 200 ms; testing.Benchmark picks b.N to fill it).
	BenchTime time.Duration
	// WarmUp is the target duration of each benchmark run of the warm-up
	// round, which runs every case once before the measured rounds and
	// is not recorded (pools started, heaps grown, clocks up): 0 means
	// BenchTime/5, a negative value no warm-up round.
	WarmUp time.Duration
	// LineRTT, if set, replaces the measurement of the cache-line round
	// trip taken before and after each case's round to class it near or
	// far (see placement.go); it returns ns, or ≤ 0 when it could not
	// measure. Tests set it to script the placements.
	LineRTT func() float64
	// Progress, if set, is called after each measurement of the
	// measured rounds (not of the warm-up round).
	Progress func(round, rounds int, c *Case, impl string, value float64)
}
