package core_test

// Unit tests of Run: one test per rule of its doc comment in group.go.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

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
