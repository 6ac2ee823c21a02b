package bench_test

// Benchmarks `go test -bench` runs beside the cases, which the report does
// not carry: what a batch of pending tasks holds at its peak, and the
// cancellation of a wide scope tree. They were core's; like the cases,
// they are defined here only.

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"

	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/nimsync/nimsync/core"
)

// BenchmarkSpawnPeak reports what 100K trivial tasks hold at their peak:
// goroutines alive and heap objects, read just before Wait (when the most
// tasks are pending), with the state of the previous iteration released.
func BenchmarkSpawnPeak(b *testing.B) {
	const n = 100_000
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for _, s := range []struct {
		name string
		run  func(peak func())
	}{
		{"nimsync", func(peak func()) {
			g := core.NewGroup(context.Background())
			for range n {
				g.Go(func(context.Context) error { return nil })
			}
			peak()
			_ = g.Wait()
		}},
		{"go-waitgroup", func(peak func()) {
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {})
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
	} {
		b.Run(fmt.Sprintf("tasks=%d/impl=%s", n, s.name), func(b *testing.B) {
			var goroutines, heap float64
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				metrics.Read(sample)
				base := sample[0].Value.Uint64()
				b.StartTimer()
				s.run(func() {
					goroutines = max(goroutines, float64(runtime.NumGoroutine()))
					metrics.Read(sample)
					heap = max(heap, float64(sample[0].Value.Uint64())-float64(base))
				})
			}
			b.ReportMetric(goroutines, "peak-goroutines")
			b.ReportMetric(heap/(1<<20), "peak-heap-MiB")
		})
	}
}

// BenchmarkScopeCancelTree cancels a root with n children (built outside
// the timer); ns/op is per tree.
func BenchmarkScopeCancelTree(b *testing.B) {
	const n = 100_000
	b.Run(fmt.Sprintf("n=%d/impl=nimsync", n), func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			root := core.NewScope(context.Background())
			for range n {
				core.NewScope(root)
			}
			b.StartTimer()
			root.Cancel(nil)
		}
	})
	b.Run(fmt.Sprintf("n=%d/impl=context", n), func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			root, cancel := context.WithCancel(context.Background())
			cancels := make([]context.CancelFunc, n)
			for i := range cancels {
				_, cancels[i] = context.WithCancel(root)
			}
			b.StartTimer()
			cancel()
			b.StopTimer()
			for _, c := range cancels {
				c() // already cancelled through root; releases nothing more
			}
			b.StartTimer()
		}
	})
}
