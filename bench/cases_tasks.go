package bench

// The tasks group: spawn and wait for a batch of trivial tasks, the way a
// user of each library would: nimsync's Group (Go, Wait) against a go
// statement per task with a sync.WaitGroup (the primary peer: what Go
// offers without a library), errgroup, conc's pool and an ants pool.
//
// One benchmark run reports both ns/task and tasks/s; the two cases share
// it (cases_shared.go). The tasks that block, in waves, are in
// cases_fanout.go.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/nimsync/nimsync/core"
)

// spawner spawns n trivial tasks and waits for them: setup returns the
// function that does so once.
type spawner struct {
	name  string
	setup func(b *testing.B) func(n int)
}

func noopTask(context.Context) error { return nil }

// spawners are the implementations, nimsync first, then the primary peer.
var spawners = []spawner{
	{"nimsync", func(*testing.B) func(int) {
		return func(n int) {
			g := core.NewGroup(context.Background())
			for range n {
				g.Go(noopTask)
			}
			_ = g.Wait()
		}
	}},
	{"go-waitgroup", func(*testing.B) func(int) {
		return func(n int) {
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() { wg.Done() }()
			}
			wg.Wait()
		}
	}},
	{"errgroup", func(*testing.B) func(int) {
		return func(n int) {
			var g errgroup.Group
			for range n {
				g.Go(func() error { return nil })
			}
			_ = g.Wait()
		}
	}},
	{"conc", func(*testing.B) func(int) {
		return func(n int) {
			p := pool.New()
			for range n {
				p.Go(func() {})
			}
			p.Wait()
		}
	}},
	{"ants", func(b *testing.B) func(int) {
		// ants' pool with its default options and a capacity its
		// documentation's examples use, created once per measurement.
		p, err := ants.NewPool(10_000)
		if err != nil {
			failf(b, "ants.NewPool: %v", err)
		}
		b.Cleanup(func() { _ = p.ReleaseTimeout(5 * time.Second) })
		return func(n int) {
			var wg sync.WaitGroup
			wg.Add(n)
			for range n {
				if err := p.Submit(func() { wg.Done() }); err != nil {
					wg.Done()
				}
			}
			wg.Wait()
		}
	}},
}

// spawnClaims are the seed report's task claims, checked on the 100K-task
// batch: spawning many tasks is where a per-task overhead is measured (the
// 16-task group adds the group's own fixed cost, spread over few tasks).
var spawnClaims = map[string]*Claim{
	"ns/task": {Text: "Task Spawn Overhead: <100 ns per task", Value: 100},
	"tasks/s": {Text: "Task Spawn Rate: 500K+ tasks per second", Value: 500e3},
}

// taskCases returns the tasks group: the spawn cases, then the fan-out
// cases (cases_fanout.go).
func taskCases() []Case {
	var cases []Case
	for _, n := range []int{100_000, 16} {
		cases = append(cases, spawnCase("tasks", fmt.Sprintf("Spawn/tasks=%d", n), n, "ns/task", 0, spawners))
		if n == 100_000 {
			cases = append(cases, spawnCase("tasks", fmt.Sprintf("SpawnRate/tasks=%d", n), n, "tasks/s", 0, spawners))
		}
	}
	return append(cases, fanOutCases()...)
}

// spawnCase returns the case name: spawn+wait of n tasks by each of ss,
// reading metric (ns/task or tasks/s), under GOMAXPROCS procs (0: the
// caller's).
func spawnCase(group, name string, n int, metric string, procs int, ss []spawner) Case {
	c := Case{Group: group, Name: name, Metric: metric, Higher: metric == "tasks/s", Procs: procs, Quick: true}
	if n == 100_000 && procs == 0 {
		c.Claim = spawnClaims[metric]
	}
	for _, s := range ss {
		key := fmt.Sprintf("spawn/%d/procs=%d/%s", n, procs, s.name)
		c.Impls = append(c.Impls, sharedImpl(s.name, key, metric, func(b *testing.B, r reporter) { runSpawn(b, r, s, n) }))
	}
	return c
}

// runSpawn measures spawn+wait of n trivial tasks by s, one batch per
// iteration, and reports ns/task and tasks/s.
func runSpawn(b *testing.B, r reporter, s spawner, n int) {
	run := s.setup(b)
	run(n) // warm up: pools, queues, stacks
	b.ReportAllocs()
	for b.Loop() {
		run(n)
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n)
	r("ns/task", ns)
	r("tasks/s", 1e9/ns)
}
