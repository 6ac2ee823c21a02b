package core_test

// Scope benchmarks, beside package context in the same benchmark:
//
//	go test -run '^$' -bench 'Scope' ./core

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
)

var sinkBool bool

// BenchmarkScopeCheck is the cost of asking "am I cancelled?" on a hot path.
func BenchmarkScopeCheck(b *testing.B) {
	b.Run("impl=context-err", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for range b.N {
			sinkBool = ctx.Err() != nil
		}
	})
	b.Run("impl=context-done", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := ctx.Done()
		for range b.N {
			select {
			case <-done:
				sinkBool = true
			default:
			}
		}
	})
	b.Run("impl=scope", func(b *testing.B) {
		s := core.NewScope(context.Background())
		for range b.N {
			sinkBool = s.Cancelled()
		}
	})
}

// BenchmarkScopeChild is the cost of creating and cancelling one child.
func BenchmarkScopeChild(b *testing.B) {
	b.Run("impl=context", func(b *testing.B) {
		b.ReportAllocs()
		root, cancel := context.WithCancel(context.Background())
		defer cancel()
		for range b.N {
			_, c := context.WithCancel(root)
			c()
		}
	})
	b.Run("impl=scope", func(b *testing.B) {
		b.ReportAllocs()
		root := core.NewScope(context.Background())
		for range b.N {
			core.NewScope(root).Cancel(nil)
		}
	})
}

// BenchmarkScopeCancelTree cancels a root with n children (built outside
// the timer); ns/op is per tree.
func BenchmarkScopeCancelTree(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprintf("impl=context/n=%d", n), func(b *testing.B) {
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
		b.Run(fmt.Sprintf("impl=scope/n=%d", n), func(b *testing.B) {
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
	}
}

// BenchmarkScopeWake measures how long it takes, from Cancel, until n
// goroutines blocked on a cancellation have all returned: plain goroutines
// on a context's Done (what a user has without nimsync), plain goroutines on
// a scope's Done, and a Group's tasks on the group scope's Done or parked in
// Recv on a nimsync channel. ns/op is per wakeup of all n; the setup (all n
// blocked) is outside the timer.
func BenchmarkScopeWake(b *testing.B) {
	const n = 100_000
	waitBlocked := func(blocked *atomic.Int64) {
		for blocked.Load() < n {
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.Run(fmt.Sprintf("impl=context/waiters=%d", n), func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var blocked atomic.Int64
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					blocked.Add(1)
					<-ctx.Done()
				}()
			}
			waitBlocked(&blocked)
			b.StartTimer()
			cancel()
			wg.Wait()
		}
	})
	b.Run(fmt.Sprintf("impl=scope/waiters=%d", n), func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			s := core.NewScope(context.Background())
			var wg sync.WaitGroup
			var blocked atomic.Int64
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					blocked.Add(1)
					<-s.Done()
				}()
			}
			waitBlocked(&blocked)
			b.StartTimer()
			s.Cancel(nil)
			wg.Wait()
		}
	})
	b.Run(fmt.Sprintf("impl=group-done/waiters=%d", n), func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			g := core.NewGroup(context.Background())
			var blocked atomic.Int64
			for range n {
				g.Go(func(ctx context.Context) error {
					blocked.Add(1)
					<-ctx.Done()
					return nil
				})
			}
			waitBlocked(&blocked)
			b.StartTimer()
			g.Cancel(nil)
			_ = g.Wait()
		}
	})
	b.Run(fmt.Sprintf("impl=group-recv/waiters=%d", n), func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			g := core.NewGroup(context.Background())
			c := core.NewMPMC[int](64)
			var blocked atomic.Int64
			for range n {
				g.Go(func(ctx context.Context) error {
					blocked.Add(1)
					_, err := c.Recv(ctx)
					return err
				})
			}
			waitBlocked(&blocked)
			for { // blocked counts tasks about to park: wait until they have
				if _, r := core.Parked[int](c); r == n {
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
			b.StartTimer()
			g.Cancel(nil)
			_ = g.Wait()
		}
	})
}
