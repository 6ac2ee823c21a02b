package core_test

// Unit tests of Group, Run, ResultGroup, PanicError, ErrGoexit,
// Scope.OnCancel and NewShieldedScope: one test per rule of the doc
// comments in group.go and scope.go.
//
// Tasks that must block at the same time are submitted one at a time with
// grpGoStarted (each waits until the previous one runs): the pool takes
// queued tasks in batches, and a task queued behind a blocked one in the
// same batch does not start until that one returns (see
// TestGroupTaskWaitingForAnEarlierTaskStarts).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// grpTimeout bounds every wait of these tests for something that must
// happen; it is only reached when a test fails.
const grpTimeout = 10 * time.Second

// grpGoStarted runs fn in g and returns once fn has started. g must not be
// cancelled before fn starts.
func grpGoStarted(g *core.Group, fn func(ctx context.Context) error) {
	started := make(chan struct{})
	g.Go(func(ctx context.Context) error {
		close(started)
		return fn(ctx)
	})
	<-started
}

// grpReturns runs f on a new goroutine and fails the test if f does not
// return within grpTimeout or ends its goroutine with runtime.Goexit. It
// returns what f panicked with, if anything.
func grpReturns(t *testing.T, what string, f func()) (panicked any) {
	t.Helper()
	type outcome struct {
		r      any
		goexit bool
	}
	done := make(chan outcome, 1)
	go func() {
		ok := false
		defer func() {
			if !ok {
				r := recover()
				done <- outcome{r, r == nil}
			}
		}()
		f()
		ok = true
		done <- outcome{}
	}()
	select {
	case o := <-done:
		if o.goexit {
			t.Fatalf("%s called runtime.Goexit on its caller's goroutine", what)
		}
		return o.r
	case <-time.After(grpTimeout):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%s did not return within %v\n%s", what, grpTimeout, buf)
		return nil
	}
}

// grpWait returns what g.Wait returns, failing the test if it panics or
// hangs.
func grpWait(t *testing.T, g *core.Group) error {
	t.Helper()
	var err error
	r := grpReturns(t, "Wait", func() { err = g.Wait() })
	require.Nil(t, r, "Wait panicked")
	return err
}

// grpWaitPanic returns the *PanicError that g.Wait panics with.
func grpWaitPanic(t *testing.T, g *core.Group) *core.PanicError {
	t.Helper()
	var err error
	r := grpReturns(t, "Wait", func() { err = g.Wait() })
	require.NotNil(t, r, "Wait returned %v instead of panicking", err)
	pe, ok := r.(*core.PanicError)
	require.True(t, ok, "Wait panicked with %T %v, want *core.PanicError", r, r)
	return pe
}

// grpPanicMessage returns the string f panics with.
func grpPanicMessage(t *testing.T, f func()) string {
	t.Helper()
	r := recoverPanic(f)
	require.NotNil(t, r, "no panic")
	s, ok := r.(string)
	require.True(t, ok, "panic value %T %v is not a string", r, r)
	return s
}

// grpGauge tracks how many tasks run at once and the most it saw.
type grpGauge struct{ cur, max atomic.Int64 }

