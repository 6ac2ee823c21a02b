package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestScopeInheritedDeadline: a scope whose deadline is later than its
// parent's reports the parent's, arms no timer of its own, and is cancelled
// by its parent's cancellation, with the parent's Err and cause: by the
// parent's deadline, or by a Cancel that comes first (as
// context.WithDeadline). A timer of its own could cancel it with
// context.DeadlineExceeded while a Cancel of the parent that came first
// still walks towards it (TestSerialScopeInheritedDeadline, properties).
func TestScopeInheritedDeadline(t *testing.T) {
	for _, foreign := range []bool{false, true} {
		name := map[bool]string{false: "scope parent", true: "foreign parent"}[foreign]
		t.Run(name, func(t *testing.T) {
			var parent context.Context
			var cancel func(error)
			if foreign {
				ctx, c := context.WithDeadlineCause(context.Background(), time.Now().Add(50*time.Millisecond), nil)
				parent, cancel = ctx, func(error) { c() }
			} else {
				s := NewScopeWithTimeout(context.Background(), 50*time.Millisecond)
				parent, cancel = s, s.Cancel
			}
			defer cancel(nil)
			child := NewScopeWithDeadline(parent, time.Now().Add(time.Hour))
			pd, ok := parent.Deadline()
			require.True(t, ok)
			d, ok := child.Deadline()
			require.True(t, ok)
			require.Equal(t, pd, d, "the child reports its parent's, earlier deadline")
			child.mu.Lock()
			timer, stop := child.ext.timer, child.ext.stop
			child.mu.Unlock()
			require.Nil(t, timer, "an inherited deadline arms no timer")
			if !foreign {
				require.Nil(t, stop, "an inherited deadline arms no timer")
			}
			select {
			case <-child.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the parent's deadline did not cancel the child")
			}
			require.ErrorIs(t, child.Err(), context.DeadlineExceeded)
			require.ErrorIs(t, context.Cause(child), context.DeadlineExceeded)
		})
	}
	t.Run("parent cancelled first", func(t *testing.T) {
		parent := NewScopeWithTimeout(context.Background(), time.Hour)
		child := NewScopeWithDeadline(parent, time.Now().Add(2*time.Hour))
		cause := errors.New("stop")
		parent.Cancel(cause)
		require.ErrorIs(t, child.Err(), context.Canceled)
		require.ErrorIs(t, context.Cause(child), cause)
	})
}
