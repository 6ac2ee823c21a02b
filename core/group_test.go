package core_test

// Unit tests of Group: one test per rule of the doc comments in group.go
// on Wait, errors, cancellation, WithAllErrors and misuse. Its limit,
// GoRange, panics and nested groups have files of their own
// (group_limit_test.go, group_gorange_test.go, group_panic_test.go,
// group_nested_test.go); the helpers they share (grpWait, grpGoStarted,
// grpReturns, ...) are in helpers_test.go.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/stacks"
)

// grpPanicMessage returns the string f panics with.
func grpPanicMessage(t *testing.T, f func()) string {
	t.Helper()
	r := recoverPanic(f)
	require.NotNil(t, r, "no panic")
	s, ok := r.(string)
	require.True(t, ok, "panic value %T %v is not a string", r, r)
	return s
}

func TestGroupWaitNoTasks(t *testing.T) {
	g := core.NewGroup(context.Background())
	require.False(t, g.Scope().Cancelled(), "the scope is live before Wait")
	require.NoError(t, g.Wait())
	require.True(t, g.Scope().Cancelled(), "Wait cancels the scope")
	require.Equal(t, context.Canceled, context.Cause(g.Scope()))
}

func TestGroupRunsEveryTask(t *testing.T) {
	const n = 1000
	var ran [n]atomic.Int32
	g := core.NewGroup(context.Background())
	for i := range n {
		g.Go(func(context.Context) error {
			ran[i].Add(1)
			return nil
		})
	}
	require.NoError(t, grpWait(t, g))
	for i := range ran {
		require.EqualValues(t, 1, ran[i].Load(), "task %d", i)
	}
}

func TestGroupTaskContextIsScope(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	g := core.NewGroup(parent)
	var got context.Context
	g.Go(func(ctx context.Context) error {
		got = ctx
		return nil
	})
	require.NoError(t, grpWait(t, g))
	require.Same(t, g.Scope(), got, "a task's context is the group's scope")
	require.Equal(t, "v", got.Value(ctxKey{}), "the scope carries the parent's values")
}

func TestGroupFirstErrorWins(t *testing.T) {
	first := errors.New("first")
	g := core.NewGroup(context.Background())
	grpGoStarted(g, func(context.Context) error { return first })
	for range 100 {
		// They run only after the first error cancelled the group (they
		// wait for it), or never; either way their errors lose.
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return errors.New("later")
		})
	}
	require.Same(t, first, grpWait(t, g))
	require.Same(t, first, context.Cause(g.Scope()), "the first error is the scope's cause")
	require.ErrorIs(t, g.Scope().Err(), context.Canceled)
}

func TestGroupErrorCancelsScope(t *testing.T) {
	boom := errors.New("boom")
	g := core.NewGroup(context.Background())
	seen := make(chan error, 1)
	grpGoStarted(g, func(ctx context.Context) error {
		<-ctx.Done()
		seen <- context.Cause(ctx)
		return nil
	})
	g.Go(func(context.Context) error { return boom })
	select {
	case cause := <-seen:
		require.Same(t, boom, cause, "a running task sees the error as the cause")
	case <-time.After(grpTimeout):
		t.Fatal("the error did not cancel the running task")
	}
	require.True(t, g.Scope().Cancelled(), "cancelled before Wait")
	require.Same(t, boom, grpWait(t, g))
}

func TestGroupWaitWaitsForDefers(t *testing.T) {
	// An early error skips the tasks that have not started; every task
	// that started has run its deferred calls when Wait returns.
	const n = 64
	var started, deferred atomic.Int32
	g := core.NewGroup(context.Background())
	for i := range n {
		g.Go(func(context.Context) error {
			started.Add(1)
			defer func() {
				time.Sleep(time.Duration(i%4) * time.Millisecond)
				deferred.Add(1)
			}()
			if i%8 == 0 {
				return fmt.Errorf("task %d", i)
			}
			return nil
		})
	}
	require.Error(t, grpWait(t, g))
	require.Positive(t, started.Load())
	require.Equal(t, started.Load(), deferred.Load(), "every started task's defers ran before Wait returned")
}

