package bench

// The fan-out cases of the tasks group: a wave of n tasks that each block
// for about a millisecond outside nimsync (time.Sleep, as a task waits for
// an HTTP or a database reply), spawned and waited for by nimsync's Group
// and by the peers of the spawn cases (cases_tasks.go). With more tasks
// than Ps, a wave is as fast as each task gets a goroutine while the
// others block: a go statement per task gives it one at once, so the wave
// takes about one block plus the spawn. The metric is the wall time of one
// wave (ns/op); the go test benchmarks report tasks/s beside it.

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

// fanOutBlock is how long each task of a wave blocks.
const fanOutBlock = time.Millisecond

// fanOutTask is a wave's task: it blocks outside nimsync, in Go's timers.
func fanOutTask() { time.Sleep(fanOutBlock) }

// fanOuters are the implementations of a wave, in the order of spawners.
var fanOuters = []spawner{
	{"nimsync", func(*testing.B) func(int) {
		return func(n int) {
			g := core.NewGroup(context.Background())
			for range n {
				g.Go(func(context.Context) error { fanOutTask(); return nil })
			}
			_ = g.Wait()
		}
	}},
	{"go-waitgroup", func(*testing.B) func(int) {
		return func(n int) {
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() { fanOutTask(); wg.Done() }()
			}
			wg.Wait()
		}
	}},
	{"errgroup", func(*testing.B) func(int) {
		return func(n int) {
			var g errgroup.Group
			for range n {
				g.Go(func() error { fanOutTask(); return nil })
			}
			_ = g.Wait()
		}
	}},
	{"conc", func(*testing.B) func(int) {
		return func(n int) {
			p := pool.New()
			for range n {
				p.Go(fanOutTask)
			}
			p.Wait()
		}
	}},
	{"ants", func(b *testing.B) func(int) {
		// As in spawners: default options, a capacity above any wave.
		p, err := ants.NewPool(10_000)
		if err != nil {
			failf(b, "ants.NewPool: %v", err)
		}
		b.Cleanup(func() { _ = p.ReleaseTimeout(5 * time.Second) })
		return func(n int) {
			var wg sync.WaitGroup
			wg.Add(n)
			for range n {
				if err := p.Submit(func() { fanOutTask(); wg.Done() }); err != nil {
					wg.Done()
				}
			}
			wg.Wait()
		}
	}},
}

// fanOutCases returns the fan-out cases: waves of 64 and 1024 tasks.
func fanOutCases() []Case {
	var cases []Case
	for _, n := range []int{64, 1024} {
		c := Case{Group: "tasks", Name: fmt.Sprintf("FanOut/tasks=%d/block=1ms", n), Metric: "ns/op", Quick: true}
		for _, s := range fanOuters {
			c.Impls = append(c.Impls, Contender{s.name, func(b *testing.B) { runFanOut(b, s, n) }})
		}
		cases = append(cases, c)
	}
	return cases
}

// runFanOut measures waves of n blocking tasks by s, one wave per
// iteration, and reports tasks/s beside testing's ns/op.
func runFanOut(b *testing.B, s spawner, n int) {
	run := s.setup(b)
	run(n) // warm up: pools, queues, stacks
	b.ReportAllocs()
	for b.Loop() {
		run(n)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}
