package bench

// Running the cases: a warm-up round, then the measured rounds, rotation,
// one testing.Benchmark per implementation per round, the cache-line
// round trip around each case's round, and the rows built from the
// samples, one per case and placement.
//
// Invariants:
//
//  1. A sample is taken with the case's GOMAXPROCS in force (Case.Procs, or
//     the caller's), and the caller's is back when the case is done, however
//     it ends.
//  2. samples[c][i] holds implementation i's samples of case c in round
//     order, each tagged with its round, so that a ratio pairs two samples
//     of the same round even when a cancelled run left a round incomplete.
//  3. The test.benchtime flag is the caller's again when Run returns.
//  4. rtts[c][round] is the round trip measured around case c's round
//     (when measured at all: Options.LineRTT or GOMAXPROCS > 1), taken
//     at the caller's GOMAXPROCS, outside the case's (a case at
//     GOMAXPROCS 1 could not bounce a line); a row holds the samples of
//     the rounds of one placement only.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults of Options.
const (
	defaultRounds    = 5
	defaultBenchTime = 200 * time.Millisecond
)

// sample is one measurement: the value of the case's metric in one round.
type sample struct {
	round int
	value float64
}

// Run measures cases: first a warm-up round (every implementation of every
// case once, with o.WarmUp per run, not recorded; none when o.WarmUp < 0),
// then for each of o.Rounds rounds, for each case in order, every
// implementation once, in an order rotated by one each round (round r
// starts with implementation r mod len(Impls)), through testing.Benchmark
// with o.BenchTime per run. It checks ctx before every measurement. It
// returns the report, with the machine described and its cache-line round
// trip measured first.
//
// Around each case's round it measures the cache-line round trip
// (o.LineRTT, by default about 0.2 to 0.6 ms each); when the rounds are
// done it classes every case-round near or far (placement.go), sets
// Report.Placement, and gives each case one row per placement its rounds
// were measured at, in the order near, far, mixed, unknown. With
// GOMAXPROCS 1 and no o.LineRTT nothing is classed: one row per case,
// Place "".
//
// A case's sample is the Metric its implementation reported with
// b.ReportMetric; "ns/op", "B/op" and "allocs/op" are testing's own, taken
// from the BenchmarkResult. A benchmark that fails (b.Fatal, or no such
// metric) stops the run with an error naming the case, as does ctx: then
// Run returns the report of what was measured so far (the rows of the cases
// every implementation of which has a sample) with the error.
//
// Run leaves Report.Quick to the caller. It sets testing's -test.benchtime
// flag for its duration (calling testing.Init first, if nobody did) and
// GOMAXPROCS for the cases with Procs, so it must not run concurrently with
// another Run or with benchmarks of the same process. It takes about
// (Rounds × BenchTime + WarmUp) × (number of implementations) × 1.3, more
// for benchmarks with untimed setup.
func Run(ctx context.Context, cases []Case, o Options) (*Report, error) {
	if o.Rounds <= 0 {
		o.Rounds = defaultRounds
	}
	if o.BenchTime <= 0 {
		o.BenchTime = defaultBenchTime
	}
	if o.WarmUp == 0 {
		o.WarmUp = o.BenchTime / warmUpShare
	}
	for i := range cases {
		if err := validateCase(&cases[i]); err != nil {
			return nil, err
		}
	}
	restore, err := setBenchTime(o.BenchTime)
	if err != nil {
		return nil, err
	}
	defer restore() // invariant 3

	rep := &Report{
		Schema:  SchemaVersion,
		Date:    time.Now().UTC(),
		Machine: describeMachine(),
		Rounds:  o.Rounds,
	}
	samples := make([][][]sample, len(cases)) // invariant 2
	for c := range cases {
		samples[c] = make([][]sample, len(cases[c].Impls))
	}
	rtts := make([][]rtt, len(cases)) // invariant 4
	lineRTT := lineRTTFunc(o)
	loadStart := loadAvg()
	err = measureAll(ctx, cases, o, lineRTT, samples, rtts)
	if lineRTT != nil {
		rep.Placement = placements(rtts)
		if loadStart > 0 {
			rep.Placement.LoadAvg = []float64{loadStart, loadAvg()}
			rep.Placement.CPUs = runtime.NumCPU()
		}
	}
	rep.Rows = buildRows(cases, samples, rtts, rep.Placement)
	return rep, err
}

