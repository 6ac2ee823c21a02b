package sched

import "fmt"

// Minimizing a failing schedule: most concurrency bugs need very few
// preemptions (CHESS), and a schedule with few is one a person can follow.
// A failure found by random or pct usually has many, most of them beside
// the point. Minimize looks for a failing schedule of the same program
// with fewer: the bounded exhaustive search (Explore) with k = 0, 1, 2, ...
// preemptions, each search within a budget of schedules, stops at the first
// failing schedule. When every search below k was complete, no failing
// schedule with fewer than k preemptions exists: the minimum is proven.

// MinimizeOptions bounds a minimization.
type MinimizeOptions struct {
	// Options bounds each run (MaxSteps, WallBound).
	Options
	// MaxPreemptions is the largest k searched (default 3); never more
	// than the original schedule's preemptions minus one.
	MaxPreemptions int
	// MaxSchedules bounds each search (default 2000).
	MaxSchedules int
	// Failed says whether a run fails as the original did (see
	// ExploreOptions.Failed); nil: its Failure is set.
	Failed func(*Result) bool
}

// Minimization is what Minimize found.
type Minimization struct {
	Original int // the original schedule's preemptions
	// Result is the failing schedule with the fewest preemptions found,
	// Preemptions of them; the original if no search found one with
	// fewer.
	Result      *Result
	Preemptions int
	// Proven: every search with fewer preemptions was complete and found
	// no failure, so no failing schedule has fewer.
	Proven    bool
	Schedules int // runs made
}

// String says what the minimization found, in one line.
func (m *Minimization) String() string {
	proof := "not proven minimal (a search with fewer ran out of its budget)"
	if m.Proven {
		proof = "minimal: every schedule with fewer explored"
	}
	return fmt.Sprintf("%d preemptions, from %d (%d schedules searched; %s)", m.Preemptions, m.Original, m.Schedules, proof)
}

// Minimize looks for a failing schedule of main with fewer preemptions
// than orig (a failing run of main), as described above. main must build
// its state anew on every call.
func Minimize(orig *Result, o MinimizeOptions, main func(*G)) *Minimization {
	if o.MaxPreemptions <= 0 {
		o.MaxPreemptions = 3
	}
	if o.MaxSchedules <= 0 {
		o.MaxSchedules = 2000
	}
	m := &Minimization{Original: len(orig.Preempted), Result: orig, Preemptions: len(orig.Preempted), Proven: true}
	for k := 0; k < m.Original && k <= o.MaxPreemptions; k++ {
		e := Explore(ExploreOptions{Options: o.Options, Preemptions: k, MaxSchedules: o.MaxSchedules, Seed: orig.Seed, Failed: o.Failed}, main)
		m.Schedules += e.Schedules
		if e.Failure != nil {
			m.Result, m.Preemptions = e.Failure, e.FailurePreemptions
			return m
		}
		m.Proven = m.Proven && e.Complete
	}
	m.Proven = m.Proven && m.Original <= o.MaxPreemptions+1
	return m
}
