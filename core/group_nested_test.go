package core_test

// Unit tests of groups in the tasks of groups, and of tasks that wait for
// other tasks or groups: the pool must run the queued tasks although the
// running ones block.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

func TestGroupNested(t *testing.T) {
	// A tree of groups 5 levels deep, each task of a level creating a
	// group in its scope and waiting for it; cancelling the root reaches
	// every leaf. Tasks are submitted one at a time (submit serializes
	// them across the tree) so that every leaf runs before the cancel.
	const depth, width = 5, 2
	leaves := 1 // the root group has one task, at level 1
	for range depth - 1 {
		leaves *= width
	}
	cause := errors.New("shutdown")
	var submit sync.Mutex
	var started, observed atomic.Int32
	var node func(level int) func(context.Context) error
	node = func(level int) func(context.Context) error {
		return func(ctx context.Context) error {
			if level == depth {
				started.Add(1)
				<-ctx.Done()
				if context.Cause(ctx) == cause {
					observed.Add(1)
				}
				return context.Cause(ctx)
			}
			g := core.NewGroup(ctx)
			for range width {
				submit.Lock()
				grpGoStarted(g, node(level+1))
				submit.Unlock()
			}
			return g.Wait()
		}
	}
	root := core.NewScope(context.Background())
	g := core.NewGroup(root)
	submit.Lock()
	grpGoStarted(g, node(1))
	submit.Unlock()
	require.Eventually(t, func() bool { return started.Load() == int32(leaves) }, grpTimeout, time.Millisecond)
	root.Cancel(cause)
	require.Same(t, cause, grpWait(t, g))
	require.EqualValues(t, leaves, observed.Load(), "every leaf saw the root's cause")
	require.Zero(t, core.Children(root))
}

func TestGroupNestedCancelAnyTime(t *testing.T) {
	// Without the serialization of TestGroupNested: the tasks run in any
	// order and the root is cancelled at once, after a while, or not at
	// all. Every task that runs either sees the cancellation or finishes;
	// no Wait hangs.
	const depth, width = 5, 3
	for _, delay := range []time.Duration{-1, 0, 100 * time.Microsecond, time.Millisecond} {
		t.Run(fmt.Sprint(delay), func(t *testing.T) {
			var leaves atomic.Int32
			var node func(level int) func(context.Context) error
			node = func(level int) func(context.Context) error {
				return func(ctx context.Context) error {
					if level == depth {
						leaves.Add(1)
						if delay < 0 {
							return nil
						}
						<-ctx.Done()
						return context.Cause(ctx)
					}
					g := core.NewGroup(ctx)
					for range width {
						g.Go(node(level + 1))
					}
					return g.Wait()
				}
			}
			root := core.NewScope(context.Background())
			g := core.NewGroup(root)
			for range width {
				g.Go(node(1))
			}
			cause := errors.New("shutdown")
			if delay >= 0 {
				time.Sleep(delay)
				root.Cancel(cause)
			}
			err := grpWait(t, g)
			if delay < 0 {
				require.NoError(t, err)
				require.EqualValues(t, 3*3*3*3*3, leaves.Load())
			} else {
				require.Same(t, cause, err)
			}
			root.Cancel(nil)
			require.Zero(t, core.Children(root))
		})
	}
}

func TestGroupTasksWaitingForTheLastTask(t *testing.T) {
	// n tasks wait on a channel that the last submitted task closes: the
	// pool must start the last task although every worker is blocked (the
	// pool's monitor), and Wait must not block on it either. A
	// deadlock is detected after a second and released, so that the test
	// fails instead of hanging.
	for _, n := range []int{1, 2, 3, 8, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			for round := range 10 {
				var once sync.Once
				release := make(chan struct{})
				g := core.NewGroup(context.Background())
				var waited atomic.Int32
				for range n {
					g.Go(func(context.Context) error {
						<-release
						waited.Add(1)
						return nil
					})
				}
				g.Go(func(context.Context) error { once.Do(func() { close(release) }); return nil })
				done := make(chan error, 1)
				go func() { done <- g.Wait() }()
				select {
				case err := <-done:
					require.NoError(t, err)
					require.EqualValues(t, n, waited.Load())
				case <-time.After(time.Second):
					once.Do(func() { close(release) })
					<-done
					t.Fatalf("round %d: deadlock: the last task never started", round)
				}
			}
		})
	}
}

// TestGroupTaskWaitingForAnEarlierTaskStarts: a task queued in a worker's
// batch behind a task that blocks must still start. It failed on the pool
// before the monitor took stalled batches back (pool.go, invariants 3 and
// 7): tasks that wait for each other deadlocked depending on how the pool
// batched them, which errgroup (a goroutine per task) never does.
func TestGroupTaskWaitingForAnEarlierTaskStarts(t *testing.T) {
	// Task `closer` releases the 63 others, which block until it has run.
	// Here the closer is submitted second: a worker that takes a batch of
	// the first tasks holds it behind task 0, which waits forever.
	for _, closer := range []int{1, 2, 5} {
		var once sync.Once
		release := make(chan struct{})
		g := core.NewGroup(context.Background())
		for i := range 64 {
			g.Go(func(context.Context) error {
				if i == closer {
					once.Do(func() { close(release) })
					return nil
				}
				<-release
				return nil
			})
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = g.Wait()
		}()
		select {
		case <-done:
		case <-time.After(time.Second):
			t.Errorf("closer=%d: the task that releases the others never started: it is stuck in a blocked worker's batch", closer)
			once.Do(func() { close(release) }) // unblock, so that nothing leaks
			<-done
		}
	}
}

func TestGroupWaitFromAnotherGroupsTask(t *testing.T) {
	// Tasks blocked in Wait on groups whose tasks are still queued: Wait
	// hands off to the pool so that the queued tasks run.
	outer := core.NewGroup(context.Background())
	var ran atomic.Int32
	for range 16 {
		outer.Go(func(ctx context.Context) error {
			inner := core.NewGroup(ctx)
			for range 16 {
				inner.Go(func(context.Context) error {
					time.Sleep(10 * time.Microsecond)
					ran.Add(1)
					return nil
				})
			}
			return inner.Wait()
		})
	}
	require.NoError(t, grpWait(t, outer))
	require.EqualValues(t, 256, ran.Load())
}
