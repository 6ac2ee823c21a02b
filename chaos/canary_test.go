//go:build chaos

package chaos_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/failpoints"
	"github.com/stretchr/testify/require"
)

// TestCanary proves that this binary is a chaos build: every marker of core
// (planted bugs and the serialized mode's step markers aside) fires during
// a small workload that passes each one.
// A build without failpoints, or one whose cache mixed in unmarked objects,
// fails here instead of passing as a chaos run.
func TestCanary(t *testing.T) {
	r, err := chaos.Start(chaos.Plan{Seed: 1, Points: map[string]chaos.Action{}})
	require.NoError(t, err)
	defer r.Stop()

	ctx := context.Background()
	// Channels: a receiver parks, a send wakes it, Close.
	for _, c := range []core.Chan[int]{core.NewSPSC[int](1), core.NewMPSC[int](1), core.NewMPMC[int](1)} {
		got := make(chan int)
		go func() {
			v, _ := c.Recv(ctx)
			got <- v
		}()
		time.Sleep(10 * time.Millisecond) // the receiver spins briefly, then parks
		require.NoError(t, c.Send(ctx, 7))
		require.Equal(t, 7, <-got)
		require.NoError(t, c.Close())
	}
	// Scopes: a child, a hook, a cancel.
	root := core.NewScope(ctx)
	core.NewScope(root)
	root.OnCancel(func(error) {})
	root.Cancel(nil)
	// A group whose Wait parks, on a pool whose workers then park.
	g := core.NewGroup(ctx)
	release := make(chan struct{})
	for range 4 {
		g.Go(func(context.Context) error { <-release; return nil })
	}
	go func() { time.Sleep(20 * time.Millisecond); close(release) }()
	require.NoError(t, g.Wait())
	time.Sleep(20 * time.Millisecond) // workers poll, then park

	fired := r.Fired()
	for _, fp := range failpoints.All() {
		if fp.Kind == failpoints.Bug || fp.Kind == failpoints.Step {
			require.Zero(t, fired[fp.Name], "%s fired without being enabled", fp.Name)
			continue
		}
		require.NotZero(t, fired[fp.Name], "marker %s (%s) never fired: is this a failpoint build?", fp.Name, fp.Site)
	}
}

// TestOneRunAtATime: the failpoint registry is global.
func TestOneRunAtATime(t *testing.T) {
	r, err := chaos.Start(chaos.NewPlan(3))
	require.NoError(t, err)
	_, err = chaos.Start(chaos.NewPlan(4))
	require.Error(t, err)
	r.Stop()
	r, err = chaos.Start(chaos.NewPlan(4))
	require.NoError(t, err)
	r.Stop()
}

// TestBugPointsPlant: a planted bug acts only when its plan enables it.
func TestBugPointsPlant(t *testing.T) {
	run := func(bugs map[string]chaos.Action) bool {
		r, err := chaos.Start(chaos.Plan{Seed: 5, Points: map[string]chaos.Action{}, Bugs: bugs})
		require.NoError(t, err)
		defer r.Stop()
		root := core.NewScope(context.Background())
		child := core.NewScope(root)
		root.Cancel(errors.New("stop"))
		return child.Cancelled()
	}
	require.True(t, run(nil), "without the bug, cancelling cancels the child")
	require.False(t, run(map[string]chaos.Action{"bug/child-not-cancelled": {Kind: chaos.Decide, Prob: 1}}), "with it, the child stays live")
}

// TestStartWhileMarkersFire: Start enables its hooks one by one, and a
// goroutine of core that outlived the previous run (a pool worker still
// draining its queue, the goroutines of a run cut short and abandoned) may
// pass a marker as soon as its hook is enabled. The hook must find the run
// complete: CI's chaos step once died with "concurrent map read and map
// write" when a pool worker's hook read the run's counters while Start was
// still filling them in. Here a goroutine passes scope markers without a
// pause while the test starts and stops plans.
func TestStartWhileMarkersFire(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx := context.Background()
		for {
			select {
			case <-stop:
				return
			default:
			}
			root := core.NewScope(ctx) // scope/attach and the cancel markers
			core.NewScope(root)
			root.Cancel(nil)
		}
	}()
	defer func() {
		close(stop)
		<-done
	}()
	for i := range 300 {
		r, err := chaos.Start(chaos.Plan{Seed: uint64(i), Points: map[string]chaos.Action{}})
		require.NoError(t, err)
		r.Stop()
	}
}
