package bench_test

// The cases of `nimsync bench` as `go test` benchmarks: each case and
// implementation is one sub-benchmark, named as the raw results
// (raw.txt) name it, Benchmark<Name>/impl=<impl>, so that benchstat slices
// either the same way:
//
//	go test -run '^$' -bench . -count 10 ./bench > new.txt
//	go tool benchstat -col /impl new.txt
//
// The cases are the only definition of these benchmarks (cases_*.go).
// Cases that share one run (the four percentiles of a latency benchmark,
// Spawn and SpawnRate, Stress and StressPeakHeap...) share it here too:
// the first sub-benchmark of the family measures, the others report the
// same metrics without running again.

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/bench"
)

// benchBases are the base names of the cases, one Benchmark function each.
var benchBases = []string{
	"Chan", "ChanBatch", "LatencyWake", "LatencyPingPong", "Spawn", "SpawnRate",
	"FanOut",
	"ScopeCheck", "ScopeCancel", "ScopeWake", "ChanMem", "ChanMem10K", "ScopeMem",
	"ParkedTaskMem", "Stress", "StressPeakHeap",
}

func BenchmarkChan(b *testing.B)            { runCases(b, "Chan") }
func BenchmarkChanBatch(b *testing.B)       { runCases(b, "ChanBatch") }
func BenchmarkLatencyWake(b *testing.B)     { runCases(b, "LatencyWake") }
func BenchmarkLatencyPingPong(b *testing.B) { runCases(b, "LatencyPingPong") }
func BenchmarkSpawn(b *testing.B)           { runCases(b, "Spawn") }
func BenchmarkSpawnRate(b *testing.B)       { runCases(b, "SpawnRate") }
func BenchmarkFanOut(b *testing.B)          { runCases(b, "FanOut") }
func BenchmarkScopeCheck(b *testing.B)      { runCases(b, "ScopeCheck") }
func BenchmarkScopeCancel(b *testing.B)     { runCases(b, "ScopeCancel") }
func BenchmarkScopeWake(b *testing.B)       { runCases(b, "ScopeWake") }
func BenchmarkChanMem(b *testing.B)         { runCases(b, "ChanMem") }
func BenchmarkChanMem10K(b *testing.B)      { runCases(b, "ChanMem10K") }
func BenchmarkScopeMem(b *testing.B)        { runCases(b, "ScopeMem") }
func BenchmarkParkedTaskMem(b *testing.B)   { runCases(b, "ParkedTaskMem") }
func BenchmarkStress(b *testing.B)          { runCases(b, "Stress") }
func BenchmarkStressPeakHeap(b *testing.B)  { runCases(b, "StressPeakHeap") }

// caseBase returns the base name of a case: its name up to the first "/".
func caseBase(c bench.Case) string {
	base, _, _ := strings.Cut(c.Name, "/")
	return base
}

// runCases runs, as sub-benchmarks, every implementation of every case
// whose base name is base, each under the case's GOMAXPROCS.
func runCases(b *testing.B, base string) {
	for _, c := range bench.Cases() {
		if caseBase(c) != base {
			continue
		}
		_, rest, _ := strings.Cut(c.Name, "/")
		for _, im := range c.Impls {
			name := "impl=" + im.Name
			if rest != "" {
				name = rest + "/" + name
			}
			b.Run(name, func(b *testing.B) {
				if c.Procs > 0 {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.Procs))
				}
				im.Run(b)
			})
		}
	}
}

// TestBenchmarksCoverCases checks that every case runs under one of the
// Benchmark functions above, and that each of them runs some case.
func TestBenchmarksCoverCases(t *testing.T) {
	var bases []string
	for _, c := range bench.Cases() {
		if base := caseBase(c); !slices.Contains(bases, base) {
			bases = append(bases, base)
		}
	}
	require.ElementsMatch(t, benchBases, bases)
}
