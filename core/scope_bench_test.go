package core_test

// Scope benchmarks, beside package context in the same benchmark:
//
//	go test -run '^$' -bench 'Scope' ./core

import (
	"context"
	"fmt"
	"testing"

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
