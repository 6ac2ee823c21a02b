package core_test

// Tests of the pool's growth and retention rules, and of GoRange under Goexit.

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// revPoolGoroutines counts the pool's goroutines (workers and monitor).
func revPoolGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return bytes.Count(buf, []byte("core.(*pool).work(")) + bytes.Count(buf, []byte("core.(*pool).monitor("))
}

// revWorkers counts the pool's workers, busy or parked.
func revWorkers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("core.(*pool).work("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// revPoolIdle waits until the pool has no goroutine left (idle workers exit
// after 100 ms), so that a test starts from a known state.
func revPoolIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for revPoolGoroutines() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("pool goroutines still alive: %d", revPoolGoroutines())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// revProcs sets GOMAXPROCS for the test.
func revProcs(t *testing.T, n int) {
	old := runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
}

// revSpin burns CPU for d without blocking.
func revSpin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// revWait waits for g with a timeout, reporting failure on timeout.
func revWait(t *testing.T, g *core.Group, release func()) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		t.Errorf("Wait did not return")
		if release != nil {
			release()
		}
		return <-done
	}
}

// revCollected reports whether the object behind p has been collected.
func revCollected(p weak.Pointer[[1 << 16]byte]) bool {
	for range 3 {
		runtime.GC()
	}
	return p.Value() == nil
}

// revTask returns a task that touches a 64 KB object, and a weak pointer to it.
func revTask(ran *atomic.Int32) (func(context.Context) error, weak.Pointer[[1 << 16]byte]) {
	obj := new([1 << 16]byte)
	return func(context.Context) error {
		obj[0]++
		ran.Add(1)
		return nil
	}, weak.Make(obj)
}

// CPU-bound tasks take nothing from the queue for a while, but while each
// is shorter than a monitor tick the workers claim a task every tick: the
// pool must not take that for blocked workers and start temporary ones
// (pool.go, invariant 7).
func TestPoolNoGrowthForCPUBoundTasks(t *testing.T) {
	revPoolIdle(t)
	revProcs(t, 2)
	var gauge, most atomic.Int64
	var mu sync.Mutex
	gids := map[string]bool{}
	g := core.NewGroup(context.Background())
	for range 16 {
		g.Go(func(context.Context) error {
			n := gauge.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			var b [64]byte
			id := string(bytes.Fields(b[:runtime.Stack(b[:], false)])[1])
			mu.Lock()
			gids[id] = true
			mu.Unlock()
			revSpin(15 * time.Millisecond)
			gauge.Add(-1)
			return nil
		})
	}
	require.NoError(t, revWait(t, g, nil))
	t.Logf("16 CPU-bound tasks ran on %d goroutines, at most %d in progress at once (GOMAXPROCS 2)", len(gids), most.Load())
	// 2 permanent workers, plus at most one temporary worker that Wait's handoff starts.
	require.LessOrEqual(t, len(gids), 3, "temporary workers started although no task blocked")
}

// A worker blocked in a long task must not keep the closures of the batch
// entries the monitor stole from it and another worker ran (each claimant
// clears the entries it claimed).
func TestPoolBlockedWorkerBatchRetainsNothing(t *testing.T) {
	revPoolIdle(t)
	revProcs(t, 1)
	release := make(chan struct{})
	rel := sync.OnceFunc(func() { close(release) })
	defer rel()

	long := core.NewGroup(context.Background())
	short := core.NewGroup(context.Background())
	var ran atomic.Int32
	long.Go(func(context.Context) error { <-release; return nil })
	var ptrs []weak.Pointer[[1 << 16]byte]
	for range 3 {
		fn, p := revTask(&ran)
		short.Go(fn)
		ptrs = append(ptrs, p)
	}
	require.NoError(t, revWait(t, short, rel))
	require.EqualValues(t, 3, ran.Load())

	// Let a permanent worker park with the queue empty, so that the ring's
	// stale slots are cleared: what remains is the blocked worker's batch.
	runtime.GOMAXPROCS(2)
	flush := core.NewGroup(context.Background())
	flush.Go(func(context.Context) error { return nil })
	require.NoError(t, revWait(t, flush, rel))
	time.Sleep(20 * time.Millisecond) // the worker polls, then parks

	var kept []int
	for i, p := range ptrs {
		if !revCollected(p) {
			kept = append(kept, i)
		}
	}
	rel()
	require.NoError(t, revWait(t, long, nil))
	require.Empty(t, kept, "closures of finished tasks still referenced while a worker blocks")
}

