package core_test

// The behaviour checks of golang.org/x/sync/errgroup's tests (v0.25.0,
// errgroup/errgroup_test.go), ported to Group. Each test names the one it
// ports. Where the two APIs differ, the port checks Group's rule and says
// so:
//
//   - errgroup's zero Group is usable and can be reused after Wait; a
//     Group is made by NewGroup and runs one batch (Go after Wait panics),
//     so the ports use a new group where the originals reuse one.
//   - errgroup.SetLimit(0) blocks every Go; WithLimit(0) panics.
//   - errgroup v0.25.0 does not propagate panics (see the comment in its
//     Group.Go: #53757, #74275, #74304, #74306) and has no panic or
//     Goexit test to port; Group's panic and Goexit rules are tested in
//     group_test.go.

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// Ports TestZeroGroup: Wait returns the first error of the tasks run so
// far. The original calls Wait after each Go on one group; here each
// prefix of the errors runs in a new group, and after a task with an
// error the port waits until that error has cancelled the group, which
// orders it before the later tasks (they are then skipped).
func TestGroupErrgroupZeroGroup(t *testing.T) {
	err1 := errors.New("errgroup_test: 1")
	err2 := errors.New("errgroup_test: 2")

	cases := []struct {
		errs []error
	}{
		{errs: []error{}},
		{errs: []error{nil}},
		{errs: []error{err1}},
		{errs: []error{err1, nil}},
		{errs: []error{err1, nil, err2}},
	}

	for _, tc := range cases {
		for i := range tc.errs {
			g := core.NewGroup(context.Background())
			var firstErr error
			for _, err := range tc.errs[:i+1] {
				g.Go(func(context.Context) error { return err })
				if err != nil {
					require.Eventually(t, g.Scope().Cancelled, grpTimeout, 10*time.Microsecond)
				}
				if firstErr == nil && err != nil {
					firstErr = err
				}
			}
			require.Equal(t, firstErr, grpWait(t, g), "errors %v", tc.errs[:i+1])
		}
		g := core.NewGroup(context.Background())
		require.NoError(t, grpWait(t, g), "no tasks")
	}
}

// Ports TestZeroGroup's "first error wins" to many errors returned at
// once: Wait returns one of them, the one that cancelled the group.
func TestGroupErrgroupFirstErrorAmongMany(t *testing.T) {
	const n = 1000
	errs := make(map[error]bool, n)
	g := core.NewGroup(context.Background())
	for i := range n {
		err := fmt.Errorf("task %d", i)
		errs[err] = true
		g.Go(func(context.Context) error { return err })
	}
	err := grpWait(t, g)
	require.True(t, errs[err], "Wait returned %v, not a task's error", err)
	require.Same(t, err, context.Cause(g.Scope()), "the error that won is the scope's cause")
}

// errgroupDoom is the error of errgroupDoomCases.
var errgroupDoom = errors.New("group_test: doomed")

// errgroupDoomCases are the tasks' errors of errgroup's TestWithContext and
// TestCancelCause, and the error Wait must return.
var errgroupDoomCases = []struct {
	errs []error
	want error
}{
	{want: nil},
	{errs: []error{nil}, want: nil},
	{errs: []error{errgroupDoom}, want: errgroupDoom},
	{errs: []error{errgroupDoom, nil}, want: errgroupDoom},
}

// Ports TestWithContext: Wait returns the error, and the group's context
// is done after Wait.
func TestGroupErrgroupWithContext(t *testing.T) {
	for _, tc := range errgroupDoomCases {
		g := core.NewGroup(context.Background())
		ctx := g.Scope()

		for _, err := range tc.errs {
			g.Go(func(context.Context) error { return err })
		}

		require.Equal(t, tc.want, grpWait(t, g), "errors %v", tc.errs)
		require.True(t, isClosed(ctx.Done()), "errors %v: ctx.Done() was not closed", tc.errs)
	}
}

