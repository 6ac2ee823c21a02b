package scenarios

// nested-groups: trees of groups and scopes, cancelled from the root and
// from the middle.
//
// Invariants:
//
//  1. A node is one group of the tree. Its child nodes are made and waited
//     by tasks of its group, so a node's Wait returns after its children's
//     (that is what the end-order check verifies, not what it assumes).
//  2. A node's runs, started and ended counters are written by its tasks;
//     its end sequence number by the goroutine that waited for it, before
//     that goroutine's task (or the round's goroutine) ended, so the root's
//     end orders every write before the round's checks.
//  3. late is written by the node's spawner before the Go whose task it
//     concerns: a task reads it after it starts, so it sees the value. Once
//     the spawner has seen the group's scope cancelled, every task it
//     submits after that must be called with a cancelled context; the same
//     holds for every task of a node whose parent context was seen
//     cancelled before NewGroup.
//  4. The registry (reg) lists every scope of the tree after it exists;
//     checks of "cancelled when Cancel returned" read it under regMu, so
//     they see only scopes made before the check. A scope made under an
//     already-cancelled parent starts cancelled, so it passes them too.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimsync/nimsync/core"
)

var (
	errRoot   = errors.New("scenarios: round over")
	errMiddle = errors.New("scenarios: cancelled from the middle")
)

// node is one group of the tree.
type node struct {
	parent        *node
	depth         int
	seed          uint64
	g             *core.Group
	bornCancelled bool         // the parent context was seen cancelled before NewGroup (invariant 3)
	late          atomic.Int64 // the first task submitted after cancellation was seen (invariant 3)
	spawned       int64        // task 0's spawn stamp (written before its Go)
	waited        atomic.Bool
	runs          []atomic.Int32 // per task
	cleanups      []atomic.Int32 // per task
	started       atomic.Int64
	ended         atomic.Int64
	endSeq        int64 // invariant 2
}

// scopeReg is a registered scope and the node whose task made it (the node
// itself for its group's scope).
type scopeReg struct {
	s     *core.Scope
	owner *node
}

// tree is one round of nested-groups.
type tree struct {
	e                    *env
	label                string
	depth, fanout, tasks int
	k1, k2               int64 // started counts that trigger the middle and root cancellations
	midSeed              uint64

	started  atomic.Int64
	endSeq   atomic.Int64
	kick     chan struct{} // closed when started reaches k2
	hooks    atomic.Int64  // OnCancel hooks registered
	hooksRun atomic.Int64

	regMu sync.Mutex // guards nodes and reg
	nodes []*node
	reg   []scopeReg
}

// nestedGroups runs 150 rounds (at scale 1) of trees of groups of a
// seed-chosen shape: deep (a chain of 8 to 32 groups), wide (a root of 8 to
// 64 child groups) or bushy (3 to 5 levels of 2 or 3 children). Tasks that
// are not child groups block on a child scope until it is cancelled, cancel
// a scope of their own, or yield; a few groups have a limit. Every scope
// gets an OnCancel hook. When a seed-chosen number of tasks has started, a
// task cancels a seed-chosen group in the middle of the tree; later (or
// after a jittered 0.2 to 3 ms) the round cancels the root. The first task
// of each group records its spawn-to-start latency.
//
// Invariants: every task submitted runs exactly once, cancelled group or
// not, and its cleanup exactly once ("cleanup ran once"); a group's Wait
// returns only after its tasks ended, and none starts or ends after it
// ("Wait waits"); a group ends after all its children ("bottom-up"); a task
// submitted after its group's cancellation was seen by whoever submitted
// it, or in a group made under a context already seen cancelled, is called
// with a cancelled context ("cancelled tasks see it"); when a Cancel
// returns, every scope of the subtree is cancelled ("subtree cancelled");
// every hook runs exactly once ("hook ran once").
func nestedGroups(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "nested-groups", cfg)
	r := rng(cfg.Seed)
	var cur atomic.Pointer[tree]
	cfg.storm(func(seed uint64) {
		if t := cur.Load(); t != nil {
			t.storm(seed)
		}
	})
	defer cfg.storm(nil)
	for round := range cfg.scaled(150, 3) {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := newTree(e, r, round)
		cur.Store(t)
		t.run(r)
		cur.Store(nil)
		if err := e.f.err(); err != nil {
			return err
		}
	}
	return nil
}

func newTree(e *env, r *rand.Rand, round int) *tree {
	t := &tree{e: e, kick: make(chan struct{}), midSeed: r.Uint64()}
	shape := r.IntN(3)
	switch shape {
	case 0: // deep
		t.depth, t.fanout, t.tasks = 8+r.IntN(25), 1, 2+r.IntN(3)
	case 1: // wide
		t.depth, t.fanout = 2, 8+r.IntN(57)
		t.tasks = t.fanout + 1 + r.IntN(4)
	default: // bushy
		t.depth, t.fanout = 3+r.IntN(3), 2+r.IntN(2)
		t.tasks = t.fanout + 1 + r.IntN(3)
	}
	groups, width := 0, 1
	for range t.depth {
		groups += width
		width *= t.fanout
	}
	total := int64(groups * t.tasks)
	t.k1 = 1 + r.Int64N(total)
	t.k2 = t.k1 + 1 + r.Int64N(total)
	t.label = fmt.Sprintf("round %d (%s: depth %d, fanout %d, %d tasks a group)", round, [...]string{"deep", "wide", "bushy"}[shape], t.depth, t.fanout, t.tasks)
	return t
}

