package core_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"

	"github.com/nimsync/nimsync/core"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// spawner spawns n trivial tasks and waits for them, the way a user of one
// library would.
type spawner struct {
	name  string
	setup func(b *testing.B) func(n int) // returns the spawn+wait function
}

func noop(context.Context) error { return nil }

var spawners = []spawner{
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
		// ants' pool with its default options and a capacity that its
		// documentation's examples use; the pool is created once.
		p, err := ants.NewPool(10000)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(p.Release)
		return func(n int) {
			var wg sync.WaitGroup
			wg.Add(n)
			for range n {
				_ = p.Submit(func() { wg.Done() })
			}
			wg.Wait()
		}
	}},
	{"nimsync", func(*testing.B) func(int) {
		return func(n int) {
			g := core.NewGroup(context.Background())
			for range n {
				g.Go(noop)
			}
			_ = g.Wait()
		}
	}},
	{"nimsync-limit", func(*testing.B) func(int) {
		return func(n int) {
			g := core.NewGroup(context.Background(), core.WithLimit(1024))
			for range n {
				g.Go(noop)
			}
			_ = g.Wait()
		}
	}},
	{"nimsync-range", func(*testing.B) func(int) {
		return func(n int) {
			g := core.NewGroup(context.Background())
			g.GoRange(n, func(context.Context, int) error { return nil })
			_ = g.Wait()
		}
	}},
}

// BenchmarkSpawn measures spawn+wait of a batch of trivial tasks, one batch
// per iteration, for nimsync's Group and the alternatives. It reports
// ns/task and tasks/s.
func BenchmarkSpawn(b *testing.B) {
	for _, n := range []int{16, 100_000} {
		for _, s := range spawners {
			b.Run(fmt.Sprintf("impl=%s/tasks=%d", s.name, n), func(b *testing.B) {
				run := s.setup(b)
				run(n) // warm up: pools, queues, stacks
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					run(n)
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n)
				b.ReportMetric(ns, "ns/task")
				b.ReportMetric(1e9/ns, "tasks/s")
			})
		}
	}
}

// BenchmarkSpawnPeak reports what 100K trivial tasks hold at their peak:
// goroutines alive and live heap, read just before Wait (when the most
// tasks are pending), with the state of the previous iteration released.
func BenchmarkSpawnPeak(b *testing.B) {
	const n = 100_000
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	for _, s := range []struct {
		name string
		run  func(peak func())
	}{
		{"go-waitgroup", func(peak func()) {
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() { wg.Done() }()
			}
			peak()
			wg.Wait()
		}},
		{"errgroup", func(peak func()) {
			var g errgroup.Group
			for range n {
				g.Go(func() error { return nil })
			}
			peak()
			_ = g.Wait()
		}},
		{"conc", func(peak func()) {
			p := pool.New()
			for range n {
				p.Go(func() {})
			}
			peak()
			p.Wait()
		}},
		{"nimsync", func(peak func()) {
			g := core.NewGroup(context.Background())
			for range n {
				g.Go(noop)
			}
			peak()
			_ = g.Wait()
		}},
	} {
		b.Run(fmt.Sprintf("impl=%s/tasks=%d", s.name, n), func(b *testing.B) {
			var goroutines, heap float64
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				metrics.Read(sample)
				base := sample[1].Value.Uint64()
				b.StartTimer()
				s.run(func() {
					goroutines = max(goroutines, float64(runtime.NumGoroutine()))
					metrics.Read(sample)
					heap = max(heap, float64(sample[1].Value.Uint64())-float64(base))
				})
			}
			b.ReportMetric(goroutines, "peak-goroutines")
			b.ReportMetric(heap/(1<<20), "peak-heap-MiB")
		})
	}
}