func (g *grpGauge) enter() {
	n := g.cur.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (g *grpGauge) leave() { g.cur.Add(-1) }

// grpPanickingTask panics with its context's value for grpPanicKey.
//
//go:noinline
func grpPanickingTask(ctx context.Context) error {
	panic(ctx.Value(grpPanicKey{}))
}

type grpPanicKey struct{}

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
	time.Sleep(5 * time.Millisecond) // let the waiters block
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
				time.Sleep(50 * time.Microsecond) // Wait is likely blocked by now
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

func TestGroupPanic(t *testing.T) {
	type value struct{ n int }
	v := &value{42}
	g := core.NewGroup(context.WithValue(context.Background(), grpPanicKey{}, v))
	g.Go(grpPanickingTask)
	pe := grpWaitPanic(t, g)
	require.Same(t, v, pe.Value, "Value is what the task panicked with")
	require.Contains(t, string(pe.Stack), "grpPanickingTask", "Stack is the panicking task's")
	require.Contains(t, pe.Error(), "&{42}")
	require.Contains(t, pe.Error(), "grpPanickingTask")
	require.NoError(t, pe.Unwrap(), "a non-error value unwraps to nil")
	require.Same(t, pe, context.Cause(g.Scope()), "the panic cancels the scope with the *PanicError")
}

func TestGroupPanicError(t *testing.T) {
	sentinel := errors.New("sentinel")
	wrapped := fmt.Errorf("wrapped: %w", sentinel)
	g := core.NewGroup(context.Background())
	g.Go(func(context.Context) error { panic(wrapped) })
	pe := grpWaitPanic(t, g)
	require.Same(t, wrapped, pe.Value)
	require.ErrorIs(t, pe, sentinel, "errors.Is sees through a PanicError")
	require.Equal(t, wrapped, pe.Unwrap())
	var asPE *core.PanicError
	require.ErrorAs(t, fmt.Errorf("outer: %w", pe), &asPE)
	require.Same(t, pe, asPE)
}

func TestGroupPanicNil(t *testing.T) {
	g := core.NewGroup(context.Background())
	g.Go(func(context.Context) error { panic(nil) })
	pe := grpWaitPanic(t, g)
	var pn *runtime.PanicNilError
	require.ErrorAs(t, pe, &pn, "panic(nil) is a panic, not a Goexit")
}

func TestGroupPanicCancelsAndWaits(t *testing.T) {
	var deferred atomic.Int32
	seen := make(chan error, 1)
	g := core.NewGroup(context.Background())
	grpGoStarted(g, func(ctx context.Context) error {
		defer deferred.Add(1)
		<-ctx.Done()
		seen <- context.Cause(ctx)
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	g.Go(func(context.Context) error {
		defer deferred.Add(1)
		panic("boom")
	})
	pe := grpWaitPanic(t, g)
	require.Equal(t, "boom", pe.Value)
	require.EqualValues(t, 2, deferred.Load(), "Wait panics after every task returned")
	require.Same(t, pe, <-seen, "running tasks see the *PanicError as the cause")
}

func TestGroupPanicWinsOverError(t *testing.T) {
	boom := errors.New("boom")
	g := core.NewGroup(context.Background())
	grpGoStarted(g, func(ctx context.Context) error {
		<-ctx.Done() // after the error
		panic("late panic")
	})
	g.Go(func(context.Context) error { return boom })
	pe := grpWaitPanic(t, g)
	require.Equal(t, "late panic", pe.Value, "a panic takes precedence over errors")
	require.Same(t, boom, context.Cause(g.Scope()), "the first failure is still the cause")
}

func TestGroupPanicWithAllErrors(t *testing.T) {
	g := core.NewGroup(context.Background(), core.WithAllErrors())
	seen := make(chan error, 1)
	grpGoStarted(g, func(ctx context.Context) error {
		<-ctx.Done()
		seen <- context.Cause(ctx)
		return nil
	})
	g.Go(func(context.Context) error { return errors.New("not cancelling") })
	g.Go(func(context.Context) error { panic("boom") })
	pe := grpWaitPanic(t, g)
	require.Same(t, pe, <-seen, "a panic cancels the group even WithAllErrors")
}

func TestGroupGoexit(t *testing.T) {
	var deferred, completed atomic.Int32
	release := make(chan struct{})
	g := core.NewGroup(context.Background())
	for range 4 {
		grpGoStarted(g, func(ctx context.Context) error {
			defer deferred.Add(1)
			<-release
			completed.Add(1)
			return nil
		})
	}
	g.Go(func(context.Context) error {
		defer deferred.Add(1)
		runtime.Goexit()
		return nil
	})
	grpReturns(t, "the Goexit", func() { <-g.Scope().Done() })
	require.Same(t, core.ErrGoexit, context.Cause(g.Scope()), "Goexit cancels the group")
	close(release)
	require.ErrorIs(t, grpWait(t, g), core.ErrGoexit)
	require.EqualValues(t, 4, completed.Load(), "the other tasks ran to the end")
	require.EqualValues(t, 5, deferred.Load(), "every deferred call ran, the Goexit task's too")

	// The pool replaced the worker that exited.
	for range 3 {
		var ran atomic.Int32
		g := core.NewGroup(context.Background())
		g.GoRange(1000, func(context.Context, int) error { ran.Add(1); return nil })
		for range 1000 {
			g.Go(func(context.Context) error { ran.Add(1); return nil })
		}
		require.NoError(t, grpWait(t, g))
		require.EqualValues(t, 2000, ran.Load())
	}
}

func TestGroupGoexitInBatch(t *testing.T) {
	// Every tenth task calls runtime.Goexit, which ends the goroutine it
	// runs on; the tasks queued behind it in the same batch must still run,
	// and Wait must return ErrGoexit (Goexit must not end Wait's caller).
	// WithAllErrors: nothing is skipped.
	const n = 1000
	var ran [n]atomic.Int32
	g := core.NewGroup(context.Background(), core.WithAllErrors())
	for i := range n {
		g.Go(func(context.Context) error {
			ran[i].Add(1)
			if i%10 == 0 {
				runtime.Goexit()
			}
			return nil
		})
	}
	err := grpWait(t, g)
	require.ErrorIs(t, err, core.ErrGoexit)
	require.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), n/10)
	for i := range ran {
		require.EqualValues(t, 1, ran[i].Load(), "task %d", i)
	}
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

func TestGroupLimit(t *testing.T) {
	for _, limit := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var gauge grpGauge
			var ran atomic.Int32
			g := core.NewGroup(context.Background(), core.WithLimit(limit))
			const n = 500
			for i := range n {
				g.Go(func(context.Context) error {
					gauge.enter()
					defer gauge.leave()
					ran.Add(1)
					switch i % 3 {
					case 0:
						time.Sleep(20 * time.Microsecond)
					case 1:
						runtime.Gosched()
					}
					return nil
				})
			}
			require.NoError(t, grpWait(t, g))
			require.EqualValues(t, n, ran.Load())
			require.LessOrEqual(t, gauge.max.Load(), int64(limit))
			require.Positive(t, gauge.max.Load())
		})
	}
}

