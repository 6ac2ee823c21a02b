package core_test

// Unit tests of Group.GoRange: one test per rule of its doc comment in
// group.go.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

func TestGroupGoRange(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 255, 256, 257, 1000, 100_000} {
		for _, limit := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("n=%d/limit=%d", n, limit), func(t *testing.T) {
				var opts []core.GroupOption
				if limit > 0 {
					opts = append(opts, core.WithLimit(limit))
				}
				var gauge grpGauge
				var wrongCtx atomic.Bool
				calls := make([]atomic.Int32, n)
				g := core.NewGroup(context.Background(), opts...)
				g.GoRange(n, func(ctx context.Context, i int) error {
					gauge.enter()
					defer gauge.leave()
					if ctx != context.Context(g.Scope()) {
						wrongCtx.Store(true)
					}
					calls[i].Add(1)
					return nil
				})
				require.NoError(t, grpWait(t, g))
				require.False(t, wrongCtx.Load(), "fn's context is the group's scope")
				for i := range calls {
					if calls[i].Load() != 1 {
						t.Fatalf("fn(%d) called %d times", i, calls[i].Load())
					}
				}
				if limit > 0 {
					require.LessOrEqual(t, gauge.max.Load(), int64(limit))
				}
			})
		}
	}
}

func TestGroupGoRangeCallsEveryItemAfterError(t *testing.T) {
	const n = 100_000
	boom := errors.New("boom")
	calls := make([]atomic.Int32, n)
	var cancelled atomic.Int32
	g := core.NewGroup(context.Background())
	g.GoRange(n, func(ctx context.Context, i int) error {
		calls[i].Add(1)
		if ctx.Err() != nil {
			cancelled.Add(1)
		}
		if i == 0 {
			return boom
		}
		return nil
	})
	require.Same(t, boom, grpWait(t, g))
	for i := range calls {
		require.EqualValues(t, 1, calls[i].Load(), "fn(%d) is called exactly once", i)
	}
	require.NotZero(t, cancelled.Load(), "calls after the error see the cancelled context")
	t.Logf("%d of %d calls saw the cancellation", cancelled.Load(), n)
}

func TestGroupGoRangeErrorInTheMiddleOfAChunk(t *testing.T) {
	// Within one chunk the calls run in order; with one slot, so do the
	// chunks: the calls after the error see the cancelled context.
	boom := errors.New("boom")
	var after, live atomic.Int32
	g := core.NewGroup(context.Background(), core.WithLimit(1))
	g.GoRange(100, func(ctx context.Context, i int) error {
		switch {
		case i == 10:
			return boom
		case i > 10:
			after.Add(1)
			if ctx.Err() == nil {
				live.Add(1)
			}
		}
		return nil
	})
	require.Same(t, boom, grpWait(t, g))
	require.EqualValues(t, 89, after.Load(), "every call after the error is made")
	require.Zero(t, live.Load(), "with one slot the calls run in order: those after the error see the cancellation")
}

func TestGroupGoRangeAllErrors(t *testing.T) {
	const n = 1000
	calls := make([]atomic.Int32, n)
	g := core.NewGroup(context.Background(), core.WithAllErrors())
	g.GoRange(n, func(_ context.Context, i int) error {
		calls[i].Add(1)
		if i%100 == 0 {
			return fmt.Errorf("item %d", i)
		}
		return nil
	})
	err := grpWait(t, g)
	require.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), n/100, "each call counts as a task for errors")
	for i := range calls {
		require.EqualValues(t, 1, calls[i].Load())
	}
}

func TestGroupGoRangePanic(t *testing.T) {
	g := core.NewGroup(context.Background())
	g.GoRange(1000, func(_ context.Context, i int) error {
		if i == 500 {
			panic(fmt.Sprint("item ", i))
		}
		return nil
	})
	pe := grpWaitPanic(t, g)
	require.Equal(t, "item 500", pe.Value)
}

// GoRange under a limit, with an item that panics or calls Goexit in the
// middle of a chunk: the rest of the chunk used to be resubmitted by a Go
// that waited for the slot the dying chunk still held, and Wait never
// returned. Every item is still called exactly once.
func TestGroupGoRangeLimitFailureMidChunk(t *testing.T) {
	for _, kind := range []string{"panic", "Goexit", "error"} {
		for _, limit := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/limit=%d", kind, limit), func(t *testing.T) {
				const n = 100
				calls := make([]atomic.Int32, n)
				g := core.NewGroup(context.Background(), core.WithLimit(limit))
				returned := make(chan struct{})
				go func() {
					defer close(returned)
					g.GoRange(n, func(_ context.Context, i int) error {
						calls[i].Add(1)
						if i != 0 {
							return nil
						}
						switch kind {
						case "panic":
							panic("item 0")
						case "Goexit":
							runtime.Goexit()
						}
						return errors.New("item 0")
					})
				}()
				grpReturns(t, "GoRange", func() { <-returned })
				if kind == "panic" {
					require.Equal(t, "item 0", grpWaitPanic(t, g).Value)
				} else {
					require.Error(t, grpWait(t, g))
				}
				for i := range calls {
					require.EqualValues(t, 1, calls[i].Load(), "item %d is called exactly once", i)
				}
			})
		}
	}
}

// An item that calls Goexit in the middle of its chunk is the first
// failure, before the items after it run: with one slot every later item
// runs after it, sees the group cancelled, and its error comes second (the
// rest of the chunk used to be queued before ErrGoexit was recorded, and an
// item after it could win).
func TestGroupGoRangeGoexitIsFirstFailure(t *testing.T) {
	errLater := errors.New("later item")
	for trial := range 2000 {
		g := core.NewGroup(context.Background(), core.WithLimit(1))
		var live atomic.Int32
		g.GoRange(32, func(ctx context.Context, i int) error {
			switch {
			case i == 0:
				runtime.Goexit()
			case ctx.Err() == nil:
				live.Add(1)
			}
			return errLater
		})
		require.ErrorIs(t, grpWait(t, g), core.ErrGoexit, "trial %d", trial)
		require.Zero(t, live.Load(), "trial %d: the item after the Goexit saw a live group", trial)
	}
}