// run runs the tree under a fresh root scope and checks it.
func (t *tree) run(r *rand.Rand) {
	root := core.NewScope(context.Background())
	done := make(chan struct{})
	seed := r.Uint64()
	var c crew
	t.e.spawn(&c, func() {
		defer close(done)
		defer t.e.guard()
		t.runNode(root, nil, 1, seed)
	})
	delay := time.Duration(200+r.IntN(2800)) * time.Microsecond
	if t.e.sched != nil {
		t.e.waitFor(func() bool { return isDone(t.kick) }, delay)
	} else {
		timer := time.NewTimer(delay)
		select {
		case <-t.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
	root.Cancel(errRoot)
	t.checkSubtree(nil, "the root")
	t.wait(done)
	t.e.lock(&t.regMu)
	for _, n := range t.nodes {
		switch {
		case n.endSeq == 0:
			t.e.f.add("bottom-up", "%s: a group at depth %d never ended", t.label, n.depth)
		case n.parent != nil && n.endSeq > n.parent.endSeq:
			t.e.f.add("bottom-up", "%s: a group at depth %d ended (#%d) after its parent (#%d)", t.label, n.depth, n.endSeq, n.parent.endSeq)
		}
	}
	t.regMu.Unlock()
	// A hook runs on the goroutine that cancelled its scope first, which
	// may be a storm still finishing its walk.
	if !t.e.settle(func() bool { return t.hooks.Load() == t.hooksRun.Load() }) {
		t.e.f.add("hook ran once", "%s: %d OnCancel hooks registered, %d ran", t.label, t.hooks.Load(), t.hooksRun.Load())
	}
}

// wait waits for the tree to end. If a check failed, a scope the broken
// cancellation left live may keep tasks blocked: then it cancels every
// registered scope, again every 10 ms (scopes registered late included),
// so that the round ends and reports the violation instead of stalling.
func (t *tree) wait(done <-chan struct{}) {
	// ended waits up to 10 ms for done (on the scheduler's clock under a
	// Sched: sched.go, invariant 3).
	ended := func() bool {
		if t.e.sched != nil {
			return t.e.waitFor(func() bool { return isDone(done) }, 10*time.Millisecond)
		}
		select {
		case <-done:
			return true
		case <-time.After(10 * time.Millisecond):
			return false
		}
	}
	for {
		if !t.e.f.failed() {
			if ended() {
				return
			}
			continue
		}
		t.e.lock(&t.regMu)
		live := make([]*core.Scope, 0, len(t.reg))
		for _, sr := range t.reg {
			live = append(live, sr.s)
		}
		t.regMu.Unlock()
		for _, s := range live {
			s.Cancel(errRoot)
		}
		if ended() {
			return
		}
	}
}

// register lists s (invariant 4) and gives it a hook that must run once.
func (t *tree) register(s *core.Scope, owner *node) {
	t.hooks.Add(1)
	var once atomic.Int32
	s.OnCancel(func(cause error) {
		if once.Add(1) != 1 || cause == nil {
			t.e.f.add("hook ran once", "%s: a hook ran a second time, or with a nil cause (%v)", t.label, cause)
		}
		t.hooksRun.Add(1)
	})
	t.e.lock(&t.regMu)
	t.reg = append(t.reg, scopeReg{s, owner})
	t.regMu.Unlock()
}

// checkSubtree checks that every registered scope under victim (every one
// if victim is nil) is cancelled: the caller's Cancel of victim returned.
func (t *tree) checkSubtree(victim *node, what string) {
	t.e.lock(&t.regMu)
	defer t.regMu.Unlock()
	for _, sr := range t.reg {
		if !sr.s.Cancelled() && under(sr.owner, victim) {
			t.e.f.add("subtree cancelled", "%s: a scope of a group at depth %d is live after %s was cancelled", t.label, sr.owner.depth, what)
		}
	}
}

// under reports whether n is victim or one of its descendants (victim nil:
// the whole tree).
func under(n, victim *node) bool {
	for ; n != nil; n = n.parent {
		if n == victim {
			return true
		}
	}
	return victim == nil
}

// storm cancels up to three scopes of the tree, chosen by seed.
func (t *tree) storm(seed uint64) {
	t.e.lock(&t.regMu)
	var victims []*core.Scope
	for k := 0; k < 3 && len(t.reg) > 0; k++ {
		victims = append(victims, t.reg[(seed>>(16*k))%uint64(len(t.reg))].s)
	}
	t.regMu.Unlock()
	for _, s := range victims {
		s.Cancel(errStorm)
	}
}

// middle cancels a group in the middle of the tree, chosen by midSeed, from
// the task that started the k1-th task.
func (t *tree) middle() {
	t.e.lock(&t.regMu)
	var mid []*node
	for _, n := range t.nodes {
		if n.depth > 1 && (t.depth <= 2 || n.depth < t.depth) {
			mid = append(mid, n)
		}
	}
	t.regMu.Unlock()
	if len(mid) == 0 {
		return
	}
	victim := mid[t.midSeed%uint64(len(mid))]
	victim.g.Cancel(errMiddle)
	t.checkSubtree(victim, fmt.Sprintf("a group at depth %d", victim.depth))
}

// runNode runs one group of the tree under parent, at depth, and waits for
// it; it returns after the group's Wait did.
func (t *tree) runNode(parent context.Context, up *node, depth int, seed uint64) {
	n := &node{parent: up, depth: depth, seed: seed, runs: make([]atomic.Int32, t.tasks), cleanups: make([]atomic.Int32, t.tasks)}
	n.bornCancelled = parent.Err() != nil // invariant 3
	n.late.Store(int64(t.tasks))
	var opts []core.GroupOption
	if seed%5 == 0 {
		opts = append(opts, core.WithLimit(1+int(seed>>8)%t.tasks))
	}
	n.g = core.NewGroup(parent, opts...)
	t.e.lock(&t.regMu)
	t.nodes = append(t.nodes, n)
	t.regMu.Unlock()
	t.register(n.g.Scope(), n)
	for i := range t.tasks {
		if n.g.Scope().Cancelled() {
			n.late.CompareAndSwap(int64(t.tasks), int64(i)) // invariant 3
		}
		if i == 0 {
			n.spawned = t.e.now()
		}
		n.g.Go(func(ctx context.Context) error {
			t.task(ctx, n, i)
			return nil
		})
	}
	_ = n.g.Wait() // the cause of a cancellation, or nil
	if s, d := n.started.Load(), n.ended.Load(); s != d {
		t.e.f.add("Wait waits", "%s: Wait of a group at depth %d returned with %d tasks started and %d ended", t.label, depth, s, d)
	}
	n.waited.Store(true)
	for i := range t.tasks {
		if ran, cleaned := n.runs[i].Load(), n.cleanups[i].Load(); ran != 1 || cleaned != 1 {
			t.e.f.add("cleanup ran once", "%s: task %d of a group at depth %d ran %d times and cleaned up %d times", t.label, i, depth, ran, cleaned)
		}
	}
	if up != nil && up.waited.Load() {
		// run checks the end order of the groups listed when the round
		// ends; a group made by a task that started after its group's
		// Wait returned may not be listed yet.
		t.e.f.add("bottom-up", "%s: a group at depth %d ended after its parent, whose task waits for it, had ended", t.label, depth)
	}
	n.endSeq = t.endSeq.Add(1) // invariant 2
	t.e.m.Add(int(n.started.Load()) + 1)
}

// task is task i of node n.
func (t *tree) task(ctx context.Context, n *node, i int) {
	if n.waited.Load() {
		t.e.f.add("Wait waits", "%s: task %d of a group at depth %d started after Wait returned", t.label, i, n.depth)
	}
	if (n.bornCancelled || int64(i) >= n.late.Load()) && ctx.Err() == nil {
		t.e.f.add("cancelled tasks see it", "%s: task %d of a group at depth %d was called with a live context though its group was seen cancelled (born cancelled: %v)", t.label, i, n.depth, n.bornCancelled)
	}
	if i == 0 {
		t.e.observe(n.spawned)
	}
	n.runs[i].Add(1)
	n.started.Add(1)
	defer func() {
		n.cleanups[i].Add(1)
		n.ended.Add(1)
		if n.waited.Load() {
			t.e.f.add("Wait waits", "%s: task %d of a group at depth %d ended after Wait returned", t.label, i, n.depth)
		}
	}()
	s := t.started.Add(1)
	if s == t.k1 {
		t.middle()
	}
	if s == t.k2 {
		close(t.kick)
	}
	child := mix(n.seed ^ uint64(i+1))
	switch {
	case i < t.fanout && n.depth < t.depth:
		t.runNode(ctx, n, n.depth+1, child)
	case child%3 == 0: // block until cancelled
		s := core.NewScope(ctx)
		t.register(s, n)
		t.e.await(s.Done())
	case child%3 == 1: // cancel a scope of our own, with a child
		s := core.NewScope(ctx)
		t.register(s, n)
		c := core.NewScope(s)
		t.register(c, n)
		s.Cancel(nil)
		if !s.Cancelled() || !c.Cancelled() {
			t.e.f.add("subtree cancelled", "%s: a task's scope (%v) or its child (%v) is live after Cancel returned", t.label, s.Cancelled(), c.Cancelled())
		}
	default:
		for range int(child>>8) % 4 {
			runtime.Gosched()
		}
	}
}