func TestGroupWaitWaitsForAllDefers(t *testing.T) {
	const n = 256
	var deferred, started atomic.Int32
	g := core.NewGroup(context.Background(), core.WithAllErrors()) // no cancellation: no skips
	for i := range n {
		g.Go(func(context.Context) error {
			started.Add(1)
			defer func() {
				if i%16 == 0 {
					time.Sleep(time.Millisecond)
				}
				deferred.Add(1)
			}()
			if i%8 == 0 {
				return fmt.Errorf("task %d", i)
			}
			return nil
		})
	}
	require.Error(t, grpWait(t, g))
	require.EqualValues(t, n, started.Load())
	require.EqualValues(t, n, deferred.Load(), "every task's defers ran before Wait returned")
}

func TestGroupWaitIdempotentAndConcurrent(t *testing.T) {
	boom := errors.New("boom")
	g := core.NewGroup(context.Background())
	release := make(chan struct{})
	grpGoStarted(g, func(context.Context) error {
		<-release
		return boom
	})
	const waiters = 8
	errs := make([]error, waiters)
	var wg sync.WaitGroup
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.Wait()
		}()
	}
	waitUntil(t, func() bool {
		return stacks.ParkedIn("core.(*Group).wait", "TestGroupWaitIdempotentAndConcurrent") == waiters
	}, "the waiters to park in Wait")
	close(release)
	grpReturns(t, "concurrent Waits", wg.Wait)
	for i, err := range errs {
		require.Same(t, boom, err, "waiter %d", i)
	}
	require.Same(t, boom, grpWait(t, g), "a later Wait returns the same")
	require.Same(t, boom, grpWait(t, g))
}

func TestGroupWaitIdempotentAfterCancel(t *testing.T) {
	cause := errors.New("stop")
	g := core.NewGroup(context.Background())
	g.Cancel(cause)
	g.Go(func(ctx context.Context) error { return context.Cause(ctx) }) // called with the cancelled context
	for range 3 {
		require.Same(t, cause, grpWait(t, g))
	}
}

func TestGroupWaitIdempotentPanic(t *testing.T) {
	g := core.NewGroup(context.Background())
	g.Go(func(context.Context) error { panic("boom") })
	pe := grpWaitPanic(t, g)
	require.Same(t, pe, grpWaitPanic(t, g), "every Wait panics with the same *PanicError")
}

func TestGroupGoAfterWaitPanics(t *testing.T) {
	g := core.NewGroup(context.Background())
	g.Go(noop)
	require.NoError(t, g.Wait())
	for name, f := range map[string]func(){
		"Go":      func() { g.Go(noop) },
		"TryGo":   func() { g.TryGo(noop) },
		"GoRange": func() { g.GoRange(1, func(context.Context, int) error { return nil }) },
	} {
		msg := grpPanicMessage(t, f)
		assert.Contains(t, msg, "Wait", "%s after Wait: the message names the cause", name)
	}

	r := core.NewResultGroup[int](context.Background())
	_, err := r.Wait()
	require.NoError(t, err)
	assert.Contains(t, grpPanicMessage(t, func() { r.Go(func(context.Context) (int, error) { return 1, nil }) }), "Wait")
	assert.Contains(t, grpPanicMessage(t, func() { r.TryGo(func(context.Context) (int, error) { return 1, nil }) }), "Wait")
}

func TestGroupGoAfterWaitPanicsEvenAfterError(t *testing.T) {
	g := core.NewGroup(context.Background())
	g.Go(func(context.Context) error { return errors.New("boom") })
	require.Error(t, g.Wait())
	assert.Contains(t, grpPanicMessage(t, func() { g.Go(noop) }), "Wait")
}

func TestGroupGoFromTaskWhileWaiting(t *testing.T) {
	const depth = 100
	var ran atomic.Int32
	g := core.NewGroup(context.Background())
	var spawn func(int) func(context.Context) error
	spawn = func(d int) func(context.Context) error {
		return func(context.Context) error {
			ran.Add(1)
			if d > 1 {
				// Go while Wait is parked, not only likely to be.
				waitUntil(t, func() bool { return stacks.ParkedIn("core.(*Group).wait", "core_test.grpWait") > 0 }, "Wait to park")
				g.Go(spawn(d - 1))
			}
			return nil
		}
	}
	g.Go(spawn(depth))
	require.NoError(t, grpWait(t, g))
	require.EqualValues(t, depth, ran.Load(), "Wait waits for tasks that tasks started")
}

