package core_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

func requireCancelled(t *testing.T, s *core.Scope, cause error) {
	t.Helper()
	require.True(t, s.Cancelled())
	require.True(t, isClosed(s.Done()))
	require.ErrorIs(t, s.Err(), context.Canceled)
	require.Equal(t, cause, context.Cause(s))
}

func requireLive(t *testing.T, s *core.Scope) {
	t.Helper()
	require.False(t, s.Cancelled())
	require.False(t, isClosed(s.Done()))
	require.NoError(t, s.Err())
	require.NoError(t, context.Cause(s))
}

func TestScopeCancel(t *testing.T) {
	s := core.NewScope(context.Background())
	requireLive(t, s)
	done := s.Done() // created before Cancel, closed by it
	boom := errors.New("boom")
	s.Cancel(boom)
	requireCancelled(t, s, boom)
	require.True(t, isClosed(done))
	s.Cancel(errors.New("later")) // idempotent: the first cause stays
	require.Equal(t, boom, context.Cause(s))

	n := core.NewScope(context.Background())
	n.Cancel(nil)
	requireCancelled(t, n, context.Canceled)
}

func TestScopeNilParentPanics(t *testing.T) {
	//lint:ignore SA1012 a nil parent is the misuse under test
	require.PanicsWithValue(t, "core: NewScope: nil parent context", func() { core.NewScope(nil) })
}

// tree builds a tree of the given depth and width under root and returns
// its scopes level by level.
func tree(root *core.Scope, depth, width int) [][]*core.Scope {
	levels := [][]*core.Scope{{root}}
	for d := 1; d < depth; d++ {
		var next []*core.Scope
		for _, p := range levels[d-1] {
			for range width {
				next = append(next, core.NewScope(p))
			}
		}
		levels = append(levels, next)
	}
	return levels
}

func TestScopeSubtree(t *testing.T) {
	root := core.NewScope(context.Background())
	levels := tree(root, 5, 3)
	mid := levels[2][4]
	cause := errors.New("middle")
	mid.Cancel(cause)
	// mid's subtree is cancelled on return; everything else is live.
	sub := map[*core.Scope]bool{mid: true}
	for d := 3; d < len(levels); d++ {
		for _, s := range levels[d] {
			if p, _ := parentOf(levels, d, s); sub[p] {
				sub[s] = true
			}
		}
	}
	for _, level := range levels {
		for _, s := range level {
			if sub[s] {
				requireCancelled(t, s, cause)
			} else {
				requireLive(t, s)
			}
		}
	}
	require.Equal(t, 2, core.Children(levels[1][1]), "the cancelled child is unlinked")

	root.Cancel(nil)
	for _, level := range levels {
		for _, s := range level {
			require.True(t, s.Cancelled())
			require.True(t, isClosed(s.Done()))
		}
	}
	require.Equal(t, context.Canceled, context.Cause(levels[4][0]))
	for _, s := range levels[4] {
		if sub[s] {
			require.Equal(t, cause, context.Cause(s), "cancelled first by mid")
		}
	}
}

// parentOf finds s's parent in a tree built by tree (width 3).
func parentOf(levels [][]*core.Scope, d int, s *core.Scope) (*core.Scope, bool) {
	for i, c := range levels[d] {
		if c == s {
			return levels[d-1][i/3], true
		}
	}
	return nil, false
}

func TestScopeChildOfCancelled(t *testing.T) {
	p := core.NewScope(context.Background())
	cause := errors.New("gone")
	p.Cancel(cause)
	c := core.NewScope(p)
	requireCancelled(t, c, cause)
}

func TestScopeForeignParent(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
	s := core.NewScope(ctx)
	require.Equal(t, "v", s.Value(ctxKey{}))
	requireLive(t, s)
	cause := errors.New("upstream")
	cancel(cause)
	<-s.Done()
	requireCancelled(t, s, cause)

	// Already done parent: the scope starts cancelled.
	s2 := core.NewScope(ctx)
	requireCancelled(t, s2, cause)
}

