package bench

// The stress group: scenarios of package scenarios, run as they run in a
// soak (seed 1, scale 1, no chaos), timed, with the peak of the heap
// sampled during the run. These cases have no peer: no other library runs
// the same scenario. One run gives both figures (cases_shared.go).

import (
	"context"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/nimsync/nimsync/scenarios"
)

// stressScenarios are the scenarios measured; each takes well under 5 s
// on the 2-core development machine (0.2 to 0.4 s), so all are quick.
var stressScenarios = []string{"group-100k", "channels-10k", "cancel-storm"}

// heapSampleEvery is how often the stress benchmarks sample the heap.
const heapSampleEvery = time.Millisecond

// stressCases returns the stress group.
func stressCases() []Case {
	var cases []Case
	for _, name := range stressScenarios {
		for _, m := range []struct{ bench, metric string }{{"Stress", "s/run"}, {"StressPeakHeap", "peak-heap-MiB"}} {
			cases = append(cases, Case{
				Group:  "stress",
				Name:   m.bench + "/scenario=" + name,
				Metric: m.metric,
				Impls: []Contender{sharedImpl("nimsync", "stress/"+name, m.metric, func(b *testing.B, r reporter) {
					runScenario(b, r, name)
				})},
				Quick: true,
			})
		}
	}
	return cases
}

// runScenario runs the named scenario b.N times and reports the time per
// run and the peak of the heap's objects during the runs.
func runScenario(b *testing.B, r reporter, name string) {
	s, ok := scenarios.Lookup(name)
	if !ok {
		failf(b, "no scenario %q", name)
	}
	peak := sampleHeap()
	b.ResetTimer()
	for range b.N {
		cfg := scenarios.Config{Seed: 1, Scale: 1, Meter: scenarios.NewMeter()}
		if err := s.Run(context.Background(), cfg); err != nil {
			peak()
			failf(b, "scenario %s: %v", name, err)
		}
	}
	b.StopTimer()
	r("s/run", b.Elapsed().Seconds()/float64(b.N))
	r("peak-heap-MiB", float64(peak())/(1<<20))
}

// sampleHeap starts sampling the bytes of heap objects (live and not yet
// swept) every heapSampleEvery; the function it returns stops the sampler
// and returns the largest sample.
func sampleHeap() (stop func() uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	wg.Go(func() {
		t := time.NewTicker(heapSampleEvery)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	var once sync.Once
	return func() uint64 {
		once.Do(func() {
			close(done)
			wg.Wait()
			peak = max(peak, read())
		})
		return peak
	}
}
