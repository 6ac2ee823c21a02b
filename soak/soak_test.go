package soak

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShardsCoverTheSequence: n shards with one seed and a run bound run
// exactly the steps of the unsharded soak, each once.
func TestShardsCoverTheSequence(t *testing.T) {
	ctx := context.Background()
	type key struct {
		scenario string
		seed     uint64
	}
	steps := func(c Config) []key {
		c.Seed, c.Runs, c.Scale = 99, 12, 0.01
		r, err := Run(ctx, c)
		require.NoError(t, err)
		require.True(t, r.Passed, "%+v", r.Failures)
		var out []key
		for _, run := range r.Runs {
			out = append(out, key{run.Scenario, run.Seed})
		}
		return out
	}
	whole := steps(Config{})
	require.Len(t, whole, 12)
	var union []key
	for i := range 3 {
		part := steps(Config{Shard: i, Shards: 3})
		require.Len(t, part, 4)
		union = append(union, part...)
	}
	require.ElementsMatch(t, whole, union)

	// And the sequence is a function of (seed, k) alone.
	names := scenarios.Names()
	require.Equal(t, Sequence(99, names, 5, 9), Sequence(99, names, 0, 12)[5:9])
	require.NotEqual(t, Sequence(99, names, 0, 12), Sequence(100, names, 0, 12))
}

// TestStallWatchdog: a run that stops making progress fails the soak with a
// stall whose artifact holds every goroutine's stack.
func TestStallWatchdog(t *testing.T) {
	release := make(chan struct{})
	var runs atomic.Int32
	stuck := scenarios.Scenario{Name: "stuck", Run: func(ctx context.Context, c scenarios.Config) error {
		runs.Add(1)
		c.Meter.Add(1)
		<-release // a lost wakeup, as far as the watchdog can tell
		return nil
	}}
	out := t.TempDir()
	r, err := Run(context.Background(), Config{Runs: 3, Scenarios: []scenarios.Scenario{stuck}, Out: out,
		Stall: 100 * time.Millisecond, Sample: 20 * time.Millisecond})
	close(release)
	require.ErrorIs(t, err, ErrStalled)
	require.Equal(t, int32(1), runs.Load(), "the soak stops at the stall")
	require.False(t, r.Passed)
	require.Len(t, r.Failures, 1)
	f := r.Failures[0]
	assert.Equal(t, "stall", f.Kind)
	stacks, err := os.ReadFile(filepath.Join(out, f.Artifact, "stacks.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(stacks), "TestStallWatchdog", "the stuck goroutine's stack")
	_, err = os.Stat(filepath.Join(out, "report.json"))
	require.NoError(t, err, "the report is written after a stall")
}

// TestViolationArtifact: a violation is recorded with an artifact that
// ReadArtifact reads back, and no temporary directory is left.
func TestViolationArtifact(t *testing.T) {
	bad := scenarios.Scenario{Name: "spsc-stream", Run: func(ctx context.Context, c scenarios.Config) error {
		c.Meter.Add(10)
		return &scenarios.Violation{Scenario: "spsc-stream", Invariant: "no loss", Detail: "value 3 lost"}
	}}
	out := t.TempDir()
	r, err := Run(context.Background(), Config{Runs: 2, Seed: 5, Scenarios: []scenarios.Scenario{bad}, Out: out})
	require.NoError(t, err)
	require.False(t, r.Passed)
	require.Len(t, r.Failures, 2)
	a, err := ReadArtifact(filepath.Join(out, r.Failures[0].Artifact))
	require.NoError(t, err)
	assert.Equal(t, "spsc-stream", a.Scenario)
	assert.Equal(t, r.Failures[0].Seed, a.Seed)
	assert.Contains(t, a.Error, "value 3 lost")
	assert.Contains(t, a.Repro, "scripts/nimsync repro ")
	entries, err := os.ReadDir(filepath.Join(out, "artifacts"))
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "no half-written artifact")
	}
}

// TestPanicIsAFailure: a scenario's panic fails the run with its stack.
func TestPanicIsAFailure(t *testing.T) {
	boom := scenarios.Scenario{Name: "boom", Run: func(context.Context, scenarios.Config) error { panic("boom") }}
	out := t.TempDir()
	r, err := Run(context.Background(), Config{Runs: 1, Scenarios: []scenarios.Scenario{boom}, Out: out})
	require.NoError(t, err)
	require.Len(t, r.Failures, 1)
	assert.Equal(t, "panic", r.Failures[0].Kind)
	assert.Contains(t, r.Failures[0].Error, "boom")
	stacks, err := os.ReadFile(filepath.Join(out, r.Failures[0].Artifact, "stacks.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(stacks), "TestPanicIsAFailure", "the panicking goroutine's stack")
}

// TestInterrupted: cancelling the context ends the soak between runs with
// the runs done reported.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	sc := scenarios.Scenario{Name: "count", Run: func(ctx context.Context, c scenarios.Config) error {
		if n.Add(1) == 3 {
			cancel()
		}
		c.Meter.Add(1)
		return nil
	}}
	r, err := Run(ctx, Config{Duration: time.Minute, Scenarios: []scenarios.Scenario{sc}})
	require.True(t, errors.Is(err, context.Canceled))
	require.Len(t, r.Runs, 3)
}

