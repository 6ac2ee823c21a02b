package core_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nimsync/nimsync/core"
)

// Searches run in parallel; the first failure would cancel the others.
func ExampleNewGroup() {
	search := func(ctx context.Context, kind, query string) (string, error) {
		return fmt.Sprintf("%s result for %q", kind, query), nil
	}

	g := core.NewGroup(context.Background())
	kinds := []string{"web", "image", "video"}
	results := make([]string, len(kinds))
	for i, kind := range kinds {
		g.Go(func(ctx context.Context) error {
			r, err := search(ctx, kind, "golang")
			results[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Println(r)
	}
	// Output:
	// web result for "golang"
	// image result for "golang"
	// video result for "golang"
}

func ExampleGroup_Go() {
	g := core.NewGroup(context.Background())
	var total atomic.Int64
	for _, n := range []int64{1, 2, 3, 4} {
		g.Go(func(ctx context.Context) error {
			total.Add(n)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println(total.Load())
	// Output: 10
}

// TryGo starts a task only if the group's limit leaves room for it.
func ExampleGroup_TryGo() {
	g := core.NewGroup(context.Background(), core.WithLimit(1))
	release := make(chan struct{})
	fmt.Println(g.TryGo(func(context.Context) error { <-release; return nil }))
	fmt.Println(g.TryGo(func(context.Context) error { return nil })) // the slot is taken
	close(release)
	fmt.Println(g.Wait())
	// Output:
	// true
	// false
	// <nil>
}

// Wait returns the first error; it cancels the other tasks' context.
func ExampleGroup_Wait() {
	g := core.NewGroup(context.Background())
	g.Go(func(ctx context.Context) error {
		return errors.New("disk full")
	})
	g.Go(func(ctx context.Context) error {
		<-ctx.Done() // cancelled by the first error
		return ctx.Err()
	})
	err := g.Wait()
	fmt.Println(err)
	fmt.Println(context.Cause(g.Scope()))
	// Output:
	// disk full
	// disk full
}

// Cancel stops a group: running tasks see the cause, and later tasks are
// called with the cancelled context, so that their cleanup runs.
func ExampleGroup_Cancel() {
	g := core.NewGroup(context.Background())
	g.Go(func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	})
	g.Cancel(errors.New("shutting down"))

	// A function passed to Go after Cancel is still called, with the
	// cancelled context, so that its deferred cleanup runs.
	g.Go(func(ctx context.Context) error {
		defer fmt.Println("cleaned up")
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	})
	fmt.Println(g.Wait())
	// Output:
	// cleaned up
	// shutting down
}

func ExampleGroup_GoRange() {
	squares := make([]int, 10)
	g := core.NewGroup(context.Background())
	g.GoRange(len(squares), func(ctx context.Context, i int) error {
		squares[i] = i * i
		return nil
	})
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println(squares)
	// Output: [0 1 4 9 16 25 36 49 64 81]
}

// The group's scope is the context of its tasks; Wait cancels it.
func ExampleGroup_Scope() {
	g := core.NewGroup(context.Background())
	g.Scope().OnCancel(func(cause error) { fmt.Println("group over:", cause) })
	g.Go(func(ctx context.Context) error { return nil })
	fmt.Println("Wait:", g.Wait())
	// Output:
	// group over: context canceled
	// Wait: <nil>
}

func ExampleWithLimit() {
	var running, most atomic.Int32
	g := core.NewGroup(context.Background(), core.WithLimit(2))
	for range 20 {
		g.Go(func(ctx context.Context) error { // blocks while 2 tasks are pending
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(100 * time.Microsecond)
			running.Add(-1)
			return nil
		})
	}
	_ = g.Wait()
	fmt.Println("at most 2 at once:", most.Load() <= 2)
	// Output: at most 2 at once: true
}

// With WithAllErrors an error does not stop the group; Wait joins them.
func ExampleWithAllErrors() {
	g := core.NewGroup(context.Background(), core.WithAllErrors())
	for _, name := range []string{"a.txt", "b.txt", "c.txt"} {
		g.Go(func(ctx context.Context) error {
			if name == "b.txt" {
				return nil
			}
			return fmt.Errorf("%s: not found", name)
		})
	}
	err := g.Wait()
	lines := strings.Split(err.Error(), "\n") // in the order recorded
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// a.txt: not found
	// c.txt: not found
}

// Options are values: build them as the configuration says.
func ExampleGroupOption() {
	opts := []core.GroupOption{core.WithLimit(4)}
	collectAll := true
	if collectAll {
		opts = append(opts, core.WithAllErrors())
	}
	g := core.NewGroup(context.Background(), opts...)
	g.GoRange(8, func(ctx context.Context, i int) error {
		if i%4 == 0 {
			return fmt.Errorf("item %d", i)
		}
		return nil
	})
	err := g.Wait()
	fmt.Println(len(err.(interface{ Unwrap() []error }).Unwrap()), "errors")
	// Output: 2 errors
}

// Run is a nursery: no task outlives the call.
func ExampleRun() {
	var done atomic.Int32
	err := core.Run(context.Background(), func(g *core.Group) error {
		for range 3 {
			g.Go(func(ctx context.Context) error {
				time.Sleep(time.Millisecond)
				done.Add(1)
				return nil
			})
		}
		return nil
	})
	fmt.Println(err, done.Load())
	// Output: <nil> 3
}

func ExampleNewResultGroup() {
	g := core.NewResultGroup[string](context.Background())
	for _, w := range []string{"structured", "concurrency"} {
		g.Go(func(ctx context.Context) (string, error) {
			return strings.ToUpper(w), nil
		})
	}
	words, err := g.Wait()
	fmt.Println(words, err)
	// Output: [STRUCTURED CONCURRENCY] <nil>
}

// Results come in the order of the Go calls, not in the order the tasks
// finish.
func ExampleResultGroup_Go() {
	g := core.NewResultGroup[int](context.Background())
	for i := range 4 {
		g.Go(func(ctx context.Context) (int, error) {
			time.Sleep(time.Duration(4-i) * time.Millisecond) // the last finishes first
			return i * 10, nil
		})
	}
	got, _ := g.Wait()
	fmt.Println(got)
	// Output: [0 10 20 30]
}

// Tasks that never ran leave the zero value.
func ExampleResultGroup_Cancel() {
	g := core.NewResultGroup[string](context.Background())
	g.Cancel(errors.New("no time left"))
	g.Go(func(ctx context.Context) (string, error) {
		if ctx.Err() != nil {
			return "", context.Cause(ctx) // called with the cancelled context
		}
		return "late", nil
	})
	got, err := g.Wait()
	fmt.Printf("%q %v\n", got, err)
	// Output: [""] no time left
}

// Wait re-raises a task's panic as a *PanicError, with the task's stack.
func ExamplePanicError() {
	g := core.NewGroup(context.Background())
	third := func(fields []string) string { return fields[2] }
	g.Go(func(ctx context.Context) error {
		fmt.Println(third([]string{"a", "b"})) // panics
		return nil
	})

	var pe *core.PanicError
	func() {
		defer func() { pe = recover().(*core.PanicError) }()
		_ = g.Wait()
	}()
	fmt.Println("task panicked:", pe.Value)
	var re runtime.Error
	fmt.Println("runtime error:", errors.As(pe, &re))
	// Output:
	// task panicked: runtime error: index out of range [2] with length 2
	// runtime error: true
}

// A task that calls runtime.Goexit, as testing.T.FailNow does, fails its
// group with ErrGoexit.
func ExampleErrGoexit() {
	g := core.NewGroup(context.Background())
	exited := make(chan struct{})
	g.Go(func(ctx context.Context) error {
		defer close(exited)
		runtime.Goexit()
		return nil
	})
	<-exited
	err := g.Wait()
	fmt.Println(errors.Is(err, core.ErrGoexit))
	// Output: true
}

func ExampleScope_OnCancel() {
	s := core.NewScope(context.Background())
	s.OnCancel(func(cause error) { fmt.Println("cancelled:", cause) })
	stop := s.OnCancel(func(error) { fmt.Println("not printed") })
	stop()
	s.Cancel(errors.New("user logged out"))
	s.Cancel(errors.New("again")) // no effect
	// Output: cancelled: user logged out
}

// Cleanup runs to the end under a shielded scope although the request that
// started it is gone; it keeps the request's values.
func ExampleNewShieldedScope() {
	type requestID struct{}
	req, cancel := context.WithCancel(context.WithValue(context.Background(), requestID{}, "r-42"))
	cancel() // the client went away

	cleanup := core.NewShieldedScope(req)
	defer cleanup.Cancel(nil)
	fmt.Println(req.Err(), cleanup.Err(), cleanup.Value(requestID{}))
	// Output: context canceled <nil> r-42
}
