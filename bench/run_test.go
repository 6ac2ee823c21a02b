package bench_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/perf/benchfmt"

	"github.com/nimsync/nimsync/bench"
	"github.com/nimsync/nimsync/internal/reportkit"
)

// tiny is the options of the tests' runs: a short benchtime (fake
// benchmarks do nothing), no warm-up round (the recorder counts every
// measurement) and a fixed cache-line round trip, so every round is near.
var tiny = bench.Options{BenchTime: time.Millisecond, WarmUp: -1, LineRTT: fixedRTT(100)}

// fixedRTT returns a LineRTT that always measures ns.
func fixedRTT(ns float64) func() float64 { return func() float64 { return ns } }

// recorder records which implementation each testing.Benchmark measured,
// in order.
type recorder struct {
	mu    sync.Mutex
	seen  map[*testing.B]bool
	order []string
}

func newRecorder() *recorder { return &recorder{seen: map[*testing.B]bool{}} }

// impl returns an implementation that reports values[k] in metric at its
// k-th measurement (one testing.Benchmark, whatever b.N), and records
// itself in r.
func (r *recorder) impl(name, metric string, values ...float64) bench.Contender {
	k := -1
	return bench.Contender{Name: name, Run: func(b *testing.B) {
		r.mu.Lock()
		if !r.seen[b] {
			r.seen[b] = true
			r.order = append(r.order, name)
			k++
		}
		v := values[k%len(values)]
		r.mu.Unlock()
		b.ReportMetric(v, metric)
	}}
}

func (r *recorder) measured() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.order...)
}

func TestRunHigherIsBetter(t *testing.T) {
	rec := newRecorder()
	o := tiny
	o.Rounds = 3
	mk := func(name string, bound float64) bench.Case {
		return bench.Case{
			Group: "channels", Name: name, Metric: "items/s", Higher: true,
			Impls: []bench.Contender{
				rec.impl("nimsync", "items/s", 10, 30, 20),
				rec.impl("peer", "items/s", 5, 10, 5),
				rec.impl("other", "items/s", 1, 2, 3),
			},
			Claim: &bench.Claim{Text: "bound+", Value: bound},
		}
	}
	c, missed := mk("Fake/kind=higher", 15), mk("Fake/kind=missed", 25)
	rep, err := bench.Run(context.Background(), []bench.Case{c, missed}, o)
	require.NoError(t, err)
	require.Len(t, rep.Rows, 2)
	row := rep.Rows[0]
	assert.Equal(t, "channels", row.Group)
	assert.Equal(t, "Fake/kind=higher", row.Name)
	assert.Equal(t, "items/s", row.Metric)
	assert.True(t, row.Higher)
	require.Len(t, row.Impls, 3)
	assert.Equal(t, "nimsync", row.Impls[0].Name)
	assert.Equal(t, []float64{10, 30, 20}, row.Impls[0].Samples, "round order")
	assert.Equal(t, 20.0, row.Impls[0].Median)
	assert.Equal(t, []float64{5, 10, 5}, row.Impls[1].Samples)
	assert.Equal(t, 5.0, row.Impls[1].Median)
	assert.Equal(t, 2.0, row.Impls[2].Median)
	assert.Equal(t, []float64{2, 3, 4}, row.Ratios, "ours/peer, paired by round")
	assert.Equal(t, 3.0, row.Ratio)
	require.NotNil(t, row.ClaimMet)
	assert.True(t, *row.ClaimMet, "median 20 meets 15+")
	require.NotNil(t, rep.Rows[1].ClaimMet)
	assert.False(t, *rep.Rows[1].ClaimMet, "median 20 misses 25+")

	assert.Equal(t, bench.SchemaVersion, rep.Schema)
	assert.Equal(t, 3, rep.Rounds)
	assert.False(t, rep.Date.IsZero())
	assert.Equal(t, runtime.NumCPU(), rep.Machine.Cores)
	assert.Equal(t, runtime.GOMAXPROCS(0), rep.Machine.GOMAXPROCS)
	assert.Equal(t, runtime.Version(), rep.Machine.GoVersion)
	assert.Equal(t, runtime.GOOS, rep.Machine.OS)
	assert.Equal(t, runtime.GOARCH, rep.Machine.Arch)
	// 0 if the machine is too busy to bounce a line in 250 ms.
	assert.GreaterOrEqual(t, rep.Machine.LineRTTNs, 0.0)
}