func TestScopeDeadline(t *testing.T) {
	s := core.NewScopeWithTimeout(context.Background(), 20*time.Millisecond)
	d, ok := s.Deadline()
	require.True(t, ok)
	require.WithinDuration(t, time.Now().Add(20*time.Millisecond), d, 20*time.Millisecond)
	child := core.NewScope(s)
	cd, ok := child.Deadline()
	require.True(t, ok)
	require.Equal(t, d, cd)
	<-child.Done()
	require.ErrorIs(t, s.Err(), context.DeadlineExceeded)
	require.ErrorIs(t, context.Cause(s), context.DeadlineExceeded)
	require.ErrorIs(t, child.Err(), context.DeadlineExceeded, "children report the ancestor's deadline, as with package context")
	require.ErrorIs(t, context.Cause(child), context.DeadlineExceeded)

	past := core.NewScopeWithDeadline(context.Background(), time.Now().Add(-time.Second))
	require.ErrorIs(t, past.Err(), context.DeadlineExceeded)

	// Cancelled before the deadline: Err is Canceled.
	early := core.NewScopeWithTimeout(context.Background(), time.Hour)
	early.Cancel(nil)
	require.ErrorIs(t, early.Err(), context.Canceled)
}

// Package context follows a scope without a goroutine, synchronously.
func TestScopeDerivedContexts(t *testing.T) {
	s := core.NewScope(context.Background())
	ctx, cancel := context.WithCancel(s)
	defer cancel()
	var ran sync.WaitGroup
	ran.Add(1)
	stop := context.AfterFunc(s, ran.Done)
	cause := errors.New("stop")
	s.Cancel(cause)
	require.True(t, isClosed(ctx.Done()), "derived context cancelled synchronously")
	require.Equal(t, cause, context.Cause(ctx))
	ran.Wait()
	require.False(t, stop())
}

func TestScopeAfterFunc(t *testing.T) {
	s := core.NewScope(context.Background())
	calls := 0
	s.AfterFunc(func() { calls++; require.True(t, s.Cancelled()) })
	stopped := 0
	stop := s.AfterFunc(func() { stopped++ })
	require.True(t, stop())
	require.False(t, stop())
	s.Cancel(nil)
	s.Cancel(nil)
	require.Equal(t, 1, calls)
	require.Zero(t, stopped)
	// On a cancelled scope, f runs at once, in a goroutine of its own
	// (TestAfterFuncOnCancelledScope).
	late := make(chan struct{})
	require.False(t, s.AfterFunc(func() { close(late) })())
	<-late
}

func TestScopeUnlinksCancelledChildren(t *testing.T) {
	root := core.NewScope(context.Background())
	for range 200_000 {
		core.NewScope(root).Cancel(nil)
	}
	require.Zero(t, core.Children(root), "cancelled children must not stay linked")
	live := core.NewScope(root)
	require.Equal(t, 1, core.Children(root))
	root.Cancel(nil)
	require.True(t, live.Cancelled())
	require.Zero(t, core.Children(root))
}

func TestScopeSize(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(core.Scope{}), uintptr(100), "a child scope must cost at most 100 bytes")
	root := core.NewScope(context.Background())
	allocs := testing.AllocsPerRun(1000, func() { core.NewScope(root).Cancel(nil) })
	require.Equal(t, 1.0, allocs, "a child scope is one allocation")
	require.Zero(t, testing.AllocsPerRun(1000, func() { _ = root.Cancelled() }))
}

