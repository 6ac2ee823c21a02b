package core

// GoRange: a group's tasks over the indices [0, n), run in chunks, each
// chunk one task of the group. The rest of a chunk whose item failed runs
// as a task counted beyond the limit (group.go, invariant 3).

import (
	"context"
	"fmt"
	"runtime"
)

// GoRange calls fn(ctx, i) exactly once for every i in [0, n) in the
// group. The calls are split into chunks, each one task of the group (a
// chunk takes one slot of a limit, so GoRange blocks as Go does while none
// is free), and an item costs a function call rather than a queued task.
// Each call counts as a task for errors, panics and runtime.Goexit; the
// items after one that panicked or called Goexit still run, as a new task
// that reuses the failed chunk's slot (so GoRange never deadlocks on its own
// limit). Items that start after the group is cancelled are called with the
// cancelled context, as [Group.Go]'s are. GoRange panics if fn is nil, n < 0,
// or Wait has returned.
func (g *Group) GoRange(n int, fn func(ctx context.Context, i int) error) {
	if fn == nil {
		panic("core: Group.GoRange: nil function")
	}
	if n < 0 {
		panic(fmt.Sprintf("core: Group.GoRange: negative count %d", n))
	}
	if g.waited.Load() {
		g.start(task0, true) // panics with Go's message
	}
	size := min(max(n/(rangeSplit*runtime.GOMAXPROCS(0)), 1), rangeChunk) // tuning.go
	for lo := 0; lo < n; lo += size {
		g.goChunk(lo, min(lo+size, n), fn)
	}
}

// goChunk submits items [lo, hi) of a GoRange as one task, waiting for a
// slot of the limit as Go does.
func (g *Group) goChunk(lo, hi int, fn func(context.Context, int) error) {
	g.Go(g.chunk(lo, hi, fn))
}

// chunk returns the task that calls items [lo, hi) of a GoRange.
func (g *Group) chunk(lo, hi int, fn func(context.Context, int) error) func(context.Context) error {
	return func(ctx context.Context) error {
		i := lo
		defer func() {
			if i == hi {
				return
			}
			// Item i panicked or called Goexit. Its failure is recorded
			// here, before the rest is queued, so that the first failure
			// is first and (unless WithAllErrors) the rest sees the group
			// cancelled: a panic is recovered and recorded; a Goexit
			// cannot be stopped, and run records ErrGoexit again when it
			// reaches run's frame, which does nothing once g.err is set.
			// (WithAllErrors records it once, in run, so the rest's
			// errors may be joined before it.) The items after i still
			// run, as a task that takes no new slot: this one holds the
			// chunk's slot until it ends (group.go, invariant 3).
			if r := recover(); r != nil {
				g.abort(r)
			} else if !g.all {
				g.fail(ErrGoexit)
			}
			if i+1 < hi {
				if plantedBugs && planted(fpBugRangeWaitsSlot) {
					g.Go(g.chunk(i+1, hi, fn))
					return
				}
				g.addOver(g.chunk(i+1, hi, fn))
			}
		}()
		for ; i < hi; i++ {
			if err := fn(ctx, i); err != nil {
				g.fail(err)
			}
		}
		return nil
	}
}

// addOver counts a task beyond the group's limit and queues it
// (group.go, invariant 3). The caller must hold a pending task of the
// group, so that Wait cannot have returned.
func (g *Group) addOver(fn func(context.Context) error) {
	g.state.Add(1)
	g.queue(fn)
}