// loadAvg returns the 1-minute load average, or 0 where /proc/loadavg
// cannot be read.
func loadAvg() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(data), " ")
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0
	}
	return v
}

// warmUpShare is the default warm-up: BenchTime / warmUpShare per run.
const warmUpShare = 5

// measureAll runs the warm-up round and the rounds, filling samples
// (invariant 2) and, when lineRTT is set, rtts (invariant 4).
func measureAll(ctx context.Context, cases []Case, o Options, lineRTT func() float64, samples [][][]sample, rtts [][]rtt) error {
	if o.WarmUp > 0 {
		if err := warmUp(ctx, cases, o.WarmUp); err != nil {
			return err
		}
	}
	for round := range o.Rounds {
		for c := range cases {
			var r rtt
			if lineRTT != nil {
				r.before = lineRTT()
			}
			err := measureCase(ctx, &cases[c], round, o, samples[c])
			if lineRTT != nil {
				r.after = lineRTT()
				rtts[c] = append(rtts[c], r) // index round
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// warmUp runs every implementation of every case once, under its
// GOMAXPROCS, with d as the benchtime, and records nothing.
func warmUp(ctx context.Context, cases []Case, d time.Duration) error {
	restore, err := setBenchTime(d)
	if err != nil {
		return err
	}
	defer restore()
	for c := range cases {
		if err := warmCase(ctx, &cases[c]); err != nil {
			return err
		}
	}
	return nil
}

// warmCase runs every implementation of c once under c's GOMAXPROCS
// (invariant 1).
func warmCase(ctx context.Context, c *Case) error {
	if c.Procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.Procs))
	}
	for i := range c.Impls {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := measureImpl(c, &c.Impls[i]); err != nil {
			return fmt.Errorf("%w (in the warm-up round)", err)
		}
	}
	return nil
}

// placements classes the case-rounds of rtts and counts them per placement.
func placements(rtts [][]rtt) *Placement {
	var all []float64
	for _, rs := range rtts {
		for _, r := range rs {
			all = append(all, r.before, r.after)
		}
	}
	p := classify(all)
	by := map[string][]float64{}
	for _, rs := range rtts {
		for _, r := range rs {
			pl := p.place(r)
			by[pl] = append(by[pl], r.least())
		}
	}
	for _, pl := range placeOrder {
		vs, ok := by[pl]
		if !ok {
			continue
		}
		positive := slices.DeleteFunc(vs, func(v float64) bool { return !(v > 0) })
		p.Places = append(p.Places, PlaceCount{Place: pl, Rounds: len(vs), MedianRTTNs: sampleMedian(positive)})
	}
	return &p
}

// measureCase runs every implementation of c once, in round's rotation,
// under c's GOMAXPROCS (invariant 1).
func measureCase(ctx context.Context, c *Case, round int, o Options, samples [][]sample) error {
	if c.Procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.Procs))
	}
	n := len(c.Impls)
	for k := range n {
		i := (k + round) % n
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := measureImpl(c, &c.Impls[i])
		if err != nil {
			return err
		}
		samples[i] = append(samples[i], sample{round, v})
		if o.Progress != nil {
			o.Progress(round, o.Rounds, c, c.Impls[i].Name, v)
		}
	}
	return nil
}