func TestGroupLimitReached(t *testing.T) {
	// limit tasks run at once, even blocked ones, and one more Go blocks.
	const limit = 4
	release := make(chan struct{})
	g := core.NewGroup(context.Background(), core.WithLimit(limit))
	for range limit {
		grpGoStarted(g, func(context.Context) error { <-release; return nil })
	}
	returned := make(chan struct{})
	var ran atomic.Bool
	go func() {
		defer close(returned)
		g.Go(func(context.Context) error { ran.Store(true); return nil })
	}()
	select {
	case <-returned:
		t.Fatal("Go returned while the limit was reached")
	case <-time.After(10 * time.Millisecond):
	}
	close(release)
	grpReturns(t, "the blocked Go", func() { <-returned })
	require.NoError(t, grpWait(t, g))
	require.True(t, ran.Load())
}

func TestGroupLimitGoUnblockedByCancel(t *testing.T) {
	cause := errors.New("stop")
	g := core.NewGroup(context.Background(), core.WithLimit(1))
	grpGoStarted(g, func(ctx context.Context) error { <-ctx.Done(); return nil })
	var ran, live atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.Go(func(ctx context.Context) error {
				ran.Add(1)
				if ctx.Err() == nil {
					live.Add(1)
				}
				return nil
			})
		}()
	}
	require.Eventually(t, func() bool { return core.LimitWaiters(g) == 4 }, grpTimeout, 50*time.Microsecond, "the Go calls block for the slot")
	require.Zero(t, ran.Load(), "no call while the slot is held")
	g.Cancel(cause)
	grpReturns(t, "the blocked Go calls", wg.Wait)
	require.NoError(t, grpWait(t, g))
	require.EqualValues(t, 4, ran.Load(), "a Go blocked for a slot when the group is cancelled still has its function called")
	require.Zero(t, live.Load(), "with the cancelled context")
}

