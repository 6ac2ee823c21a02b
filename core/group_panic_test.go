package core_test

// Unit tests of a Group's panics and Goexits, and of PanicError and
// ErrGoexit: one test per rule of their doc comments in group.go.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// grpPanickingTask panics with its context's value for grpPanicKey.
//
//go:noinline
func grpPanickingTask(ctx context.Context) error {
	panic(ctx.Value(grpPanicKey{}))
}

type grpPanicKey struct{}

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
