package sched

import (
	"fmt"
	"slices"
)

// Minimizing a failing schedule: most concurrency bugs need very few
// preemptions (CHESS), and a schedule with few is one a person can follow.
// A failure found by random or pct usually has many, most of them beside
// the point. Minimize looks for a failing schedule of the same program
// with fewer, in two phases:
//
//  1. Simplification (after Thrille's, Jalbert and Sen, FSE 2010): the
//     failing schedule as a list of switches, each "after its n-th step,
//     goroutine g gives way to h", is rerun with some preemptive switches
//     dropped (in chunks, as delta debugging does); a rerun that still
//     fails with fewer preemptions is kept, and its own switches are the
//     list from then on. A switch names its goroutines' own step counts,
//     not the run's steps, so the switches after a dropped one still mean
//     the same moments of the same goroutines. One rerun a try: hundreds
//     of preemptions go in a few hundred runs.
//  2. The bounded exhaustive search (Explore) with k = 0, 1, 2, ...
//     preemptions, below what phase 1 reached, each search within a budget
//     of schedules, stops at the first failing schedule. When every search
//     below k was complete, no failing schedule with fewer than k
//     preemptions exists: the minimum is proven.

// MinimizeOptions bounds a minimization.
type MinimizeOptions struct {
	// Options bounds each run (MaxSteps, WallBound).
	Options
	// MaxPreemptions is the largest k searched (default 3); never more
	// than the original schedule's preemptions minus one.
	MaxPreemptions int
	// MaxSchedules bounds each search of phase 2 (default 2000), and
	// phase 1's reruns to twice it plus two per original preemption.
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
	failed := o.Failed
	if failed == nil {
		failed = func(r *Result) bool { return r.Failure != nil }
	}
	if m.Original > 1 {
		res, runs := simplify(orig, o.Options.withDefaults(), failed, 2*o.MaxSchedules+2*m.Original, main)
		m.Schedules += runs
		m.Result, m.Preemptions = res, len(res.Preempted)
	}
	for k := 0; k < m.Preemptions && k <= o.MaxPreemptions; k++ {
		e := Explore(ExploreOptions{Options: o.Options, Preemptions: k, MaxSchedules: o.MaxSchedules, Seed: orig.Seed, Failed: o.Failed}, main)
		m.Schedules += e.Schedules
		if e.Failure != nil {
			m.Result, m.Preemptions = e.Failure, e.FailurePreemptions
			return m
		}
		m.Proven = m.Proven && e.Complete
	}
	m.Proven = m.Proven && m.Preemptions <= o.MaxPreemptions+1
	return m
}

// switchTo is one switch of a schedule: after its n-th step (counted from
// 1: the steps it was chosen for), goroutine from gave way to goroutine to,
// at the run's step step; preempt if from could have gone on.
type switchTo struct {
	from, n, to, step int
	preempt           bool
}

// switches returns res's switches, in step order.
func switches(res *Result) []switchTo {
	var out []switchTo
	count := map[int]int{}
	for i, g := range res.Decisions {
		if i > 0 && g != res.Decisions[i-1] {
			from := res.Decisions[i-1]
			_, pre := slices.BinarySearch(res.Preempted, i)
			out = append(out, switchTo{from: from, n: count[from], to: g, step: i, preempt: pre})
		}
		count[g]++
	}
	return out
}

// simplify is phase 1 of Minimize: it returns the failing run with the
// fewest preemptions it found (orig if none had fewer) and the reruns it
// made, at most budget. It drops the preemptive switches in chunks, as
// delta debugging does (Zeller's ddmin): half of them at a time, then a
// quarter, down to one, latest chunk first at each size; a run that still
// fails with fewer preemptions is kept, and the search goes on with its
// switches at the same size.
func simplify(orig *Result, opts Options, failed func(*Result) bool, budget int, main func(*G)) (*Result, int) {
	cur, runs := orig, 0
	// try reruns cur's switches without the preemptive ones in drop; it
	// keeps the run if it fails with fewer preemptions.
	try := func(drop []switchTo) bool {
		res := follow(orig.Seed, slices.DeleteFunc(switches(cur), func(s switchTo) bool { return slices.Contains(drop, s) }), opts, main)
		runs++
		if len(res.Preempted) >= len(cur.Preempted) || !failed(res) {
			return false
		}
		cur = res
		return true
	}
	preemptive := func() []switchTo {
		var ps []switchTo
		for _, s := range switches(cur) {
			if s.preempt {
				ps = append(ps, s)
			}
		}
		return ps
	}
	for size := max(1, len(orig.Preempted)/2); runs < budget; {
		ps := preemptive()
		dropped := false
		for end := len(ps); end > 0 && runs < budget; end -= size {
			if try(ps[max(0, end-size):end]) {
				dropped = true
				break // cur changed: its own switches from here
			}
		}
		switch {
		case dropped:
			size = min(size, max(1, len(cur.Preempted)/2))
		case size > 1:
			size /= 2
		default:
			return cur, runs // no single preemption can go
		}
	}
	return cur, runs
}

// Follow runs main along a's schedule as far as it applies: a's switches
// (after its n-th step, goroutine g gave way to h) are taken where the
// goroutine they name is runnable, and elsewhere each goroutine goes on
// while it can, as in the search's default schedule. Unlike [Replay] it
// checks nothing: it is for a program that changed since a was recorded
// (a smaller fault plan, a shrunk case), where a replay would diverge at
// its first changed step but the same interleaving may still show the
// same failure. The result's strategy is "dfs:K", K its preemptions, like
// a search's run.
func Follow(a *Artifact, opts Options, main func(*G)) *Result {
	res := &Result{Decisions: a.Decisions, Preempted: a.Preempted}
	return follow(a.Seed, switches(res), opts.withDefaults(), main)
}

// follow runs main along the switches sw (Follow).
func follow(seed uint64, sw []switchTo, opts Options, main func(*G)) *Result {
	c := &guidedChooser{to: map[[2]int]int{}, count: map[int]int{}, prev: -1}
	for _, s := range sw {
		c.to[[2]int{s.from, s.n}] = s.to
	}
	res := execute(seed, DFS(0), opts, c, nil, main)
	res.Strategy = DFS(len(res.Preempted))
	return res
}

// guidedChooser makes a schedule from a list of switches: after the n-th
// step of goroutine g, the switch (g, n) names, if that goroutine is
// runnable; else g goes on while it can, without a preemption; else, as
// in the search's default schedule, the next runnable goroutine after g,
// cyclically.
type guidedChooser struct {
	to      map[[2]int]int // (from, n) → to
	count   map[int]int    // the steps each goroutine was chosen for
	prev    int            // the goroutine chosen at the step before; -1 at the first
	yielded bool           // prev stopped at a Spin point
}

func (c *guidedChooser) choose(step int, runnable []int) int {
	chosen := -1
	if to, ok := c.to[[2]int{c.prev, c.count[c.prev]}]; ok && slices.Contains(runnable, to) {
		chosen = to
	} else if !c.yielded && slices.Contains(runnable, c.prev) {
		chosen = c.prev
	} else {
		chosen = runnable[0]
		for _, id := range runnable {
			if id > c.prev {
				chosen = id
				break
			}
		}
	}
	c.count[chosen]++
	c.prev, c.yielded = chosen, false
	return chosen
}

func (c *guidedChooser) spun(id int) {
	if id == c.prev {
		c.yielded = true
	}
}
