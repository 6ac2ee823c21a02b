package bench

// The cancellation group: nimsync's Scope against package context, the
// cancellation a Go program has without nimsync.

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
)

// wakeWaiters is how many goroutines ScopeWake blocks on one cancellation.
const wakeWaiters = 100_000

// cancelCases returns the cancellation group.
func cancelCases() []Case {
	return []Case{
		{
			// Asking "am I cancelled?" on a hot path, with nobody
			// cancelling: Scope.Cancelled (one atomic load) against
			// ctx.Err() (primary) and a select on ctx.Done() with a
			// default.
			Group:  "cancellation",
			Name:   "ScopeCheck",
			Metric: "ns/op",
			Impls: []Contender{
				{"nimsync", func(b *testing.B) {
					s := core.NewScope(context.Background())
					defer s.Cancel(nil)
					n := 0
					for range b.N {
						if s.Cancelled() {
							n++
						}
					}
					checkNotCancelled(b, n)
				}},
				{"context-err", func(b *testing.B) {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					n := 0
					for range b.N {
						if ctx.Err() != nil {
							n++
						}
					}
					checkNotCancelled(b, n)
				}},
				{"context-done", func(b *testing.B) {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					done := ctx.Done()
					n := 0
					for range b.N {
						select {
						case <-done:
							n++
						default:
						}
					}
					checkNotCancelled(b, n)
				}},
			},
			Claim: &Claim{Text: "Cancellation Check Latency: <10 ns per check", Value: 10},
			Quick: true,
		},
		{
			// Creating a child of a live root and cancelling it, one
			// after another: the rate of cancellations.
			Group:  "cancellation",
			Name:   "ScopeCancel",
			Metric: "cancels/s",
			Higher: true,
			Impls: []Contender{
				{"nimsync", func(b *testing.B) {
					b.ReportAllocs()
					root := core.NewScope(context.Background())
					defer root.Cancel(nil)
					for range b.N {
						core.NewScope(root).Cancel(nil)
					}
					reportRate(b, "cancels/s")
				}},
				{"context", func(b *testing.B) {
					b.ReportAllocs()
					root, cancelRoot := context.WithCancel(context.Background())
					defer cancelRoot()
					for range b.N {
						_, cancel := context.WithCancel(root)
						cancel()
					}
					reportRate(b, "cancels/s")
				}},
			},
			Claim: &Claim{Text: "Cancellation Rate: 100K+ operations per second", Value: 100e3},
			Quick: true,
		},
		{
			// Propagation: from Cancel until 100K goroutines blocked on
			// Done() have all returned. ns/op is per cancellation of
			// all of them; blocking them is outside the timer.
			Group:  "cancellation",
			Name:   fmt.Sprintf("ScopeWake/waiters=%d", wakeWaiters),
			Metric: "ns/op",
			Impls: []Contender{
				{"nimsync", func(b *testing.B) {
					for range b.N {
						b.StopTimer()
						s := core.NewScope(context.Background())
						wg := blockOn(b, wakeWaiters, s.Done())
						b.StartTimer()
						s.Cancel(nil)
						wg.Wait()
					}
				}},
				{"context", func(b *testing.B) {
					for range b.N {
						b.StopTimer()
						ctx, cancel := context.WithCancel(context.Background())
						wg := blockOn(b, wakeWaiters, ctx.Done())
						b.StartTimer()
						cancel()
						wg.Wait()
					}
				}},
			},
			Quick: true,
		},
	}
}

// checkNotCancelled fails b if any of ScopeCheck's checks found the scope
// cancelled (nothing cancels it); using the checks' result keeps them from
// being optimized away.
func checkNotCancelled(b *testing.B, n int) {
	if n != 0 {
		failf(b, "%d checks saw a cancellation", n)
	}
}

// reportRate reports b.N operations in b's elapsed time as a rate in unit.
func reportRate(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// blockOn starts n goroutines that wait for done to close, waits until
// they are blocked, and returns the WaitGroup they finish. (It waits until
// n goroutines are waiting, some of which may be others, so a few of the n
// may still be on their way to blocking: a few out of n.)
func blockOn(b *testing.B, n int, done <-chan struct{}) *sync.WaitGroup {
	wg := new(sync.WaitGroup)
	for range n {
		wg.Go(func() { <-done })
	}
	waitBlocked(b, n)
	return wg
}

// waitingGoroutines reads how many goroutines are waiting (blocked in a
// channel operation, a lock, a sleep...), approximately.
func waitingGoroutines() int {
	s := []metrics.Sample{{Name: "/sched/goroutines/waiting:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int(s[0].Value.Uint64())
}

// waitBlocked polls, for up to 10 s, until at least want goroutines are
// waiting; it fails b if they never are.
func waitBlocked(b *testing.B, want int) {
	deadline := time.Now().Add(10 * time.Second)
	for waitingGoroutines() < want {
		if time.Now().After(deadline) {
			failf(b, "%d goroutines waiting after 10 s, want %d", waitingGoroutines(), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