func TestGroupArgumentPanics(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    func()
		want []string // substrings of the message
	}{
		//lint:ignore SA1012 the nil is the test
		{"NewGroup(nil)", func() { core.NewGroup(nil) }, []string{"NewGroup", "nil"}},
		{"Go(nil)", func() { core.NewGroup(ctx).Go(nil) }, []string{"Go", "nil function"}},
		{"TryGo(nil)", func() { core.NewGroup(ctx).TryGo(nil) }, []string{"nil function"}},
		{"WithLimit(0)", func() { core.WithLimit(0) }, []string{"WithLimit(0)", "at least 1"}},
		{"WithLimit(-1)", func() { core.WithLimit(-1) }, []string{"WithLimit(-1)", "at least 1"}},
		{"GoRange(-1)", func() { core.NewGroup(ctx).GoRange(-1, func(context.Context, int) error { return nil }) }, []string{"GoRange", "negative", "-1"}},
		{"GoRange(nil)", func() { core.NewGroup(ctx).GoRange(1, nil) }, []string{"GoRange", "nil function"}},
		{"Run(nil)", func() { _ = core.Run(ctx, nil) }, []string{"Run", "nil"}},
		{"ResultGroup.Go(nil)", func() { core.NewResultGroup[int](ctx).Go(nil) }, []string{"ResultGroup.Go", "nil function"}},
		{"ResultGroup.TryGo(nil)", func() { core.NewResultGroup[int](ctx).TryGo(nil) }, []string{"ResultGroup.TryGo", "nil function"}},
		{"OnCancel(nil)", func() { core.NewScope(ctx).OnCancel(nil) }, []string{"OnCancel", "nil function"}},
		//lint:ignore SA1012 the nil is the test
		{"NewShieldedScope(nil)", func() { core.NewShieldedScope(nil) }, []string{"NewShieldedScope", "nil"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := grpPanicMessage(t, tc.f)
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
		})
	}
}

func TestGroupGoAfterCancel(t *testing.T) {
	for _, cause := range []error{errors.New("stop"), nil} {
		g := core.NewGroup(context.Background())
		g.Cancel(cause)
		var calls, live atomic.Int32
		call := func(ctx context.Context) {
			calls.Add(1)
			if ctx.Err() == nil {
				live.Add(1)
			}
		}
		g.Go(func(ctx context.Context) error { call(ctx); return nil })
		require.False(t, g.TryGo(func(ctx context.Context) error { call(ctx); return nil }),
			"TryGo on a cancelled group returns false")
		g.GoRange(10, func(ctx context.Context, _ int) error { call(ctx); return nil })
		require.NoError(t, grpWait(t, g), "no task failed: a cancellation alone is no error")
		require.EqualValues(t, 11, calls.Load(), "Go's function and every GoRange item are called once; a refused TryGo's never")
		require.Zero(t, live.Load(), "each is called with the cancelled context")
	}
}

func TestGroupCancelRunningTasks(t *testing.T) {
	cause := errors.New("stop")
	g := core.NewGroup(context.Background())
	seen := make([]error, 4)
	for i := range seen {
		grpGoStarted(g, func(ctx context.Context) error {
			<-ctx.Done()
			seen[i] = context.Cause(ctx)
			return nil
		})
	}
	g.Cancel(cause)
	// All tasks ran and returned nil: no task failed, none was skipped.
	require.NoError(t, grpWait(t, g))
	for i, c := range seen {
		require.Same(t, cause, c, "task %d", i)
	}
	require.Same(t, cause, context.Cause(g.Scope()))
}

func TestGroupCancelWithTaskErrorReportsTaskError(t *testing.T) {
	boom := errors.New("boom")
	g := core.NewGroup(context.Background())
	grpGoStarted(g, func(ctx context.Context) error {
		<-ctx.Done()
		return boom
	})
	g.Cancel(errors.New("stop"))
	g.Go(noop) // skipped
	require.Same(t, boom, grpWait(t, g), "a task's failure wins over the cancellation's cause")
}

