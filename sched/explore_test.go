package sched_test

import (
	"fmt"
	"testing"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExploreLostUpdate: the lost update of two read-yield-write
// increments needs one preemption (a switch between a read and its write).
// With k = 0 the search runs the single non-preemptive schedule and proves
// that no schedule without a preemption loses an update; with k = 1 it
// finds the loss, in a schedule with one preemption that replays.
func TestExploreLostUpdate(t *testing.T) {
	prog := func() (func(*sched.G), *counter) {
		c := &counter{workers: 2, incs: 1, check: true}
		return c.main, c
	}
	main := func(g *sched.G) { // a fresh counter for every schedule
		m, _ := prog()
		m(g)
	}
	e := sched.Explore(sched.ExploreOptions{Preemptions: 0}, main)
	t.Log(e)
	require.True(t, e.Complete, "%v", e)
	assert.Nil(t, e.Failure)
	assert.Contains(t, e.String(), "every schedule with at most 0 preemptions explored")

	e = sched.Explore(sched.ExploreOptions{Preemptions: 1}, main)
	t.Log(e)
	require.NotNil(t, e.Failure, "%v", e)
	assert.False(t, e.Complete)
	assert.Equal(t, sched.Panic, e.Failure.Failure.Kind)
	assert.Equal(t, 1, e.FailurePreemptions)
	assert.Equal(t, "dfs:1", e.Failure.Strategy.String())

	a := e.Failure.Artifact()
	js, err := a.Marshal()
	require.NoError(t, err)
	a, err = sched.ParseArtifact(js, "dfs:1")
	require.NoError(t, err)
	for range 20 {
		main, c := prog()
		r := sched.Replay(a, sched.Options{}, main)
		require.NotNil(t, r.Failure)
		require.Equal(t, sched.Panic, r.Failure.Kind, "%v", r.Failure)
		require.Equal(t, e.Failure.Hash, r.Hash)
		require.True(t, c.lost())
	}
}

// TestExploreCompleteCounts: the search's schedule counts for a program
// small enough to count by hand. Two goroutines of three yields each after
// main's two spawns: with k = 0 the only choice is free, which goroutine
// runs first once main has exited (2 schedules); each larger bound adds
// schedules, and every count is the same on every search.
func TestExploreCompleteCounts(t *testing.T) {
	main := func(g *sched.G) {
		for range 2 {
			g.Go(func(g *sched.G) {
				for i := range 3 {
					g.Yield(fmt.Sprintf("y%d", i))
				}
			})
		}
	}
	var counts []int
	for k := range 4 {
		e := sched.Explore(sched.ExploreOptions{Preemptions: k}, main)
		require.True(t, e.Complete, "%v", e)
		require.Nil(t, e.Failure)
		counts = append(counts, e.Schedules)
		again := sched.Explore(sched.ExploreOptions{Preemptions: k}, main)
		require.Equal(t, e.Schedules, again.Schedules, "the search is deterministic")
	}
	t.Logf("schedules with at most k = 0..3 preemptions: %v", counts)
	assert.Equal(t, 2, counts[0])
	for k := 1; k < len(counts); k++ {
		assert.Greater(t, counts[k], counts[k-1], "a larger bound explores more")
	}
	unbounded := sched.Explore(sched.ExploreOptions{Preemptions: 100}, main)
	require.True(t, unbounded.Complete)
	// Unbounded, the search runs every interleaving of the two goroutines'
	// four steps each (their start and three yields; main has exited
	// before either runs): C(8, 4) = 70.
	assert.Equal(t, 70, unbounded.Schedules)
}

// TestExploreMaxSchedules: a search cut at its bound of schedules says it
// is not complete.
func TestExploreMaxSchedules(t *testing.T) {
	e := sched.Explore(sched.ExploreOptions{Preemptions: 2, MaxSchedules: 5}, func(g *sched.G) {
		c := &counter{workers: 3, incs: 2}
		c.main(g)
	})
	assert.Equal(t, 5, e.Schedules)
	assert.False(t, e.Complete)
	assert.Nil(t, e.Failure)
	assert.Contains(t, e.String(), "before it was complete")
}

// TestExploreNondeterministic: a program whose behaviour depends on
// something other than its decisions (here, a counter kept across runs) is
// reported, not explored on wrong assumptions.
func TestExploreNondeterministic(t *testing.T) {
	runs := 0
	main := func(g *sched.G) {
		runs++
		n := 1
		if runs > 1 {
			n = 0 // the second run spawns nothing
		}
		for range n {
			g.Go(func(g *sched.G) { g.Yield("a"); g.Yield("b") })
		}
		g.Yield("main")
		g.Yield("main again")
	}
	e := sched.Explore(sched.ExploreOptions{Preemptions: 2}, main)
	require.NotEmpty(t, e.Nondeterministic, "%v", e)
	assert.Contains(t, e.String(), "not deterministic")
}

// TestExploreSpinIsNoPreemption: leaving a goroutine that spins, waiting for
// another, is not a preemption: a spin-wait for a flag that another
// goroutine sets completes with k = 0.
func TestExploreSpinIsNoPreemption(t *testing.T) {
	main := func(g *sched.G) {
		flag := false
		g.Go(func(g *sched.G) { g.Yield("set"); flag = true })
		for !flag {
			g.Spin("wait for flag")
		}
	}
	e := sched.Explore(sched.ExploreOptions{Preemptions: 0, Options: sched.Options{MaxSteps: 1000}}, main)
	require.True(t, e.Complete, "%v", e)
	assert.Nil(t, e.Failure)
}

// TestExploreTwoSpinnersFair: two goroutines that spin waiting for a third
// (a loop that also passes a plain point, as core's spin loops pass
// atomics) cannot take turns forever while the third is runnable: the
// search is fair to it, and every schedule with at most 2 preemptions
// ends.
func TestExploreTwoSpinnersFair(t *testing.T) {
	main := func(g *sched.G) {
		flag := false
		for range 2 {
			g.Go(func(g *sched.G) {
				for !flag {
					g.Yield("load the flag") // a spin loop passes other points too (core's atomics)
					g.Spin("wait for flag")
				}
			})
		}
		g.Go(func(g *sched.G) { g.Yield("about to set"); flag = true })
	}
	for k := range 3 {
		e := sched.Explore(sched.ExploreOptions{Preemptions: k, Options: sched.Options{MaxSteps: 200}}, main)
		require.True(t, e.Complete, "k = %d: %v", k, e)
		t.Logf("k = %d: %v (at most %d steps in one)", k, e, e.MostSteps)
		assert.Less(t, e.MostSteps, 40)
	}
}

// TestMinimize: a lost update found by random has many preemptions; the
// minimization finds one with a single preemption (the fewest: none is
// proven to fail without) that still loses an update, and it replays.
func TestMinimize(t *testing.T) {
	var orig *sched.Result
	for seed := range uint64(100) {
		r, _ := runCounter(seed, sched.Random(), sched.Options{MaxSteps: 500}, true)
		if r.Failure != nil && len(r.Preempted) > 3 {
			orig = r
			break
		}
	}
	require.NotNil(t, orig, "random loses an update with several preemptions in 100 seeds")
	main := func(g *sched.G) {
		c := &counter{workers: 3, incs: 3, check: true}
		c.main(g)
	}
	m := sched.Minimize(orig, sched.MinimizeOptions{}, main)
	t.Log(m)
	require.Equal(t, 1, m.Preemptions)
	assert.True(t, m.Proven)
	assert.Len(t, m.Result.Preempted, 1)
	require.NotNil(t, m.Result.Failure)
	assert.Contains(t, m.Result.Failure.Error(), "lost update")
	r := sched.Replay(m.Result.Artifact(), sched.Options{}, main)
	require.NotNil(t, r.Failure)
	assert.Equal(t, m.Result.Hash, r.Hash)

	// A predicate that no run meets: nothing with fewer preemptions.
	none := sched.Minimize(orig, sched.MinimizeOptions{Failed: func(*sched.Result) bool { return false }, MaxSchedules: 50}, main)
	assert.Same(t, orig, none.Result)
	assert.Equal(t, len(orig.Preempted), none.Preemptions)
	assert.False(t, none.Proven, "searches cut at 50 schedules prove nothing")
}

// TestMinimizeSimplifies: phase 1 of the minimization (the failing
// schedule rerun with one preemption dropped at a time) takes a lost
// update that random found with dozens of preemptions down to at most two,
// where phase 2's search is cut to one schedule per bound and could not
// have found it; the result still loses an update and replays.
func TestMinimizeSimplifies(t *testing.T) {
	main := func(g *sched.G) {
		c := &counter{workers: 4, incs: 12, check: true}
		c.main(g)
	}
	var orig *sched.Result
	for seed := range uint64(200) {
		r := sched.Run(seed, sched.Random(), sched.Options{MaxSteps: 2000}, main)
		if r.Failure != nil && len(r.Preempted) >= 20 {
			orig = r
			break
		}
	}
	require.NotNil(t, orig, "random loses an update with 20 preemptions or more in 200 seeds")
	m := sched.Minimize(orig, sched.MinimizeOptions{MaxSchedules: 1}, main)
	t.Log(m)
	require.LessOrEqual(t, m.Preemptions, 2, "from %d", len(orig.Preempted))
	assert.LessOrEqual(t, m.Schedules, 2+2*len(orig.Preempted)+3)
	require.NotNil(t, m.Result.Failure)
	assert.Contains(t, m.Result.Failure.Error(), "lost update")
	assert.Len(t, m.Result.Preempted, m.Preemptions)
	r := sched.Replay(m.Result.Artifact(), sched.Options{}, main)
	require.NotNil(t, r.Failure)
	assert.Equal(t, m.Result.Hash, r.Hash)
}

// TestFollow: following a run's schedule takes the program it was recorded
// from through the same steps, and takes a changed program (one more
// increment each) through a run without a divergence, the recorded
// switches taken where they apply: the lost update still shows.
func TestFollow(t *testing.T) {
	var orig *sched.Result
	for seed := range uint64(100) {
		r, _ := runCounter(seed, sched.Random(), sched.Options{MaxSteps: 500}, true)
		if r.Failure != nil {
			orig = r
			break
		}
	}
	require.NotNil(t, orig, "random loses an update in 100 seeds")
	same := sched.Follow(orig.Artifact(), sched.Options{}, func(g *sched.G) {
		c := &counter{workers: 3, incs: 3, check: true}
		c.main(g)
	})
	assert.Equal(t, orig.Decisions, same.Decisions)
	assert.Equal(t, orig.Hash, same.Hash)
	assert.Equal(t, fmt.Sprintf("dfs:%d", len(orig.Preempted)), same.Strategy.String())

	changed := sched.Follow(orig.Artifact(), sched.Options{}, func(g *sched.G) {
		c := &counter{workers: 3, incs: 4, check: true}
		c.main(g)
	})
	require.NotNil(t, changed.Failure)
	assert.Contains(t, changed.Failure.Error(), "lost update")
	assert.Greater(t, changed.Steps, orig.Steps)
}
