//go:build chaos

package chaos_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/failpoints"
	"github.com/pingcap/failpoint"
	"github.com/stretchr/testify/require"
)

// stepHooks registers a counting hook on each of core's step markers (the
// serialized mode's scheduling points) for the test. block runs in the
// step/block hook after the count; the hook then waits until ready reports
// true, as the serialized mode's does. The markers stay off until the test
// calls core.SetStepMarkers(true); cleanup switches them off again.
func stepHooks(t *testing.T, block func()) map[string]*atomic.Int64 {
	t.Helper()
	require.True(t, chaos.Available(), "not a failpoint build: run through scripts/chaos-test")
	counts := map[string]*atomic.Int64{}
	hooks := map[string]any{}
	for _, name := range []string{failpoints.StepAtomic, failpoints.StepUnlock, failpoints.StepSpin} {
		c := new(atomic.Int64)
		counts[name] = c
		hooks[name] = func() { c.Add(1) }
	}
	lock := new(atomic.Int64)
	counts[failpoints.StepLock] = lock
	hooks[failpoints.StepLock] = func(*sync.Mutex) { lock.Add(1) }
	blocked := new(atomic.Int64)
	counts[failpoints.StepBlock] = blocked
	hooks[failpoints.StepBlock] = func(ready func() bool) {
		blocked.Add(1)
		if block != nil {
			block()
		}
		for !ready() {
			time.Sleep(10 * time.Microsecond)
		}
	}
	require.Len(t, hooks, 5)
	for _, fp := range failpoints.All() {
		if fp.Kind == failpoints.Step {
			require.Contains(t, hooks, fp.Name, "a step marker without a hook here")
		}
	}
	t.Cleanup(func() {
		core.SetStepMarkers(false)
		for name := range hooks {
			_ = failpoint.Disable(failpoints.Path(name))
		}
	})
	for name, h := range hooks {
		require.NoError(t, failpoint.EnableCall(failpoints.Path(name), h))
	}
	return counts
}

// recvParked receives from c in a goroutine and returns what it got; with
// send, it sends 7 once the receiver is parked.
func recvParked(t *testing.T, ctx context.Context, c core.Chan[int], send bool) (int, error) {
	t.Helper()
	type result struct {
		v   int
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := c.Recv(ctx)
		got <- result{v, err}
	}()
	if send {
		require.Eventually(t, func() bool { return core.ReadStats().ParkedWaiters > 0 }, 5*time.Second, 100*time.Microsecond, "the receiver never parked")
		require.NoError(t, c.Send(ctx, 7))
	}
	r := <-got
	return r.v, r.err
}

// TestStepMarkers: with core.SetStepMarkers(true), a send to a parked
// receiver passes every step marker but step/spin (its queue's lock, the
// ring's atomics, its wait for the token): step/spin marks only a wait for
// an in-flight peer (ring.go's backoff), which a send to a parked receiver
// never meets, and the serialized self-test's episodes pass it. With the
// markers switched off, none fires, though their hooks are registered.
func TestStepMarkers(t *testing.T) {
	counts := stepHooks(t, nil)
	ctx := context.Background()

	core.SetStepMarkers(true)
	v, err := recvParked(t, ctx, core.NewMPMC[int](1), true)
	core.SetStepMarkers(false)
	require.NoError(t, err)
	require.Equal(t, 7, v)
	for name, c := range counts {
		if name != failpoints.StepSpin {
			require.Positive(t, c.Load(), "%s never fired with the step markers on", name)
		}
	}

	for _, c := range counts {
		c.Store(0)
	}
	v, err = recvParked(t, ctx, core.NewMPMC[int](1), true)
	require.NoError(t, err)
	require.Equal(t, 7, v)
	for name, c := range counts {
		require.Zero(t, c.Load(), "%s fired with the step markers off", name)
	}
}

// TestStepBlockTakesTokenFirst: a parked receive whose wakeup token and
// context's end are both ready when its serialized wait ends takes the
// token and the value, every time, instead of leaving it to select's
// random pick (core/park.go, invariant 5). The step/block hook, on the
// receiver's goroutine, sends the value (which wakes the receiver) and
// cancels the receive's context before it returns.
func TestStepBlockTakesTokenFirst(t *testing.T) {
	var c core.Chan[int]
	var cancel context.CancelFunc
	var acted atomic.Bool
	var sendErr atomic.Value
	stepHooks(t, func() {
		if acted.CompareAndSwap(false, true) {
			if err := c.TrySend(7); err != nil {
				sendErr.Store(err)
			}
			cancel()
		}
	})
	for range 20 {
		c = core.NewMPMC[int](1)
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		acted.Store(false)
		core.SetStepMarkers(true)
		v, err := recvParked(t, ctx, c, false)
		core.SetStepMarkers(false)
		require.True(t, acted.Load(), "the receive never waited in step/block")
		require.Nil(t, sendErr.Load(), "the hook's TrySend failed")
		require.NoError(t, err, "the receive took ctx.Done() over its token")
		require.Equal(t, 7, v)
		cancel()
	}
}