// Ports TestTryGo.
func TestGroupErrgroupTryGo(t *testing.T) {
	const n = 42
	ch := make(chan struct{})
	fn := func(context.Context) error {
		ch <- struct{}{}
		return nil
	}
	g := core.NewGroup(context.Background(), core.WithLimit(n))
	for i := range n {
		require.True(t, g.TryGo(fn), "TryGo should succeed but got fail at %d-th call.", i)
	}
	require.False(t, g.TryGo(fn), "TryGo is expected to fail but succeeded.")
	go func() {
		for range n {
			<-ch
		}
	}()
	require.NoError(t, grpWait(t, g))

	// The original reuses the group after Wait; a Group cannot be, so the
	// port checks the slots free up before Wait instead.
	g = core.NewGroup(context.Background(), core.WithLimit(n))
	for range n {
		require.True(t, g.TryGo(fn))
	}
	go func() {
		for range n {
			<-ch
		}
	}()
	require.Eventually(t, func() bool { return g.TryGo(fn) }, grpTimeout, 10*time.Microsecond,
		"TryGo should succeed after all goroutines.")
	go func() { <-ch }()
	require.NoError(t, grpWait(t, g))

	// Switch limit.
	g = core.NewGroup(context.Background(), core.WithLimit(1))
	require.True(t, g.TryGo(fn), "TryGo should succeed but got failed.")
	require.False(t, g.TryGo(fn), "TryGo should fail but succeeded.")
	go func() { <-ch }()
	require.NoError(t, grpWait(t, g))

	// Block all calls: SetLimit(0) has no counterpart.
	require.Panics(t, func() { core.WithLimit(0) })
}

// Ports TestGoLimit.
func TestGroupErrgroupGoLimit(t *testing.T) {
	const limit = 10

	g := core.NewGroup(context.Background(), core.WithLimit(limit))
	var active int32
	for i := 0; i <= 1<<10; i++ {
		g.Go(func(context.Context) error {
			n := atomic.AddInt32(&active, 1)
			if n > limit {
				return fmt.Errorf("saw %d active goroutines; want ≤ %d", n, limit)
			}
			time.Sleep(1 * time.Microsecond) // Give other goroutines a chance to increment active.
			atomic.AddInt32(&active, -1)
			return nil
		})
	}
	require.NoError(t, grpWait(t, g))
}

// Ports TestCancelCause: after Wait the context's cause is the error, or
// context.Canceled without one.
func TestGroupErrgroupCancelCause(t *testing.T) {
	for _, tc := range errgroupDoomCases {
		g := core.NewGroup(context.Background())
		ctx := g.Scope()

		for _, err := range tc.errs {
			// The result is ignored, as in the original: a TryGo after
			// errgroupDoom cancelled the group returns false.
			g.TryGo(func(context.Context) error { return err })
		}

		require.Equal(t, tc.want, grpWait(t, g), "errors %v", tc.errs)

		if tc.want == nil {
			tc.want = context.Canceled
		}
		require.Equal(t, tc.want, context.Cause(ctx), "errors %v", tc.errs)
	}
}

// Ports ExampleGroup_parallel (a test in all but name): the results of
// parallel searches, in order.
func TestGroupErrgroupParallel(t *testing.T) {
	type result string
	search := func(kind string) func(context.Context, string) (result, error) {
		return func(_ context.Context, query string) (result, error) {
			return result(fmt.Sprintf("%s result for %q", kind, query)), nil
		}
	}
	google := func(ctx context.Context, query string) ([]result, error) {
		g := core.NewResultGroup[result](ctx)
		for _, s := range []func(context.Context, string) (result, error){
			search("web"), search("image"), search("video"),
		} {
			g.Go(func(ctx context.Context) (result, error) { return s(ctx, query) })
		}
		return g.Wait()
	}
	results, err := google(context.Background(), "golang")
	require.NoError(t, err)
	require.Equal(t, []result{
		`web result for "golang"`,
		`image result for "golang"`,
		`video result for "golang"`,
	}, results)
}
