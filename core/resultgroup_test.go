package core_test

// Unit tests of ResultGroup: one test per rule of its doc comments in
// group.go.

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

func TestResultGroupOrder(t *testing.T) {
	n := 10_000
	if testing.Short() || raceEnabled {
		n = 2_000
	}
	seed := stressSeed(t)
	r := core.NewResultGroup[int](context.Background())
	for i := range n {
		d := rand.New(rand.NewPCG(seed, uint64(i))).IntN(64)
		r.Go(func(context.Context) (int, error) {
			switch {
			case d < 4: // a task in 16 sleeps 10 to 40 µs
				time.Sleep(time.Duration(d+1) * 10 * time.Microsecond)
			case d < 16:
				runtime.Gosched()
			}
			return i, nil
		})
	}
	var got []int
	var err error
	require.Nil(t, grpReturns(t, "Wait", func() { got, err = r.Wait() }))
	require.NoError(t, err)
	require.Len(t, got, n)
	for i, v := range got {
		if v != i {
			t.Fatalf("result %d is %d: not in submission order", i, v)
		}
	}
}

func TestResultGroupConcurrentSubmitters(t *testing.T) {
	// With submitters racing, the order is that of the Go calls; each
	// submitter's own calls keep their order.
	r := core.NewResultGroup[[2]int](context.Background())
	var wg sync.WaitGroup
	const subs, per = 4, 1000
	for s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				r.Go(func(context.Context) ([2]int, error) { return [2]int{s, i}, nil })
			}
		}()
	}
	wg.Wait()
	got, err := r.Wait()
	require.NoError(t, err)
	require.Len(t, got, subs*per)
	next := make([]int, subs)
	for _, v := range got {
		require.Equal(t, next[v[0]], v[1], "submitter %d", v[0])
		next[v[0]]++
	}
}

func TestResultGroupCancelledAndFailed(t *testing.T) {
	cause := errors.New("stop")
	boom := errors.New("boom")
	r := core.NewResultGroup[int](context.Background(), core.WithAllErrors())
	var ran atomic.Int32
	for i := range 5 {
		r.Go(func(context.Context) (int, error) {
			defer ran.Add(1)
			if i == 2 {
				return 30, boom // a value returned with an error is kept
			}
			return i + 1, nil
		})
	}
	require.Eventually(t, func() bool { return ran.Load() == 5 }, grpTimeout, 100*time.Microsecond)
	r.Cancel(cause)
	for range 3 {
		r.Go(func(ctx context.Context) (int, error) {
			if ctx.Err() == nil {
				t.Error("called after Cancel with a live context")
			}
			return 99, nil
		})
	}
	require.False(t, r.TryGo(func(context.Context) (int, error) { return 98, nil }))
	got, err := r.Wait()
	require.Equal(t, []int{1, 2, 30, 4, 5, 99, 99, 99}, got, "tasks submitted after Cancel are called; a refused TryGo has no slot")
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, cause, "a task failed: its error, not the cause")
	require.True(t, r.Scope().Cancelled())
}

func TestResultGroupTryGoAndLimit(t *testing.T) {
	release := make(chan struct{})
	r := core.NewResultGroup[string](context.Background(), core.WithLimit(1))
	require.True(t, r.TryGo(func(context.Context) (string, error) { <-release; return "a", nil }))
	require.False(t, r.TryGo(func(context.Context) (string, error) { return "b", nil }))
	close(release)
	r.Go(func(context.Context) (string, error) { return "c", nil }) // blocks for the slot
	got, err := r.Wait()
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c"}, got)
	got2, err := r.Wait()
	require.NoError(t, err)
	require.Equal(t, got, got2, "Wait is idempotent")
}

// TestResultGroupWaitSameAfterGoAfterWait: a Go after Wait panics and
// leaves what a later Wait returns unchanged. It failed when ResultGroup.Go
// reserved a result slot before it checked whether Wait had returned, so
// the Go that panicked still added a zero value.
func TestResultGroupWaitSameAfterGoAfterWait(t *testing.T) {
	r := core.NewResultGroup[int](context.Background())
	r.Go(func(context.Context) (int, error) { return 1, nil })
	first, err := r.Wait()
	require.NoError(t, err)
	require.NotNil(t, recoverPanic(func() { r.Go(func(context.Context) (int, error) { return 2, nil }) }))
	second, err := r.Wait()
	require.NoError(t, err)
	require.Equal(t, first, second, "each call of Wait returns the same result")
}

func TestResultGroupPanic(t *testing.T) {
	r := core.NewResultGroup[int](context.Background())
	r.Go(func(context.Context) (int, error) { panic("boom") })
	v := recoverPanic(func() { _, _ = r.Wait() })
	pe, ok := v.(*core.PanicError)
	require.True(t, ok, "%T", v)
	require.Equal(t, "boom", pe.Value)
}

func TestResultGroupCancelledByError(t *testing.T) {
	boom := errors.New("boom")
	r := core.NewResultGroup[int](context.Background())
	r.Go(func(context.Context) (int, error) { return 7, boom })
	require.Eventually(t, r.Scope().Cancelled, grpTimeout, 100*time.Microsecond)
	r.Go(func(context.Context) (int, error) { return 8, nil })
	got, err := r.Wait()
	require.Same(t, boom, err)
	require.Equal(t, []int{7, 8}, got, "a task submitted after the failure is still called")
}
