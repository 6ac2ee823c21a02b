//go:build chaos

package chaos_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

func defaultTuning() map[string]int {
	m := map[string]int{}
	for _, k := range core.Knobs() {
		m[k.Name] = k.Default
	}
	return m
}

// TestStartAppliesTuning: a chaos run really runs core with the plan's
// tuning, and Stop restores the defaults.
func TestStartAppliesTuning(t *testing.T) {
	require.Equal(t, defaultTuning(), core.Tuning())
	for seed := uint64(0); seed < 8; seed++ {
		p := chaos.NewPlan(seed)
		require.NotEqual(t, defaultTuning(), p.Tuning, "seed %d tunes something", seed)
		r, err := chaos.Start(p)
		require.NoError(t, err)
		require.Equal(t, p.Tuning, core.Tuning(), "seed %d: the plan's tuning is in effect", seed)
		r.Stop()
		require.Equal(t, defaultTuning(), core.Tuning(), "seed %d: Stop restores the defaults", seed)
		r.Stop() // a second Stop changes nothing
	}

	// A partial tuning: the knobs it leaves out keep their defaults.
	r, err := chaos.Start(chaos.Plan{Seed: 1, Points: map[string]chaos.Action{}, Tuning: map[string]int{"group/range-chunk": 1}})
	require.NoError(t, err)
	want := defaultTuning()
	want["group/range-chunk"] = 1
	require.Equal(t, want, core.Tuning())
	r.Stop()
	require.Equal(t, defaultTuning(), core.Tuning())

	// A bad tuning is refused before anything is switched on.
	_, err = chaos.Start(chaos.Plan{Seed: 1, Tuning: map[string]int{"pool/batch-max": 0}})
	require.ErrorContains(t, err, "pool/batch-max")
	require.Equal(t, defaultTuning(), core.Tuning())
	r, err = chaos.Start(chaos.NewPlan(1))
	require.NoError(t, err, "nothing was left active")
	r.Stop()
}

// TestExtremeTuningRuns runs a small workload under plans with every knob
// at its minimum (park at once, batches of one, workers that exit as soon
// as they park, GoRange chunks of one) and at its maximum, with a seed's
// markers active: every task and item runs exactly once and every value
// is received.
func TestExtremeTuningRuns(t *testing.T) {
	for _, end := range []string{"min", "max"} {
		t.Run(end, func(t *testing.T) {
			p := chaos.NewPlan(11)
			for _, k := range core.Knobs() {
				p.Tuning[k.Name] = map[string]int{"min": k.Min, "max": k.Max}[end]
			}
			r, err := chaos.Start(p)
			require.NoError(t, err)
			defer r.Stop()
			require.Equal(t, p.Tuning, core.Tuning())

			ctx := context.Background()
			var ran atomic.Int64
			g := core.NewGroup(ctx)
			for range 500 {
				g.Go(func(context.Context) error { ran.Add(1); return nil })
			}
			counts := make([]atomic.Int32, 1000)
			g.GoRange(len(counts), func(_ context.Context, i int) error { counts[i].Add(1); return nil })
			require.NoError(t, g.Wait())
			require.EqualValues(t, 500, ran.Load())
			for i := range counts {
				require.EqualValues(t, 1, counts[i].Load(), "item %d", i)
			}

			c := core.NewMPMC[int](1)
			const n = 500
			sum := make(chan int)
			for range 2 {
				go func() {
					s := 0
					for {
						v, err := c.Recv(ctx)
						if err != nil {
							sum <- s
							return
						}
						s += v
					}
				}()
			}
			for i := 1; i <= n; i++ {
				require.NoError(t, c.Send(ctx, i))
			}
			require.NoError(t, c.Close())
			require.Equal(t, n*(n+1)/2, <-sum+<-sum)
		})
	}
}