func TestGroupLimitGoUnblockedByError(t *testing.T) {
	boom := errors.New("boom")
	g := core.NewGroup(context.Background(), core.WithLimit(1))
	release := make(chan struct{})
	grpGoStarted(g, func(ctx context.Context) error { <-release; return boom })
	returned := make(chan struct{})
	var ran, live atomic.Bool
	go func() {
		defer close(returned)
		g.Go(func(ctx context.Context) error { ran.Store(true); live.Store(ctx.Err() == nil); return nil })
	}()
	require.Eventually(t, func() bool { return core.LimitWaiters(g) == 1 }, grpTimeout, 50*time.Microsecond, "the Go blocks for the slot")
	close(release)
	grpReturns(t, "the blocked Go", func() { <-returned })
	require.Same(t, boom, grpWait(t, g))
	require.True(t, ran.Load(), "the blocked task is called")
	require.False(t, live.Load(), "the error cancelled the group before the blocked task could start")
}

func TestGroupLimitTaskWaitsForAnotherGroup(t *testing.T) {
	// A task of a limited group blocks in another group's Wait; the other
	// group's tasks are queued behind it and must still run.
	outer := core.NewGroup(context.Background(), core.WithLimit(2))
	var ran atomic.Int32
	for range 8 {
		outer.Go(func(ctx context.Context) error {
			inner := core.NewGroup(ctx, core.WithLimit(1))
			for range 8 {
				inner.Go(func(context.Context) error { ran.Add(1); return nil })
			}
			return inner.Wait()
		})
	}
	require.NoError(t, grpWait(t, outer))
	require.EqualValues(t, 64, ran.Load())
}

func TestGroupTryGo(t *testing.T) {
	const limit = 3
	release := make(chan struct{})
	var ran atomic.Int32
	block := func(context.Context) error { <-release; ran.Add(1); return nil }
	g := core.NewGroup(context.Background(), core.WithLimit(limit))
	for i := range limit {
		require.True(t, g.TryGo(block), "TryGo %d below the limit", i)
	}
	var extra atomic.Bool
	for range 10 {
		require.False(t, g.TryGo(func(context.Context) error { extra.Store(true); return nil }),
			"TryGo at the limit")
	}
	close(release)
	// A slot frees up when a task has finished.
	require.Eventually(t, func() bool { return g.TryGo(block) }, grpTimeout, 100*time.Microsecond)
	require.NoError(t, grpWait(t, g))
	require.False(t, extra.Load(), "a refused TryGo never runs its function")
	require.EqualValues(t, limit+1, ran.Load())

	u := core.NewGroup(context.Background())
	for range 100 {
		require.True(t, u.TryGo(noop), "TryGo without a limit always starts")
	}
	require.NoError(t, grpWait(t, u))
}

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

