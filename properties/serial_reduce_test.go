//go:build chaos

package properties_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/nimsync/nimsync/chaos"
	"github.com/stretchr/testify/require"
)

// reduceBugs are planted bugs of each serialized property's kind whose
// failures TestReduceFailure reduces.
var reduceBugs = []string{
	"bug/lost-wakeup",                // a channel's receiver parked for good
	"bug/limit-off-by-one",           // a group running one task too many
	"bug/trysend-full-on-stale-tail", // a history that is not linearizable
	"bug/child-not-cancelled",        // a scope tree's rule
	"bug/run-drops-body-error",       // Run's result
}

// TestReduceFailure: a failure found with a planted bug on and a seed's full
// fault plan is reduced (reduceFailure) to a plan that still holds the
// bug and no more markers and knobs than before, and to a schedule with no
// more preemptions than the failing run had; the artifacts of the original
// and of the reduced failure, read back from their files, both replay to
// their recorded failure step for step.
func TestReduceFailure(t *testing.T) {
	s := seed(t)
	for _, bug := range reduceBugs {
		t.Run(strings.TrimPrefix(bug, "bug/"), func(t *testing.T) {
			var gen func(string) gopter.Gen
			for _, b := range serialBugs {
				if b.bug == bug {
					gen = b.gen
				}
			}
			require.NotNil(t, gen, "%s is not in serialBugs", bug)
			// The failing episodes leave their parked waiters linked (their
			// goroutines are killed where they stood): counted from here.
			defer notePlantedSkew(t, quietStats())
			params := gopter.DefaultGenParameters()
			params.Rng = rand.New(rand.NewSource(int64(s >> 1)))
			g := gen("")
			var (
				f serialFailure
				p chaos.Plan
				r *chaos.Run
			)
			for i := 1; f.res == nil; i++ {
				require.Less(t, i, 5000, "%s was not caught in 5000 episodes", bug)
				p = chaos.NewPlan(s + uint64(i))
				p.Bugs = map[string]chaos.Action{bug: {Kind: chaos.Decide, Prob: 1}}
				var err error
				r, err = chaos.Start(p)
				require.NoError(t, err)
				v, ok := g(params).Retrieve()
				require.True(t, ok)
				c := v.(serialEpisode)
				if res, why := c.episode(r, nil); why != "" {
					f = serialFailure{c, res, why}
					break
				}
				r.Stop()
			}
			start := time.Now()
			d := reduceFailure(t, r, p, f, minimizeBudget(t))
			t.Logf("%v in %v", d, time.Since(start).Round(time.Millisecond))
			require.Contains(t, d.plan.Bugs, bug, "the reduced plan dropped the planted bug and still failed")
			require.LessOrEqual(t, planSize(d.plan), planSize(p))
			require.LessOrEqual(t, d.first.Preemptions, len(f.res.Preempted))
			require.Equal(t, d.schedule.Preemptions, len(d.res.Preempted))

			orig := writeSerialArtifact(t, s, p, f, "")
			red := writeSerialArtifact(t, s, d.plan, d.serialFailure, orig)
			for _, path := range []string{orig, red} {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				var a serialArtifact
				require.NoError(t, json.Unmarshal(b, &a))
				raw := struct {
					Schedule json.RawMessage `json:"schedule"`
				}{}
				require.NoError(t, json.Unmarshal(b, &raw))
				a.Schedule, err = parseSchedule(raw.Schedule, f.c)
				require.NoError(t, err)
				q, err := readPlan(path)
				require.NoError(t, err)
				rq, err := chaos.Start(q)
				require.NoError(t, err)
				res, why := f.c.episode(rq, a.Schedule)
				rq.Stop()
				require.Equal(t, a.Why, why, "%s: the replay ends otherwise", path)
				require.Equal(t, a.Schedule.TraceHash, fmt.Sprintf("%016x", res.Hash), "%s: the replay takes other steps", path)
			}
			require.FileExists(t, orig)
		})
	}
}

// shrinkEpisode shrinks a failing case c (its failing run res, verdict
// why) with the shrinker of the generator result it came from, as gopter
// does in a property: each smaller case that still fails under r (with its
// own strategy and seed) replaces it, and its own shrinks are tried next,
// until none fails or budget cases were run. It returns the smallest
// failing case, its run and verdict, and the cases it ran.
func shrinkEpisode(r *chaos.Run, shrinker gopter.Shrinker, f serialFailure, budget int) (serialFailure, int) {
	runs := 0
	for next := shrinker(f.c); runs < budget; {
		v, ok := next()
		if !ok {
			break
		}
		c := v.(serialEpisode)
		runs++
		if res, why := c.episode(r, nil); why != "" {
			f = serialFailure{c, res, why}
			next = shrinker(c)
		}
	}
	return f, runs
}
