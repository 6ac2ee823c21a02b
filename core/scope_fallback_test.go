package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// TestScopeCauseFallback forces the fallback of a failed probe of package
// context's cause key (a Go release whose context.Cause asks Value for no
// key): core must not panic, and context.Cause of a scope reports its Err().
func TestScopeCauseFallback(t *testing.T) {
	require.NotNil(t, core.ProbeCancelCtxKey(context.Cause), "this Go's context.Cause asks Value for its key")
	askNoValue := func(ctx context.Context) error { return ctx.Err() }
	var key any
	require.NotPanics(t, func() { key = core.ProbeCancelCtxKey(askNoValue) })
	require.Nil(t, key, "the probe fails")
	var other int
	askOther := func(ctx context.Context) error { ctx.Value(&other); return ctx.Err() }
	require.Nil(t, core.ProbeCancelCtxKey(askOther), "a Cause that asks a key but does not take the answer fails the probe's end-to-end check")

	restore := core.SetCancelCtxKey(key)
	t.Cleanup(restore) // if a check below fails: later tests must see the real key (restore may run twice)
	live := core.NewScope(context.Background())
	require.NoError(t, context.Cause(live))

	s := core.NewScope(context.Background())
	child := core.NewScope(s)
	derived, cancel := context.WithCancel(s)
	defer cancel()
	boom := errors.New("boom")
	var hooked error
	s.OnCancel(func(cause error) { hooked = cause })
	s.Cancel(boom)
	require.Equal(t, context.Canceled, context.Cause(s), "Cause reports Err, not the cause")
	require.Equal(t, context.Canceled, context.Cause(child))
	<-derived.Done()
	require.Equal(t, context.Canceled, context.Cause(derived), "and so for a context derived from the scope")
	require.Equal(t, boom, hooked, "OnCancel hooks still get the cause")

	d := core.NewScopeWithTimeout(context.Background(), -time.Second)
	require.Equal(t, context.DeadlineExceeded, context.Cause(d))
	live.Cancel(nil)
	restore()

	again := core.NewScope(context.Background())
	again.Cancel(boom)
	require.Equal(t, boom, context.Cause(again), "with the key, Cause reports the cause")
}
