//go:build chaos

package properties_test

// The harness proves it bites: each planted bug of core (a "bug/" failpoint,
// never enabled by a normal chaos run) is switched on, and the property that
// should catch it must catch it within its budget; the seed that caught it
// must then reproduce it. The test reports the catch rate (it must be 100%),
// the time to catch, and the reproduction rate over several replays.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/nimsync/nimsync/internal/failpoints"
	"go.uber.org/goleak"
)

// serializedOnly are the planted bugs the free-running self-test is known
// not to catch within its budget, and why: each needs a goroutine
// descheduled inside a window of a few instructions, which the serialized
// mode reaches by choice (TestSerialSelfTest catches both) and a
// free-running episode reaches only by luck. Each still gets a short
// search here, and its row says whether it was caught.
var serializedOnly = map[string]string{
	"bug/recv-claims-stale-lap": "a receiver descheduled between its claim and its free while the others lap the ring",
	"bug/done-skips-recheck":    "a first Done descheduled between its fast-path load and its lock while Cancel or another first Done runs",
}

func TestSelfTestCatchesPlantedBugs(t *testing.T) {
	s := seed(t)
	old, oldSettle := episodeDeadline, settleBound
	episodeDeadline = 2 * time.Second // a lost wakeup shows as a hang: do not wait 20 s
	settleBound = time.Second         // nor a Wait never woken 3 s
	defer func() { episodeDeadline, settleBound = old, oldSettle }()
	spsc, mpmc := chantest.SPSC, chantest.MPMC
	cases := []struct {
		bug   string
		prob  float64
		check episode
	}{
		{"bug/publish-before-write", 0.2, linearizabilityEpisode(spsc, 4, 1, 1, 1000)},
		{"bug/close-drops-values", 1, linearizabilityEpisode(mpmc, 16, 2, 1, 200)},
		{"bug/lost-wakeup", 1, linearizabilityEpisode(mpmc, 2, 2, 2, 200)},
		{"bug/child-not-cancelled", 1, cleanupEpisode},
		{"bug/cancel-hook-skipped", 1, cleanupEpisode},
		{"bug/task-done-before-defer", 1, cleanupEpisode},
		{"bug/recv-after-close-runaway", 1, deliveryEpisode(mpmc, 16, 2, 2, 2000)},
		{"bug/task-skipped-after-cancel", 1, cleanupEpisode},
		{"bug/range-rest-waits-for-slot", 1, groupModelEpisode},
		{"bug/first-error-overwritten", 1, groupModelEpisode},
		{"bug/all-errors-cancels", 1, groupModelEpisode},
		{"bug/goexit-not-a-failure", 1, groupModelEpisode},
		{"bug/panic-reported-as-error", 1, groupModelEpisode},
		{"bug/cancellation-reported-as-error", 1, groupModelEpisode},
		{"bug/wait-joins-anew", 1, groupModelEpisode},
		{"bug/go-after-wait-accepted", 1, groupModelEpisode},
		{"bug/trygo-accepts-when-cancelled", 1, groupModelEpisode},
		{"bug/limit-off-by-one", 1, groupModelEpisode},
		{"bug/cancelled-go-runs-inline", 1, groupModelEpisode},
		{"bug/run-drops-body-error", 1, groupModelEpisode},
		{"bug/result-slot-for-refused-trygo", 1, groupModelEpisode},
		{"bug/go-clears-wait-flag", 1, groupModelEpisode},
		{"bug/blocked-go-dropped-on-cancel", 1, groupModelEpisode},
		{"bug/cancelled-scope-stays-linked", 1, scopeModelEpisode},
		{"bug/close-twice-returns-nil", 1, livenessEpisode(4, nil)},
		{"bug/trysend-full-on-stale-tail", 1, tryTrafficEpisode(chantest.MPSC, 3, 1)},
		{"bug/recheck-misses-close", 1, livenessEpisode(20, closeWhileSpinning)},
		{"bug/cancel-loses-value", 1, livenessEpisode(20, cancelAsValuesArrive)},
		{"bug/batch-wakes-one", 1, livenessEpisode(8, batchForSeveral)},
		{"bug/cancelled-waiter-stays-linked", 1, livenessEpisode(8, cancelParked)},
		{"bug/len-counts-closed-bit", 1, livenessEpisode(4, nil)},
		{"bug/last-child-cancels-parent", 1, scopeModelEpisode},
		{"bug/later-cause-overwrites-first", 1, scopeModelEpisode},
		{"bug/child-of-cancelled-starts-live", 1, scopeModelEpisode},
		{"bug/own-deadline-over-parents", 1, scopeModelEpisode},
		{"bug/shield-drops-values", 1, scopeModelEpisode},
		{"bug/value-stops-at-scope", 1, scopeModelEpisode},
		{"bug/err-reads-parent-state", 1, scopeModelEpisode},
		{"bug/wait-skips-under-cancelled-parent", 1, nestedGroupsEpisode},
		{"bug/contract-left-before-wait", 1, contractEpisode},
		{"bug/recv-claims-stale-lap", 1, tryTrafficEpisode(mpmc, 2, 3)},
		{"bug/limit-check-then-store", 1, groupModelEpisode},
		{"bug/sender-parks-without-recheck", 1, linearizabilityEpisode(mpmc, 2, 2, 2, 200)},
		{"bug/finish-loads-waiters-first", 1, groupModelEpisode},
		{"bug/hook-runs-mid-walk", 1, scopeModelEpisode},
		{"bug/done-skips-recheck", 1, groupModelEpisode},
		// Last: it loses a finished task's count for good, and every
		// group model run after it would wait a second (newSUT) for a
		// live-task count that never comes back to zero.
		{"bug/goexit-worker-count-lost", 1, groupModelEpisode},
	}
	planted := 0
	for _, fp := range failpoints.All() {
		if fp.Kind == failpoints.Bug {
			planted++
		}
	}
	if len(cases) != planted {
		t.Fatalf("%d planted bugs in core, %d covered here: every bug needs a property that catches it", planted, len(cases))
	}
	// RULES.md names, for each planted bug, the rules it breaks; each of
	// those rules must name the property that catches it here as a check,
	// so that the table's "the check bites" is what this test proves.
	rulesOf := map[string][]string{}
	for _, r := range readRules(t) {
		for _, b := range r.planted {
			rulesOf[b] = append(rulesOf[b], r.id)
			for _, bc := range cases {
				if bc.bug == b && !names(r.checks, bc.check.prop) {
					t.Errorf("RULES.md: rule %s names planted bug %s, which %s catches here, but not %s among its checks", r.id, b, bc.check.prop, bc.check.prop)
				}
			}
		}
	}
	// Each bug gets a minute's search, then replays and a minimization of
	// bounded episodes: two minutes a bug is the self-test's bound, but no
	// more than the test binary's own timeout leaves (less a margin), so
	// that a hang is reported by the watchdog, with its artifact and rerun
	// command, rather than by go test's timeout.
	bound := time.Duration(len(cases)) * 2 * time.Minute
	if d, ok := t.Deadline(); ok {
		bound = min(bound, time.Until(d)-30*time.Second)
	}
	t.Logf("the self-test's bound: %v", bound)
	boundTest(t, s, bound)
	caught := 0
	rows := make([]catchRow, len(cases))
	before := quietStats()
	defer notePlantedSkew(t, before)
	for k, bc := range cases {
		row := &rows[k]
		row.bug, row.minimized = bc.bug, "not tried (catch took ≥ 1 s)"
		row.rules, row.prop = strings.Join(rulesOf[bc.bug], ", "), bc.check.prop
		if row.rules == "" {
			t.Errorf("RULES.md: no rule names planted bug %s", bc.bug)
		}
		t.Run(bc.bug, func(t *testing.T) {
			// The seed's swarm plan, with the bug switched on.
			planOf := func(seed uint64) chaos.Plan {
				p := chaos.NewPlan(seed)
				p.Bugs = map[string]chaos.Action{bc.bug: {Kind: chaos.Decide, Prob: bc.prob}}
				return p
			}
			runPlan := func(p chaos.Plan) (bool, string) {
				r, err := chaos.Start(p)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Stop()
				caught, why := bc.check.run(p.Seed)
				if caught && r.Fired()[bc.bug] == 0 {
					// The failure came from elsewhere (a flake, another
					// rule): the bug's marker was never reached.
					t.Logf("seed %d failed without reaching %s (not a catch): %s", p.Seed, bc.bug, why)
					return false, ""
				}
				return caught, why
			}
			run := func(seed uint64) (bool, string) { return runPlan(planOf(seed)) }
			start := time.Now()
			budget := 60 * time.Second
			if _, ok := serializedOnly[bc.bug]; ok {
				budget = 10 * time.Second
			}
			firstCatch := time.Duration(0)
			unreproduced := 0 // catching seeds that then failed to reproduce
			for i := uint64(0); time.Since(start) < budget; i++ {
				ok, why := run(s + i)
				if !ok {
					continue
				}
				took := time.Since(start)
				if firstCatch == 0 {
					firstCatch = took
				}
				reps := 0
				const replays = 5
				for range replays {
					if again, _ := run(s + i); again {
						reps++
					}
				}
				t.Logf("caught after %v (%d episodes): %s; seed %d reproduced it %d/%d times", took.Round(time.Millisecond), i+1, why, s+i, reps, replays)
				if reps == 0 {
					// The scheduler is not seeded: a catch may need an
					// interleaving the replays did not get. The seed a
					// failure report prints must reproduce it, so look
					// for a catch that does.
					unreproduced++
					t.Logf("seed %d caught %s but did not reproduce it in %d replays; trying further seeds", s+i, bc.bug, replays)
					continue
				}
				*row = catchRow{bug: bc.bug, rules: row.rules, prop: row.prop, caught: true, took: firstCatch, episodes: i + 1,
					seed: s + i, reps: reps, replays: replays, why: why, minimized: row.minimized, unreproduced: unreproduced}
				if took < time.Second { // minimize the plan of quick catches
					p := planOf(s + i)
					m, runs := chaos.Minimize(p, 3, func(q chaos.Plan) bool { ok, _ := runPlan(q); return ok })
					t.Logf("minimized the plan from %d markers to %d in %d runs: %s", len(p.Points)+len(p.Bugs), len(m.Points)+len(m.Bugs), runs, compact(m))
					row.minimized = fmt.Sprintf("%d → %d markers", len(p.Points)+len(p.Bugs), len(m.Points)+len(m.Bugs))
					if _, ok := m.Bugs[bc.bug]; !ok {
						t.Errorf("the minimized plan lost the bug that causes the failure: %s", compact(m))
					}
				}
				caught++
				return
			}
			if unreproduced > 0 {
				t.Errorf("%s was caught by %d seeds within %v, but none reproduced it", bc.bug, unreproduced, budget)
				return
			}
			if why, ok := serializedOnly[bc.bug]; ok {
				row.minimized = "serialized only: " + why
				t.Logf("%s was not caught within %v, as expected: it needs %s (TestSerialSelfTest catches it)", bc.bug, budget, why)
				return
			}
			row.minimized = "—"
			t.Errorf("%s was not caught within %v", bc.bug, budget)
		})
	}
	t.Logf("catch rate: %d/%d planted bugs (%d listed as caught in the serialized mode only)", caught, len(cases), len(serializedOnly))
	report := catchReport(s, rows, caught)
	t.Logf("self-test report:\n%s", report)
	path := writeArtifact(t, fmt.Sprintf("selftest-seed%d.md", s), []byte(report))
	t.Logf("self-test report written to %s", path)
}