func TestGroupParentCancelled(t *testing.T) {
	cause := errors.New("parent gone")
	t.Run("foreign parent", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		g := core.NewGroup(ctx)
		seen := make(chan error, 1)
		grpGoStarted(g, func(ctx context.Context) error {
			<-ctx.Done()
			seen <- context.Cause(ctx)
			return nil
		})
		cancel(cause)
		require.Same(t, cause, <-seen)
		g.Go(func(ctx context.Context) error { return context.Cause(ctx) }) // called with the cancelled context
		require.Same(t, cause, grpWait(t, g))
	})
	t.Run("scope parent", func(t *testing.T) {
		root := core.NewScope(context.Background())
		g := core.NewGroup(root)
		seen := make(chan error, 1)
		grpGoStarted(g, func(ctx context.Context) error {
			<-ctx.Done()
			seen <- context.Cause(ctx)
			return nil
		})
		root.Cancel(cause)
		require.Same(t, cause, <-seen)
		require.NoError(t, grpWait(t, g), "nothing skipped, nothing failed")
		require.Zero(t, core.Children(root))
	})
	t.Run("parent already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		g := core.NewGroup(ctx)
		require.True(t, g.Scope().Cancelled())
		var called atomic.Bool
		g.Go(func(ctx context.Context) error { called.Store(true); return ctx.Err() })
		require.ErrorIs(t, grpWait(t, g), context.Canceled)
		require.True(t, called.Load(), "called under a cancelled parent, with the cancelled context")
	})
	t.Run("parent deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		g := core.NewGroup(ctx)
		d, ok := g.Scope().Deadline()
		require.True(t, ok)
		want, _ := ctx.Deadline()
		require.Equal(t, want, d)
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		require.Error(t, grpWait(t, g), "the task saw the deadline")
		require.ErrorIs(t, context.Cause(g.Scope()), context.DeadlineExceeded)
	})
}

func TestGroupWaitUnlinksScope(t *testing.T) {
	root := core.NewScope(context.Background())
	for range 100 {
		g := core.NewGroup(root)
		g.Go(noop)
		require.NoError(t, g.Wait())
	}
	require.Zero(t, core.Children(root), "a waited group's scope leaves its parent")
}

func TestGroupWithAllErrors(t *testing.T) {
	const n = 50
	errs := make([]error, n)
	for i := range errs {
		errs[i] = fmt.Errorf("task %d", i)
	}
	var ran atomic.Int32
	g := core.NewGroup(context.Background(), core.WithAllErrors())
	for i := range n {
		g.Go(func(ctx context.Context) error {
			ran.Add(1)
			if ctx.Err() != nil {
				return errors.New("cancelled")
			}
			if i%2 == 0 {
				return errs[i]
			}
			return nil
		})
	}
	err := grpWait(t, g)
	require.EqualValues(t, n, ran.Load(), "errors do not cancel: every task runs")
	for i, e := range errs {
		if i%2 == 0 {
			require.ErrorIs(t, err, e)
		} else {
			require.NotErrorIs(t, err, e)
		}
	}
	require.NotContains(t, err.Error(), "cancelled")
	require.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), n/2)
	require.Equal(t, err, context.Cause(g.Scope()), "Wait cancels the scope with the result")
}

func TestGroupWithAllErrorsOrder(t *testing.T) {
	// Tasks that run one after the other record their errors in order.
	g := core.NewGroup(context.Background(), core.WithAllErrors(), core.WithLimit(1))
	var want []error
	for i := range 20 {
		e := fmt.Errorf("e%d", i)
		want = append(want, e)
		g.Go(func(context.Context) error { return e })
	}
	err := grpWait(t, g)
	require.Equal(t, want, err.(interface{ Unwrap() []error }).Unwrap())
}

func TestGroupWithAllErrorsNone(t *testing.T) {
	g := core.NewGroup(context.Background(), core.WithAllErrors())
	g.Go(noop)
	require.NoError(t, grpWait(t, g))
	c := core.NewGroup(context.Background(), core.WithAllErrors())
	cause := errors.New("stop")
	c.Cancel(cause)
	c.Go(noop)
	require.NoError(t, grpWait(t, c), "a cancellation alone is no error, WithAllErrors too")
}

// A failing task cancels the group while the others are still queued:
// every one of them is still called (with the cancelled context), so a
// task that owns a resource releases it.
func TestGroupEveryQueuedTaskCalledAfterFailure(t *testing.T) {
	var opened, closed atomic.Int32
	g := core.NewGroup(context.Background())
	for range 100 {
		opened.Add(1)
		g.Go(func(ctx context.Context) error {
			defer closed.Add(1)
			<-ctx.Done()
			return nil
		})
	}
	boom := errors.New("boom")
	g.Go(func(context.Context) error { return boom })
	require.Same(t, boom, grpWait(t, g))
	require.Equal(t, opened.Load(), closed.Load(), "every function passed to Go ran its defers before Wait returned")
}
