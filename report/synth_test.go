package report_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nimsync/nimsync/report"
)

// synth builds a deterministic report of one shard: three scenarios
// sampled every 10 s for 10 minutes, runtime samples, runs, and (when
// failing) one failure. Its numbers are noisy but fixed by seed and shard.
func synth(seed uint64, shard string, failing bool) *report.Report {
	rng := rand.New(rand.NewPCG(seed, uint64(len(shard))*7919+uint64(shard[0])))
	r := &report.Report{
		Tool:       "nimsync",
		Started:    time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC),
		Elapsed:    600,
		Machine:    report.Machine{CPU: "Test CPU @ 3GHz", Cores: 8, GOMAXPROCS: 8, GoVersion: "go1.26.0", OS: "linux", Arch: "amd64"},
		Seed:       seed,
		Shards:     []string{shard},
		Chaos:      "swarm",
		ChaosBuild: true,
		Leak:       report.Leak{GoroutineSlope: 0.001, HeapSlope: 12, GoroutineTolerance: 0.05, HeapTolerance: 1024, Samples: 60, OK: true},
		Passed:     !failing,
	}
	for i, name := range []string{"chan/spsc", "chan/mpmc", "group|scope"} {
		base := 1e6 / float64(i+1)
		sc := report.Scenario{Name: name, Runs: 20, Ops: int64(base * 200), Seconds: 200}
		sc.OpsPerSec = float64(sc.Ops) / sc.Seconds
		for t := 10.0; t <= 600; t += 10 {
			p50 := int64(800 + rng.IntN(200))
			sc.Samples = append(sc.Samples, report.Sample{
				T:         t,
				OpsPerSec: base * (1 + 0.05*rng.NormFloat64()),
				Latency:   report.Percentiles{Count: 1000, P50: p50, P95: p50 * 3, P99: p50 * 8, P999: p50 * 30, Max: p50 * 200},
			})
		}
		sc.Latency = report.Percentiles{Count: 60000, P50: 900, P95: 2700, P99: 7200, P999: 27000, Max: 4_000_000}
		r.Scenarios = append(r.Scenarios, sc)
		for k := range sc.Runs {
			r.Runs = append(r.Runs, report.Run{Scenario: name, Seed: rng.Uint64(), Shard: shard, Start: float64(k * 10), Seconds: 10, Ops: sc.Ops / int64(sc.Runs)})
		}
	}
	for t := 0.0; t <= 600; t += 10 {
		r.Runtime = append(r.Runtime, report.RuntimeSample{
			T: t, Goroutines: 40 + rng.IntN(10), HeapBytes: uint64(8<<20 + rng.IntN(1<<20)), GCPauseNs: uint64(rng.IntN(100_000)), GCs: uint32(rng.IntN(5)),
		})
	}
	if failing {
		r.Scenarios[1].Failures = 1
		r.Runs[25].Error = "linearizability violation\nhistory: ..."
		r.Failures = append(r.Failures, report.Failure{
			Scenario: "chan/mpmc", Seed: r.Runs[25].Seed, Kind: "violation", Error: r.Runs[25].Error,
			Artifact: "failures/chan_mpmc-" + fmt.Sprint(r.Runs[25].Seed),
			Repro:    fmt.Sprintf("go run ./cmd/nimsync replay -scenario chan/mpmc -seed %d", r.Runs[25].Seed),
		})
	}
	return r
}

// errorsIs is errors.Is, as a bool for assert.Equal.
func errorsIs(err, target error) bool { return errors.Is(err, target) }
