//go:build chaos

package properties_test

// Bounded exhaustive search of small channel configurations (issue 15,
// first increment): each configuration of property 8 (serial_chan_test.go)
// runs under every schedule with at most k preemptions (sched.Explore, after
// CHESS), with no fault plan, and the test states what it proved, or the
// failing schedule, which replays.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/require"
)

// exhaustiveConfigs are the small configurations, cheapest search first: a
// cancellation racing a parked receive, a Close with values buffered, two
// senders racing into one receiver, a batch sent to receivers that may all
// be parked, a Close racing the second sender's Send, one sender feeding
// two receivers.
var exhaustiveConfigs = []struct {
	name string
	c    serialCase
}{
	{"a cancel racing a parked receive: SPSC, capacity 1", serialCase{Flavor: flavorIndex(chantest.SPSC), Cap: 1, Senders: 1, Receivers: 1, PerSender: 1, CancelAt: 1}},
	{"values buffered at Close: SPMC, capacity 2", serialCase{Flavor: flavorIndex(chantest.SPMC), Cap: 2, Senders: 1, Receivers: 1, PerSender: 2, CloseEarly: true}},
	{"two senders, one receiver: MPSC, capacity 1", serialCase{Flavor: flavorIndex(chantest.MPSC), Cap: 1, Senders: 2, Receivers: 1, PerSender: 1}},
	{"two senders, one receiver: MPMC, capacity 1", serialCase{Flavor: flavorIndex(chantest.MPMC), Cap: 1, Senders: 2, Receivers: 1, PerSender: 1}},
	{"a batch of two to two receivers of one value each: SPMC, capacity 2", serialCase{Flavor: flavorIndex(chantest.SPMC), Cap: 2, Senders: 1, Receivers: 2, PerSender: 2, Mode: modeBatch, Quota: 1}},
	{"Close racing a Send: MPSC, capacity 1", serialCase{Flavor: flavorIndex(chantest.MPSC), Cap: 1, Senders: 2, Receivers: 1, PerSender: 1, CloseEarly: true}},
	{"one sender, two receivers: SPMC, capacity 1", serialCase{Flavor: flavorIndex(chantest.SPMC), Cap: 1, Senders: 1, Receivers: 2, PerSender: 1}},
}

func flavorIndex(f chantest.Flavor) int {
	for i, g := range chantest.Flavors {
		if g == f {
			return i
		}
	}
	panic(fmt.Sprintf("no flavor %v", f))
}

// exhaustiveBound returns the preemption bound k (NIMSYNC_EXPLORE_K,
// default 1) and the most schedules a configuration may take
// (NIMSYNC_EXPLORE_MAX, default 20000).
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

// TestExhaustiveChan: every schedule with at most k preemptions of each
// small configuration keeps property 8's rules (exactly-once, FIFO, the
// errors, Len, no deadlock or livelock). A configuration whose search
// reaches the schedule bound before it is complete says so and passes: it
// proved less, and says how much.
func TestExhaustiveChan(t *testing.T) {
	if !chaosBuild {
		t.Skipf("the bounded exhaustive search needs the chaos build: scripts/chaos-test -run '^%s$'", t.Name())
	}
	k, most := exhaustiveBound(t)
	r, err := chaos.Start(chaos.Plan{Seed: 1}) // no fault: the schedules are the search's alone
	require.NoError(t, err)
	defer r.Stop()
	for _, cfg := range exhaustiveConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			c := cfg.c
			c.Strategy = sched.DFS(k).String()
			c = c.norm()
			start := time.Now()
			e := r.Explore(sched.ExploreOptions{Options: serialOptions, Preemptions: k, MaxSchedules: most}, func(g *sched.G) {
				o := &serialObs{}
				c.body(o)(g)
				// The rules checked after a run hold at the end of main,
				// once every goroutine returned and the channel drained.
				if why := c.verdict(&sched.Result{}, o); why != "" {
					panic("property 8: " + why)
				}
			})
			el := time.Since(start)
			t.Logf("%s: %v (%v, %.0f schedules/s, %.0f steps/s, at most %d steps in one)", cfg.name, e, el.Round(time.Millisecond),
				float64(e.Schedules)/el.Seconds(), float64(e.Steps)/el.Seconds(), e.MostSteps)
			require.Empty(t, e.Nondeterministic, "the episode must be a function of its decisions")
			if e.Failure != nil {
				a := e.Failure.Artifact()
				js, err := a.Marshal()
				require.NoError(t, err)
				f, err := os.CreateTemp("", "nimsync-explore-*.json")
				require.NoError(t, err)
				_, err = f.Write(js)
				require.NoError(t, err)
				require.NoError(t, f.Close())
				t.Fatalf("%s: a schedule with %d preemptions breaks property 8: %v; its schedule: %s (case %+v)", cfg.name, e.FailurePreemptions, e.Failure.Failure, f.Name(), c)
			}
		})
	}
}