func TestRun(t *testing.T) {
	ctx := context.Background()
	t.Run("nil", func(t *testing.T) {
		var ran atomic.Int32
		err := core.Run(ctx, func(g *core.Group) error {
			for range 100 {
				g.Go(func(context.Context) error { ran.Add(1); return nil })
			}
			return nil
		})
		require.NoError(t, err)
		require.EqualValues(t, 100, ran.Load(), "Run waits for the tasks")
	})
	t.Run("body error", func(t *testing.T) {
		boom := errors.New("body")
		var cause error
		err := core.Run(ctx, func(g *core.Group) error {
			grpGoStarted(g, func(ctx context.Context) error {
				<-ctx.Done()
				cause = context.Cause(ctx)
				return nil
			})
			return boom
		})
		require.Same(t, boom, err)
		require.Same(t, boom, cause, "the body's error cancels the tasks")
	})
	t.Run("task error", func(t *testing.T) {
		boom := errors.New("task")
		err := core.Run(ctx, func(g *core.Group) error {
			g.Go(func(context.Context) error { return boom })
			return nil
		})
		require.Same(t, boom, err)
	})
	t.Run("task error before body error", func(t *testing.T) {
		boom := errors.New("task")
		err := core.Run(ctx, func(g *core.Group) error {
			g.Go(func(context.Context) error { return boom })
			<-g.Scope().Done()
			return errors.New("body")
		})
		require.Same(t, boom, err, "the first failure wins")
	})
	t.Run("options", func(t *testing.T) {
		var gauge grpGauge
		err := core.Run(ctx, func(g *core.Group) error {
			for i := range 100 {
				g.Go(func(context.Context) error {
					gauge.enter()
					defer gauge.leave()
					runtime.Gosched()
					return fmt.Errorf("e%d", i)
				})
			}
			return nil
		}, core.WithLimit(2), core.WithAllErrors())
		require.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 100)
		require.LessOrEqual(t, gauge.max.Load(), int64(2))
	})
	t.Run("task panic", func(t *testing.T) {
		r := recoverPanic(func() {
			_ = core.Run(ctx, func(g *core.Group) error {
				g.Go(func(context.Context) error { panic("task") })
				return nil
			})
		})
		pe, ok := r.(*core.PanicError)
		require.True(t, ok, "Run re-panics as Wait does: %T", r)
		require.Equal(t, "task", pe.Value)
	})
	t.Run("body panic", func(t *testing.T) {
		var finished atomic.Bool
		var cause error
		r := recoverPanic(func() {
			_ = core.Run(ctx, func(g *core.Group) error {
				grpGoStarted(g, func(ctx context.Context) error {
					<-ctx.Done()
					cause = context.Cause(ctx)
					time.Sleep(5 * time.Millisecond)
					finished.Store(true)
					return nil
				})
				panic("body")
			})
		})
		require.Equal(t, "body", r, "the body's panic goes on")
		require.True(t, finished.Load(), "after the tasks finished")
		require.Error(t, cause, "the tasks were cancelled")
	})
	t.Run("body Goexit", func(t *testing.T) {
		var finished atomic.Bool
		var returned atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = core.Run(ctx, func(g *core.Group) error {
				grpGoStarted(g, func(ctx context.Context) error {
					<-ctx.Done()
					time.Sleep(5 * time.Millisecond)
					finished.Store(true)
					return nil
				})
				runtime.Goexit()
				return nil
			})
			returned.Store(true)
		}()
		grpReturns(t, "Run with Goexit", func() { <-done })
		require.False(t, returned.Load())
		require.True(t, finished.Load(), "Run waited for the tasks")
	})
}

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
			case d == 0:
				time.Sleep(time.Duration(d%5) * 10 * time.Microsecond)
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

// TestResultGroupWaitSameAfterGoAfterWait fails: ResultGroup.Go reserves a
// result slot before it checks whether Wait has returned, so the Go that
// panics still adds a zero value to what a later Wait returns.
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

func TestNewShieldedScope(t *testing.T) {
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), ctxKey{}, "v"), time.Hour)
	s := core.NewShieldedScope(parent)
	child := core.NewScope(s)
	cancel()
	require.Error(t, parent.Err())
	requireLive(t, s)
	requireLive(t, child)
	require.Equal(t, "v", s.Value(ctxKey{}), "keeps the parent's values")
	_, ok := s.Deadline()
	require.False(t, ok, "drops the parent's deadline")

	// Work under it runs to the end after the parent is gone.
	g := core.NewGroup(s)
	var ran atomic.Bool
	g.Go(func(ctx context.Context) error {
		assert.NoError(t, ctx.Err())
		ran.Store(true)
		return nil
	})
	require.NoError(t, grpWait(t, g))
	require.True(t, ran.Load())

	boom := errors.New("done")
	s.Cancel(boom)
	requireCancelled(t, s, boom)
	requireCancelled(t, child, boom)
	require.Zero(t, core.Children(s))

	// A scope parent is shielded the same way.
	root := core.NewScope(context.Background())
	sh := core.NewShieldedScope(root)
	root.Cancel(nil)
	requireLive(t, sh)
	require.Zero(t, core.Children(root))
	sh.Cancel(nil)
}

