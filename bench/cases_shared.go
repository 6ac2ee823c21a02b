package bench

// One benchmark run read by several cases: a run that reports several
// metrics (the four latency percentiles, ns/task and tasks/s, time and peak
// heap) is measured once per round and each case takes its own metric from
// it, rather than running the same benchmark once per metric.
//
// Invariants:
//
//  1. A measurement belongs to the *testing.B of the testing.Benchmark
//     call that made it: every call of the benchmark function within that
//     testing.Benchmark (testing calls it again with a larger b.N) runs the
//     benchmark again and overwrites the metrics, so the last call's, the
//     ones testing.Benchmark returns, are what is kept.
//  2. A case takes a measurement made by another case's testing.Benchmark
//     only if none of the cases reading the same metric took it before, so
//     each case gets a fresh measurement at most once per round and no
//     measurement is counted twice for one metric. In a full round the
//     first case of a family measures and the others read; a run of a
//     single case of the family measures every round.

import (
	"maps"
	"sync"
	"testing"
)

// sharedRuns holds the last measurement of each shared benchmark, by key
// (the benchmark and the implementation).
var sharedRuns = struct {
	sync.Mutex
	m map[string]*sharedRun
}{m: map[string]*sharedRun{}}

// sharedRun is one measurement of a shared benchmark.
type sharedRun struct {
	owner   *testing.B            // the B that measured it (invariant 1)
	metrics map[string]float64    // as the owner last reported them
	takenBy map[string]*testing.B // metric → the B that took it (invariant 2)
	failed  bool                  // the owner failed: nobody may take it
}

// reporter reports one metric of a shared benchmark.
type reporter func(unit string, v float64)

// sharedImpl returns an implementation called name, for a case that reads
// metric, whose benchmark is run: run reports all its metrics through
// report. The implementations of several cases that share one key share
// one measurement per round (see the invariants above).
func sharedImpl(name, key, metric string, run func(b *testing.B, report reporter)) Contender {
	return sharedImplOnce(name, key, metric, false, run)
}

// sharedImplOnce is sharedImpl; if once is set, run runs only on the first
// call of a testing.Benchmark, and later calls (with a larger b.N) report
// what it reported: for a measurement that does not depend on b.N, such as
// the heap that some objects take, which would otherwise run again until
// b.N reached a billion.
func sharedImplOnce(name, key, metric string, once bool, run func(b *testing.B, report reporter)) Contender {
	return Contender{Name: name, Run: func(b *testing.B) {
		sharedRuns.Lock()
		r := sharedRuns.m[key]
		switch {
		case r != nil && r.owner == b && once && r.metrics != nil && !r.failed:
			vals := maps.Clone(r.metrics)
			sharedRuns.Unlock()
			for unit, v := range vals {
				b.ReportMetric(v, unit)
			}
			return
		case r != nil && r.owner == b: // testing runs us again: measure again
		case r != nil && !r.failed && (r.takenBy[metric] == b || r.takenBy[metric] == nil && r.metrics != nil):
			r.takenBy[metric] = b
			vals := maps.Clone(r.metrics)
			sharedRuns.Unlock()
			for unit, v := range vals {
				b.ReportMetric(v, unit)
			}
			return
		default:
			r = &sharedRun{owner: b, takenBy: map[string]*testing.B{metric: b}}
			sharedRuns.m[key] = r
		}
		r.metrics = nil
		sharedRuns.Unlock()
		defer func() { // also when run fails through b.Fatal
			if b.Failed() {
				sharedRuns.Lock()
				r.failed = true
				sharedRuns.Unlock()
			}
		}()
		run(b, func(unit string, v float64) {
			b.ReportMetric(v, unit)
			sharedRuns.Lock()
			if r.metrics == nil {
				r.metrics = map[string]float64{}
			}
			r.metrics[unit] = v
			sharedRuns.Unlock()
		})
	}}
}
