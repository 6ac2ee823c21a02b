package sched

import (
	"fmt"
	"strconv"
	"strings"
)

// Strategy says how a run picks the next goroutine among the runnable ones.
// The zero value is the random strategy. A Strategy is a small comparable
// value; copy it freely.
//
// Every strategy is a pure function of (seed, strategy, step, runnable set in
// logical-id order) and, for pct, of the earlier decisions of the same run,
// which are themselves such a function: two runs of the same program with the
// same seed and strategy make the same decisions.
type Strategy struct {
	kind  strategyKind
	depth int // pct: the bug depth D ≥ 1; dfs: the preemption bound k ≥ 0
}

type strategyKind uint8

const (
	kindRandom strategyKind = iota
	kindPCT
	kindDFS // explore.go
)

// Random is the uniform random walk: at every step each runnable goroutine is
// chosen with equal probability.
func Random() Strategy { return Strategy{kind: kindRandom} }

// PCT is probabilistic concurrency testing with bug depth d (Burckhardt,
// Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with Probabilistic
// Guarantees of Finding Bugs", ASPLOS 2010): each goroutine gets a random
// priority at spawn, d−1 change points are drawn in [0, Options.Horizon), the
// highest-priority runnable goroutine runs, and at the i-th change point the
// goroutine about to run drops to priority i, below every initial priority.
// A goroutine that stops at a [G.Spin] point drops below every priority
// given so far (see pctChooser). PCT panics if d < 1.
func PCT(d int) Strategy {
	if d < 1 {
		panic(fmt.Sprintf("sched: pct depth %d is not ≥ 1", d))
	}
	return Strategy{kind: kindPCT, depth: d}
}

// ParseStrategy parses "random", "pct:D" with D an integer ≥ 1, or "dfs:K"
// with K an integer ≥ 0 (a run of [Explore]'s search), the forms
// [Strategy.String] prints.
func ParseStrategy(s string) (Strategy, error) {
	if s == "random" {
		return Random(), nil
	}
	if k, ok := strings.CutPrefix(s, "dfs:"); ok {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 {
			return Strategy{}, fmt.Errorf("sched: dfs preemption bound %q is not an integer ≥ 0", k)
		}
		return DFS(n), nil
	}
	if d, ok := strings.CutPrefix(s, "pct:"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			return Strategy{}, fmt.Errorf("sched: pct depth %q is not an integer ≥ 1", d)
		}
		return PCT(n), nil
	}
	return Strategy{}, fmt.Errorf("sched: unknown strategy %q (want random, pct:D or dfs:K)", s)
}

// String returns "random", "pct:D" or "dfs:K".
func (s Strategy) String() string {
	switch s.kind {
	case kindPCT:
		return "pct:" + strconv.Itoa(s.depth)
	case kindDFS:
		return "dfs:" + strconv.Itoa(s.depth)
	}
	return "random"
}

// chooser picks the goroutine to run at a step. runnable is non-empty and in
// increasing id order; the result is one of its elements. spun tells it that
// goroutine id stopped at a [G.Spin] point: it waits for another goroutine.
type chooser interface {
	choose(step int, runnable []int) int
	spun(id int)
}

func newChooser(seed uint64, s Strategy, horizon int) chooser {
	switch s.kind {
	case kindPCT:
		return newPCT(seed, s.depth, horizon)
	case kindDFS:
		return &dfsChooser{bound: s.depth, prev: -1, waits: map[int][]int{}} // the search's first schedule
	}
	return randomChooser{seed: seed}
}

// mix is SplitMix64's finalizer: a bijection on uint64 that spreads every
// input bit over the output.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// draw is the seed's pseudo-random value for (salt, i); salts keep the
// streams of different uses apart.
func draw(seed, salt uint64, i int) uint64 {
	return mix(seed ^ mix(salt<<48^uint64(i)))
}

const (
	saltStep uint64 = iota + 1
	saltPriority
	saltChange
)

type randomChooser struct{ seed uint64 }

func (c randomChooser) choose(step int, runnable []int) int {
	return runnable[draw(c.seed, saltStep, step)%uint64(len(runnable))]
}

// spun: a uniform walk needs no help to leave a spin loop; it leaves with
// probability 1 − 1/len(runnable) at every step.
func (randomChooser) spun(int) {}

// pctChooser: priorities come in three bands. Initial priorities have the
// top bit set, so every one is above the change-point priorities
// changeBand+1 .. changeBand+depth−1, which are above every spin priority;
// ties (probability 2^-63) go to the lower id. A goroutine that spins drops
// below every priority given so far (floor, counting down from changeBand):
// PCT runs the highest-priority goroutine without preempting it, so a
// goroutine that waits in a loop for a lower-priority one would otherwise
// spin until the step bound, a livelock no real scheduler produces.
type pctChooser struct {
	seed   uint64
	change map[int]int    // step → change point index i in 1..depth−1
	prio   map[int]uint64 // goroutine id → priority, once drawn or lowered
	floor  uint64         // the next spin priority; every priority so far is above it
}

const changeBand = 1 << 62

func newPCT(seed uint64, depth, horizon int) *pctChooser {
	c := &pctChooser{seed: seed, change: make(map[int]int), prio: make(map[int]uint64), floor: changeBand}
	for i := 1; i < depth; i++ {
		k := int(draw(seed, saltChange, i) % uint64(max(horizon, 1)))
		if _, taken := c.change[k]; !taken {
			c.change[k] = i
		}
	}
	return c
}

func (c *pctChooser) priority(id int) uint64 {
	p, ok := c.prio[id]
	if !ok {
		p = draw(c.seed, saltPriority, id) | 1<<63
		c.prio[id] = p
	}
	return p
}

func (c *pctChooser) highest(runnable []int) int {
	best := runnable[0]
	for _, id := range runnable[1:] {
		if c.priority(id) > c.priority(best) {
			best = id
		}
	}
	return best
}

func (c *pctChooser) choose(step int, runnable []int) int {
	best := c.highest(runnable)
	if i, ok := c.change[step]; ok {
		c.prio[best] = changeBand + uint64(i)
		best = c.highest(runnable)
	}
	return best
}

func (c *pctChooser) spun(id int) {
	c.prio[id] = c.floor
	c.floor--
}
