package properties_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// seed returns the suite's seed (NIMSYNC_SEED, or the clock), logs the
// command that reruns t with it, and arms t's watchdog (bound_test.go):
// past testBound, t fails with an artifact and that command.
func seed(t *testing.T) uint64 {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("NIMSYNC_SEED"); v != "" {
		var err error
		s, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "NIMSYNC_SEED must be a non-negative integer")
	}
	bound := testBound(t)
	t.Logf("seed %d; bound %v; rerun: %s", s, bound, rerunCommand(topName(t), s))
	boundTest(t, s, bound)
	return s
}

// budget is how long a property may keep drawing new seeds after its first
// run (NIMSYNC_BUDGET, default 0: one run).
func budget(t *testing.T) time.Duration {
	v := os.Getenv("NIMSYNC_BUDGET")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "NIMSYNC_BUDGET must be a duration")
	return d
}

// startPlan derives the fault plan of seed (or reads the one named by
// NIMSYNC_PLAN: a plan, or a failure artifact, as replay does); in a chaos
// build it switches the plan on until the test ends and then logs which
// markers fired. If the test failed, it writes an artifact with what a
// replay needs and logs the command that replays it.
func startPlan(t *testing.T, s uint64) chaos.Plan {
	t.Helper()
	p := chaos.NewPlan(s)
	if file := os.Getenv("NIMSYNC_PLAN"); file != "" {
		var err error
		p, err = readPlan(file)
		require.NoError(t, err)
		t.Logf("replaying the plan of %s", file)
	}
	t.Logf("plan constants: %v; core tuning (applied in a chaos build): %v", p.Consts, p.Tuning)
	var r *chaos.Run
	if chaosBuild {
		var err error
		r, err = chaos.Start(p)
		require.NoError(t, err)
		currentRun = r
	}
	watchPlan(p, r)
	t.Cleanup(func() {
		a := artifact{Test: topName(t), Seed: s, Chaos: chaosBuild, Plan: p}
		if r != nil {
			r.Stop()
			currentRun = nil
			a.Fired, a.NeverFired = r.Fired(), r.NeverFired()
			t.Logf("markers fired: %v; active but never fired: %v", a.Fired, a.NeverFired)
		}
		overrun := takeOverrun()
		if !t.Failed() {
			return
		}
		a.Stacks = allStacks()
		if overrun != "" {
			a.Stacks = "when an episode overran its bound:\n" + overrun + "\n\nwhen the test ended:\n" + a.Stacks
		}
		b, _ := json.MarshalIndent(a, "", "  ")
		path := writeArtifact(t, fmt.Sprintf("%s-seed%d-%d.json", a.Test, s, time.Now().UnixNano()), b)
		t.Logf("failure artifact %s; replay: %s", path, replayCommand(a.Test, s, path))
	})
	return p
}

// currentRun is the chaos run of the running test (tests of this package
// run one at a time), or nil.
var currentRun *chaos.Run

// setStorm points the plan's Storm actions at f (nil: no storms).
func setStorm(f func(seed uint64)) {
	if currentRun != nil {
		currentRun.SetStorm(f)
	}
}

// artifact is what a failing property leaves for its replay.
type artifact struct {
	Test       string            `json:"test"`
	Seed       uint64            `json:"seed"`
	Chaos      bool              `json:"chaos_build"`
	Plan       chaos.Plan        `json:"plan"`
	Fired      map[string]uint64 `json:"fired,omitempty"`
	NeverFired []string          `json:"never_fired,omitempty"`
	// Stacks are every goroutine's stack when the failing test ended: what
	// was still blocked (a lost wakeup shows as a parked receiver); and,
	// first, when an episode overran its bound or the test its own.
	Stacks string `json:"stacks,omitempty"`
}

// readPlan reads a plan file, or the plan of a failure artifact.
func readPlan(file string) (chaos.Plan, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return chaos.Plan{}, err
	}
	var a struct {
		Plan json.RawMessage `json:"plan"`
	}
	if json.Unmarshal(b, &a) == nil && len(a.Plan) > 0 {
		b = a.Plan
	}
	return chaos.ParsePlan(b)
}