// exhaustiveBugs are the planted channel bugs the search runs against, with
// the probability their marker acts with (serial_selftest_test.go's).
var exhaustiveBugs = []struct {
	bug  string
	prob float64
}{
	{"bug/publish-before-write", 0.5},
	{"bug/close-drops-values", 1},
	{"bug/lost-wakeup", 1},
	{"bug/recv-after-close-runaway", 1},
	{"bug/close-twice-returns-nil", 1},
	{"bug/recheck-misses-close", 1},
	{"bug/cancel-loses-value", 1},
	{"bug/batch-wakes-one", 1},
	{"bug/cancelled-waiter-stays-linked", 1},
	{"bug/len-counts-closed-bit", 1},
}

// TestExhaustiveCatchesPlanted: with a planted channel bug on, the bounded
// search of the small configurations finds a schedule that breaks property
// 8 (in the first configuration that has one), and the failing schedule
// replays to the same failure. It logs a table: the configuration, the
// schedules searched before the failure (the configurations before it in
// full), and the failing schedule's preemptions. Every planted channel bug
// is found with k = 1 (seed-independent: the search draws nothing); one
// that no longer is fails the test.
func TestExhaustiveCatchesPlanted(t *testing.T) {
	if !chaosBuild {
		t.Skipf("the bounded exhaustive search needs the chaos build: scripts/chaos-test -run '^%s$'", t.Name())
	}
	k, most := exhaustiveBound(t)
	rows := []string{}
	found := 0
	for _, b := range exhaustiveBugs {
		t.Run(b.bug, func(t *testing.T) {
			r, err := chaos.Start(chaos.Plan{Seed: 1, Bugs: map[string]chaos.Action{b.bug: {Kind: chaos.Decide, Prob: b.prob}}})
			require.NoError(t, err)
			defer r.Stop()
			before := core.ReadStats()
			defer notePlantedSkew(t, before)
			row := fmt.Sprintf("| `%s` | not found with k ≤ %d | | |", b.bug, k)
			total, hit := 0, false
			for _, cfg := range exhaustiveConfigs {
				c := cfg.c
				c.Strategy = sched.DFS(k).String()
				c = c.norm()
				body := func(g *sched.G) {
					o := &serialObs{}
					c.body(o)(g)
					if why := c.verdict(&sched.Result{}, o); why != "" {
						panic("property 8: " + why)
					}
				}
				e := r.Explore(sched.ExploreOptions{Options: serialOptions, Preemptions: k, MaxSchedules: most}, body)
				total += e.Schedules
				if e.Failure == nil {
					continue
				}
				// The failing schedule replays to the same failure.
				rep := r.ReplaySerial(e.Failure.Artifact(), serialOptions, body)
				require.NotNil(t, rep.Failure)
				require.NotEqual(t, sched.Divergence, rep.Failure.Kind, "%v", rep.Failure)
				require.Equal(t, e.Failure.Hash, rep.Hash, "the replay takes the recorded steps")
				found, hit = found+1, true
				row = fmt.Sprintf("| `%s` | %s | %d | %d |", b.bug, cfg.name, total, e.FailurePreemptions)
				t.Logf("found in %q after %d schedules in all, %d preemptions: %v", cfg.name, total, e.FailurePreemptions, e.Failure.Failure)
				break
			}
			rows = append(rows, row)
			if !hit {
				t.Errorf("%s: no small configuration breaks property 8 within %d preemptions (%d schedules): the search no longer reaches this bug", b.bug, k, total)
			}
		})
	}
	t.Logf("bounded exhaustive search, k ≤ %d: %d of %d planted channel bugs found\n| planted bug | found in | schedules searched | preemptions |\n| --- | --- | --- | --- |\n%s",
		k, found, len(exhaustiveBugs), strings.Join(rows, "\n"))
}