func TestRunLowerIsBetter(t *testing.T) {
	rec := newRecorder()
	o := tiny
	o.Rounds = 3
	mk := func(name string, bound float64) bench.Case {
		return bench.Case{
			Group: "tasks", Name: name, Metric: "ns/task",
			Impls: []bench.Contender{rec.impl("nimsync", "ns/task", 5, 10, 4), rec.impl("peer", "ns/task", 10, 10, 12)},
			Claim: &bench.Claim{Text: "<bound", Value: bound},
		}
	}
	rep, err := bench.Run(context.Background(), []bench.Case{mk("Fake/claim=6", 6), mk("Fake/claim=5", 5)}, o)
	require.NoError(t, err)
	row := rep.Rows[0]
	assert.False(t, row.Higher)
	assert.Equal(t, 5.0, row.Impls[0].Median)
	assert.Equal(t, []float64{2, 1, 3}, row.Ratios, "peer/ours")
	assert.Equal(t, 2.0, row.Ratio)
	assert.True(t, *row.ClaimMet, "median 5 is below 6")
	assert.False(t, *rep.Rows[1].ClaimMet, "median 5 is not below 5")
}

func TestRunSingleImplementation(t *testing.T) {
	rec := newRecorder()
	o := tiny
	o.Rounds = 2
	rep, err := bench.Run(context.Background(), []bench.Case{{
		Group: "stress", Name: "Fake", Metric: "s/run", Impls: []bench.Contender{rec.impl("nimsync", "s/run", 1, 3)},
	}}, o)
	require.NoError(t, err)
	row := rep.Rows[0]
	assert.Equal(t, 2.0, row.Impls[0].Median, "mean of the middle two")
	assert.Empty(t, row.Ratios)
	assert.Zero(t, row.Ratio)
	assert.Nil(t, row.Claim)
	assert.Nil(t, row.ClaimMet)
}

func TestRunRotatesImplementations(t *testing.T) {
	rec := newRecorder()
	o := tiny
	o.Rounds = 4
	rep, err := bench.Run(context.Background(), []bench.Case{{
		Group: "g", Name: "Fake", Metric: "x",
		Impls: []bench.Contender{rec.impl("a", "x", 1), rec.impl("b", "x", 1), rec.impl("c", "x", 1)},
	}}, o)
	require.NoError(t, err)
	assert.Equal(t, strings.Fields("a b c  b c a  c a b  a b c"), rec.measured())
	for _, im := range rep.Rows[0].Impls {
		assert.Len(t, im.Samples, 4)
	}
}

func TestRunDefaults(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	require.NotNil(t, bt, "go test registers testing's flags")
	before := bt.Value.String()
	var during []string
	rep, err := bench.Run(context.Background(), []bench.Case{{
		Group: "g", Name: "Fake", Metric: "x",
		Impls: []bench.Contender{{Name: "nimsync", Run: func(b *testing.B) {
			during = append(during, bt.Value.String())
			b.ReportMetric(1, "x")
		}}},
	}}, bench.Options{LineRTT: fixedRTT(100)})
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Rounds)
	assert.Len(t, rep.Rows[0].Impls[0].Samples, 5)
	require.NotEmpty(t, during)
	assert.Equal(t, "40ms", during[0], "the warm-up round: a fifth of the benchtime")
	assert.Equal(t, "200ms", during[len(during)-1])
	assert.Equal(t, before, bt.Value.String(), "test.benchtime restored")
}

func TestRunTestingMetrics(t *testing.T) {
	var sink []byte
	alloc := func(b *testing.B) {
		for range b.N {
			sink = make([]byte, 64)
		}
	}
	spin := func(b *testing.B) {
		for range b.N {
			for start := time.Now(); time.Since(start) < time.Microsecond; {
			}
		}
	}
	o := tiny
	o.Rounds = 1
	rep, err := bench.Run(context.Background(), []bench.Case{
		{Group: "g", Name: "Fake/metric=ns", Metric: "ns/op", Impls: []bench.Contender{{Name: "nimsync", Run: spin}}},
		{Group: "g", Name: "Fake/metric=bytes", Metric: "B/op", Impls: []bench.Contender{{Name: "nimsync", Run: alloc}}},
		{Group: "g", Name: "Fake/metric=allocs", Metric: "allocs/op", Impls: []bench.Contender{{Name: "nimsync", Run: alloc}}},
	}, o)
	require.NoError(t, err)
	_ = sink
	ns := rep.Rows[0].Impls[0].Median
	assert.Greater(t, ns, 900.0, "ns/op of a 1 µs spin")
	assert.Less(t, ns, 1e6)
	assert.InDelta(t, 64, rep.Rows[1].Impls[0].Median, 1, "B/op")
	assert.InDelta(t, 1, rep.Rows[2].Impls[0].Median, 0.01, "allocs/op")
}

func TestRunRestoresGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var mu sync.Mutex
	seen := map[string]int{}
	procs := func(name string) bench.Contender {
		return bench.Contender{Name: "nimsync", Run: func(b *testing.B) {
			mu.Lock()
			seen[name] = runtime.GOMAXPROCS(0)
			mu.Unlock()
			b.ReportMetric(1, "x")
		}}
	}
	o := tiny
	o.Rounds = 1
	rep, err := bench.Run(context.Background(), []bench.Case{
		{Group: "scaling", Name: "Fake/procs=1", Metric: "x", Procs: 1, Impls: []bench.Contender{procs("one")}},
		{Group: "scaling", Name: "Fake/procs=3", Metric: "x", Procs: 3, Impls: []bench.Contender{procs("three")}},
		{Group: "g", Name: "Fake", Metric: "x", Impls: []bench.Contender{procs("default")}},
	}, o)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"one": 1, "three": 3, "default": 2}, seen)
	assert.Equal(t, 2, runtime.GOMAXPROCS(0))
	assert.Equal(t, 1, rep.Rows[0].Procs)
	assert.Equal(t, 3, rep.Rows[1].Procs)
	assert.Zero(t, rep.Rows[2].Procs)
	assert.Equal(t, 2, rep.Machine.GOMAXPROCS)
}

func TestRunCancelled(t *testing.T) {
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := tiny
	o.Rounds = 3
	var progress []string
	o.Progress = func(round, rounds int, c *bench.Case, impl string, v float64) {
		assert.Equal(t, 3, rounds)
		progress = append(progress, fmt.Sprintf("%d %s %s %g", round, c.Name, impl, v))
		if len(progress) == 5 {
			cancel()
		}
	}
	mk := func(name string) bench.Case {
		return bench.Case{Group: "g", Name: name, Metric: "x", Higher: true,
			Impls: []bench.Contender{rec.impl("nimsync", "x", 2, 4), rec.impl("peer", "x", 1, 1)}}
	}
	rep, err := bench.Run(ctx, []bench.Case{mk("A"), mk("B"), mk("C")}, o)
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, rep, "what was measured before the cancellation")
	// The fifth measurement, C's nimsync, cancels: C's peer is not run.
	assert.Equal(t, []string{"0 A nimsync 2", "0 A peer 1", "0 B nimsync 2", "0 B peer 1", "0 C nimsync 2"}, progress)
	require.Len(t, rep.Rows, 2, "C's peer has no sample: no row")
	assert.Equal(t, "A", rep.Rows[0].Name)
	assert.Equal(t, []float64{2.0}, rep.Rows[0].Ratios)
	assert.Len(t, rec.measured(), 5, "no measurement after the cancellation")
}

func TestRunPairsRatiosByRound(t *testing.T) {
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := tiny
	o.Rounds = 3
	n := 0
	o.Progress = func(int, int, *bench.Case, string, float64) {
		if n++; n == 3 { // round 0: nimsync, peer; round 1: peer
			cancel()
		}
	}
	rep, err := bench.Run(ctx, []bench.Case{{Group: "g", Name: "A", Metric: "x", Higher: true,
		Impls: []bench.Contender{rec.impl("nimsync", "x", 4), rec.impl("peer", "x", 2, 1)}}}, o)
	require.ErrorIs(t, err, context.Canceled)
	row := rep.Rows[0]
	assert.Len(t, row.Impls[0].Samples, 1)
	assert.Equal(t, []float64{2, 1}, row.Impls[1].Samples)
	assert.Equal(t, []float64{2}, row.Ratios, "round 1 has no nimsync sample to pair")
}

