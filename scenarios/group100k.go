package scenarios

// group-100k: one group, 100K tasks.
//
// Invariants:
//
//  1. runs[i] and cleanups[i] are written only by task i's body (and its
//     defer); the spawner writes spawned[i] before the Go that submits
//     task i, which happens before the body reads it. Wait returning orders
//     every body before the checks.
//  2. A task spawned from another task (a sibling) goes through Go in an
//     unlimited group and through TryGo in a limited one: a task that
//     blocked in Go for a slot while holding one could deadlock the group
//     once every slot's holder did the same. When TryGo refuses (no slot,
//     or the group is cancelled), the spawning task runs the sibling's body
//     itself, so it still runs once.
//  3. The spawner sees the run's context end (flow.go, invariant 5) between
//     two runs of submissions: it submits no more, and the round checks
//     the tasks [0, i) it submitted (a run's siblings lie inside the run).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"

	"github.com/nimsync/nimsync/core"
)

// group100K runs ten rounds, in a seed-chosen order, of 100K tasks (at
// scale 1) each in one core.Group: five rounds unlimited, five with
// WithLimit of 1 (at least one round), 4, 16, 64 or 256.
// Tasks are submitted in seed-chosen runs by Go, by GoRange, and by Go of a
// task that spawns a sibling task (invariant 2). One task in 64 records its
// spawn-to-start latency. Under a storm, the round's group may be cancelled.
//
// In two rounds of three, one GoRange item, chosen by the seed, fails after
// its work: it panics or calls runtime.Goexit, in the middle of its chunk
// as a rule. The rest of the chunk must still run (a limited group must not
// deadlock on the slot the dying chunk holds), and so must every task
// still queued when the failure cancelled the group.
//
// Invariants: every task submitted ran exactly once, even in a group a
// storm or a failure cancelled, since Group calls every function passed to
// Go ("task ran once"); every task had its deferred cleanup run once
// ("cleanup ran once"); Wait returned only after every started task had
// ended, and no task started or ended after it ("Wait waits"); Wait
// re-panicked the planted panic, returned core.ErrGoexit for the planted
// Goexit, and nil otherwise, since a cancellation alone is no error ("Wait
// result").
func group100K(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "group-100k", cfg)
	r := rng(cfg.Seed)
	n := cfg.scaled(100_000, 500)
	var cur atomic.Pointer[core.Group] // the round's group, for storms
	cfg.storm(func(seed uint64) {
		if g := cur.Load(); g != nil && seed%2 == 0 {
			g.Cancel(errStorm)
		}
	})
	defer cfg.storm(nil)
	limits := make([]int, 10) // 0: no limit
	limits[1] = 1             // one slot: a failing GoRange chunk holds the only one
	for i := 3; i < len(limits); i += 2 {
		limits[i] = []int{1, 4, 16, 64, 256}[r.IntN(5)]
	}
	r.Shuffle(len(limits), func(i, j int) { limits[i], limits[j] = limits[j], limits[i] })
	for round, limit := range limits {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.groupRound(round, n, limit, r, &cur)
		if err := e.f.err(); err != nil {
			return err
		}
	}
	return nil
}

