package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// FreeStrategy names free-running runs (Go's scheduler, under the run's
// fault plan if it had one) among a swarm's strategies.
const FreeStrategy = "free"

// StrategyStats sums up the runs of one strategy of a swarm (Report.Sched
// "swarm" or "swarm:LIST"): how many ran, how many failed and what they
// found.
type StrategyStats struct {
	Strategy string  `json:"strategy"` // FreeStrategy, "random", "pct:D"
	Runs     int     `json:"runs"`
	Failures int     `json:"failures"` // failed runs
	Seconds  float64 `json:"seconds"`  // time spent in its runs
	// Steps is the scheduling steps of its serialized runs that ended.
	Steps int64 `json:"steps,omitempty"`
	// Found is what its failures were: one entry per scenario and kind,
	// in the order of the report's failures.
	Found []Found `json:"found,omitempty"`
}

// Found counts the failures of one kind in one scenario.
type Found struct {
	Scenario string `json:"scenario"`
	Kind     string `json:"kind"`
	Count    int    `json:"count"`
}

// IsSwarm reports whether r is a swarm's: each run drew its strategy from
// its seed (Run.Strategy says which).
func (r *Report) IsSwarm() bool { return r.Sched == "swarm" || strings.HasPrefix(r.Sched, "swarm:") }

// RunStrategy is the strategy run ran in: its own in a swarm, else the
// report's (FreeStrategy without Sched). Reports written before runs
// recorded it give the report's.
func (r *Report) RunStrategy(run Run) string { return r.strategy(run.Strategy) }

// FailureStrategy is the strategy of the run that failed with f (see
// RunStrategy); "" for a failure of no run (a leak).
func (r *Report) FailureStrategy(f Failure) string {
	if f.Scenario == "" {
		return ""
	}
	return r.strategy(f.Strategy)
}

func (r *Report) strategy(own string) string {
	switch {
	case own != "":
		return own
	case r.Sched != "" && !r.IsSwarm():
		return r.Sched
	}
	return FreeStrategy
}

// StrategiesOf sums up r's runs and failures by strategy, in canonical
// order (CompareStrategies). It starts from the strategies r.Strategies
// names, so that a swarm's members that drew no run are listed with none;
// their counts are recomputed from Runs and Failures, which makes it right
// for a merge and for reports written before Strategies existed.
func StrategiesOf(r *Report) []StrategyStats {
	by := map[string]*StrategyStats{}
	var names []string
	get := func(name string) *StrategyStats {
		if s, ok := by[name]; ok {
			return s
		}
		by[name] = &StrategyStats{Strategy: name}
		names = append(names, name)
		return by[name]
	}
	for _, s := range r.Strategies {
		get(s.Strategy)
	}
	for _, run := range r.Runs {
		s := get(r.RunStrategy(run))
		s.Runs++
		if run.Error != "" {
			s.Failures++
		}
		s.Seconds += run.Seconds
		s.Steps += run.Steps
	}
	for _, f := range r.Failures {
		name := r.FailureStrategy(f)
		if name == "" {
			continue
		}
		s := get(name)
		i := 0
		for i < len(s.Found) && (s.Found[i].Scenario != f.Scenario || s.Found[i].Kind != f.Kind) {
			i++
		}
		if i == len(s.Found) {
			s.Found = append(s.Found, Found{Scenario: f.Scenario, Kind: f.Kind})
		}
		s.Found[i].Count++
	}
	out := make([]StrategyStats, 0, len(names))
	for _, n := range names {
		out = append(out, *by[n])
	}
	slices.SortStableFunc(out, func(a, b StrategyStats) int { return CompareStrategies(a.Strategy, b.Strategy) })
	return out
}

// CompareStrategies orders strategy names canonically: FreeStrategy,
// "random", "pct:D" by depth D, then any other name by string.
func CompareStrategies(a, b string) int {
	rank := func(s string) (int, int) {
		switch {
		case s == FreeStrategy:
			return 0, 0
		case s == "random":
			return 1, 0
		}
		if d, ok := strings.CutPrefix(s, "pct:"); ok {
			if n, err := strconv.Atoi(d); err == nil {
				return 2, n
			}
		}
		return 3, 0
	}
	ar, ad := rank(a)
	br, bd := rank(b)
	return cmp.Or(cmp.Compare(ar, br), cmp.Compare(ad, bd), strings.Compare(a, b))
}