// validateCase rejects a case Run cannot measure.
func validateCase(c *Case) error {
	switch {
	case c.Name == "":
		return errors.New("bench: a case has no name")
	case c.Metric == "":
		return fmt.Errorf("bench: case %s has no metric", c.Name)
	case len(c.Impls) == 0:
		return fmt.Errorf("bench: case %s has no implementation", c.Name)
	case c.Procs < 0:
		return fmt.Errorf("bench: case %s has Procs %d", c.Name, c.Procs)
	}
	for _, im := range c.Impls {
		if im.Name == "" || im.Run == nil {
			return fmt.Errorf("bench: case %s has an implementation without a name or a function", c.Name)
		}
	}
	return nil
}

var testingInit sync.Once

// setBenchTime sets the test.benchtime flag that testing.Benchmark reads to
// d, and returns the function that puts the previous value back.
func setBenchTime(d time.Duration) (restore func(), err error) {
	testingInit.Do(testing.Init)
	f := flag.Lookup("test.benchtime")
	if f == nil {
		return nil, errors.New("bench: flag test.benchtime is not registered (testing.Init did not run?)")
	}
	old := f.Value.String()
	if err := f.Value.Set(d.String()); err != nil {
		return nil, fmt.Errorf("bench: setting test.benchtime to %v: %w", d, err)
	}
	return func() { _ = f.Value.Set(old) }, nil
}

// failure is the message of the last benchmark that failed through failf,
// since testing.Benchmark discards a benchmark's output.
var failure atomic.Pointer[string]

// failf records the failure for Run's error and fails b. Call it only from
// the benchmark's goroutine; other goroutines use errorf.
func failf(b *testing.B, format string, args ...any) {
	b.Helper()
	msg := fmt.Sprintf(format, args...)
	failure.Store(&msg)
	b.Fatal(msg)
}

// errorf records the failure for Run's error and marks b failed; any
// goroutine may call it.
func errorf(b *testing.B, format string, args ...any) {
	b.Helper()
	msg := fmt.Sprintf(format, args...)
	failure.Store(&msg)
	b.Error(msg)
}

// measureImpl runs one implementation of c through testing.Benchmark and
// returns the value of c's metric.
func measureImpl(c *Case, im *Contender) (float64, error) {
	failure.Store(nil)
	res := testing.Benchmark(im.Run)
	// A failure in any of testing's runs (not only the last, which sets
	// N to 0) spoils the sample.
	if m := failure.Swap(nil); res.N == 0 || m != nil {
		why := "the benchmark failed"
		if m != nil {
			why = *m
		}
		return 0, fmt.Errorf("bench: %s/impl=%s: %s", c.Name, im.Name, why)
	}
	var v float64
	switch c.Metric {
	case "ns/op": // NsPerOp truncates to whole nanoseconds
		v = float64(res.T.Nanoseconds()) / float64(res.N)
	case "B/op":
		v = float64(res.MemBytes) / float64(res.N)
	case "allocs/op":
		v = float64(res.MemAllocs) / float64(res.N)
	default:
		var ok bool
		if v, ok = res.Extra[c.Metric]; !ok {
			return 0, fmt.Errorf("bench: %s/impl=%s reported no %q (it reported %v)", c.Name, im.Name, c.Metric, res.Extra)
		}
	}
	return v, nil
}

// buildRows builds the report's rows from the samples: for each case, one
// per placement (in placeOrder) at which every implementation has at least
// one sample (invariant 4). With pl nil, the placement of every round is
// "", and a case has one row; so has a memory case (bytes do not depend on
// where the vCPUs sit).
func buildRows(cases []Case, samples [][][]sample, rtts [][]rtt, pl *Placement) []Row {
	var out []Row
	for ci := range cases {
		placeOf := func(round int) string {
			switch {
			case pl == nil, cases[ci].Group == "memory": // sizes do not move with the placement
				return ""
			case round < len(rtts[ci]):
				return pl.place(rtts[ci][round])
			}
			return PlaceUnknown
		}
		for _, place := range placeOrder {
			sub := make([][]sample, len(samples[ci]))
			var rounds []int
			for i, ss := range samples[ci] {
				for _, s := range ss {
					if placeOf(s.round) == place {
						sub[i] = append(sub[i], s)
						if !slices.Contains(rounds, s.round) {
							rounds = append(rounds, s.round)
						}
					}
				}
			}
			if slices.ContainsFunc(sub, func(s []sample) bool { return len(s) == 0 }) {
				continue
			}
			row := buildRow(&cases[ci], sub)
			row.Place = place
			if pl != nil && place != "" {
				slices.Sort(rounds)
				for _, r := range rounds {
					row.LineRTTNs = append(row.LineRTTNs, rtts[ci][r].least())
				}
			}
			out = append(out, row)
		}
	}
	return out
}