// names reports whether a rule's checks name prop: a property or chaos
// test by its name, a scenario (prop "nested-groups") by any of its
// invariants ("nested-groups: \"bottom-up\"").
func names(checks []string, prop string) bool {
	return slices.ContainsFunc(checks, func(c string) bool { return c == prop || strings.HasPrefix(c, prop+": ") })
}

// catchRow is one planted bug's line of the self-test report.
type catchRow struct {
	bug           string
	rules         string // the rules of RULES.md it breaks
	prop          string // the property that must catch it
	caught        bool
	took          time.Duration
	episodes      uint64
	seed          uint64
	reps, replays int
	minimized     string
	why           string
	unreproduced  int // earlier catching seeds that did not reproduce
}

// catchReport renders the self-test's result as a Markdown table: per
// planted bug, the rules it breaks and the property that must catch it,
// then catch, time to catch, reproduction rate of the catching seed, and
// the minimized plan's size.
func catchReport(seed uint64, rows []catchRow, caught int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Self-test of the chaos harness, seed %d, %s: caught %d of %d planted bugs.\n\n", seed, time.Now().UTC().Format(time.DateOnly), caught, len(rows))
	b.WriteString("| planted bug | rule | property | caught | time to first catch | episodes | reproducing seed | reproduced | minimized plan | what the property saw |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		if !r.caught {
			fmt.Fprintf(&b, "| `%s` | %s | %s | **no** | — | — | — | — | — | %s |\n", r.bug, r.rules, r.prop, r.minimized)
			continue
		}
		why := r.why
		if len(why) > 80 {
			why = why[:77] + "..."
		}
		why = strings.ReplaceAll(why, "|", "\\|")
		seed := fmt.Sprint(r.seed)
		if r.unreproduced > 0 {
			seed += fmt.Sprintf(" (after %d catching seeds that did not reproduce)", r.unreproduced)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | yes | %v | %d | %s | %d/%d | %s | %s |\n",
			r.bug, r.rules, r.prop, r.took.Round(time.Millisecond), r.episodes, seed, r.reps, r.replays, r.minimized, why)
	}
	return b.String()
}

