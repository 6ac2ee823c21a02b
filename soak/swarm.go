package soak

// The swarm over strategies (Config.Sched "swarm" or "swarm:LIST"): each run
// draws how it runs from its own seed, among free-running under the fault
// plan (Free) and the serialized mode's strategies, the way a run's fault
// plan is drawn from its seed. The draw is a pure function of the run's
// seed and the swarm's members (SwarmDraw), so a run's strategy is known
// from its seed alone: its artifact records it, and repro replays the run
// in it (a serialized one from its schedule, a free-running one as any
// free-running run replays).

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/nimsync/nimsync/report"
	"github.com/nimsync/nimsync/sched"
)

const (
	// Swarm is Config.Sched's value for the swarm over DefaultSwarm;
	// "swarm:LIST" names the members (comma-separated, from Free,
	// "random" and "pct:D").
	Swarm = "swarm"
	// Free is the swarm member that runs free-running, under Go's
	// scheduler, with the run's fault plan (as a soak with Chaos and no
	// Sched runs every run).
	Free = "free"
)

// DefaultSwarm are the members of the swarm "swarm", in their canonical
// order: free-running chaos, random, and pct of depths 1 to 3.
var DefaultSwarm = []string{Free, "random", "pct:1", "pct:2", "pct:3"}

// swarmStream is the PCG stream of the draw: the run's seed is also the
// seed of its scenario's shape, its fault plan and its scheduler, each of
// which draws from streams of its own.
const swarmStream = 0x5357_4152_4d5f_5354 // "SWARM_ST"

// IsSwarm reports whether the Config.Sched value v asks for a swarm.
func IsSwarm(v string) bool { return v == Swarm || strings.HasPrefix(v, Swarm+":") }

// ParseSwarm parses a swarm: "swarm" (DefaultSwarm), or "swarm:LIST" with
// LIST comma-separated members, each Free, "random" or "pct:D" with D ≥ 1,
// each at most once. It returns the members in canonical order (Free,
// random, then pct by depth: the draw depends on the set, not on how a
// command line listed it, so shards agree) and the canonical spelling of
// the swarm ("swarm" for DefaultSwarm's set).
func ParseSwarm(v string) (members []string, canonical string, err error) {
	if v == Swarm {
		return slices.Clone(DefaultSwarm), Swarm, nil
	}
	list, ok := strings.CutPrefix(v, Swarm+":")
	if !ok {
		return nil, "", fmt.Errorf("%q is not a swarm: want swarm or swarm:LIST", v)
	}
	if list == "" {
		return nil, "", fmt.Errorf("swarm %q lists no strategy: want swarm:LIST with LIST comma-separated from free, random, pct:D", v)
	}
	for _, m := range strings.Split(list, ",") {
		m = strings.TrimSpace(m)
		if m != Free {
			st, err := sched.ParseStrategy(m)
			switch {
			case err != nil:
				return nil, "", fmt.Errorf("swarm %q: member %q: want free, random or pct:D with D ≥ 1", v, m)
			case st.Exhaustive():
				return nil, "", fmt.Errorf("swarm %q: member %q is a step of the bounded exhaustive search; a run takes free, random or pct:D", v, m)
			}
			m = st.String()
		}
		if slices.Contains(members, m) {
			return nil, "", fmt.Errorf("swarm %q lists %s twice", v, m)
		}
		members = append(members, m)
	}
	slices.SortFunc(members, report.CompareStrategies)
	if slices.Equal(members, DefaultSwarm) {
		return members, Swarm, nil
	}
	return members, Swarm + ":" + strings.Join(members, ","), nil
}

// SwarmDraw returns the member of the swarm members (in ParseSwarm's
// canonical order) that the run of seed runs in: uniform over them, a pure
// function of (seed, members).
func SwarmDraw(seed uint64, members []string) string {
	r := rand.New(rand.NewPCG(seed, swarmStream))
	return members[r.IntN(len(members))]
}