func TestRunErrors(t *testing.T) {
	ok := bench.Contender{Name: "nimsync", Run: func(b *testing.B) { b.ReportMetric(1, "x") }}
	for _, tc := range []struct {
		name string
		c    bench.Case
		want string
	}{
		{"no metric", bench.Case{Name: "A", Impls: []bench.Contender{ok}}, "no metric"},
		{"no impls", bench.Case{Name: "A", Metric: "x"}, "no implementation"},
		{"no name", bench.Case{Metric: "x", Impls: []bench.Contender{ok}}, "no name"},
		{"nil func", bench.Case{Name: "A", Metric: "x", Impls: []bench.Contender{{Name: "nimsync"}}}, "without a name or a function"},
		{"fails", bench.Case{Name: "A", Metric: "x", Impls: []bench.Contender{
			{Name: "nimsync", Run: func(b *testing.B) { b.Fatal("boom") }}}}, "A/impl=nimsync: the benchmark failed"},
		{"wrong metric", bench.Case{Name: "A", Metric: "y", Impls: []bench.Contender{ok}}, `A/impl=nimsync reported no "y"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bench.Run(context.Background(), []bench.Case{tc.c}, tiny)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWriteRaw(t *testing.T) {
	rep := &bench.Report{
		Machine: bench.Machine{Machine: reportkit.Machine{CPU: "Test CPU @ 1GHz", GOMAXPROCS: 2, OS: "linux", Arch: "amd64"}},
		Rows: []bench.Row{
			{Name: "Chan/flavor=spsc/cap=64", Metric: "items/s", Higher: true, Impls: []bench.Result{
				{Name: "nimsync", Samples: []float64{3e7, 3.5e7, 2.9e7}},
				{Name: "gochan", Samples: []float64{2e7, 2.1e7, 2.2e7}},
			}},
			{Name: "Spawn/tasks=100000/procs=1", Metric: "ns/task", Procs: 1, Impls: []bench.Result{
				{Name: "nimsync", Samples: []float64{42.5}},
				{Name: "go-waitgroup", Samples: []float64{900}},
			}},
			{Name: "ScopeCheck", Metric: "ns/op", Impls: []bench.Result{
				{Name: "nimsync", Samples: []float64{0.24}},
			}},
			{Name: "LatencyWake/q=p99.9", Metric: "p99.9-ns", Impls: []bench.Result{
				{Name: "nimsync", Samples: []float64{1.5e6}},
			}},
		},
	}
	var buf bytes.Buffer
	require.NoError(t, bench.WriteRaw(&buf, rep))
	type line struct {
		name, impl, procs, unit string
		value                   float64
	}
	var got []line
	r := benchfmt.NewReader(bytes.NewReader(buf.Bytes()), "raw.txt")
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue // the header's unit metadata, if any
		}
		base, parts := res.Name.Parts()
		name := string(base)
		var impl, procs string
		for _, p := range parts {
			switch s := string(p); {
			case strings.HasPrefix(s, "/impl="):
				impl = strings.TrimPrefix(s, "/impl=")
			case strings.HasPrefix(s, "-"):
				procs = s[1:]
			default:
				name += s
			}
		}
		assert.Equal(t, "Test CPU @ 1GHz", res.GetConfig("cpu"))
		assert.Equal(t, "linux", res.GetConfig("goos"))
		require.Len(t, res.Values, 1)
		v := res.Values[0]
		if v.OrigUnit != "" { // benchfmt tidied it (ns/op → sec/op)
			v.Unit, v.Value = v.OrigUnit, v.OrigValue
		}
		got = append(got, line{name, impl, procs, v.Unit, v.Value})
	}
	require.NoError(t, r.Err())
	assert.Equal(t, []line{
		{"Chan/flavor=spsc/cap=64", "nimsync", "2", "items/s", 3e7},
		{"Chan/flavor=spsc/cap=64", "nimsync", "2", "items/s", 3.5e7},
		{"Chan/flavor=spsc/cap=64", "nimsync", "2", "items/s", 2.9e7},
		{"Chan/flavor=spsc/cap=64", "gochan", "2", "items/s", 2e7},
		{"Chan/flavor=spsc/cap=64", "gochan", "2", "items/s", 2.1e7},
		{"Chan/flavor=spsc/cap=64", "gochan", "2", "items/s", 2.2e7},
		{"Spawn/tasks=100000/procs=1", "nimsync", "1", "ns/task", 42.5},
		{"Spawn/tasks=100000/procs=1", "go-waitgroup", "1", "ns/task", 900},
		{"ScopeCheck", "nimsync", "2", "ns/op", 0.24},
		{"LatencyWake/q=p99.9", "nimsync", "2", "p99.9-ns", 1.5e6},
	}, got)
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriteRawError(t *testing.T) {
	err := bench.WriteRaw(failingWriter{}, &bench.Report{})
	require.EqualError(t, err, "disk full")
}