// groupRound runs one round of group100K.
func (e *env) groupRound(round, n, limit int, r *rand.Rand, cur *atomic.Pointer[core.Group]) {
	label := fmt.Sprintf("round %d (%d tasks, limit %d)", round, n, limit)
	runs := make([]atomic.Int32, n)
	cleanups := make([]atomic.Int32, n)
	spawned := make([]int64, n) // invariant 1
	var started, ended atomic.Int64
	var waited atomic.Bool
	var opts []core.GroupOption
	if limit > 0 {
		opts = append(opts, core.WithLimit(limit))
	}
	g := core.NewGroup(context.Background(), opts...)
	cur.Store(g)
	defer cur.Store(nil)
	fault, faultAt := r.IntN(3), -1 // 0: a GoRange item panics, 1: it calls Goexit
	if fault > 1 {
		fault = -1
	}
	label += fmt.Sprintf(", fault %d", fault)

	body := func(i int) {
		if waited.Load() {
			e.f.add("Wait waits", "%s: task %d started after Wait returned", label, i)
		}
		if spawned[i] != 0 {
			e.observe(spawned[i])
		}
		runs[i].Add(1)
		started.Add(1)
		defer func() {
			cleanups[i].Add(1)
			ended.Add(1)
			if waited.Load() {
				e.f.add("Wait waits", "%s: task %d ended after Wait returned", label, i)
			}
		}()
		if i%4 == 0 {
			runtime.Gosched() // a task that lasts: one that ended early would be seen
		}
	}
	stamp := func(i int) {
		if i%sampleEvery == 0 {
			spawned[i] = e.now()
		}
	}
	i := 0
	for i < n && !e.ending() { // invariant 3
		k := min(1+r.IntN(256), n-i)
		end := i + k
		switch r.IntN(3) {
		case 0: // one Go per task
			for j := i; j < end; j++ {
				stamp(j)
				g.Go(func(context.Context) error { body(j); return nil })
			}
		case 1: // one GoRange for the run
			lo := i
			for j := i; j < end; j++ {
				stamp(j)
			}
			at := -1
			if fault >= 0 && faultAt < 0 {
				faultAt = lo + r.IntN(k)
				at = faultAt
			}
			g.GoRange(k, func(_ context.Context, j int) error {
				body(lo + j)
				if lo+j == at {
					failTask(fault)
				}
				return nil
			})
		default: // tasks that spawn their odd sibling (invariant 2)
			for j := i; j < end; j += 2 {
				stamp(j)
				g.Go(func(context.Context) error {
					body(j)
					if j+1 >= end {
						return nil
					}
					stamp(j + 1)
					sibling := func(context.Context) error { body(j + 1); return nil }
					if limit == 0 {
						g.Go(sibling)
					} else if !g.TryGo(sibling) {
						body(j + 1) // refused: it is ours to run
					}
					return nil
				})
			}
		}
		e.m.Add(k)
		i = end
	}
	n = i // the tasks submitted: all, unless the run's context ended (invariant 3)
	pe, err := waitCatch(g)
	if s, d := started.Load(), ended.Load(); s != d {
		e.f.add("Wait waits", "%s: Wait returned with %d tasks started and %d ended", label, s, d)
	}
	waited.Store(true)
	switch {
	case faultAt >= 0 && fault == 0:
		if pe == nil || pe.Value != errPlanted {
			e.f.add("Wait result", "%s: Wait returned %v and panicked with %v, want the panic of item %d", label, err, pe, faultAt)
		}
	case faultAt >= 0:
		if pe != nil || !errors.Is(err, core.ErrGoexit) {
			e.f.add("Wait result", "%s: Wait returned %v (panic %v), want core.ErrGoexit from item %d", label, err, pe, faultAt)
		}
	case err != nil || pe != nil:
		e.f.add("Wait result", "%s: Wait returned %v (panic %v, storm: %v), want nil: no task failed", label, err, pe, stormed(g.Scope()))
	}
	for i := range n {
		ran, cleaned := runs[i].Load(), cleanups[i].Load()
		if ran != 1 {
			e.f.add("task ran once", "%s: task %d ran %d times (storm: %v)", label, i, ran, stormed(g.Scope()))
		}
		if cleaned != ran {
			e.f.add("cleanup ran once", "%s: task %d ran %d times and cleaned up %d times", label, i, ran, cleaned)
		}
	}
}

// errPlanted is the value a planted GoRange item panics with.
var errPlanted = errors.New("scenarios: planted panic of a GoRange item")

// failTask makes a task fail as fault says: 0 panics, 1 calls Goexit.
func failTask(fault int) {
	if fault == 0 {
		panic(errPlanted)
	}
	runtime.Goexit()
}

// waitCatch waits for g and returns the *core.PanicError Wait re-panicked
// with, or Wait's error.
func waitCatch(g *core.Group) (pe *core.PanicError, err error) {
	defer func() {
		if r := recover(); r != nil {
			var ok bool
			if pe, ok = r.(*core.PanicError); !ok {
				panic(r)
			}
		}
	}()
	return nil, g.Wait()
}