// TestScopeCancelStorm creates, cancels and nests scopes from many
// goroutines while the tree is cancelled from the root and the middle.
func TestScopeCancelStorm(t *testing.T) {
	seed := stressSeed(t)
	root := core.NewScope(context.Background())
	mids := make([]*core.Scope, 8)
	for i := range mids {
		mids[i] = core.NewScope(root)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []*core.Scope
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			var mine []*core.Scope
			for range scaled(25_000) {
				p := mids[rng.IntN(len(mids))]
				if len(mine) > 0 && rng.IntN(2) == 0 {
					p = mine[rng.IntN(len(mine))]
				}
				c := core.NewScope(p)
				switch rng.IntN(4) {
				case 0:
					c.Cancel(fmt.Errorf("g%d", g))
				case 1:
					mine = append(mine, c)
				}
				if rng.IntN(5000) == 0 {
					mids[rng.IntN(len(mids))].Cancel(nil)
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	root.Cancel(errors.New("root"))
	for _, s := range append(all, mids...) {
		require.True(t, s.Cancelled())
		require.True(t, isClosed(s.Done()))
	}
	require.Zero(t, core.Children(root))
	assert.Positive(t, len(all))
}

// ExampleScope cancels a subtree of work with a cause.
func ExampleScope() {
	root := core.NewScope(context.Background())
	job := core.NewScope(root)
	step := core.NewScope(job)

	job.Cancel(errors.New("job aborted"))
	fmt.Println(root.Cancelled(), job.Cancelled(), step.Cancelled())
	fmt.Println(context.Cause(step))
	// Output:
	// false true true
	// job aborted
}

// A scope with a timeout, passed where a context is expected.
func ExampleNewScopeWithTimeout() {
	s := core.NewScopeWithTimeout(context.Background(), time.Millisecond)
	<-s.Done()
	fmt.Println(s.Err())
	// Output: context deadline exceeded
}

func TestScopeErrFollowsAncestorDeadline(t *testing.T) {
	// A foreign parent's deadline: Err is DeadlineExceeded, as with context.
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	s := core.NewScope(ctx)
	<-s.Done()
	require.ErrorIs(t, s.Err(), context.DeadlineExceeded)
	// A scope deadline: its whole subtree reports it, and so do children
	// created after it expired.
	d := core.NewScopeWithTimeout(context.Background(), time.Millisecond)
	c := core.NewScope(core.NewScope(d))
	<-c.Done()
	require.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	require.ErrorIs(t, core.NewScope(d).Err(), context.DeadlineExceeded)
	// Cancel keeps reporting Canceled.
	r := core.NewScope(context.Background())
	k := core.NewScope(r)
	r.Cancel(nil)
	require.ErrorIs(t, k.Err(), context.Canceled)
}

// TestScopeDeriveWhileCancelling: deriving a context from a scope that is
// being cancelled must not deadlock. Package context calls AfterFunc while
// holding the new context's lock; if the scope was cancelled just before,
// the hook must not run on that goroutine (it takes the same lock).
func TestScopeDeriveWhileCancelling(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20_000 {
			s := core.NewScope(context.Background())
			go s.Cancel(nil)
			ctx, cancel := context.WithCancel(s)
			<-ctx.Done() // the derived context follows the scope
			cancel()
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		require.Fail(t, "context.WithCancel on a scope being cancelled deadlocked")
	}
}

// TestAfterFuncOnCancelledScope: on a scope already cancelled, AfterFunc
// runs f in a goroutine of its own; OnCancel runs f before it returns.
func TestAfterFuncOnCancelledScope(t *testing.T) {
	s := core.NewScope(context.Background())
	s.Cancel(errors.New("gone"))
	ran := make(chan struct{})
	stop := s.AfterFunc(func() { close(ran) })
	<-ran
	require.False(t, stop(), "too late to stop")
	var got error
	s.OnCancel(func(cause error) { got = cause })
	require.EqualError(t, got, "gone")
}

// Err is non-nil only once Done is closed (context.Context's rule): a
// goroutine that sees a cancelling scope's Err must find Done closed. Err
// had read the state cancel stores before it closes Done (found by the
// scope model; under -race about 1 in 100 cancellations showed it).
func TestScopeErrOnlyOnceDone(t *testing.T) {
	const n = 20000
	scopes := make([]*core.Scope, n)
	for i := range scopes {
		scopes[i] = core.NewScope(context.Background())
		scopes[i].Done() // a channel to close, not the closed one
	}
	go func() {
		for _, s := range scopes {
			s.Cancel(nil)
		}
	}()
	open := 0
	for _, s := range scopes {
		for s.Err() == nil {
		}
		select {
		case <-s.Done():
		default:
			open++
		}
	}
	require.Zero(t, open, "scopes whose Err was non-nil while Done was still open")
}

func TestNewShieldedScope(t *testing.T) {
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), ctxKey{}, "v"), time.Hour)
	s := core.NewShieldedScope(parent)
	child := core.NewScope(s)
	cancel()
	require.Error(t, parent.Err())
	requireLive(t, s)
	requireLive(t, child)
	require.Equal(t, "v", s.Value(ctxKey{}), "keeps the parent's values")
	_, ok := s.Deadline()
	require.False(t, ok, "drops the parent's deadline")

	// Work under it runs to the end after the parent is gone.
	g := core.NewGroup(s)
	var ran atomic.Bool
	g.Go(func(ctx context.Context) error {
		assert.NoError(t, ctx.Err())
		ran.Store(true)
		return nil
	})
	require.NoError(t, grpWait(t, g))
	require.True(t, ran.Load())

	boom := errors.New("done")
	s.Cancel(boom)
	requireCancelled(t, s, boom)
	requireCancelled(t, child, boom)
	require.Zero(t, core.Children(s))

	// A scope parent is shielded the same way.
	root := core.NewScope(context.Background())
	sh := core.NewShieldedScope(root)
	root.Cancel(nil)
	requireLive(t, sh)
	require.Zero(t, core.Children(root))
	sh.Cancel(nil)
}

