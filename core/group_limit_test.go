package core_test

// Unit tests of a Group's WithLimit and TryGo: one test per rule of their
// doc comments in group.go.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

func TestGroupLimit(t *testing.T) {
	for _, limit := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var gauge grpGauge
			var ran atomic.Int32
			g := core.NewGroup(context.Background(), core.WithLimit(limit))
			const n = 500
			for i := range n {
				g.Go(func(context.Context) error {
					gauge.enter()
					defer gauge.leave()
					ran.Add(1)
					switch i % 3 {
					case 0:
						time.Sleep(20 * time.Microsecond)
					case 1:
						runtime.Gosched()
					}
					return nil
				})
			}
			require.NoError(t, grpWait(t, g))
			require.EqualValues(t, n, ran.Load())
			require.LessOrEqual(t, gauge.max.Load(), int64(limit))
			require.Positive(t, gauge.max.Load())
		})
	}
}

func TestGroupLimitReached(t *testing.T) {
	// limit tasks run at once, even blocked ones, and one more Go blocks.
	const limit = 4
	release := make(chan struct{})
	g := core.NewGroup(context.Background(), core.WithLimit(limit))
	for range limit {
		grpGoStarted(g, func(context.Context) error { <-release; return nil })
	}
	returned := make(chan struct{})
	var ran atomic.Bool
	go func() {
		defer close(returned)
		g.Go(func(context.Context) error { ran.Store(true); return nil })
	}()
	select {
	case <-returned:
		t.Fatal("Go returned while the limit was reached")
	case <-time.After(10 * time.Millisecond):
	}
	close(release)
	grpReturns(t, "the blocked Go", func() { <-returned })
	require.NoError(t, grpWait(t, g))
	require.True(t, ran.Load())
}

func TestGroupLimitGoUnblockedByCancel(t *testing.T) {
	cause := errors.New("stop")
	g := core.NewGroup(context.Background(), core.WithLimit(1))
	grpGoStarted(g, func(ctx context.Context) error { <-ctx.Done(); return nil })
	var ran, live atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.Go(func(ctx context.Context) error {
				ran.Add(1)
				if ctx.Err() == nil {
					live.Add(1)
				}
				return nil
			})
		}()
	}
	require.Eventually(t, func() bool { return core.LimitWaiters(g) == 4 }, grpTimeout, 50*time.Microsecond, "the Go calls block for the slot")
	require.Zero(t, ran.Load(), "no call while the slot is held")
	g.Cancel(cause)
	grpReturns(t, "the blocked Go calls", wg.Wait)
	require.NoError(t, grpWait(t, g))
	require.EqualValues(t, 4, ran.Load(), "a Go blocked for a slot when the group is cancelled still has its function called")
	require.Zero(t, live.Load(), "with the cancelled context")
}

func TestGroupLimitGoUnblockedByError(t *testing.T) {
	boom := errors.New("boom")
	g := core.NewGroup(context.Background(), core.WithLimit(1))
	release := make(chan struct{})
	grpGoStarted(g, func(ctx context.Context) error { <-release; return boom })
	returned := make(chan struct{})
	var ran, live atomic.Bool
	go func() {
		defer close(returned)
		g.Go(func(ctx context.Context) error { ran.Store(true); live.Store(ctx.Err() == nil); return nil })
	}()
	require.Eventually(t, func() bool { return core.LimitWaiters(g) == 1 }, grpTimeout, 50*time.Microsecond, "the Go blocks for the slot")
	close(release)
	grpReturns(t, "the blocked Go", func() { <-returned })
	require.Same(t, boom, grpWait(t, g))
	require.True(t, ran.Load(), "the blocked task is called")
	require.False(t, live.Load(), "the error cancelled the group before the blocked task could start")
}

func TestGroupLimitTaskWaitsForAnotherGroup(t *testing.T) {
	// A task of a limited group blocks in another group's Wait; the other
	// group's tasks are queued behind it and must still run.
	outer := core.NewGroup(context.Background(), core.WithLimit(2))
	var ran atomic.Int32
	for range 8 {
		outer.Go(func(ctx context.Context) error {
			inner := core.NewGroup(ctx, core.WithLimit(1))
			for range 8 {
				inner.Go(func(context.Context) error { ran.Add(1); return nil })
			}
			return inner.Wait()
		})
	}
	require.NoError(t, grpWait(t, outer))
	require.EqualValues(t, 64, ran.Load())
}

func TestGroupTryGo(t *testing.T) {
	const limit = 3
	release := make(chan struct{})
	var ran atomic.Int32
	block := func(context.Context) error { <-release; ran.Add(1); return nil }
	g := core.NewGroup(context.Background(), core.WithLimit(limit))
	for i := range limit {
		require.True(t, g.TryGo(block), "TryGo %d below the limit", i)
	}
	var extra atomic.Bool
	for range 10 {
		require.False(t, g.TryGo(func(context.Context) error { extra.Store(true); return nil }),
			"TryGo at the limit")
	}
	close(release)
	// A slot frees up when a task has finished.
	require.Eventually(t, func() bool { return g.TryGo(block) }, grpTimeout, 100*time.Microsecond)
	require.NoError(t, grpWait(t, g))
	require.False(t, extra.Load(), "a refused TryGo never runs its function")
	require.EqualValues(t, limit+1, ran.Load())

	u := core.NewGroup(context.Background())
	for range 100 {
		require.True(t, u.TryGo(noop), "TryGo without a limit always starts")
	}
	require.NoError(t, grpWait(t, u))
}
