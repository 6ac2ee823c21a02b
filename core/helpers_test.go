package core_test

// Small helpers shared by core's test files.

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// noop is a task that does nothing; as a func value it needs no closure.
func noop(context.Context) error { return nil }

// recoverPanic returns the value f panics with, or nil.
func recoverPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// seq returns [from, from+n).
func seq(from, n int) []int {
	if n == 0 {
		return nil // as drain and append return for nothing
	}
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}

// isClosed reports whether c is closed, without blocking.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// stressSeed returns the seed of a stress test: NIMSYNC_SEED if set, or a
// fresh one. It logs the seed and the command that reruns the test.
func stressSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NIMSYNC_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "NIMSYNC_SEED")
		seed = v
	}
	t.Logf("seed %d: rerun with NIMSYNC_SEED=%d go test -run '^%s$' ./core", seed, seed, t.Name())
	return seed
}

// scaled returns n, the size of a stress test's work, or a tenth of it
// (at least 1) under -short or the race detector.
func scaled(n int) int {
	if raceEnabled || testing.Short() {
		return max(n/10, 1)
	}
	return n
}

// ctxKey is a context value key of the tests' own.
type ctxKey struct{}

// The helpers of the Group, Run and ResultGroup tests (group_*_test.go,
// run_test.go, resultgroup_test.go).
//
// Tasks that must block at the same time are submitted one at a time with
// grpGoStarted (each waits until the previous one runs): the pool takes
// queued tasks in batches, and a task queued behind a blocked one in the
// same batch does not start until that one returns (see
// TestGroupTaskWaitingForAnEarlierTaskStarts).

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

// waitUntil polls cond until it holds and reports whether it did. If cond
// does not hold within grpTimeout, it fails the test with what it waited
// for, and returns false: it never hangs. It fails with t.Errorf, so it may
// be called from any goroutine, a task's too.
func waitUntil(t *testing.T, cond func() bool, what string) bool {
	t.Helper()
	for t0 := time.Now(); !cond(); time.Sleep(50 * time.Microsecond) {
		if time.Since(t0) > grpTimeout {
			t.Errorf("waited %v for %s", grpTimeout, what)
			return false
		}
	}
	return true
}
