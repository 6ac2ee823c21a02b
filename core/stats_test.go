package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// TestStatsLiveScopes: a child scope or hook counts while it is linked under
// a live parent, and stops counting when it or its parent is cancelled, or
// the hook is stopped.
func TestStatsLiveScopes(t *testing.T) {
	base := core.ReadStats().LiveScopes
	root := core.NewScope(context.Background()) // a foreign parent: not linked
	require.Equal(t, base, core.ReadStats().LiveScopes)

	kids := make([]*core.Scope, 10)
	for i := range kids {
		kids[i] = core.NewScope(root)
		core.NewScope(kids[i]) // a grandchild
	}
	require.Equal(t, base+20, core.ReadStats().LiveScopes)

	kids[0].Cancel(nil) // unlinks itself and its child
	require.Equal(t, base+18, core.ReadStats().LiveScopes)

	stop := root.OnCancel(func(error) {})
	require.Equal(t, base+19, core.ReadStats().LiveScopes)
	require.True(t, stop())
	require.Equal(t, base+18, core.ReadStats().LiveScopes)

	root.Cancel(errors.New("done"))
	require.Equal(t, base, core.ReadStats().LiveScopes, "cancelling the root unlinks the whole tree")
}

// TestStatsLiveTasks: a task counts from Go until it has finished, whether
// it ran or was skipped; the count comes back to its baseline right after
// Wait (workers publish it when they next take the pool's lock).
func TestStatsLiveTasks(t *testing.T) {
	base := core.ReadStats().LiveTasks
	release := make(chan struct{})
	g := core.NewGroup(context.Background())
	for range 50 {
		g.Go(func(context.Context) error { <-release; return nil })
	}
	require.Equal(t, base+50, core.ReadStats().LiveTasks)
	close(release)
	require.NoError(t, g.Wait())
	requireLiveTasks(t, base)

	g = core.NewGroup(context.Background())
	block := make(chan struct{})
	g.Go(func(context.Context) error { <-block; return errors.New("boom") })
	for range 100 {
		g.Go(noop)
	}
	g.Cancel(nil) // queued tasks are skipped; they still finish
	close(block)
	require.Error(t, g.Wait())
	requireLiveTasks(t, base)
}

func requireLiveTasks(t *testing.T, want int64) {
	t.Helper()
	require.Eventually(t, func() bool { return core.ReadStats().LiveTasks == want }, time.Second, 100*time.Microsecond,
		"live tasks not back to %d: %d", want, core.ReadStats().LiveTasks)
}
