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

// serialBugs are the planted bugs TestSerialChan's episodes must catch in
// the serialized mode, each with the probability its marker acts with.
var serialBugs = []struct {
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

// TestSerialSelfTest: in the serialized mode, each planted channel bug is
// caught by TestSerialChan's episodes within a budget, and its failing
// episode then replays from its decision list serialReplays times, every
// time with the recorded trace hash and the recorded failure. It logs, per
// bug, the episodes and the time to the first catch, the strategy and seed
// that caught it, and the replay count.
func TestSerialSelfTest(t *testing.T) {
	s := seed(t)
	strategy := schedStrategy(t)
	n := serialReplays(t)
	budget := 30 * time.Second
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
			gen := genSerialCase(strategy)
			start := time.Now()
			for i := 1; time.Since(start) < budget; i++ {
				v, ok := gen(params).Retrieve()
				require.True(t, ok)
				c := v.(serialCase)
				r := start1(i)
				res, why := runSerial(r, c)
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
					rep, rwhy := replaySerial(r, c, a)
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
				t.Logf("caught after %d episodes in %v by %v (%d steps): %s; replayed %d/%d with the recorded trace",
					i, took.Round(time.Millisecond), c, res.Steps, why, same, n)
				writeSerialArtifact(t, s+uint64(i), r.Plan(), serialFailure{c, res, why})
				rows = append(rows, fmt.Sprintf("| `%s` | %d | %v | %s | %d | %d/%d |", bc.bug, i, took.Round(time.Millisecond), c.Strategy, res.Steps, same, n))
				return
			}
			rows = append(rows, fmt.Sprintf("| `%s` | **not caught** in %v | | | | |", bc.bug, budget))
			t.Errorf("%s was not caught in the serialized mode within %v", bc.bug, budget)
		})
	}
	t.Logf("serialized self-test, seed %d:\n| planted bug | episodes to catch | time | strategy | steps | replays identical |\n| --- | --- | --- | --- | --- | --- |\n%s", s, strings.Join(rows, "\n"))
}
