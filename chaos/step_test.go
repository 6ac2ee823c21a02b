//go:build chaos

package chaos_test

import (
	"context"
	"runtime"
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
// true, as the serialized mode's does. The hooks of the markers that hand
// core's goroutines, clock, timers and pool to an episode only count: they
// leave the work to core, as for a goroutine outside any episode. The
// markers stay off until the test calls core.SetStepMarkers(true); cleanup
// switches them off again.
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
	counter := func(name string) *atomic.Int64 {
		c := new(atomic.Int64)
		counts[name] = c
		return c
	}
	goes, sleeps, nows, fors, afters, pools := counter(failpoints.StepGo), counter(failpoints.StepSleep), counter(failpoints.StepNow),
		counter(failpoints.StepBlockFor), counter(failpoints.StepAfter), counter(failpoints.StepPool)
	hooks[failpoints.StepGo] = func(func(), *bool) { goes.Add(1) }
	hooks[failpoints.StepSleep] = func(time.Duration, *bool) { sleeps.Add(1) }
	hooks[failpoints.StepNow] = func(*time.Time, *bool) { nows.Add(1) }
	hooks[failpoints.StepBlockFor] = func(func() bool, time.Duration, *bool, *bool) { fors.Add(1) }
	hooks[failpoints.StepAfter] = func(time.Duration, func(), *func() bool, *bool) { afters.Add(1) }
	hooks[failpoints.StepPool] = func(func() any, *any) { pools.Add(1) }
	require.Len(t, hooks, 11)
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

// chanSteps are the step markers a send to a parked receiver passes. Not
// step/spin: the receiver's spin rounds before it parks are bounded, so
// they are no step/spin (core/step.go); TestStepMarkersGroupsAndTimers
// sees it, in the yielding rounds of a searching pool worker.
var chanSteps = []string{failpoints.StepAtomic, failpoints.StepLock, failpoints.StepUnlock, failpoints.StepBlock, failpoints.StepPool}

// TestStepMarkers: with core.SetStepMarkers(true), a send to a parked
// receiver passes every step marker of a channel operation (its queue's
// lock, the ring's atomics, the receiver's handoff to the pool and its wait
// for the token); with the markers switched off, none fires, though their
// hooks are registered.
func TestStepMarkers(t *testing.T) {
	counts := stepHooks(t, nil)
	ctx := context.Background()

	core.SetStepMarkers(true)
	v, err := recvParked(t, ctx, core.NewMPMC[int](1), true)
	core.SetStepMarkers(false)
	require.NoError(t, err)
	require.Equal(t, 7, v)
	for _, name := range chanSteps {
		require.Positive(t, counts[name].Load(), "%s never fired with the step markers on", name)
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

// TestStepMarkersGroupsAndTimers: with the step markers on, a scope with a
// timeout passes step/now and step/after, an AfterFunc on a cancelled scope
// step/go, a group whose tasks block where core cannot see step/pool and
// (once every worker is busy) the monitor's step/sleep, and a worker that
// searches and then parks afterwards step/spin and step/block-for: every
// step marker fires. Hooks that leave the work to core leave
// it working as without markers. With the markers off, none fires.
func TestStepMarkersGroupsAndTimers(t *testing.T) {
	counts := stepHooks(t, nil)
	run := func() {
		s := core.NewScopeWithTimeout(context.Background(), time.Hour)
		_, ok := s.Deadline()
		require.True(t, ok)
		s.Cancel(nil)
		ran := make(chan struct{})
		s.AfterFunc(func() { close(ran) })
		<-ran

		release := make(chan struct{})
		g := core.NewGroup(context.Background())
		n := 4 * runtime.GOMAXPROCS(0)
		var started atomic.Int64
		for range n {
			g.Go(func(context.Context) error {
				started.Add(1)
				<-release // unseen by core: the monitor gives the queued tasks goroutines
				return nil
			})
		}
		require.Eventually(t, func() bool { return started.Load() == int64(n) }, 5*time.Second, time.Millisecond, "the monitor never started the queued tasks")
		close(release)
		require.NoError(t, g.Wait())
	}

	core.SetStepMarkers(true)
	run()
	require.Eventually(t, func() bool { return counts[failpoints.StepBlockFor].Load() > 0 }, 5*time.Second, time.Millisecond, "no worker parked")
	core.SetStepMarkers(false)
	for name, c := range counts {
		require.Positive(t, c.Load(), "%s never fired with the step markers on", name)
	}

	time.Sleep(150 * time.Millisecond) // idle workers exit (their timers ran with the markers on)
	for _, c := range counts {
		c.Store(0)
	}
	run()
	for name, c := range counts {
		require.Zero(t, c.Load(), "%s fired with the step markers off", name)
	}
}