func TestScopeOnCancel(t *testing.T) {
	t.Run("once with the cause", func(t *testing.T) {
		s := core.NewScope(context.Background())
		var calls atomic.Int32
		var got error
		s.OnCancel(func(cause error) {
			calls.Add(1)
			got = cause
		})
		require.Zero(t, calls.Load())
		boom := errors.New("boom")
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 0 {
					s.Cancel(boom)
				} else {
					s.Cancel(fmt.Errorf("other %d", i))
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 1, calls.Load())
		require.Equal(t, context.Cause(s), got, "the hook gets the winning cause")
	})
	t.Run("runs before Cancel returns", func(t *testing.T) {
		s := core.NewScope(context.Background())
		child := core.NewScope(s)
		var got error
		child.OnCancel(func(cause error) {
			require.True(t, s.Cancelled(), "after the whole subtree is cancelled")
			got = cause
		})
		boom := errors.New("boom")
		s.Cancel(boom)
		require.Same(t, boom, got, "a descendant's hook sees the cause")
	})
	t.Run("nil cause", func(t *testing.T) {
		s := core.NewScope(context.Background())
		var got error
		s.OnCancel(func(cause error) { got = cause })
		s.Cancel(nil)
		require.Equal(t, context.Canceled, got)
	})
	t.Run("stop", func(t *testing.T) {
		s := core.NewScope(context.Background())
		var calls atomic.Int32
		stop := s.OnCancel(func(error) { calls.Add(1) })
		require.True(t, stop(), "stop prevents the call")
		require.False(t, stop(), "only once")
		s.Cancel(nil)
		require.Zero(t, calls.Load())
		require.Zero(t, core.Children(s))
	})
	t.Run("stop after the call", func(t *testing.T) {
		s := core.NewScope(context.Background())
		var calls atomic.Int32
		stop := s.OnCancel(func(error) { calls.Add(1) })
		s.Cancel(nil)
		require.False(t, stop(), "too late")
		require.EqualValues(t, 1, calls.Load())
	})
	t.Run("already cancelled", func(t *testing.T) {
		s := core.NewScope(context.Background())
		boom := errors.New("boom")
		s.Cancel(boom)
		var got error
		stop := s.OnCancel(func(cause error) { got = cause })
		require.Same(t, boom, got, "runs before OnCancel returns")
		require.False(t, stop())
	})
	t.Run("foreign parent", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		s := core.NewScope(ctx)
		got := make(chan error, 1)
		s.OnCancel(func(cause error) { got <- cause })
		boom := errors.New("boom")
		cancel(boom)
		select {
		case c := <-got:
			require.Same(t, boom, c)
		case <-time.After(grpTimeout):
			t.Fatal("hook not called")
		}
	})
	t.Run("group scope", func(t *testing.T) {
		g := core.NewGroup(context.Background())
		var got error
		g.Scope().OnCancel(func(cause error) { got = cause })
		boom := errors.New("boom")
		g.Go(func(context.Context) error { return boom })
		require.Same(t, boom, grpWait(t, g))
		require.Same(t, boom, got)
	})
	t.Run("many hooks stopped leave no children", func(t *testing.T) {
		s := core.NewScope(context.Background())
		for range 1000 {
			s.OnCancel(func(error) {})()
		}
		require.Zero(t, core.Children(s))
		s.Cancel(nil)
	})
}

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

// TestGroupTaskWaitingForAnEarlierTaskStarts fails: see the package's
// report. A task queued in a worker's batch behind a task that blocks does
// not start until that task returns, and the starvation monitor, which
// only looks at the shared queue, never rescues it. Tasks that wait for
// each other then deadlock depending on how the pool batched them, which
// errgroup (a goroutine per task) never does.
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

func TestPanicErrorMethods(t *testing.T) {
	boom := errors.New("boom")
	pe := &core.PanicError{Value: boom, Stack: []byte("goroutine 1 [running]:\nmain.f()")}
	require.True(t, strings.HasPrefix(pe.Error(), "core: task panicked: boom"))
	require.Contains(t, pe.Error(), "main.f()")
	require.Same(t, boom, pe.Unwrap())
	require.ErrorIs(t, pe, boom)
	pe2 := &core.PanicError{Value: 7}
	require.NoError(t, pe2.Unwrap())
	require.Contains(t, pe2.Error(), "7")
}

func TestErrGoexit(t *testing.T) {
	require.EqualError(t, core.ErrGoexit, "core: task called runtime.Goexit")
}