func TestLeakVerdict(t *testing.T) {
	flat := make([]leakPoint, 50)
	growing := make([]leakPoint, 50)
	for i := range flat {
		ti := float64(i)
		flat[i] = leakPoint{t: ti, goroutines: float64(10 + i%3), heap: 1e6 + float64(i%5)*1e5}
		growing[i] = leakPoint{t: ti, goroutines: float64(10 + i/5), heap: 1e6 + ti*5e5}
	}
	l := leakVerdict(flat)
	assert.True(t, l.OK, l.Note)
	l = leakVerdict(growing)
	assert.False(t, l.OK)
	assert.Contains(t, l.Note, "goroutines grow")
	assert.Contains(t, l.Note, "heap grows")
	l = leakVerdict(growing[:3])
	assert.True(t, l.OK)
	assert.Contains(t, l.Note, "not judged")
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{{}, {Runs: 1, Shard: 2, Shards: 2}, {Runs: -1}} {
		_, err := Run(context.Background(), c)
		require.Error(t, err)
	}
	require.True(t, slices.Contains(scenarios.Names(), "mixed"))
}

// TestDeadlineCutsLongRuns: a run still going when the soak's duration ends
// sees its context end, and the soak ends on time without a failure.
func TestDeadlineCutsLongRuns(t *testing.T) {
	long := scenarios.Scenario{Name: "long", Run: func(ctx context.Context, c scenarios.Config) error {
		for ctx.Err() == nil { // rounds, until the context ends
			c.Meter.Add(1)
			time.Sleep(time.Millisecond)
		}
		return ctx.Err()
	}}
	t0 := time.Now()
	r, err := Run(context.Background(), Config{Duration: 300 * time.Millisecond, Scenarios: []scenarios.Scenario{long}})
	require.NoError(t, err)
	require.Less(t, time.Since(t0), 3*time.Second)
	require.True(t, r.Passed)
	require.Len(t, r.Runs, 1)
}

