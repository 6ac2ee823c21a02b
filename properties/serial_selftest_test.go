//go:build chaos

package properties_test

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/require"
)

// serialBugs are the planted bugs the serialized properties' episodes
// (TestSerialChan's, TestSerialGroup's, TestSerialLinearizability's,
// TestSerialContract's, TestSerialScope's, TestSerialResult's) must catch,
// each with the probability its marker acts with: every planted bug of
// core.
var serialBugs = []struct {
	bug  string
	prob float64
	gen  func(strategy string) gopter.Gen // the cases of the property that must catch it
}{
	{"bug/publish-before-write", 0.5, genSerialCase},
	{"bug/close-drops-values", 1, genSerialCase},
	{"bug/lost-wakeup", 1, genSerialCase},
	{"bug/recv-after-close-runaway", 1, genSerialCase},
	{"bug/close-twice-returns-nil", 1, genSerialCase},
	{"bug/recheck-misses-close", 1, genSerialCase},
	{"bug/cancel-loses-value", 1, genSerialCase},
	{"bug/batch-wakes-one", 1, genSerialCase},
	{"bug/cancelled-waiter-stays-linked", 1, genSerialCase},
	{"bug/len-counts-closed-bit", 1, genSerialCase},
	{"bug/task-done-before-defer", 1, genSerialGroupCase},
	{"bug/task-skipped-after-cancel", 1, genSerialGroupCase},
	{"bug/first-error-overwritten", 1, genSerialGroupCase},
	{"bug/all-errors-cancels", 1, genSerialGroupCase},
	{"bug/goexit-not-a-failure", 1, genSerialGroupCase},
	{"bug/panic-reported-as-error", 1, genSerialGroupCase},
	{"bug/cancellation-reported-as-error", 1, genSerialGroupCase},
	{"bug/wait-joins-anew", 1, genSerialGroupCase},
	{"bug/go-after-wait-accepted", 1, genSerialGroupCase},
	{"bug/trygo-accepts-when-cancelled", 1, genSerialGroupCase},
	{"bug/limit-off-by-one", 1, genSerialGroupCase},
	{"bug/cancelled-go-runs-inline", 1, genSerialGroupCase},
	{"bug/go-clears-wait-flag", 1, genSerialGroupCase},
	{"bug/blocked-go-dropped-on-cancel", 1, genSerialGroupCase},
	{"bug/range-rest-waits-for-slot", 1, genSerialGroupCase},
	{"bug/goexit-worker-count-lost", 1, genSerialGroupCase},
	{"bug/wait-skips-under-cancelled-parent", 1, genSerialGroupCase},
	{"bug/trysend-full-on-stale-tail", 1, genSerialLinCase},
	{"bug/contract-left-before-wait", 1, genSerialContractCase},
	{"bug/child-not-cancelled", 1, genSerialScopeCase},
	{"bug/cancel-hook-skipped", 1, genSerialScopeCase},
	{"bug/cancelled-scope-stays-linked", 1, genSerialScopeCase},
	{"bug/last-child-cancels-parent", 1, genSerialScopeCase},
	{"bug/later-cause-overwrites-first", 1, genSerialScopeCase},
	{"bug/child-of-cancelled-starts-live", 1, genSerialScopeCase},
	{"bug/own-deadline-over-parents", 1, genSerialScopeCase},
	{"bug/shield-drops-values", 1, genSerialScopeCase},
	{"bug/value-stops-at-scope", 1, genSerialScopeCase},
	{"bug/err-reads-parent-state", 1, genSerialScopeCase},
	{"bug/result-slot-for-refused-trygo", 1, genSerialResultCase},
	{"bug/run-drops-body-error", 1, genSerialResultCase},
	{"bug/recv-claims-stale-lap", 1, genSerialCase},
	{"bug/sender-parks-without-recheck", 1, genSerialCase},
	{"bug/limit-check-then-store", 1, genSerialGroupCase},
	{"bug/finish-loads-waiters-first", 1, genSerialGroupCase},
	{"bug/hook-runs-mid-walk", 1, genSerialScopeCase},
	{"bug/done-skips-recheck", 1, genSerialGroupCase},
}

// serialReplays is how many times the serialized self-test replays each
// catch (NIMSYNC_SERIAL_REPLAYS, default 100); every replay must take the
// recorded steps to the recorded failure.
func serialReplays(t *testing.T) int {
	t.Helper()
	n := 100
	if v := os.Getenv("NIMSYNC_SERIAL_REPLAYS"); v != "" {
		_, err := fmt.Sscan(v, &n)
		require.NoError(t, err)
	}
	return n
}

