package core_test

// Stress tests of Group and Scope: many tasks, failures racing with
// Cancel, scope churn, and limits under cancellation. Each test draws its
// choices from a seed it logs (stressSeed); rerun one with
// NIMSYNC_SEED=<seed>. Tasks never wait for each other, only for
// cancellation, which always comes.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

func TestGroupStressDeferredCleanup(t *testing.T) {
	n := scaled(100_000)
	var cleaned atomic.Int64
	g := core.NewGroup(context.Background())
	for range n {
		g.Go(func(context.Context) error {
			defer cleaned.Add(1)
			return nil
		})
	}
	require.NoError(t, grpWait(t, g))
	require.EqualValues(t, n, cleaned.Load(), "every task's deferred cleanup ran before Wait returned")
}

func TestGroupStressDeferredCleanupNested(t *testing.T) {
	// The same, with tasks submitted from tasks (Go while Wait waits) and
	// from GoRange.
	n := scaled(100_000)
	const fan = 100
	var cleaned atomic.Int64
	g := core.NewGroup(context.Background())
	for range n / fan / 2 {
		g.Go(func(context.Context) error {
			defer cleaned.Add(1)
			for range fan - 1 {
				g.Go(func(context.Context) error {
					defer cleaned.Add(1)
					return nil
				})
			}
			return nil
		})
	}
	g.GoRange(n/2, func(context.Context, int) error {
		defer cleaned.Add(1)
		return nil
	})
	require.NoError(t, grpWait(t, g))
	require.EqualValues(t, n/fan/2*fan+n/2, cleaned.Load())
}

// stressFailure is the error a stress task returns.
type stressFailure struct{ task int }

func (e *stressFailure) Error() string { return fmt.Sprintf("task %d failed", e.task) }

// stressPanic is the value a stress task panics with.
type stressPanic struct{ task int }

func TestGroupStressFailuresRacingCancel(t *testing.T) {
	seed := stressSeed(t)
	rounds := scaled(300)
	for round := range rounds {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		n := 1 + rng.IntN(200)
		var opts []core.GroupOption
		if rng.IntN(3) == 0 {
			opts = append(opts, core.WithLimit(1+rng.IntN(8)))
		}
		all := rng.IntN(4) == 0
		if all {
			opts = append(opts, core.WithAllErrors())
		}
		const (
			kindOK = iota
			kindError
			kindPanic
			kindSleep
			kindAwaitCancel
			kindYield
		)
		kinds := make([]int, n)
		for i := range kinds {
			switch r := rng.IntN(100); {
			case r < 3:
				kinds[i] = kindError
			case r < 5:
				kinds[i] = kindPanic
			case r < 15:
				kinds[i] = kindSleep
			case r < 25:
				kinds[i] = kindAwaitCancel
			case r < 50:
				kinds[i] = kindYield
			}
		}
		cancelAfter := time.Duration(rng.IntN(500)) * time.Microsecond
		cause := fmt.Errorf("round %d cancelled", round)

		started := make([]atomic.Int32, n)
		deferred := make([]atomic.Int32, n)
		var failed, panicked atomic.Bool
		g := core.NewGroup(context.Background(), opts...)
		cancelled := make(chan struct{})
		go func() {
			defer close(cancelled)
			time.Sleep(cancelAfter)
			g.Cancel(cause)
		}()
		for i := range n {
			g.Go(func(ctx context.Context) error {
				started[i].Add(1)
				defer deferred[i].Add(1)
				switch kinds[i] {
				case kindError:
					failed.Store(true)
					return &stressFailure{i}
				case kindPanic:
					panicked.Store(true)
					panic(&stressPanic{i})
				case kindSleep:
					time.Sleep(time.Duration(i%50) * time.Microsecond)
				case kindAwaitCancel:
					<-ctx.Done()
				case kindYield:
					runtime.Gosched()
				}
				return nil
			})
		}
		var err error
		r := grpReturns(t, fmt.Sprintf("round %d: Wait", round), func() { err = g.Wait() })
		<-cancelled

		for i := range n {
			s, d := started[i].Load(), deferred[i].Load()
			if s > 1 || s != d {
				t.Fatalf("round %d: task %d started %d times, its defers ran %d times", round, i, s, d)
			}
		}
		switch {
		case panicked.Load():
			pe, ok := r.(*core.PanicError)
			require.True(t, ok, "round %d: a task panicked; Wait returned %v, panicked with %v", round, err, r)
			_, ok = pe.Value.(*stressPanic)
			require.True(t, ok, "round %d: panic value %v", round, pe.Value)
		case failed.Load():
			require.Nil(t, r, "round %d", round)
			var f *stressFailure
			require.ErrorAs(t, err, &f, "round %d: a task failed", round)
			if !all {
				require.Same(t, f, err, "round %d: the first failure alone", round)
			}
		default:
			require.Nil(t, r, "round %d", round)
			if err != nil {
				require.Same(t, cause, err, "round %d", round)
			}
		}
		require.True(t, g.Scope().Cancelled())
	}
}

