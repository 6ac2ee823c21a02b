package bench

// The table of cases, and the scaling group built from the others.

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/nimsync/nimsync/internal/chantest"
)

// Cases returns the table of cases `nimsync bench` runs, grouped by report
// section in order: channels, latency, tasks, cancellation, memory,
// scaling, stress. Every case has nimsync's implementation first and a
// benchstat-style name (Base/key=value/...). On the 2-core development
// machine a round of the Quick ones at 80 ms per benchmark takes about
// 15 s (3 rounds and the warm-up: about a minute), and a round of all of
// them at 200 ms about 50 s (5 rounds: about 4 to 5 minutes).
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

// sweepProcs are the GOMAXPROCS values of the scaling group on a machine
// of ncpu CPUs: 1, 2 and ncpu, ascending, without the values above ncpu
// (a GOMAXPROCS 2 on one CPU measures nothing of scaling) or twice the
// same: [1] on one CPU, [1 2] on two, [1 2 8] on eight.
func sweepProcs(ncpu int) []int {
	ps := []int{1}
	for _, p := range []int{2, ncpu} {
		if p > 1 && p <= ncpu && !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// sweepChans are the channel rows of the scaling group: each flavor in its
// claim topology, and the oversubscribed MPMC.
var sweepChans = []struct {
	f    chantest.Flavor
	p, c int
}{{chantest.SPSC, 1, 1}, {chantest.MPSC, 2, 1}, {chantest.SPMC, 1, 2}, {chantest.MPMC, 2, 2}, {chantest.MPMC, 8, 8}}

// scalingCases returns the scaling group: the channels of sweepChans (cap
// 1024) and spawn+wait of 100K tasks, each at every GOMAXPROCS of
// sweepProcs(runtime.NumCPU()), against its primary peer only (Go channel,
// go+WaitGroup) measured in the same run. All are quick.
func scalingCases() []Case {
	var cases []Case
	for _, procs := range sweepProcs(runtime.NumCPU()) {
		for _, ch := range sweepChans {
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
