package bench

// The memory group: what one channel, scope or parked goroutine keeps
// alive. Each benchmark creates many of them (memObjects), keeps them all
// alive, and divides the growth of the live heap (HeapAlloc after a GC, so
// garbage made on the way does not count) by their number. The measurement
// does not depend on b.N: it runs on the first call of the benchmark
// function, and later calls with a larger b.N report the same figure
// (sharedImplOnce).

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

// memObjects is how many objects a memory benchmark keeps alive at once.
const memObjects = 10_000

// memClaim is the seed report's claim on channel memory. It is checked on
// the capacity-1 rows: "overhead" is what a channel costs beyond the
// values it buffers, and a channel of capacity 1 is that plus one slot. At
// capacity 64 the buffer dominates (an MPSC, SPMC or MPMC slot is 16 bytes
// for an int: a sequence number beside the value), so those rows show the
// figure without the claim.
var memClaim = &Claim{Text: "Per-Channel Overhead: <1KB memory usage", Value: 1024}

// memoryCases returns the memory group.
func memoryCases() []Case {
	var cases []Case
	for _, capacity := range []int{1, 64} {
		for _, f := range chantest.Flavors {
			for _, metric := range []string{"B/channel", "MiB"} {
				name := fmt.Sprintf("ChanMem/flavor=%s/cap=%d", f, capacity)
				var claim *Claim
				if metric == "B/channel" {
					if capacity == 1 {
						claim = memClaim
					}
				} else if capacity == 64 {
					// The seed report's "stable with 10K+ channels
					// active": what 10K channels of capacity 64 of int
					// take in all (read from the same run).
					name = fmt.Sprintf("ChanMem10K/flavor=%s/cap=%d", f, capacity)
				} else {
					continue
				}
				key := fmt.Sprintf("chanmem/%s/%d/", f, capacity)
				cases = append(cases, Case{
					Group:  "memory",
					Name:   name,
					Metric: metric,
					Impls: []Contender{
						sharedImplOnce("nimsync", key+"nimsync", metric, true, func(b *testing.B, r reporter) {
							chanMem(r, func() any { return f.New(capacity) })
						}),
						sharedImplOnce("gochan", key+"gochan", metric, true, func(b *testing.B, r reporter) {
							chanMem(r, func() any { return make(chan int, capacity) })
						}),
					},
					Claim: claim,
					Quick: true,
				})
			}
		}
	}
	cases = append(cases, Case{
		// A child scope of a live root, kept alive, against a child
		// context.WithCancel of a cancellable root (with its cancel
		// function, which a user must keep).
		Group:  "memory",
		Name:   "ScopeMem",
		Metric: "B/scope",
		Impls: []Contender{
			sharedImplOnce("nimsync", "scopemem/nimsync", "B/scope", true, func(b *testing.B, r reporter) {
				root := core.NewScope(context.Background())
				defer root.Cancel(nil)
				keep := make([]*core.Scope, memObjects)
				r("B/scope", liveBytesPer(func() {
					for i := range keep {
						keep[i] = core.NewScope(root)
					}
				}))
				runtime.KeepAlive(keep)
			}),
			sharedImplOnce("context", "scopemem/context", "B/scope", true, func(b *testing.B, r reporter) {
				root, cancelRoot := context.WithCancel(context.Background())
				defer cancelRoot()
				keep := make([]context.Context, memObjects)
				cancels := make([]context.CancelFunc, memObjects)
				r("B/scope", liveBytesPer(func() {
					for i := range keep {
						keep[i], cancels[i] = context.WithCancel(root)
					}
				}))
				runtime.KeepAlive(keep)
				runtime.KeepAlive(cancels)
			}),
		},
		Quick: true,
	})
	// A goroutine parked in Recv on an empty channel: nimsync's MPMC
	// (which parks after a short spin) against a Go channel, all 10K on
	// one channel. Two figures from one run: the heap it adds (its
	// closure, its waiter; the goroutine's descriptor is reused from the
	// runtime's free list after the first run, so it is not counted) and
	// the goroutine stack it holds.
	for _, m := range []struct{ name, metric string }{{"heap", "B/task"}, {"stack", "stack-B/task"}} {
		cases = append(cases, Case{
			Group:  "memory",
			Name:   "ParkedTaskMem/mem=" + m.name,
			Metric: m.metric,
			Impls: []Contender{
				sharedImplOnce("nimsync", "parked/nimsync", m.metric, true, func(b *testing.B, r reporter) {
					c := core.NewMPMC[int](1)
					parkedMem(b, r, func() { _, _ = c.Recv(context.Background()) },
						func() { waitParked(b, memObjects) }, func() { _ = c.Close() })
				}),
				sharedImplOnce("gochan", "parked/gochan", m.metric, true, func(b *testing.B, r reporter) {
					c := make(chan int)
					parkedMem(b, r, func() { <-c }, func() { waitBlocked(b, memObjects) }, func() { close(c) })
				}),
			},
			Quick: true,
		})
	}
	return cases
}

// heapStats returns the live heap and the stack memory in use, after a GC.
func heapStats() (heap, stack uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse
}

// liveBytesPer returns the growth of the live heap over fill, divided by
// memObjects (fill keeps memObjects objects alive).
func liveBytesPer(fill func()) float64 {
	before, _ := heapStats()
	fill()
	after, _ := heapStats()
	return (float64(after) - float64(before)) / memObjects
}

// chanMem reports the bytes per channel of memObjects channels made by
// newChan, kept alive, and what they take in all in MiB.
func chanMem(r reporter, newChan func() any) {
	keep := make([]any, memObjects)
	per := liveBytesPer(func() {
		for i := range keep {
			keep[i] = newChan()
		}
	})
	runtime.KeepAlive(keep)
	r("B/channel", per)
	r("MiB", per*memObjects/(1<<20))
}

// parkedMem starts memObjects goroutines running recv, waits with parked
// until they are all parked, and reports the heap and the stack they added
// per goroutine; then wake ends them.
func parkedMem(b *testing.B, r reporter, recv, parked, wake func()) {
	heap0, stack0 := heapStats()
	var wg sync.WaitGroup
	for range memObjects {
		wg.Go(recv)
	}
	parked()
	heap1, stack1 := heapStats()
	wake()
	wg.Wait()
	r("B/task", (float64(heap1)-float64(heap0))/memObjects)
	r("stack-B/task", (float64(stack1)-float64(stack0))/memObjects)
}

// waitParked waits until n goroutines are parked in nimsync channels.
func waitParked(b *testing.B, n int) {
	deadline := time.Now().Add(10 * time.Second)
	for core.ReadStats().ParkedWaiters < int64(n) {
		if time.Now().After(deadline) {
			failf(b, "%d goroutines parked after 10 s, want %d", core.ReadStats().ParkedWaiters, n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