func TestGroupStressScopeChurn(t *testing.T) {
	// 200K scopes, groups and hooks created and cancelled under one root
	// by several goroutines: the root has no child left.
	seed := stressSeed(t)
	root := core.NewScope(context.Background())
	const workers = 8
	per := scaled(200_000) / workers
	var hooks, fired, shieldBroken atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for range per {
				switch rng.IntN(6) {
				case 0, 1:
					s := core.NewScope(root)
					s.Cancel(nil)
				case 2:
					s := core.NewScope(root)
					c := core.NewScope(s)
					core.NewScope(c)
					if rng.IntN(2) == 0 {
						c.Cancel(nil) // cancel a middle first
					}
					s.Cancel(errors.New("subtree"))
				case 3:
					s := core.NewScope(root)
					hooks.Add(1)
					stop := s.OnCancel(func(error) { fired.Add(1) })
					if rng.IntN(2) == 0 && stop() {
						hooks.Add(-1)
					}
					s.Cancel(nil)
				case 4:
					g := core.NewGroup(root)
					g.Go(noop)
					if rng.IntN(2) == 0 {
						g.Cancel(nil)
					}
					_ = g.Wait()
				case 5:
					// A shielded scope under a child is not linked to it.
					s := core.NewScope(root)
					sh := core.NewShieldedScope(s)
					s.Cancel(nil)
					if sh.Cancelled() {
						shieldBroken.Add(1)
					}
					sh.Cancel(nil)
				}
			}
		}()
	}
	grpReturns(t, "the churn", wg.Wait)
	require.Zero(t, core.Children(root))
	require.Zero(t, shieldBroken.Load(), "shielded scopes cancelled by their parent")
	require.Equal(t, hooks.Load(), fired.Load(), "every hook not stopped ran exactly once")
	root.Cancel(nil)
}

func TestGroupStressLimitCancelStorm(t *testing.T) {
	seed := stressSeed(t)
	rounds := scaled(200)
	for round := range rounds {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		limit := 1 + rng.IntN(8)
		submitters := 1 + rng.IntN(4)
		per := 1 + rng.IntN(100)
		cancelAfter := time.Duration(rng.IntN(300)) * time.Microsecond
		cause := fmt.Errorf("round %d", round)

		var gauge grpGauge
		var ran, deferred, tried, refused atomic.Int64
		g := core.NewGroup(context.Background(), core.WithLimit(limit))
		task := func(kind int) func(context.Context) error {
			return func(ctx context.Context) error {
				// The limit bounds the calls made while the group is
				// live; once it is cancelled, queued and blocked
				// functions are called at once with the cancelled
				// context (WithLimit).
				if ctx.Err() == nil {
					gauge.enter()
					defer gauge.leave()
				}
				defer deferred.Add(1)
				ran.Add(1)
				switch kind {
				case 0:
					<-ctx.Done() // holds its slot until the cancel
				case 1:
					time.Sleep(time.Duration(kind) * 10 * time.Microsecond)
				case 2:
					runtime.Gosched()
				}
				return nil
			}
		}
		var wg sync.WaitGroup
		for s := range submitters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(round)<<8|uint64(s)))
				for range per {
					kind := rng.IntN(8)
					if rng.IntN(3) == 0 {
						tried.Add(1)
						if !g.TryGo(task(kind)) {
							refused.Add(1)
						}
					} else {
						g.Go(task(kind)) // may block for a slot, until the cancel
					}
				}
			}()
		}
		go func() {
			time.Sleep(cancelAfter)
			g.Cancel(cause)
		}()
		grpReturns(t, fmt.Sprintf("round %d: the submitters", round), wg.Wait)
		require.NoError(t, grpWait(t, g), "round %d: no task failed", round)
		require.LessOrEqual(t, gauge.max.Load(), int64(limit), "round %d", round)
		require.Equal(t, ran.Load(), deferred.Load(), "round %d", round)
		require.Equal(t, int64(submitters*per)-refused.Load(), ran.Load(), "round %d: every function accepted was called once", round)
		require.LessOrEqual(t, refused.Load(), tried.Load())
	}
}

func TestGroupStressConcurrentWaiters(t *testing.T) {
	// Several goroutines Wait while tasks submit more tasks; all see the
	// same result.
	seed := stressSeed(t)
	for round := range scaled(200) {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		g := core.NewGroup(context.Background())
		fail := rng.IntN(2) == 0
		boom := errors.New("boom")
		n := 1 + rng.IntN(64)
		for i := range n {
			g.Go(func(context.Context) error {
				g.Go(func(context.Context) error {
					if fail && i == n/2 {
						return boom
					}
					return nil
				})
				return nil
			})
		}
		const waiters = 4
		errs := make([]error, waiters)
		var wg sync.WaitGroup
		for w := range waiters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = g.Wait()
			}()
		}
		grpReturns(t, "the waiters", wg.Wait)
		for _, err := range errs {
			if fail {
				require.Same(t, boom, err)
			} else {
				require.NoError(t, err)
			}
		}
	}
}