func TestScopeOnCancel(t *testing.T) {
	t.Run("once with the cause", func(t *testing.T) {
		s := core.NewScope(context.Background())
		var calls atomic.Int32
		var got error
		s.OnCancel(func(cause error) {
			calls.Add(1)
			got = cause
		})
		require.Zero(t, calls.Load())
		boom := errors.New("boom")
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 0 {
					s.Cancel(boom)
				} else {
					s.Cancel(fmt.Errorf("other %d", i))
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 1, calls.Load())
		require.Equal(t, context.Cause(s), got, "the hook gets the winning cause")
	})
	t.Run("runs before Cancel returns", func(t *testing.T) {
		s := core.NewScope(context.Background())
		child := core.NewScope(s)
		var got error
		child.OnCancel(func(cause error) {
			require.True(t, s.Cancelled(), "after the whole subtree is cancelled")
			got = cause
		})
		boom := errors.New("boom")
		s.Cancel(boom)
		require.Same(t, boom, got, "a descendant's hook sees the cause")
	})
	t.Run("nil cause", func(t *testing.T) {
		s := core.NewScope(context.Background())
		var got error
		s.OnCancel(func(cause error) { got = cause })
		s.Cancel(nil)
		require.Equal(t, context.Canceled, got)
	})
	t.Run("stop", func(t *testing.T) {
		s := core.NewScope(context.Background())
		var calls atomic.Int32
		stop := s.OnCancel(func(error) { calls.Add(1) })
		require.True(t, stop(), "stop prevents the call")
		require.False(t, stop(), "only once")
		s.Cancel(nil)
		require.Zero(t, calls.Load())
		require.Zero(t, core.Children(s))
	})
	t.Run("stop after the call", func(t *testing.T) {
		s := core.NewScope(context.Background())
		var calls atomic.Int32
		stop := s.OnCancel(func(error) { calls.Add(1) })
		s.Cancel(nil)
		require.False(t, stop(), "too late")
		require.EqualValues(t, 1, calls.Load())
	})
	t.Run("already cancelled", func(t *testing.T) {
		s := core.NewScope(context.Background())
		boom := errors.New("boom")
		s.Cancel(boom)
		var got error
		stop := s.OnCancel(func(cause error) { got = cause })
		require.Same(t, boom, got, "runs before OnCancel returns")
		require.False(t, stop())
	})
	t.Run("foreign parent", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		s := core.NewScope(ctx)
		got := make(chan error, 1)
		s.OnCancel(func(cause error) { got <- cause })
		boom := errors.New("boom")
		cancel(boom)
		select {
		case c := <-got:
			require.Same(t, boom, c)
		case <-time.After(grpTimeout):
			t.Fatal("hook not called")
		}
	})
	t.Run("group scope", func(t *testing.T) {
		g := core.NewGroup(context.Background())
		var got error
		g.Scope().OnCancel(func(cause error) { got = cause })
		boom := errors.New("boom")
		g.Go(func(context.Context) error { return boom })
		require.Same(t, boom, grpWait(t, g))
		require.Same(t, boom, got)
	})
	t.Run("many hooks stopped leave no children", func(t *testing.T) {
		s := core.NewScope(context.Background())
		for range 1000 {
			s.OnCancel(func(error) {})()
		}
		require.Zero(t, core.Children(s))
		s.Cancel(nil)
	})
}
