package properties_test

// Bounds: every test of this package and every episode of a property has a
// bound on its wall time, and overrunning it is a failure that names the
// seed, leaves an artifact with every goroutine's stack, and prints the
// command that reruns it. A hang is never left for CI to kill from outside,
// which reports nothing.
//
//  - An episode's bound comes from its size (episodeBound): bounded runs it
//    under a context that ends at the bound, takes every goroutine's stack
//    there, and returns errOverrun; the episode's loops poll the context,
//    so a runaway ends too.
//  - A test's bound (testBound: NIMSYNC_TEST_BOUND, or its seed budget
//    plus defaultTestBound) is kept by a watchdog that seed arms. It
//    cannot fail the test from its own goroutine (t.Fatal must be called
//    from the test's), so at the bound it writes the artifact, prints the
//    rerun command, and panics with every goroutine's stack, as go test's
//    own -timeout does, ending the binary.
//
// Invariants:
//
//  1. Tests of this package run one at a time (no t.Parallel), so one
//     watchdog serves them all; watch.mu guards its fields, which the
//     test's goroutine writes and the timer's goroutine reads.
//  2. A test re-arming its bound (boundTest) stops the previous timer
//     under watch.mu, and the timer's function checks under watch.mu that
//     it is still the armed one, so a stopped bound never fires.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// defaultTestBound is how long a test may run beyond its seed budget
// (NIMSYNC_BUDGET). The longest properties take their budget plus one
// round of checks and up to shrinkBudget of shrinking: about 3 minutes in
// the worst chaos runs seen.
const defaultTestBound = 10 * time.Minute

// perOpBound is what an episode's bound allows for each of its
// operations, beyond episodeDeadline; a fault plan's sleeps slow an
// operation by up to a few milliseconds, but operations of different
// goroutines overlap.
const perOpBound = 250 * time.Microsecond

// overrunGrace is how long bounded waits for an episode told to stop.
const overrunGrace = 5 * time.Second

// errOverrun is the cause of an episode that outlived its bound.
var errOverrun = errors.New("the episode overran its bound")

// episodeBound bounds an episode of n operations (values, for a delivery):
// episodeDeadline, which bounds its blocking operations, plus perOpBound
// for each.
func episodeBound(n int) time.Duration { return episodeDeadline + time.Duration(n)*perOpBound }

// bounded runs episode under bound. Past it, bounded takes every
// goroutine's stack (kept for the test's artifact), cancels the episode's
// context with errOverrun, and returns an error wrapping errOverrun once the
// episode returned, or after overrunGrace if it does not: its goroutines
// are then left running, and the test fails. An episode runs its blocking
// operations under ctx and polls ctx.Err in loops that do not block.
func bounded(bound time.Duration, episode func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- episode(ctx) }()
	timer := time.NewTimer(bound)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
	}
	noteOverrun(allStacks())
	cancel(errOverrun)
	select {
	case <-done:
		return fmt.Errorf("%w of %v; every goroutine's stack at the bound is in the artifact", errOverrun, bound)
	case <-time.After(overrunGrace):
		return fmt.Errorf("%w of %v, and went on %v after it was told to stop; every goroutine's stack at the bound is in the artifact",
			errOverrun, bound, overrunGrace)
	}
}

// watch is the test watchdog's state (invariant 1).
var watch struct {
	mu      sync.Mutex
	timer   *time.Timer // the armed bound, or nil
	test    string
	seed    uint64
	plan    *chaos.Plan // the running test's plan, once startPlan set it
	run     *chaos.Run  // its chaos run, in a chaos build
	overrun string      // the stacks an episode's overrun took, if any
}

// testBound returns the bound of the running test: NIMSYNC_TEST_BOUND, or
// its budget plus defaultTestBound.
func testBound(t *testing.T) time.Duration {
	if v := os.Getenv("NIMSYNC_TEST_BOUND"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "NIMSYNC_TEST_BOUND must be a duration")
		require.Positive(t, d, "NIMSYNC_TEST_BOUND must be positive")
		return d
	}
	return budget(t) + defaultTestBound
}

// boundTest (re)arms the watchdog: t, run with seed s, must end within
// bound from now (invariant 2). seed arms it with testBound; a test that
// needs longer says so with its own bound.
func boundTest(t *testing.T, s uint64, bound time.Duration) {
	name := topName(t)
	watch.mu.Lock()
	defer watch.mu.Unlock()
	if watch.timer != nil {
		watch.timer.Stop()
	}
	if watch.test != name {
		watch.plan, watch.run, watch.overrun = nil, nil, ""
	}
	watch.test, watch.seed = name, s
	var timer *time.Timer
	timer = time.AfterFunc(bound, func() {
		watch.mu.Lock()
		armed := watch.timer == timer // invariant 2
		watch.mu.Unlock()
		if armed {
			overran(name, s, bound)
		}
	})
	watch.timer = timer
	t.Cleanup(func() {
		watch.mu.Lock()
		defer watch.mu.Unlock()
		if watch.timer == timer {
			timer.Stop()
			watch.timer = nil
		}
	})
}

// watchPlan tells the watchdog the running test's plan and chaos run.
func watchPlan(p chaos.Plan, r *chaos.Run) {
	watch.mu.Lock()
	watch.plan, watch.run = &p, r
	watch.mu.Unlock()
}

// noteOverrun keeps the stacks an episode's overrun took, for the artifact.
func noteOverrun(stacks string) {
	watch.mu.Lock()
	if watch.overrun == "" {
		watch.overrun = stacks
	}
	watch.mu.Unlock()
}