// checkProps runs props with gopter's fixed parameters (one worker, the
// given seed and count), reporting through t.
func checkProps(t *testing.T, s uint64, runs int, props func(*gopter.Properties)) {
	t.Helper()
	params := gopter.DefaultTestParametersWithSeed(int64(s >> 1))
	params.MinSuccessfulTests = runs
	params.Workers = 1
	params.MaxShrinkCount = 200
	firstFailure, afterUndecided = time.Time{}, false
	ps := gopter.NewProperties(params)
	props(ps)
	var out bytes.Buffer
	if !ps.Run(gopter.NewFormatedReporter(true, 100, &out)) {
		if strings.Contains(out.String(), "Gave up after") && !strings.Contains(out.String(), "Falsified") {
			// Too many inconclusive checks (porcupine timed out): neither
			// a pass nor a failure. Say so, and do not count it as a pass.
			t.Skipf("inconclusive with seed %d (too many undecided checks):\n%s", s, out.String())
		}
		t.Errorf("property failed with seed %d:\n%s", s, out.String())
	} else {
		t.Log(strings.TrimSpace(out.String()))
	}
}

// Shrinking, and two of gopter's ways (v0.2.11, prop.ForAll): it shrinks
// after any result that is not a success, an undecided one included, and
// while shrinking it follows any candidate that is not a success. So an
// inconclusive porcupine check (undecided) made gopter shrink for minutes,
// porcupine timing out again on most candidates, until a CI run hit its
// 10-minute timeout; and a real failure's shrinking could take as long.
// An expensive property therefore starts with skipShrink(): while it
// reports true, the call is a shrink candidate that need not run, and the
// property returns success so that gopter does not follow it.

// shrinkBudget bounds the time shrinking may take once a property failed;
// after it, gopter reports the smallest counterexample verified by then.
const shrinkBudget = 60 * time.Second

var (
	// firstFailure is when a property of the running checkProps first
	// failed (zero until then). Tests of this package run one at a time.
	firstFailure time.Time
	// afterUndecided is set when the current generated case was
	// undecided: its shrink candidates are skipped. fresh clears it.
	afterUndecided bool
)

// fresh wraps a property's generator so that each newly generated case
// clears afterUndecided (shrink candidates do not come from the generator).
func fresh(g gopter.Gen) gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		afterUndecided = false
		return g(p)
	}
}

// skipShrink reports whether this call is a shrink candidate not worth
// running: of an undecided case, or past the shrink budget of a failure.
func skipShrink() bool {
	return afterUndecided || !firstFailure.IsZero() && time.Since(firstFailure) > shrinkBudget
}

// undecided is the result of an inconclusive check: gopter discards the
// case (it never counts as a pass), and its shrink candidates are skipped.
func undecided() *gopter.PropResult {
	afterUndecided = true
	return &gopter.PropResult{Status: gopter.PropUndecided}
}

// noteFailure notes a failure of the running property and returns r.
func noteFailure(r *gopter.PropResult) *gopter.PropResult {
	if firstFailure.IsZero() {
		firstFailure = time.Now()
	}
	return r
}

// artifactDir returns the directory where failing runs leave their
// histories and visualizations (NIMSYNC_ARTIFACTS, or a temp directory that
// outlives the test).
func artifactDir() (string, error) {
	dir := os.Getenv("NIMSYNC_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "nimsync-artifacts")
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// writeArtifact writes data to name in the artifact directory through a
// temporary file, so that nothing half-written is left, and returns the path.
func writeArtifact(t *testing.T, name string, data []byte) string {
	path, err := writeArtifactFile(name, data)
	require.NoError(t, err)
	return path
}

// writeArtifactFile is writeArtifact for a goroutine that has no test to
// fail (the watchdog's).
func writeArtifactFile(name string, data []byte) (string, error) {
	dir, err := artifactDir()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	path := filepath.Join(dir, name)
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return path, nil
}

// settle waits (up to a second: workers publish finished tasks after the
// task returns, and a storm may still be unlinking the scope it cancelled)
// until the runtime's own counters are back to base, and reports the
// counters that are not.
func settle(base core.Stats) error {
	var st core.Stats
	if waitUntil(time.Second, func() bool {
		st = core.ReadStats()
		return st.ParkedWaiters == base.ParkedWaiters && st.QueuedTasks == base.QueuedTasks &&
			st.LiveTasks == base.LiveTasks && st.LiveScopes == base.LiveScopes
	}) {
		return nil
	}
	return fmt.Errorf("runtime counters not back to baseline: parked waiters %d (was %d), queued tasks %d (was %d), live tasks %d (was %d), live scopes %d (was %d)",
		st.ParkedWaiters, base.ParkedWaiters, st.QueuedTasks, base.QueuedTasks,
		st.LiveTasks, base.LiveTasks, st.LiveScopes, base.LiveScopes)
}

// allStacks returns every goroutine's stack.
func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}
