package bench

// The table of cases, and the scaling group built from the others.

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/nimsync/nimsync/internal/chantest"
)

// Cases returns the table of cases `nimsync bench` runs, grouped by report
// section in order: channels, latency, tasks, cancellation, memory,
// scaling, stress. Every case has nimsync's implementation first and a
// benchstat-style name (Base/key=value/...). On the 2-core development
// machine a round of the Quick ones at 100 ms per benchmark takes about
// 15 s (3 rounds: about a minute), and a round of all of them at 200 ms
// about 45 s (5 rounds: about 4 minutes).
func Cases() []Case {
	var cases []Case
	cases = append(cases, channelCases()...)
	cases = append(cases, latencyCases()...)
	cases = append(cases, taskCases()...)
	cases = append(cases, cancelCases()...)
	cases = append(cases, memoryCases()...)
	cases = append(cases, scalingCases()...)
	cases = append(cases, stressCases()...)
	return cases
}

// scalingProcs are the GOMAXPROCS values of the scaling group: 1, 2, 4,
// ... up to and including runtime.NumCPU().
func scalingProcs() []int {
	var ps []int
	n := runtime.NumCPU()
	for p := 1; p < n; p *= 2 {
		ps = append(ps, p)
	}
	return append(ps, n)
}

// scalingCases returns the scaling group: SPSC 1p1c, MPMC 2p2c (cap 1024)
// and spawn+wait of 100K tasks, each at every GOMAXPROCS of scalingProcs,
// against its primary peer only (Go channel, go+WaitGroup).
func scalingCases() []Case {
	var cases []Case
	for _, procs := range scalingProcs() {
		for _, ch := range []struct {
			f    chantest.Flavor
			p, c int
		}{{chantest.SPSC, 1, 1}, {chantest.MPMC, 2, 2}} {
			const capacity = 1024
			cases = append(cases, Case{
				Group:  "scaling",
				Name:   fmt.Sprintf("Chan/flavor=%s/topo=%dp%dc/cap=%d/procs=%d", ch.f, ch.p, ch.c, capacity, procs),
				Metric: "items/s",
				Higher: true,
				Impls: []Contender{
					{"nimsync", func(b *testing.B) { runChan(b, ch.f, ch.p, ch.c, capacity, 1) }},
					{"gochan", func(b *testing.B) { runGoChan(b, ch.p, ch.c, capacity) }},
				},
				Procs: procs,
				Quick: true,
			})
		}
		cases = append(cases, spawnCase("scaling", fmt.Sprintf("Spawn/tasks=100000/procs=%d", procs), 100_000, "ns/task", procs, spawners[:2]))
	}
	return cases
}