// buildRow builds c's row from samples[i], implementation i's samples of
// the row's rounds.
func buildRow(c *Case, samples [][]sample) Row {
	row := Row{Group: c.Group, Name: c.Name, Metric: c.Metric, Higher: c.Higher, Procs: c.Procs, Claim: c.Claim}
	for i, im := range c.Impls {
		vs := make([]float64, len(samples[i]))
		for j, s := range samples[i] {
			vs[j] = s.value
		}
		row.Impls = append(row.Impls, Result{Name: im.Name, Median: sampleMedian(vs), Samples: vs})
	}
	if len(c.Impls) > 1 {
		row.Ratios = roundRatios(samples[0], samples[1], c.Higher)
		row.Ratio = sampleMedian(row.Ratios)
	}
	if c.Claim != nil {
		met := claimMet(row.Impls[0].Median, c.Claim.Value, c.Higher)
		row.ClaimMet = &met
	}
	return row
}

// roundRatios pairs ours and the peer's samples by round and returns nimsync's
// advantage in each round, > 1 when nimsync is better. A round where either
// is missing, or the ratio is not finite, gives none.
func roundRatios(ours, peer []sample, higher bool) []float64 {
	var out []float64
	for _, o := range ours {
		j := slices.IndexFunc(peer, func(p sample) bool { return p.round == o.round })
		if j < 0 {
			continue
		}
		r := peer[j].value / o.value // lower is better: peer/ours
		if higher {
			r = o.value / peer[j].value
		}
		if !math.IsNaN(r) && !math.IsInf(r, 0) && r > 0 {
			out = append(out, r)
		}
	}
	return out
}

// claimMet reports whether nimsync's median v meets a claim of bound: at
// least bound when higher is better ("50M+ ops/s"), below it otherwise
// ("<100 ns per task").
func claimMet(v, bound float64, higher bool) bool {
	if higher {
		return v >= bound
	}
	return v < bound
}

// sampleMedian returns the median of vs (the mean of the middle two for an even
// count), or 0 for none. It does not modify vs.
func sampleMedian(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// WriteRaw writes every sample of r in the benchmark format that benchstat
// reads: a header (goos, goarch, pkg, cpu) and one line per sample,
//
//	Benchmark<Name>/place=<place>/impl=<impl>-<procs> 1 <value> <metric>
//
// with the case's GOMAXPROCS as procs (and no place= key for a row without
// a placement), so that
//
//	go tool benchstat -col /impl raw.txt
//
// sets the implementations side by side, and -row .name,/place keeps the
// placements apart. The iteration count is 1 since
// the report keeps the values, not testing's b.N.
func WriteRaw(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "goos: %s\ngoarch: %s\npkg: github.com/nimsync/nimsync/bench\n", r.Machine.OS, r.Machine.Arch)
	if r.Machine.CPU != "" {
		fmt.Fprintf(ew, "cpu: %s\n", r.Machine.CPU)
	}
	for _, row := range r.Rows {
		procs := row.Procs
		if procs == 0 {
			procs = r.Machine.GOMAXPROCS
		}
		for _, im := range row.Impls {
			for _, v := range im.Samples {
				fmt.Fprintf(ew, "Benchmark%s%s/impl=%s-%d \t1\t%s %s\n",
					row.Name, placeLabel(row.Place), im.Name, procs, strconv.FormatFloat(v, 'g', -1, 64), row.Metric)
			}
		}
	}
	return ew.err
}

// errWriter keeps the first write error and drops later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
