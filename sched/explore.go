package sched

import (
	"fmt"
	"slices"
)

// Bounded exhaustive search (Musuvathi and Qadeer, "Iterative Context
// Bounding for Systematic Testing of Multithreaded Programs", PLDI 2007;
// CHESS, OSDI 2008): most concurrency bugs need very few preemptions, so
// running a small program under every schedule with at most k of them
// explores what matters and, when it finds nothing, proves something.
//
// A preemption is a switch away from the goroutine that ran the step before
// while that goroutine could have gone on: it is still runnable and did not
// stop at a Spin point (a goroutine that waits for another in a loop yields
// the processor, as a real scheduler's time slice would end it). Switching
// when it blocked, parked, slept or exited is free. The search is fair
// (Musuvathi and Qadeer, "Fair Stateless Model Checking", PLDI 2008): a
// goroutine that stops at a Spin waits for every goroutine runnable at
// that moment, and is no candidate while one of those is runnable and has
// not run since; so spin loops add no branch per round, and two spinners
// cannot keep the goroutine they both wait for from running.
//
// The search is depth-first over the decisions. Each run follows a prefix of
// decisions and then the default schedule: the previous goroutine goes on
// while it can, else (after a Spin) the next runnable goroutine after it in
// id order, else the lowest runnable id. After each run the next prefix
// takes the deepest step that has an untried alternative within the bound:
// at each step the alternatives are tried in the order default first, then
// the other runnable goroutines by id. A program is rerun from scratch for
// every schedule; it must be deterministic given its decisions (Explore
// reports one that is not, as a run whose prefix names a goroutine that is
// not runnable).

// DFS is the strategy of a run of [Explore]'s search with at most k
// preemptions, as an [Artifact] records it ("dfs:K"). A [Run] with it takes
// the search's first schedule, the default one (no preemption). DFS panics
// if k < 0.
func DFS(k int) Strategy {
	if k < 0 {
		panic(fmt.Sprintf("sched: dfs preemption bound %d is negative", k))
	}
	return Strategy{kind: kindDFS, depth: k}
}

// Exhaustive reports whether s is [DFS]'s: a step of a search, not a
// strategy that draws one schedule from a seed.
func (s Strategy) Exhaustive() bool { return s.kind == kindDFS }

// ExploreOptions bounds a search.
type ExploreOptions struct {
	// Options bounds each run (MaxSteps, WallBound).
	Options
	// Preemptions is k: the search runs every schedule with at most k
	// preemptions.
	Preemptions int
	// MaxSchedules stops the search after that many runs; 0 means no
	// bound.
	MaxSchedules int
	// Seed is recorded in each run's Result (the search draws nothing).
	Seed uint64
	// Failed says whether a run failed; nil means it did if its Failure
	// is set. A property whose checks run after the run (on what the run
	// recorded) says so here, and so does a minimization that looks for
	// one failure and not another.
	Failed func(*Result) bool
}

// Exploration is what a search found.
type Exploration struct {
	Preemptions int // the bound k
	Schedules   int // runs made
	Steps       int // steps of all the runs
	MostSteps   int // steps of the longest run
	// Complete: every schedule with at most k preemptions ran, and none
	// failed.
	Complete bool
	// Failure is the first run that failed (ExploreOptions.Failed), with
	// its decisions: replayable with Replay through Result.Artifact. Nil
	// if none did.
	Failure *Result
	// FailurePreemptions is the number of preemptions in Failure's
	// schedule.
	FailurePreemptions int
	// Nondeterministic, if set, says where a rerun of a prefix did not
	// reach the state it reached before: the program depends on something
	// other than its decisions, and the search stopped.
	Nondeterministic string
}

// String says what the search proved or found, in one line.
func (e *Exploration) String() string {
	switch {
	case e.Nondeterministic != "":
		return fmt.Sprintf("search stopped after %d schedules: the program is not deterministic given its decisions: %s", e.Schedules, e.Nondeterministic)
	case e.Failure != nil:
		return fmt.Sprintf("failure in schedule %d (%d preemptions, %d steps): %v", e.Schedules, e.FailurePreemptions, e.Failure.Steps, e.Failure.Failure)
	case e.Complete:
		return fmt.Sprintf("every schedule with at most %d preemptions explored: %d schedules, no failure", e.Preemptions, e.Schedules)
	default:
		return fmt.Sprintf("no failure in %d schedules with at most %d preemptions; the search stopped at its bound of schedules before it was complete", e.Schedules, e.Preemptions)
	}
}

