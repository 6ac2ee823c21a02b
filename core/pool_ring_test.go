package core_test

// Tests of the queue ring's retention: a burst grows the pool's ring, and
// the pool gives it back once it is idle with no permanent worker left,
// whichever worker leaves last (pool.go, invariant 8).

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// ringAtRest waits until the pool has no goroutine left, and requires its
// queue ring back at its minimum capacity (pool.go, invariant 8).
func ringAtRest(t *testing.T) {
	t.Helper()
	revPoolIdle(t)
	r := core.ReadPoolRing()
	require.Zero(t, r.Queued, "tasks queued with no pool goroutine left")
	require.Zero(t, r.Workers, "permanent workers counted with no pool goroutine left")
	// At most: SetTuning (chaos builds) may raise the minimum above it.
	require.LessOrEqual(t, r.Cap, r.Min, "the pool is idle with no worker left, yet keeps a burst's ring of %d tasks", r.Cap)
}

// ringBlocked runs, at GOMAXPROCS 1, a task that blocks its worker (the
// pool's only permanent one) until release is called, and then calls then
// on it; it returns the task's group.
func ringBlocked(t *testing.T, then func()) (g *core.Group, release func()) {
	t.Helper()
	revPoolIdle(t)
	revProcs(t, 1)
	gate := make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	started := make(chan struct{})
	g = core.NewGroup(context.Background())
	g.Go(func(context.Context) error {
		close(started)
		<-gate
		then()
		return nil
	})
	<-started
	require.Equal(t, 1, core.ReadPoolRing().Workers)
	return g, release
}

// ringBurst queues several rings' worth of no-op tasks behind the blocked
// worker and waits until they ran, on temporary workers the monitor
// started (pool.go, invariant 7): the ring grew, and the queue is empty.
func ringBurst(t *testing.T) {
	t.Helper()
	h := core.NewGroup(context.Background())
	for range 4 * core.ReadPoolRing().Min {
		h.Go(noop)
	}
	r := core.ReadPoolRing()
	require.Greater(t, r.Cap, r.Min, "the burst grew the ring")
	require.NoError(t, revWait(t, h, nil))
	waitUntil(t, func() bool { return core.ReadPoolRing().Queued == 0 }, "the queue to empty")
}

// ringHeldSearcher makes a handoff, while the only permanent worker runs,
// count a temporary worker as searching, and holds its start (core's
// HoldHandoff), which the caller must call. A handoff needs a task queued:
// it submits no-op tasks to x, and as the monitor may take one first, tries
// again until a temporary worker is counted.
func ringHeldSearcher(t *testing.T) (x *core.Group, start func()) {
	t.Helper()
	x = core.NewGroup(context.Background())
	for range 1000 {
		x.Go(noop)
		start, temporary := core.HoldHandoff()
		if temporary {
			return x, sync.OnceFunc(start)
		}
		start()
	}
	require.FailNow(t, "no handoff counted a temporary worker")
	return nil, nil
}

// The base case: the last permanent worker leaves on its idle timeout with
// the queue empty.
func TestPoolRingShrinksAfterBurst(t *testing.T) {
	g, release := ringBlocked(t, func() {})
	ringBurst(t)
	release()
	require.NoError(t, revWait(t, g, nil))
	ringAtRest(t)
}

// The last permanent worker leaves by a task's runtime.Goexit (exit), after
// temporary workers drained the queue.
func TestPoolRingShrinksAfterGoexit(t *testing.T) {
	g, release := ringBlocked(t, runtime.Goexit)
	ringBurst(t)
	release()
	require.ErrorIs(t, revWait(t, g, nil), core.ErrGoexit)
	ringAtRest(t)
}

// The last permanent worker's idle timer fires while a task is queued: a
// handoff counted a temporary worker as searching (every permanent worker
// was running), and its caller was descheduled before it started that
// worker, so the submitter woke nobody and the worker that parked meanwhile
// expired. The temporary worker then takes the last task, with no
// permanent worker left.
func TestPoolRingShrinksWhenTemporaryWorkerDrains(t *testing.T) {
	for attempt := 1; ; attempt++ {
		if ringExpiredWhileQueued(t) {
			break
		}
		require.Less(t, attempt, 5, "could not force the ordering: the worker expired before the last task was queued every time")
		t.Logf("attempt %d: the worker expired before the task was queued; again", attempt)
	}
	ringAtRest(t)
}

// ringExpiredWhileQueued forces TestPoolRingShrinksWhenTemporaryWorkerDrains's
// ordering. It reports false if the parked worker's idle timer fired before
// the last task was queued (the test then tries again).
func ringExpiredWhileQueued(t *testing.T) bool {
	g, release := ringBlocked(t, func() {})
	ringBurst(t)

	x, start := ringHeldSearcher(t)
	defer start() // the pool counts it as searching until it starts

	// The permanent worker finishes, finds the queue empty and parks; the
	// monitor stops.
	release()
	require.NoError(t, revWait(t, g, nil))
	waitUntil(t, func() bool {
		r := core.ReadPoolRing()
		return r.Queued == 0 && !r.Monitoring && (r.Parked == 1 || r.Workers == 0)
	}, "the worker to park and the monitor to stop")

	// The last task: a searcher is counted, so nobody is woken; the parked
	// worker's idle timer fires with the task queued.
	last := core.NewGroup(context.Background())
	last.Go(noop)
	r := core.ReadPoolRing()
	require.Equal(t, 1, r.Queued)
	if r.Workers == 0 {
		start()
		require.NoError(t, revWait(t, x, nil))
		require.NoError(t, revWait(t, last, nil))
		return false
	}
	waitUntil(t, func() bool { return core.ReadPoolRing().Workers == 0 }, "the parked worker's idle timer")
	require.Equal(t, 1, core.ReadPoolRing().Queued, "the worker expired with the task queued")

	// The temporary worker starts and takes the last task.
	start()
	require.NoError(t, revWait(t, x, nil))
	require.NoError(t, revWait(t, last, nil))
	return true
}

// The last permanent worker leaves by a task's runtime.Goexit while a task
// is queued and a temporary worker is counted as searching (a held
// handoff, as above), so exit starts no helper; the monitor then takes the
// task (startAllLocked) with no permanent worker left.
func TestPoolRingShrinksWhenMonitorDrains(t *testing.T) {
	for attempt := 1; ; attempt++ {
		if ringMonitorDrains(t) {
			break
		}
		require.Less(t, attempt, 5, "could not force the ordering: the monitor took the task before the worker left every time")
		t.Logf("attempt %d: the monitor took the task before the worker left; again", attempt)
	}
	ringAtRest(t)
}

// ringMonitorDrains forces TestPoolRingShrinksWhenMonitorDrains's
// ordering. It reports false if the monitor took the queued task before
// the worker left (the test then tries again).
func ringMonitorDrains(t *testing.T) bool {
	g, release := ringBlocked(t, runtime.Goexit)
	ringBurst(t)
	x, start := ringHeldSearcher(t)
	defer start()
	release()
	require.ErrorIs(t, revWait(t, g, nil), core.ErrGoexit)
	r := core.ReadPoolRing()
	require.Zero(t, r.Workers)
	// Only the monitor can take a queued task now: the permanent worker
	// is gone, and the searcher counted keeps submitters and exit from
	// starting another.
	if r.Queued == 0 || !r.Monitoring {
		start()
		require.NoError(t, revWait(t, x, nil))
		return false
	}
	waitUntil(t, func() bool { return core.ReadPoolRing().Queued == 0 }, "the monitor to take the queued task")
	require.NoError(t, revWait(t, x, nil))
	start()
	return true
}