// TestSerialSelfTest: in the serialized mode, each planted channel, group
// and scope bug is caught by its serialized property's episodes within a budget, and its failing
// episode then replays from its decision list serialReplays times, every
// time with the recorded trace hash and the recorded failure. It logs, per
// bug, the episodes and the time to the first catch, the strategy and seed
// that caught it, and the replay count.
func TestSerialSelfTest(t *testing.T) {
	s := seed(t)
	strategy := schedStrategy(t)
	n := serialReplays(t)
	budget := 60 * time.Second // a bug not caught in it fails the test; the slowest catches took 12 s under CI load
	var rows []string
	// A failing episode's goroutines are ended where they stopped (sched
	// kills them): a receiver parked by a lost wakeup stays linked and
	// counted in its channel's wait queue.
	defer notePlantedSkew(t, quietStats())
	for _, bc := range serialBugs {
		t.Run(strings.TrimPrefix(bc.bug, "bug/"), func(t *testing.T) {
			// Each episode has the plan of its own seed, as in the
			// free-running self-test: the plan's sleeps (virtual time here)
			// make different goroutines slow in different episodes.
			start1 := func(i int) *chaos.Run {
				p := chaos.NewPlan(s + uint64(i))
				p.Bugs = map[string]chaos.Action{bc.bug: {Kind: chaos.Decide, Prob: bc.prob}}
				r, err := chaos.Start(p)
				require.NoError(t, err)
				return r
			}
			params := gopter.DefaultGenParameters()
			params.Rng = rand.New(rand.NewSource(int64(s >> 1)))
			gen := bc.gen(strategy)
			start := time.Now()
			for i := 1; time.Since(start) < budget; i++ {
				gr := gen(params)
				v, ok := gr.Retrieve()
				require.True(t, ok)
				c := v.(serialEpisode)
				r := start1(i)
				res, why := c.episode(r, nil)
				if why == "" {
					r.Stop()
					continue
				}
				defer r.Stop()
				if r.Fired()[bc.bug] == 0 {
					t.Errorf("episode %d failed without reaching %s: %s; case %v", i, bc.bug, why, c)
					return
				}
				took := time.Since(start)
				a := res.Artifact()
				same := 0
				for k := range n {
					rep, rwhy := c.episode(r, a)
					if rep.Failure != nil && rep.Failure.Kind == sched.Divergence {
						t.Errorf("replay %d of %d diverged: %v", k+1, n, rep.Failure)
						break
					}
					if rep.Hash != res.Hash || rwhy != why {
						t.Errorf("replay %d of %d ended with %q (trace hash %016x), recorded %q (%016x)", k+1, n, rwhy, rep.Hash, why, res.Hash)
						break
					}
					same++
				}
				t.Logf("caught after %d episodes in %v by %v (%d steps, %d preemptions): %s; replayed %d/%d with the recorded trace",
					i, took.Round(time.Millisecond), c, res.Steps, len(res.Preempted), why, same, n)
				orig := writeSerialArtifact(t, s+uint64(i), r.Plan(), serialFailure{c, res, why}, "")
				if os.Getenv("NIMSYNC_SELFTEST_REDUCE") == "0" { // a sweep of strategies counts catches only
					rows = append(rows, fmt.Sprintf("| `%s` | %d | %v | %s | %d/%d | %d | %d | %d |", bc.bug, i, took.Round(time.Millisecond), c.strategy(),
						same, n, res.Steps, len(res.Preempted), planSize(r.Plan())))
					return
				}
				// The case shrunk as a property shrinks it, then its
				// schedule and plan reduced (reduceFailure), which checks
				// that the reduced failure replays.
				t0 := time.Now()
				sf, shrinks := shrinkEpisode(r, gr.Shrinker, serialFailure{c, res, why}, 200)
				t.Logf("shrunk in %d cases (%v) to %v: %d steps, %d preemptions", shrinks, time.Since(t0).Round(time.Millisecond), sf.c, sf.res.Steps, len(sf.res.Preempted))
				t0 = time.Now()
				d := reduceFailure(t, r, r.Plan(), sf, minimizeBudget(t))
				t.Logf("reduced in %v: %v", time.Since(t0).Round(time.Millisecond), d)
				writeSerialArtifact(t, s+uint64(i), d.plan, d.serialFailure, orig)
				if _, ok := d.plan.Bugs[bc.bug]; !ok {
					t.Errorf("the reduced plan %s fails without %s: the property fails where the code is right", compact(d.plan), bc.bug)
				}
				proven := ""
				if d.schedule.Proven {
					proven = " (minimal)"
				}
				rows = append(rows, fmt.Sprintf("| `%s` | %d | %v | %s | %d/%d | %d → %d | %d → %d → %d%s | %d → %d |", bc.bug, i, took.Round(time.Millisecond), c.strategy(),
					same, n, res.Steps, d.res.Steps, len(res.Preempted), len(sf.res.Preempted), d.schedule.Preemptions, proven, planSize(r.Plan()), planSize(d.plan)))
				return
			}
			rows = append(rows, fmt.Sprintf("| `%s` | **not caught** in %v | | | | | | |", bc.bug, budget))
			t.Errorf("%s was not caught in the serialized mode within %v", bc.bug, budget)
		})
	}
	t.Logf("serialized self-test, seed %d:\n| planted bug | episodes to catch | time | strategy | replays identical | steps: found → reduced | preemptions: found → shrunk case → reduced | plan's markers and knobs: found → reduced |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n%s", s, strings.Join(rows, "\n"))
}