// While every permanent worker is blocked, tasks run on temporary workers,
// which never park (parkLocked clears the ring): they must clear the ring
// slots they take, or the ring keeps finished tasks' closures.
func TestPoolRingRetainsNothingWhileWorkersBlocked(t *testing.T) {
	revPoolIdle(t)
	revProcs(t, 1)
	release := make(chan struct{})
	rel := sync.OnceFunc(func() { close(release) })
	defer rel()

	long := core.NewGroup(context.Background())
	started := make(chan struct{})
	long.Go(func(context.Context) error { close(started); <-release; return nil })
	<-started

	var ran atomic.Int32
	short := core.NewGroup(context.Background())
	var ptrs []weak.Pointer[[1 << 16]byte]
	for range 3 {
		fn, p := revTask(&ran)
		short.Go(fn)
		ptrs = append(ptrs, p)
	}
	require.NoError(t, revWait(t, short, rel))
	waitUntil(t, func() bool { return revWorkers() == 1 }, "the temporary workers to exit") // only long's worker is left
	var kept []int
	for i, p := range ptrs {
		if !revCollected(p) {
			kept = append(kept, i)
		}
	}
	// The holder is the ring: once a permanent worker parks with the queue
	// empty (parkLocked clears it), the closures go.
	runtime.GOMAXPROCS(2)
	flush := core.NewGroup(context.Background())
	flush.Go(func(context.Context) error { return nil })
	require.NoError(t, revWait(t, flush, rel))
	time.Sleep(20 * time.Millisecond) // the worker polls, then parks
	freed := 0
	for _, p := range ptrs {
		if revCollected(p) {
			freed++
		}
	}
	t.Logf("retained before a worker parked: %v; collected after: %d of %d", kept, freed, len(ptrs))
	rel()
	require.NoError(t, revWait(t, long, nil))
	require.Empty(t, kept, "closures of finished tasks still referenced by the queue's ring")
}

// GoRange: each call counts as a task, so with WithAllErrors a Goexit in one
// item must not drop the rest of its chunk (as a task's Goexit does not stop
// the other tasks: TestGroupGoexitInBatch).
func TestGroupGoRangeGoexitKeepsTheRestOfTheChunk(t *testing.T) {
	n := 8 * runtime.GOMAXPROCS(0) * 4 // chunks of 4
	var ran atomic.Int32
	g := core.NewGroup(context.Background(), core.WithAllErrors())
	g.GoRange(n, func(_ context.Context, i int) error {
		ran.Add(1)
		if i == 0 {
			runtime.Goexit()
		}
		return nil
	})
	err := revWait(t, g, nil)
	require.ErrorIs(t, err, core.ErrGoexit)
	require.EqualValues(t, n, ran.Load(), "every call ran")
}

// TestPoolNoStarvationWhileCPUsBusy: every worker is blocked waiting for a
// task still in the queue, while goroutines outside the pool keep every P
// busy. The pool must still start a goroutine for the queued task (a go
// statement would never make it wait), or the group never finishes.
func TestPoolNoStarvationWhileCPUsBusy(t *testing.T) {
	revPoolIdle(t)
	revProcs(t, 2)
	var stop atomic.Bool
	var spinners sync.WaitGroup
	for range 4 { // more runnable goroutines than Ps, for the whole test
		spinners.Add(1)
		go func() {
			defer spinners.Done()
			for !stop.Load() {
				revSpin(time.Millisecond)
			}
		}()
	}
	defer func() {
		stop.Store(true)
		spinners.Wait()
	}()
	g := core.NewGroup(context.Background())
	unblock := make(chan struct{})
	for range 4 { // more blocked tasks than permanent workers
		g.Go(func(context.Context) error { <-unblock; return nil })
	}
	g.Go(func(context.Context) error { close(unblock); return nil })
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		stop.Store(true)
		require.Fail(t, "the task the workers wait for starved in the queue while the CPUs were busy")
	}
}

// TestPoolTasksChainedOnCoreChannels: tasks that block in core channels,
// each waiting for the task submitted after it, the first value sent by the
// last task. Every blocked receiver hands off (park calls the pool's
// handoff), so the chain never waits for a goroutine; and it must finish
// whatever GOMAXPROCS is (pool.go, invariant 7).
func TestPoolTasksChainedOnCoreChannels(t *testing.T) {
	for _, procs := range []int{1, 2} {
		revProcs(t, procs)
		const n = 64
		chans := make([]core.Chan[int], n+1)
		for i := range chans {
			chans[i] = core.NewMPMC[int](1)
		}
		g := core.NewGroup(context.Background())
		for i := range n {
			g.Go(func(ctx context.Context) error {
				v, err := chans[i].Recv(ctx)
				if err != nil {
					return err
				}
				return chans[i+1].Send(ctx, v+1)
			})
		}
		g.Go(func(ctx context.Context) error { return chans[0].Send(ctx, 0) })
		start := time.Now()
		require.NoError(t, revWait(t, g, func() { g.Cancel(nil) }))
		v, err := chans[n].Recv(context.Background())
		require.NoError(t, err)
		require.Equal(t, n, v)
		t.Logf("GOMAXPROCS %d: %d chained tasks done in %v", procs, n, time.Since(start))
	}
}
