package properties_test

// Property 4: cleanup under cancellation. A tree of groups (and plain child
// scopes with OnCancel hooks) runs tasks that block until cancelled or do a
// little work; the root is cancelled at a generated moment. Then:
//   - when Cancel returns, every scope already created in the tree is
//     cancelled;
//   - every function passed to a group's Go was called exactly once (a
//     group cancelled before a task started still calls it, with the
//     cancelled context, so that its own defers run), its deferred cleanup
//     ran exactly once, before its group's Wait returned, and no task of a
//     group starts or ends after that group's Wait returned;
//   - every OnCancel hook ran exactly once (soon after the tree ended: a
//     hook runs on whichever goroutine cancelled its scope first, and a
//     storm may still be finishing its walk when the tree is done).
//
// In a chaos build, the plan's cancellation storms cancel random scopes of
// the tree while it runs.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/nimsync/nimsync/core"
)

// tree is a generated shape.
type tree struct {
	Depth, Fanout, Tasks int
	CancelAfter          time.Duration
	FailAt               int // a task index that returns an error, or -1
}

func (tr tree) String() string {
	return fmt.Sprintf("depth %d, fanout %d, %d tasks per group, cancel after %v, fail at %d", tr.Depth, tr.Fanout, tr.Tasks, tr.CancelAfter, tr.FailAt)
}

func genTree(maxDepth int) gopter.Gen {
	return gopter.CombineGens(
		gen.IntRange(1, maxDepth), gen.IntRange(1, 3), gen.IntRange(1, 8),
		gen.IntRange(0, 3000), gen.IntRange(-1, 7),
	).Map(func(v []any) tree {
		return tree{v[0].(int), v[1].(int), v[2].(int), time.Duration(v[3].(int)) * time.Microsecond, v[4].(int)}
	}).WithShrinker(shrinkTree) // Map to another type drops the ints' shrinkers
}

// shrinkTree offers smaller trees, one field at a time: shallower, narrower,
// fewer tasks, an earlier cancel, no failing task.
func shrinkTree(v any) gopter.Shrink {
	tr := v.(tree)
	var out []tree
	with := func(f func(*tree)) {
		c := tr
		f(&c)
		out = append(out, c)
	}
	if tr.Depth > 1 {
		with(func(c *tree) { c.Depth-- })
	}
	if tr.Fanout > 1 {
		with(func(c *tree) { c.Fanout = 1 })
	}
	if tr.Tasks > 1 {
		with(func(c *tree) { c.Tasks /= 2 })
	}
	if tr.CancelAfter > 0 {
		with(func(c *tree) { c.CancelAfter /= 2 })
	}
	if tr.FailAt >= 0 {
		with(func(c *tree) { c.FailAt = -1 })
	}
	i := 0
	return func() (any, bool) {
		if i == len(out) {
			return nil, false
		}
		i++
		return out[i-1], true
	}
}

// cleanupRun is one episode's bookkeeping.
type cleanupRun struct {
	mu         sync.Mutex
	scopes     []*core.Scope
	hooks      atomic.Int64 // registered
	hooksRun   atomic.Int64
	violations atomic.Int64
	first      atomic.Value // string: the first violation
}

func (r *cleanupRun) violate(format string, args ...any) {
	if r.violations.Add(1) == 1 {
		r.first.Store(fmt.Sprintf(format, args...))
	}
}

func (r *cleanupRun) register(s *core.Scope) {
	r.mu.Lock()
	r.scopes = append(r.scopes, s)
	r.mu.Unlock()
	r.hooks.Add(1)
	var once atomic.Int32
	s.OnCancel(func(error) {
		if once.Add(1) != 1 {
			r.violate("an OnCancel hook ran twice")
		}
		r.hooksRun.Add(1)
	})
}

