//go:build chaos

package core_test

// Run with: go test -tags chaos ./core -run Tuning (no failpoints needed:
// the tag alone makes core's tuning knobs variables).

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// extremeTunings are every knob at its minimum, and every knob at its
// maximum: parking at once, batches of one, workers that exit as soon as
// they park, GoRange chunks of one; and the slowest spinning and largest
// batches core accepts.
func extremeTunings() map[string]map[string]int {
	lo, hi := map[string]int{}, map[string]int{}
	for _, k := range core.Knobs() {
		lo[k.Name], hi[k.Name] = k.Min, k.Max
	}
	return map[string]map[string]int{"min": lo, "max": hi}
}

// TestSetTuning: SetTuning sets every knob it names, the others to their
// defaults; nil restores the defaults; a bad tuning changes nothing.
func TestSetTuning(t *testing.T) {
	defaults := map[string]int{}
	for _, k := range core.Knobs() {
		defaults[k.Name] = k.Default
	}
	require.Equal(t, defaults, core.Tuning())
	t.Cleanup(func() { require.NoError(t, core.SetTuning(nil)) })
	for name, m := range extremeTunings() {
		require.NoError(t, core.SetTuning(m), name)
		require.Equal(t, m, core.Tuning(), "%s: every knob is set", name)
	}
	require.NoError(t, core.SetTuning(map[string]int{"pool/batch-max": 1}))
	want := map[string]int{}
	for k, v := range defaults {
		want[k] = v
	}
	want["pool/batch-max"] = 1
	require.Equal(t, want, core.Tuning(), "knobs left out take their defaults")
	require.Error(t, core.SetTuning(map[string]int{"pool/batch-max": 0}))
	require.Equal(t, want, core.Tuning(), "a bad tuning changes nothing")
	require.NoError(t, core.SetTuning(nil))
	require.Equal(t, defaults, core.Tuning(), "nil restores the defaults")
}

// TestTuningExtremesKeepContracts runs groups, GoRange and channels under
// the extreme tunings: every task and item runs exactly once, every value
// sent is received exactly once, and the pool settles (TestMain's goleak
// checks that its workers exit).
func TestTuningExtremesKeepContracts(t *testing.T) {
	t.Cleanup(func() { require.NoError(t, core.SetTuning(nil)) })
	for name, m := range extremeTunings() {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, core.SetTuning(m))
			tunedWorkload(t)
			ringAtRest(t) // the workload's bursts grew the ring (pool.go, invariant 8)
			require.NoError(t, core.SetTuning(nil))
		})
	}
}

func tunedWorkload(t *testing.T) {
	ctx := context.Background()

	// Many short tasks: batches, and workers parking between bursts.
	var ran atomic.Int64
	g := core.NewGroup(ctx)
	for range 3000 {
		g.Go(func(context.Context) error { ran.Add(1); return nil })
	}
	require.NoError(t, g.Wait())
	require.EqualValues(t, 3000, ran.Load())

	// Tasks that all wait for one another: the monitor must grow the pool
	// until every one of them runs at once.
	const n = 100
	var started sync.WaitGroup
	started.Add(n)
	g = core.NewGroup(ctx)
	for range n {
		g.Go(func(context.Context) error { started.Done(); started.Wait(); return nil })
	}
	require.NoError(t, g.Wait())

	// GoRange: every item exactly once, whatever the chunk size.
	counts := make([]atomic.Int32, 5000)
	g = core.NewGroup(ctx)
	g.GoRange(len(counts), func(_ context.Context, i int) error { counts[i].Add(1); return nil })
	require.NoError(t, g.Wait())
	for i := range counts {
		require.EqualValues(t, 1, counts[i].Load(), "item %d", i)
	}

	// Channels: every value exactly once, per-sender order, through rings of
	// one slot, where every blocked operation spins, yields and parks as the
	// tuning says.
	for _, c := range []core.Chan[int]{core.NewSPSC[int](1), core.NewMPSC[int](1), core.NewSPMC[int](2), core.NewMPMC[int](1)} {
		senders, receivers := 1, 1
		switch c.(type) {
		case *core.MPSC[int]:
			senders = 3
		case *core.SPMC[int]:
			receivers = 3
		case *core.MPMC[int]:
			senders, receivers = 3, 3
		}
		const per = 2000
		var wg sync.WaitGroup
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i += 2 {
					if i%4 == 0 {
						n, err := c.SendBatch(ctx, []int{s*per + i, s*per + i + 1})
						if !assert.NoError(t, err) || !assert.Equal(t, 2, n) {
							return
						}
						continue
					}
					if !assert.NoError(t, c.Send(ctx, s*per+i)) || !assert.NoError(t, c.Send(ctx, s*per+i+1)) {
						return
					}
				}
			}()
		}
		got := make([][]int, receivers)
		var rwg sync.WaitGroup
		for r := range receivers {
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				buf := make([]int, 3)
				for {
					k, err := c.RecvBatch(ctx, buf)
					if err != nil {
						assert.ErrorIs(t, err, core.ErrClosed)
						return
					}
					got[r] = append(got[r], buf[:k]...)
				}
			}()
		}
		wg.Wait()
		require.NoError(t, c.Close())
		rwg.Wait()
		seen := make([]int, senders*per)
		for _, vs := range got {
			last := map[int]int{}
			for _, v := range vs {
				seen[v]++
				s := v / per
				if l, ok := last[s]; ok {
					require.Greater(t, v, l, "sender %d's values in order", s)
				}
				last[s] = v
			}
		}
		for v, k := range seen {
			require.Equal(t, 1, k, "%T: value %d", c, v)
		}
	}
}