// takeOverrun returns (and forgets) the stacks noteOverrun kept.
func takeOverrun() string {
	watch.mu.Lock()
	defer watch.mu.Unlock()
	s := watch.overrun
	watch.overrun = ""
	return s
}

// overran ends the binary when test, run with seed s, outlived its bound:
// it writes the artifact (the plan, markers fired, every goroutine's
// stack), prints the rerun command, and panics with every goroutine's
// stack. It runs on the timer's goroutine, which cannot fail the test.
func overran(test string, s uint64, bound time.Duration) {
	stacks := allStacks()
	watch.mu.Lock()
	a := artifact{Test: test, Seed: s, Chaos: chaosBuild, Plan: chaos.NewPlan(s), Stacks: stacks}
	if watch.plan != nil {
		a.Plan = *watch.plan
	}
	if watch.run != nil {
		a.Fired, a.NeverFired = watch.run.Fired(), watch.run.NeverFired()
	}
	watch.mu.Unlock()
	b, _ := json.MarshalIndent(a, "", "  ")
	where := ""
	if path, err := writeArtifactFile(fmt.Sprintf("%s-seed%d-%d.json", test, s, time.Now().UnixNano()), b); err != nil {
		where = fmt.Sprintf("\n  the artifact could not be written: %v", err)
	} else {
		where = fmt.Sprintf("\n  artifact: %s\n  replay: %s", path, replayCommand(test, s, path))
	}
	msg := fmt.Sprintf("%s overran its bound of %v with seed %d (a hang or a runaway); every goroutine's stack follows, and is in the artifact%s\n  rerun: %s",
		test, bound, s, where, rerunCommand(test, s))
	fmt.Fprintf(os.Stderr, "\n--- FAIL: %s\n", msg)
	debug.SetTraceback("all") // every goroutine's stack, as go test -timeout prints them
	panic(msg)
}

// rerunCommand is the command that reruns test with seed s.
func rerunCommand(test string, s uint64) string {
	if chaosBuild {
		return fmt.Sprintf("scripts/chaos-test -seed %d -run '^%s$'", s, test)
	}
	return fmt.Sprintf("NIMSYNC_SEED=%d go test ./properties -run '^%s$'", s, test)
}

// replayCommand is the command that replays the failure artifact at path.
func replayCommand(test string, s uint64, path string) string {
	if chaosBuild {
		return "scripts/chaos-test -replay " + path
	}
	return fmt.Sprintf("NIMSYNC_SEED=%d NIMSYNC_PLAN=%s go test ./properties -run '^%s$'", s, path, test)
}

// topName is the name of t's top-level test.
func topName(t *testing.T) string { return strings.SplitN(t.Name(), "/", 2)[0] }

// TestWatchdogReportsAHang: a test that hangs past its bound ends the binary
// with the rerun command, an artifact holding every goroutine's stack, and
// the stacks on stderr, instead of hanging until CI kills it. The hanging
// test runs in a child process (TestWatchdogHangs), whose end is the point.
func TestWatchdogReportsAHang(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdogHangs$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "NIMSYNC_") }),
		"NIMSYNC_WATCHDOG_CHILD=1", "NIMSYNC_TEST_BOUND=1s", "NIMSYNC_SEED=7", "NIMSYNC_ARTIFACTS="+dir)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("the child ended after %v", time.Since(t0).Round(time.Millisecond))
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "the hang fails the binary:\n%s", out)
	require.Contains(t, string(out), "TestWatchdogHangs overran its bound of 1s with seed 7")
	require.Contains(t, string(out), "rerun: "+rerunCommand("TestWatchdogHangs", 7))
	require.Contains(t, string(out), "properties_test.TestWatchdogHangs", "every goroutine's stack, the hung one's included")
	files, err := filepath.Glob(filepath.Join(dir, "TestWatchdogHangs-seed7-*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1, "one artifact")
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	var a artifact
	require.NoError(t, json.Unmarshal(b, &a))
	require.Equal(t, uint64(7), a.Seed)
	require.Equal(t, "TestWatchdogHangs", a.Test)
	require.Contains(t, a.Stacks, "properties_test.TestWatchdogHangs")
	require.Contains(t, string(out), files[0], "the output names the artifact")
}

// TestWatchdogHangs hangs, in TestWatchdogReportsAHang's child process
// only: a receive that nothing will ever satisfy.
func TestWatchdogHangs(t *testing.T) {
	if os.Getenv("NIMSYNC_WATCHDOG_CHILD") == "" {
		t.Skip("runs as TestWatchdogReportsAHang's child")
	}
	s := seed(t)
	startPlan(t, s)
	_, _ = core.NewMPMC[int](1).Recv(context.Background())
}

// TestBoundedCutsAnEpisode: an episode past its bound is told to stop, and
// bounded reports the overrun with the stacks taken at the bound, both of
// an episode that ends when told and of one that does not.
func TestBoundedCutsAnEpisode(t *testing.T) {
	takeOverrun()
	err := bounded(20*time.Millisecond, func(ctx context.Context) error {
		for ctx.Err() == nil { // a runaway that polls its context
			runtime.Gosched()
		}
		return ctx.Err()
	})
	require.ErrorIs(t, err, errOverrun)
	require.Contains(t, takeOverrun(), "TestBoundedCutsAnEpisode")
	require.NoError(t, bounded(time.Minute, func(context.Context) error { return nil }))
	require.Empty(t, takeOverrun())
}
