package core_test

import (
	"context"
	"testing"

	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// TestGroupGoAllocs: a task costs no allocation beyond its closure, with or
// without a limit, and GoRange costs one closure per chunk, not per item.
func TestGroupGoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, opts := range [][]core.GroupOption{nil, {core.WithLimit(1 << 20)}} {
		g := core.NewGroup(context.Background(), opts...)
		for range 4096 { // grow the pool's queue first
			g.Go(noop)
		}
		allocs := testing.AllocsPerRun(10000, func() { g.Go(noop) })
		require.Zero(t, allocs, "Go of a func value that needs no closure allocation")
		require.NoError(t, g.Wait())
	}
	g := core.NewGroup(context.Background())
	allocs := testing.AllocsPerRun(100, func() {
		g.GoRange(1<<16, func(context.Context, int) error { return nil })
	})
	require.LessOrEqual(t, allocs, float64(1<<16)/128, "GoRange allocates per chunk of up to 256 items")
	require.NoError(t, g.Wait())
}