// group runs one group of the tree under parent, at level, and waits.
func (r *cleanupRun) group(parent context.Context, tr tree, level int) {
	g := core.NewGroup(parent)
	r.register(g.Scope())
	var waited atomic.Bool
	called := make([]atomic.Int32, tr.Tasks) // calls of each submitted function
	cleaned := make([]atomic.Int32, tr.Tasks)
	for i := range tr.Tasks {
		g.Go(func(ctx context.Context) error {
			if waited.Load() {
				r.violate("a task started after its group's Wait returned")
			}
			called[i].Add(1)
			defer func() {
				cleaned[i].Add(1)
				if waited.Load() {
					r.violate("a task's cleanup ran after its group's Wait returned")
				}
			}()
			switch {
			case level < tr.Depth && i < tr.Fanout:
				r.group(ctx, tr, level+1)
			case i == tr.FailAt:
				return fmt.Errorf("task %d fails", i)
			case i%2 == 0:
				s := core.NewScope(ctx) // a plain child scope with a hook
				r.register(s)
				<-s.Done()
			default:
				time.Sleep(time.Duration(i) * 10 * time.Microsecond)
			}
			return nil
		})
	}
	_ = g.Wait()
	// Every submitted function, not only every started one: a task that
	// was never called leaks what its defers would have released.
	for i := range tr.Tasks {
		if c, d := called[i].Load(), cleaned[i].Load(); c != 1 || d != 1 {
			r.violate("task %d of a group at level %d (of %d submitted): called %d times and cleaned up %d times before Wait returned, want exactly once", i, level, tr.Tasks, c, d)
		}
	}
	waited.Store(true)
}

func cleanupHolds(tr tree) (bool, string) {
	r := &cleanupRun{}
	base := core.ReadStats()
	root := core.NewScope(context.Background())
	// A cancellation storm of the chaos plan cancels a few scopes of the
	// tree, chosen from its seed, before the root's turn comes.
	setStorm(func(seed uint64) {
		r.mu.Lock()
		victims := append([]*core.Scope(nil), r.scopes...)
		r.mu.Unlock()
		for k := 0; k < 3 && len(victims) > 0; k++ {
			victims[(seed>>(8*k))%uint64(len(victims))].Cancel(errors.New("storm"))
		}
	})
	defer setStorm(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.group(root, tr, 1)
	}()
	time.Sleep(tr.CancelAfter)
	root.Cancel(fmt.Errorf("episode over"))
	r.mu.Lock()
	for i, s := range r.scopes {
		if !s.Cancelled() {
			r.violate("scope %d of the tree is live after its root's Cancel returned", i)
		}
	}
	if r.violations.Load() > 0 { // release what the broken cancel left blocked
		for _, s := range r.scopes {
			s.Cancel(nil)
		}
	}
	r.mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		r.violate("the tree did not finish within 5 s of its root's cancellation")
		r.mu.Lock()
		for _, s := range r.scopes { // release what a broken cancel left blocked
			s.Cancel(nil)
		}
		r.mu.Unlock()
		<-done
	}
	// A hook runs on the goroutine that cancelled its scope first, which
	// may be a storm still finishing its walk: wait for stragglers.
	waitUntil(2*time.Second, func() bool { return r.hooksRun.Load() >= r.hooks.Load() })
	if h, run := r.hooks.Load(), r.hooksRun.Load(); h != run {
		r.violate("%d OnCancel hooks registered, %d ran", h, run)
	}
	// Leak-freedom: the cancelled tree left no scope linked and no task
	// counted live.
	if err := settle(base); err != nil {
		r.violate("%v", err)
	}
	if r.violations.Load() > 0 {
		return false, fmt.Sprintf("%d violations; first: %s", r.violations.Load(), r.first.Load())
	}
	return true, ""
}

func TestCleanupUnderCancellation(t *testing.T) {
	s := seed(t)
	plan := startPlan(t, s)
	runs := 30
	if testing.Short() {
		runs = 10
	}
	deadline := time.Now().Add(budget(t))
	for i := uint64(0); i == 0 || time.Now().Before(deadline); i++ {
		checkProps(t, s+i, runs, func(ps *gopter.Properties) {
			ps.Property("cleanup under cancellation", prop.ForAll(func(tr tree) *gopter.PropResult {
				ok, why := cleanupHolds(tr)
				if !ok {
					t.Logf("%v: %s", tr, why)
				}
				return gopter.NewPropResult(ok, why)
			}, genTree(plan.Const("depth", 3))))
		})
	}
}
