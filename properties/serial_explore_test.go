//go:build chaos

package properties_test

// Bounded exhaustive search of small configurations of the serialized
// properties (issue 15): each runs under every schedule with at most k
// preemptions (sched.Explore, after CHESS), with no fault plan (but the
// scope configurations' sleeps, scsWalkSleeps), checked by its property's
// own verdict, and the test states what it proved, or the failing
// schedule, which replays. The configurations are in
// serial_explore_configs_test.go.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/require"
)

// exploreEpisode runs c under every schedule with at most k preemptions,
// at most most schedules, stopping at the first its property fails, and
// returns what the search found with the failing run's verdict ("" if
// none failed).
func exploreEpisode(r *chaos.Run, c serialEpisode, k, most int) (*sched.Exploration, string) {
	opts, main, verdict := searchProgram(c)
	e := r.Explore(sched.ExploreOptions{Options: opts, Preemptions: k, MaxSchedules: most, Failed: failed(verdict)}, main)
	if e.Failure == nil {
		return e, ""
	}
	return e, verdict(e.Failure) // the last run's verdict: the search stopped at it
}

// exhaustiveBound returns the preemption bound k (NIMSYNC_EXPLORE_K,
// default 1: CI's) and the most schedules a configuration may take
// (NIMSYNC_EXPLORE_MAX, default 20000; 0: no bound, as scripts/chaos-test
// -explore K sets it for K >= 2).
func exhaustiveBound(t *testing.T) (k, most int) {
	t.Helper()
	k, most = 1, 20000
	for name, p := range map[string]*int{"NIMSYNC_EXPLORE_K": &k, "NIMSYNC_EXPLORE_MAX": &most} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			require.NoError(t, err, name)
			require.GreaterOrEqual(t, n, 0, name)
			*p = n
		}
	}
	return k, most
}

// TestExhaustive: every schedule with at most k preemptions of each small
// configuration keeps its property's rules (property 8's exactly-once,
// FIFO, errors, Len; property 9's and 13's calls, Wait and results;
// property 10's linearizable history; property 11's contract report;
// property 12's scope model; no deadlock or livelock). A configuration
// whose search reaches the schedule bound before it is complete says so
// and passes: it proved less, and says how much. The test ends with a
// table of what each search proved.
func TestExhaustive(t *testing.T) {
	if !chaosBuild {
		t.Skipf("the bounded exhaustive search needs the chaos build: scripts/chaos-test -run '^%s$'", t.Name())
	}
	k, most := exhaustiveBound(t)
	var rows []string
	complete, schedules, all := 0, 0, time.Now()
	for _, cfg := range exhaustiveConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			require.Equal(t, cfg.c.String(), normalized(cfg.c).String(), "a configuration is the case that runs (its norm keeps it)")
			r, err := chaos.Start(cfg.plan(nil)) // no fault but the configuration's: the schedules are the search's
			require.NoError(t, err)
			defer r.Stop()
			start := time.Now()
			e, why := exploreEpisode(r, cfg.c, k, most)
			el := time.Since(start)
			t.Logf("%s: %v (%v, %.0f schedules/s, %.0f steps/s, at most %d steps in one)", cfg.name, e, el.Round(time.Millisecond),
				float64(e.Schedules)/el.Seconds(), float64(e.Steps)/el.Seconds(), e.MostSteps)
			proved := fmt.Sprintf("complete at k = %d", k)
			switch {
			case e.Failure != nil:
				proved = fmt.Sprintf("**failed** (%d preemptions)", e.FailurePreemptions)
			case e.Nondeterministic != "":
				proved = "**not deterministic**"
			case !e.Complete:
				proved = fmt.Sprintf("schedule bound reached at k = %d", k)
			default:
				complete++
			}
			schedules += e.Schedules
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %d | %d | %.2f | %.0f | %.0f |", cfg.name, cfg.c.test(), proved, e.Schedules, e.MostSteps,
				el.Seconds(), float64(e.Schedules)/el.Seconds(), float64(e.Steps)/el.Seconds()))
			require.Empty(t, e.Nondeterministic, "the episode must be a function of its decisions")
			if e.Failure != nil {
				path := writeSerialArtifact(t, 0, cfg.plan(nil), serialFailure{cfg.c, e.Failure, why}, "")
				t.Fatalf("%s: a schedule with %d preemptions breaks its property: %s; its artifact: %s (case %v)", cfg.name, e.FailurePreemptions, why, path, cfg.c)
			}
		})
	}
	bound := "no schedule bound"
	if most > 0 {
		bound = fmt.Sprintf("at most %d schedules each", most)
	}
	t.Logf("bounded exhaustive search, k ≤ %d, %s: %d of %d configurations complete without a failure (every schedule with at most %d preemptions explored), %d schedules in %v\n"+
		"| configuration | property | proved | schedules | longest (steps) | seconds | schedules/s | steps/s |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n%s",
		k, bound, complete, len(rows), k, schedules, time.Since(all).Round(time.Millisecond), strings.Join(rows, "\n"))
}