// Explore runs main under every schedule with at most o.Preemptions
// preemptions, depth-first, until one fails, the search is complete or
// o.MaxSchedules runs were made. main is called afresh for each schedule
// and must build its state anew each time.
func Explore(o ExploreOptions, main func(*G)) *Exploration {
	if o.Preemptions < 0 {
		panic(fmt.Sprintf("sched: Explore: preemption bound %d is negative", o.Preemptions))
	}
	opts := o.Options.withDefaults()
	strat := DFS(o.Preemptions)
	e := &Exploration{Preemptions: o.Preemptions}
	failed := o.Failed
	if failed == nil {
		failed = func(r *Result) bool { return r.Failure != nil }
	}
	var prefix []int
	for {
		c := &dfsChooser{prefix: prefix, bound: o.Preemptions, prev: -1, waits: map[int][]int{}}
		res := execute(o.Seed, strat, opts, c, nil, main)
		e.Schedules++
		e.Steps += res.Steps
		e.MostSteps = max(e.MostSteps, res.Steps)
		if c.diverged != "" {
			e.Nondeterministic = c.diverged
			return e
		}
		if failed(res) {
			e.Failure, e.FailurePreemptions = res, c.preempts
			return e
		}
		if prefix = c.next(); prefix == nil {
			e.Complete = true
			return e
		}
		if o.MaxSchedules > 0 && e.Schedules >= o.MaxSchedules {
			return e
		}
	}
}

// dfsChooser follows a prefix of decisions, then the default schedule, and
// records what each step saw for the search's next prefix.
type dfsChooser struct {
	prefix   []int
	bound    int
	prev     int  // the goroutine chosen at the step before; -1 at the first
	yielded  bool // prev stopped at a Spin point since it was chosen
	preempts int
	// waits[t] are the goroutines that were runnable when t last stopped
	// at a Spin point and have not run since: t is no candidate while one
	// of them is runnable (fairness).
	waits    map[int][]int
	steps    []dfsStep
	diverged string
}

// dfsStep is one decision: the runnable goroutines, the choice, and what
// a different choice would cost.
type dfsStep struct {
	chosen int
	alts   []int // the order the search tries choices in: the default first
	prev   int   // a choice other than prev is a preemption, if prev >= 0
	before int   // preemptions before this step
}

func (c *dfsChooser) choose(step int, runnable []int) int {
	if c.yielded {
		// The spinner waits for every goroutine runnable now (fairness).
		for _, id := range runnable {
			if id != c.prev {
				c.waits[c.prev] = append(c.waits[c.prev], id)
			}
		}
	}
	// The candidates: runnable goroutines that wait for none runnable,
	// unless all do.
	cand := make([]int, 0, len(runnable))
	for _, id := range runnable {
		if !slices.ContainsFunc(c.waits[id], func(u int) bool { return slices.Contains(runnable, u) }) {
			cand = append(cand, id)
		}
	}
	if len(cand) == 0 {
		cand = append(cand, runnable...)
	}
	prev := -1 // a switch away from prev would be a preemption
	if c.prev >= 0 && !c.yielded && slices.Contains(cand, c.prev) {
		prev = c.prev
	}
	def := cand[0]
	switch {
	case prev >= 0:
		def = prev
	case c.yielded:
		// The next candidate after the spinner, cyclically.
		for _, id := range cand {
			if id > c.prev {
				def = id
				break
			}
		}
	}
	alts := []int{def}
	for _, id := range cand {
		if id != def {
			alts = append(alts, id)
		}
	}
	chosen := def
	if step < len(c.prefix) {
		chosen = c.prefix[step]
		if !slices.Contains(alts, chosen) && c.diverged == "" {
			c.diverged = fmt.Sprintf("at step %d the prefix chooses g%d, which is not a candidate (runnable: %v, candidates: %v)", step, chosen, runnable, cand)
			chosen = def
		}
	}
	c.steps = append(c.steps, dfsStep{chosen: chosen, alts: alts, prev: prev, before: c.preempts})
	if prev >= 0 && chosen != prev {
		c.preempts++
	}
	for t, us := range c.waits { // chosen has run: nobody waits for it any more
		c.waits[t] = slices.DeleteFunc(us, func(u int) bool { return u == chosen })
	}
	c.prev, c.yielded = chosen, false
	return chosen
}

func (c *dfsChooser) spun(id int) {
	if id == c.prev {
		c.yielded = true
	}
}

// next returns the search's next prefix after this run, or nil when every
// schedule within the bound has been tried.
func (c *dfsChooser) next() []int {
	for i := len(c.steps) - 1; i >= 0; i-- {
		s := c.steps[i]
		at := slices.Index(s.alts, s.chosen)
		for _, a := range s.alts[at+1:] {
			cost := s.before
			if s.prev >= 0 && a != s.prev {
				cost++
			}
			if cost > c.bound {
				continue
			}
			p := make([]int, i+1)
			for j := range i {
				p[j] = c.steps[j].chosen
			}
			p[i] = a
			return p
		}
	}
	return nil
}