// TestPanicInScenarioGoroutine: a panic in a goroutine a scenario started
// (reported through Config.Fail) fails the run with its stack and kind, and
// the soak goes on when the run still ends; when it never ends, the
// watchdog ends the soak.
func TestPanicInScenarioGoroutine(t *testing.T) {
	var runs atomic.Int32
	crashing := func(contract, hang bool) scenarios.Scenario {
		return scenarios.Scenario{Name: "crash", Run: func(ctx context.Context, c scenarios.Config) error {
			runs.Add(1)
			c.Meter.Add(1)
			var v any = "boom"
			if contract {
				v = &chaos.ContractViolation{Point: "contract/single-sender", First: "a", Second: "b"}
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				c.Fail(&scenarios.PanicError{Scenario: "crash", Value: v, Stack: "goroutine 7 [running]:\nfake.frame()"})
			}()
			<-done
			if hang {
				<-ctx.Done() // the dead goroutine's partner, waiting for ever (until the test ends)
			}
			return nil
		}}
	}
	out := t.TempDir()
	r, err := Run(context.Background(), Config{Runs: 2, Out: out, Scenarios: []scenarios.Scenario{crashing(false, false)}})
	require.NoError(t, err)
	require.Len(t, r.Failures, 2, "the soak goes on after a run that panicked but ended")
	assert.Equal(t, "panic", r.Failures[0].Kind)
	stacks, err := os.ReadFile(filepath.Join(out, r.Failures[0].Artifact, "stacks.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(stacks), "fake.frame()")

	r, err = Run(context.Background(), Config{Runs: 1, Out: t.TempDir(), Scenarios: []scenarios.Scenario{crashing(true, false)}})
	require.NoError(t, err)
	require.Len(t, r.Failures, 1)
	assert.Equal(t, "contract", r.Failures[0].Kind)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err = Run(ctx, Config{Runs: 3, Out: t.TempDir(), Stall: 100 * time.Millisecond, Sample: 20 * time.Millisecond,
		Scenarios: []scenarios.Scenario{crashing(false, true)}})
	require.ErrorIs(t, err, ErrStalled)
	require.Len(t, r.Failures, 1)
	assert.Equal(t, "panic", r.Failures[0].Kind)
	assert.Contains(t, r.Failures[0].Error, "no progress")
}

// TestScenarioOrderIsCanonical: the sequence depends on the set of
// scenarios, not on the order or repetition they were given in.
func TestScenarioOrderIsCanonical(t *testing.T) {
	a, _ := scenarios.Parse("pipeline,spsc-stream,pipeline")
	b, _ := scenarios.Parse("spsc-stream,pipeline")
	ra, err := Run(context.Background(), Config{Runs: 4, Seed: 8, Scale: 0.01, Scenarios: a})
	require.NoError(t, err)
	rb, err := Run(context.Background(), Config{Runs: 4, Seed: 8, Scale: 0.01, Scenarios: b})
	require.NoError(t, err)
	require.Equal(t, []string{"spsc-stream", "pipeline"}, ra.ScenarioSet)
	for i := range ra.Runs {
		require.Equal(t, ra.Runs[i].Scenario, rb.Runs[i].Scenario)
		require.Equal(t, ra.Runs[i].Seed, rb.Runs[i].Seed)
	}
	_, err = Run(context.Background(), Config{Runs: 1, Scale: math.NaN()})
	require.Error(t, err)
}

// TestRunawayIsCut: a run that keeps counting operations far past its
// budget (here, a loop that never ends, as a receive that hands out values
// for ever after Close would make one) is cut as a "runaway", with every
// goroutine's stack in its artifact, and the soak ends. The stall watchdog
// alone never fired on it: the count keeps moving.
func TestRunawayIsCut(t *testing.T) {
	release := make(chan struct{})
	var runs atomic.Int32
	runaway := scenarios.Scenario{Name: "runaway", Ops: 1000, Run: func(ctx context.Context, c scenarios.Config) error {
		runs.Add(1)
		for {
			select {
			case <-release:
				return nil
			default:
				c.Meter.Add(100)
				runtime.Gosched()
			}
		}
	}}
	out := t.TempDir()
	t0 := time.Now()
	r, err := Run(context.Background(), Config{Runs: 3, Scenarios: []scenarios.Scenario{runaway}, Out: out,
		Stall: time.Minute, Sample: 20 * time.Millisecond})
	close(release)
	require.ErrorIs(t, err, ErrOverrun)
	t.Logf("cut after %v: %v", time.Since(t0), err)
	require.Equal(t, int32(1), runs.Load(), "the soak stops at the runaway")
	require.False(t, r.Passed)
	require.Len(t, r.Failures, 1)
	f := r.Failures[0]
	assert.Equal(t, "runaway", f.Kind)
	assert.Contains(t, f.Error, "past its budget of 800000 operations")
	stacks, err := os.ReadFile(filepath.Join(out, f.Artifact, "stacks.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(stacks), "TestRunawayIsCut", "the runaway goroutine's stack")
	_, err = os.Stat(filepath.Join(out, "report.json"))
	require.NoError(t, err, "the report is written after a runaway")
}

// TestSoakEndsWithinGrace: a run that ignores the soak's deadline and keeps
// making progress (no stall, no budget of its own) is cut Grace after the
// deadline as an "overrun", and the soak ends then, with its report.
func TestSoakEndsWithinGrace(t *testing.T) {
	release := make(chan struct{})
	endless := scenarios.Scenario{Name: "endless", Run: func(ctx context.Context, c scenarios.Config) error {
		for {
			select {
			case <-release:
				return nil
			default:
				c.Meter.Add(1)
				runtime.Gosched()
			}
		}
	}}
	out := t.TempDir()
	t0 := time.Now()
	r, err := Run(context.Background(), Config{Duration: 300 * time.Millisecond, Grace: 300 * time.Millisecond,
		Scenarios: []scenarios.Scenario{endless}, Out: out, Sample: 20 * time.Millisecond})
	took := time.Since(t0)
	close(release)
	require.ErrorIs(t, err, ErrOverrun)
	require.GreaterOrEqual(t, took, 600*time.Millisecond, "the run had its grace")
	require.Less(t, took, 5*time.Second, "the soak ends within its duration plus the grace (and a watchdog tick)")
	require.Len(t, r.Failures, 1)
	assert.Equal(t, "overrun", r.Failures[0].Kind)
	assert.Contains(t, r.Failures[0].Error, "plus a grace of 300ms")
	_, err = os.Stat(filepath.Join(out, r.Failures[0].Artifact, "stacks.txt"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(out, "report.json"))
	require.NoError(t, err)
}