// normalized returns c as its property runs it (its norm), with c's
// strategy and seed, which the search does not use.
func normalized(c serialEpisode) serialEpisode {
	switch c := c.(type) {
	case serialCase:
		n := c.norm()
		n.Strategy = c.Strategy
		return n
	case serialGroupCase:
		n := c.norm()
		n.Strategy = c.Strategy
		return n
	case serialResultCase:
		n := c.norm()
		n.Strategy = c.Strategy
		return n
	case serialLinCase:
		n := c.norm()
		n.Strategy = c.Strategy
		return n
	case serialContractCase:
		n := c.norm()
		n.Strategy = c.Strategy
		return n
	case serialScopeCase:
		n := c.norm()
		n.Strategy = c.Strategy
		return n
	}
	panic(fmt.Sprintf("no norm for %T", c))
}

// exhaustiveMissed are the planted bugs whose property has small
// configurations that no search of them, with k = 1, breaks: each needs a
// shape the configurations do not have. range-rest-waits-for-slot needs a
// GoRange long enough to be split into chunks of more than one item
// (n/(range-split × GOMAXPROCS): 32 items at GOMAXPROCS 2), one of whose
// rest runs after an item panicked or called Goexit (40 items in property
// 9); such a configuration is too big to search: 32 panicking items under
// a limit of one passed 20,000 schedules at k = 1 (3 minutes) without
// completing or finding it. finish-loads-waiters-first needs two
// preemptions: the blocked Go must be held off before it links itself
// and let in between the ending task's load of the waiters and its
// release of the slot; k = 2 finds it in "a Go blocked on the only slot
// while a task ends" after 370,541 schedules (5 minutes), too long for CI.
var exhaustiveMissed = map[string]bool{
	"bug/range-rest-waits-for-slot":  true,
	"bug/finish-loads-waiters-first": true,
}

// TestExhaustiveCatchesPlanted: with a planted bug on, the bounded search of
// its property's small configurations finds a schedule that breaks the
// property (in the first configuration that has one), and the failing
// schedule replays to a failure with the recorded trace. It logs a table:
// the configuration, the schedules searched before the failure (the
// configurations before it in full), and the failing schedule's
// preemptions. The search draws nothing, so what it finds does not depend
// on the seed: a bug it found and no longer finds fails the test.
func TestExhaustiveCatchesPlanted(t *testing.T) {
	if !chaosBuild {
		t.Skipf("the bounded exhaustive search needs the chaos build: scripts/chaos-test -run '^%s$'", t.Name())
	}
	k, most := exhaustiveBound(t)
	rows := []string{}
	found, searched := 0, 0
	for _, b := range serialBugs {
		cfgs := exhaustiveConfigsFor(b.gen)
		if cfgs == nil {
			rows = append(rows, fmt.Sprintf("| `%s` | no small configuration of its property yet | | |", b.bug))
			continue
		}
		searched++
		t.Run(strings.TrimPrefix(b.bug, "bug/"), func(t *testing.T) {
			before := core.ReadStats()
			defer notePlantedSkew(t, before)
			row := fmt.Sprintf("| `%s` | not found with k ≤ %d | %%d | |", b.bug, k)
			total, hit := 0, false
			for _, cfg := range cfgs {
				r, err := chaos.Start(cfg.plan(map[string]chaos.Action{b.bug: {Kind: chaos.Decide, Prob: b.prob}}))
				require.NoError(t, err)
				e, _ := exploreEpisode(r, cfg.c, k, most)
				total += e.Schedules
				if e.Failure == nil {
					r.Stop()
					continue
				}
				defer r.Stop()
				// The failing schedule replays to a failure, step for step.
				opts, mk := cfg.c.program()
				main, verdict := mk()
				rep := r.ReplaySerial(e.Failure.Artifact(), opts, main)
				require.NotEqual(t, "", verdict(rep), "the failing schedule's replay passes")
				require.Equal(t, e.Failure.Hash, rep.Hash, "the replay takes the recorded steps")
				found, hit = found+1, true
				row = fmt.Sprintf("| `%s` | %s | %d | %d |", b.bug, cfg.name, total, e.FailurePreemptions)
				t.Logf("found in %q after %d schedules in all, %d preemptions", cfg.name, total, e.FailurePreemptions)
				break
			}
			if !hit {
				row = fmt.Sprintf(row, total)
				if !exhaustiveMissed[b.bug] {
					t.Errorf("%s: no small configuration breaks its property within %d preemptions (%d schedules)", b.bug, k, total)
				}
			}
			if hit && exhaustiveMissed[b.bug] {
				t.Errorf("%s is listed in exhaustiveMissed but the search found it: take it off the list", b.bug)
			}
			rows = append(rows, row)
		})
	}
	t.Logf("bounded exhaustive search, k ≤ %d: %d of the %d planted bugs searched found\n| planted bug | found in | schedules searched | preemptions |\n| --- | --- | --- | --- |\n%s",
		k, found, searched, strings.Join(rows, "\n"))
}