// quietStats returns the runtime's counters once nothing is queued and the
// live-task count has stood still for 50 ms (a worker publishes its
// finished tasks a moment after they end), or after 2 s.
// notePlantedSkew adds what the planted bugs left in the runtime's counters
// since before to plantedSkew: some corrupt them for good (a worker's
// finished count lost), so the suite's final leak check expects what the
// self-tests left, measured at rest. And since some leave goroutines
// blocked for good (a Wait never woken once bug/go-clears-wait-flag lost
// its flag), the final goroutine check ignores those present now.
func notePlantedSkew(t *testing.T, before core.Stats) {
	after := quietStats()
	skew := core.Stats{
		ParkedWaiters: after.ParkedWaiters - before.ParkedWaiters,
		QueuedTasks:   after.QueuedTasks - before.QueuedTasks,
		LiveTasks:     after.LiveTasks - before.LiveTasks,
		LiveScopes:    after.LiveScopes - before.LiveScopes,
	}
	if skew != (core.Stats{}) {
		t.Logf("the planted bugs left the runtime's counters skewed by %+v", skew)
	}
	plantedSkew.ParkedWaiters += skew.ParkedWaiters
	plantedSkew.QueuedTasks += skew.QueuedTasks
	plantedSkew.LiveTasks += skew.LiveTasks
	plantedSkew.LiveScopes += skew.LiveScopes
	plantedLeftovers = append(plantedLeftovers, goleak.IgnoreCurrent())
}

func quietStats() core.Stats {
	prev := core.ReadStats()
	for t0 := time.Now(); time.Since(t0) < 2*time.Second; {
		time.Sleep(50 * time.Millisecond)
		st := core.ReadStats()
		if st.QueuedTasks == 0 && st.LiveTasks == prev.LiveTasks && st.ParkedWaiters == prev.ParkedWaiters {
			return st
		}
		prev = st
	}
	return prev
}
