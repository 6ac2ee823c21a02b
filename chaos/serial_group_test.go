//go:build chaos

package chaos_test

// Groups, the task pool and scope deadlines in the serialized mode: every
// goroutine core starts for an episode is one of the episode's, the pool's
// monitor, idle timeouts and deadlines run in its virtual time, and an
// episode that uses groups replays step for step.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/failpoints"
	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/require"
)

// serialRun starts an empty plan (no marker acts; every step marker is a
// scheduling point of an episode's goroutines) for the test.
func serialRun(t *testing.T) *chaos.Run {
	t.Helper()
	r, err := chaos.Start(chaos.Plan{Seed: 1, Points: map[string]chaos.Action{}})
	require.NoError(t, err)
	t.Cleanup(r.Stop)
	return r
}

var serialStrategies = []sched.Strategy{sched.Random(), sched.PCT(2)}

// episode runs body as a serialized episode under strat and seed, requires
// that it ends without a failure and that its replay takes the same steps,
// and returns its result. check, if not nil, checks what the body recorded
// after the run and again after the replay; reset clears that record.
func episode(t *testing.T, r *chaos.Run, strat sched.Strategy, seed uint64, body func(*sched.G), reset func(), check func(what string)) *sched.Result {
	t.Helper()
	what := fmt.Sprintf("%v seed %d", strat, seed)
	if reset != nil {
		reset()
	}
	res := r.Serialize(seed, strat, sched.Options{}, body)
	require.Nil(t, res.Failure, "%s: %v", what, res.Failure)
	if check != nil {
		check(what)
		reset()
	}
	rep := r.ReplaySerial(res.Artifact(), sched.Options{}, body)
	require.Nil(t, rep.Failure, "%s: the replay: %v", what, rep.Failure)
	require.Equal(t, res.Hash, rep.Hash, "%s: the replay took other steps", what)
	require.Equal(t, res.Steps, rep.Steps, what)
	require.Equal(t, res.Now, rep.Now, what)
	if check != nil {
		check(what + ", replay")
	}
	return res
}

// groupModel is what the tasks of TestSerialGroup saw.
type groupModel struct {
	calls    [20]int
	live     int // tasks running that started while the group was live
	maxLive  int
	returned []error
	err      error
	panicked *core.PanicError
	workers  int // core.ReadStats().Workers at the start of the episode
}

// TestSerialGroup: a group of 20 tasks with a limit of 3, some of which
// return errors and (on odd seeds) one of which panics, runs as a
// serialized episode under random and pct:2 for 50 seeds each: the episode
// ends with no failure of the scheduler (no deadlock, livelock, panic or
// uncontrolled blocking: the pool's goroutines are the episode's), every
// task runs exactly once, at most 3 run at once while the group is live,
// Wait returns one of the errors the tasks returned (or panics with the
// task's panic), and the replay of each episode takes the same steps.
func TestSerialGroup(t *testing.T) {
	r := serialRun(t)
	plain := core.NewGroup(context.Background()) // the process's pool has idle workers now
	for range 8 {
		plain.Go(func(context.Context) error { return nil })
	}
	require.NoError(t, plain.Wait())

	var m groupModel
	var panics bool
	body := func(g *sched.G) {
		m.workers = core.ReadStats().Workers
		grp := core.NewGroup(context.Background(), core.WithLimit(3))
		for i := range m.calls {
			grp.Go(func(ctx context.Context) error {
				m.calls[i]++
				counted := ctx.Err() == nil
				if counted {
					m.live++
					m.maxLive = max(m.maxLive, m.live)
					defer func() { m.live-- }()
				}
				_ = ctx.Err() // one more scheduling point
				switch {
				case panics && i == 7:
					panic("task 7")
				case i%4 == 1:
					err := fmt.Errorf("task %d failed", i)
					m.returned = append(m.returned, err)
					return err
				}
				return nil
			})
		}
		defer func() {
			if v := recover(); v != nil {
				m.panicked = v.(*core.PanicError)
			}
		}()
		m.err = grp.Wait()
	}
	reset := func() { m = groupModel{} }
	check := func(what string) {
		for i, n := range m.calls {
			require.Equal(t, 1, n, "%s: task %d ran %d times", what, i, n)
		}
		require.LessOrEqual(t, m.maxLive, 3, "%s: the limit", what)
		require.Zero(t, m.workers, "%s: the episode's pool is its own, fresh", what)
		if panics {
			require.NotNil(t, m.panicked, "%s: Wait did not panic", what)
			require.Equal(t, "task 7", m.panicked.Value, what)
			return
		}
		require.Nil(t, m.panicked, what)
		require.Error(t, m.err, what)
		require.Contains(t, m.returned, m.err, "%s: Wait returned an error no task returned", what)
	}
	before := r.Fired()[failpoints.StepGo]
	start := time.Now()
	episodes, steps := 0, 0
	for _, strat := range serialStrategies {
		for seed := range uint64(50) {
			panics = seed%2 == 1
			res := episode(t, r, strat, seed, body, reset, check)
			episodes++
			steps += res.Steps
		}
	}
	el := time.Since(start)
	t.Logf("%d episodes and their replays in %v: %.1f episodes/s with replay, %d steps per episode on average",
		episodes, el.Round(time.Millisecond), float64(2*episodes)/el.Seconds(), steps/episodes)
	require.Positive(t, r.Fired()[failpoints.StepGo]-before, "no goroutine of core started in an episode")

	// The process's pool is the one it was: a plain group still runs on it.
	stats := core.ReadStats()
	require.Zero(t, stats.QueuedTasks)
	plain = core.NewGroup(context.Background())
	var ran [16]bool
	for i := range ran {
		plain.Go(func(context.Context) error { ran[i] = true; return nil })
	}
	require.NoError(t, plain.Wait())
	for i, ok := range ran {
		require.True(t, ok, "plain task %d", i)
	}
	require.Eventually(t, func() bool { return core.ReadStats().LiveTasks == 0 }, 5*time.Second, time.Millisecond)
}

// TestSerialResultGroupAndGoRange: a ResultGroup's values come back in
// submission order, every GoRange item runs once, TryGo refuses when the
// limit is reached, Run waits for its body's tasks, and an AfterFunc on a
// cancelled scope runs on a goroutine of the episode; each episode replays.
func TestSerialResultGroupAndGoRange(t *testing.T) {
	r := serialRun(t)
	type obs struct {
		vals    []int
		items   [37]int
		refused bool
		runErr  error
		hook    int
	}
	var o obs
	body := func(g *sched.G) {
		ctx := context.Background()
		rg := core.NewResultGroup[int](ctx)
		for i := range 8 {
			rg.Go(func(ctx context.Context) (int, error) { return i * i, ctx.Err() })
		}
		o.vals, _ = rg.Wait()

		grp := core.NewGroup(ctx, core.WithLimit(2))
		grp.GoRange(len(o.items), func(_ context.Context, i int) error {
			o.items[i]++
			return nil
		})
		_ = grp.Wait()

		grp = core.NewGroup(ctx, core.WithLimit(1))
		release := false
		grp.Go(func(context.Context) error {
			sched.Self().Block("released", func() bool { return release })
			return nil
		})
		o.refused = !grp.TryGo(func(context.Context) error { return nil })
		release = true
		_ = grp.Wait()

		o.runErr = core.Run(ctx, func(grp *core.Group) error {
			grp.Go(func(context.Context) error { return nil })
			grp.Go(func(context.Context) error { return errors.New("run task") })
			return nil
		})

		s := core.NewScope(ctx)
		s.Cancel(nil)
		done := false
		s.AfterFunc(func() {
			if sched.Self() != nil {
				o.hook++
			}
			done = true
		})
		g.Block("the hook ran", func() bool { return done })
	}
	for _, strat := range serialStrategies {
		for seed := range uint64(20) {
			episode(t, r, strat, seed, body, func() { o = obs{} }, func(what string) {
				want := make([]int, 8)
				for i := range want {
					want[i] = i * i
				}
				require.Equal(t, want, o.vals, what)
				for i, n := range o.items {
					require.Equal(t, 1, n, "%s: item %d", what, i)
				}
				require.True(t, o.refused, "%s: TryGo took a slot the pending task holds", what)
				require.EqualError(t, o.runErr, "run task", what)
				require.Equal(t, 1, o.hook, "%s: the AfterFunc did not run on a goroutine of the episode", what)
			})
		}
	}
}

// TestSerialScopeDeadline: a group under a scope with a timeout of an hour,
// whose tasks wait for its end (one in a core channel's Recv, one on the
// scheduler for ctx.Done()), ends with context.DeadlineExceeded at one hour
// of virtual time, in well under a second of wall time; a scope with a
// timeout cancelled at once stops its timer, and the episode ends long
// before the hour.
func TestSerialScopeDeadline(t *testing.T) {
	r := serialRun(t)
	var err, sErr error
	var deadline time.Time
	var dl bool
	var now time.Time
	body := func(g *sched.G) {
		s := core.NewScopeWithTimeout(context.Background(), time.Hour)
		deadline, dl = s.Deadline()
		grp := core.NewGroup(s)
		c := core.NewMPMC[int](1)
		grp.Go(func(ctx context.Context) error {
			_, err := c.Recv(ctx)
			return err
		})
		grp.Go(func(ctx context.Context) error {
			done := ctx.Done()
			sched.Self().Block("wait for the deadline", func() bool {
				select {
				case <-done:
					return true
				default:
					return false
				}
			})
			return ctx.Err()
		})
		err = grp.Wait()
		sErr = s.Err()
		now = chaos.SerialNow(g)
	}
	start := time.Now()
	for _, strat := range serialStrategies {
		for seed := range uint64(10) {
			res := episode(t, r, strat, seed, body, nil, nil)
			what := fmt.Sprintf("%v seed %d", strat, seed)
			require.ErrorIs(t, err, context.DeadlineExceeded, what)
			require.ErrorIs(t, sErr, context.DeadlineExceeded, what)
			require.True(t, dl, what)
			require.GreaterOrEqual(t, res.Now, time.Hour, what)
			require.False(t, now.Before(deadline), "%s: the deadline %v passed at %v", what, deadline, now)
			require.Equal(t, time.Date(2000, 1, 1, 1, 0, 0, 0, time.UTC), deadline, "%s: the deadline is on the episode's clock", what)
		}
	}
	el := time.Since(start)
	t.Logf("40 episodes of an hour each (with replays) in %v", el.Round(time.Millisecond))
	require.Less(t, el, 20*time.Second)

	res := r.Serialize(1, sched.Random(), sched.Options{}, func(g *sched.G) {
		s := core.NewScopeWithTimeout(context.Background(), time.Hour)
		s.Cancel(nil)
		sErr = s.Err()
	})
	require.Nil(t, res.Failure)
	require.ErrorIs(t, sErr, context.Canceled)
	require.Less(t, res.Now, time.Second, "the stopped timer still ran to its deadline")
}

// TestSerialTasksWaitForEachOther: task i waits, through a core channel,
// for task i+1, submitted after it: in a batch, a task blocks with the
// tasks it waits for unclaimed behind it, and only the pool's monitor,
// stealing the batch after a long tick of virtual time, or a temporary
// worker gets them a goroutine. The episodes end, every one, without a
// deadlock, and replay.
func TestSerialTasksWaitForEachOther(t *testing.T) {
	r := serialRun(t)
	const n = 12
	var got int
	var err error
	var waited time.Duration // virtual time when Wait returned
	body := func(g *sched.G) {
		ctx := context.Background()
		cs := make([]core.Chan[int], n)
		for i := range cs {
			cs[i] = core.NewMPMC[int](1)
		}
		grp := core.NewGroup(ctx)
		for i := range n {
			grp.Go(func(ctx context.Context) error {
				v := 0
				if i+1 < n {
					var err error
					if v, err = cs[i+1].Recv(ctx); err != nil {
						return err
					}
				}
				return cs[i].Send(ctx, v+1)
			})
		}
		err = grp.Wait()
		waited = g.Now()
		got, _ = cs[0].TryRecv()
	}
	sleeps := r.Fired()[failpoints.StepSleep]
	ticked, steps := 0, 0
	for _, strat := range serialStrategies {
		for seed := range uint64(50) {
			res := episode(t, r, strat, seed, body, nil, nil)
			what := fmt.Sprintf("%v seed %d", strat, seed)
			require.NoError(t, err, what)
			require.Equal(t, n, got, what)
			if waited > 0 {
				// Virtual time moved before the tasks were done: every
				// goroutine of the episode waited, and the pool's
				// monitor (a long tick: 20 ms) got the stuck tasks going.
				ticked++
			}
			steps += res.Steps
		}
	}
	t.Logf("in %d of 100 episodes the tasks were done only after virtual time moved (the monitor's long ticks); the monitor slept %d times; %d steps per episode on average",
		ticked, r.Fired()[failpoints.StepSleep]-sleeps, steps/100)
	require.Positive(t, ticked, "no episode needed the monitor")
}

// TestSerialGroupDeadlock: a task that waits for ever deadlocks the
// episode once the pool's idle workers have timed out (a goroutine with a
// pending timer is no deadlock); the report names the task and the Wait,
// the episode's goroutines are ended (each dies in its scheduling point,
// running the group's and the pool's deferred code), and the deadlock
// replays.
func TestSerialGroupDeadlock(t *testing.T) {
	r := serialRun(t)
	body := func(g *sched.G) {
		grp := core.NewGroup(context.Background())
		for i := range 3 {
			grp.Go(func(context.Context) error {
				if i == 1 {
					sched.Self().Block("never", func() bool { return false })
				}
				return nil
			})
		}
		_ = grp.Wait()
	}
	for _, strat := range serialStrategies {
		for seed := range uint64(10) {
			what := fmt.Sprintf("%v seed %d", strat, seed)
			res := r.Serialize(seed, strat, sched.Options{}, body)
			require.NotNil(t, res.Failure, what)
			require.Equal(t, sched.Deadlock, res.Failure.Kind, "%s: %v", what, res.Failure)
			var points []string
			for _, b := range res.Failure.Blocked {
				points = append(points, b.Point)
			}
			require.Contains(t, points, "never", what)
			require.Len(t, points, 2, "%s: the task and the Wait, nothing else: %v", what, res.Failure)
			require.GreaterOrEqual(t, res.Now, 100*time.Millisecond, "%s: the idle workers timed out first", what)
			rep := r.ReplaySerial(res.Artifact(), sched.Options{}, body)
			require.NotNil(t, rep.Failure, what)
			require.Equal(t, sched.Deadlock, rep.Failure.Kind, "%s: the replay: %v", what, rep.Failure)
			require.Equal(t, res.Hash, rep.Hash, what)
		}
	}
}

// TestSerialConcurrentEpisodes: episodes that run at once each have a task
// pool of their own, so none runs another's tasks: each takes the steps it
// takes alone (the same trace hash as a run of its seed on its own).
func TestSerialConcurrentEpisodes(t *testing.T) {
	r := serialRun(t)
	body := func(g *sched.G) {
		grp := core.NewGroup(context.Background(), core.WithLimit(2))
		for i := range 6 {
			grp.Go(func(ctx context.Context) error {
				if i == 3 {
					return errors.New("task 3")
				}
				return ctx.Err()
			})
		}
		_ = grp.Wait()
	}
	const n = 8
	var alone [n]uint64
	for seed := range uint64(n) {
		res := r.Serialize(seed, sched.PCT(2), sched.Options{}, body)
		require.Nil(t, res.Failure, "seed %d", seed)
		alone[seed] = res.Hash
	}
	var together [n]*sched.Result
	done := make(chan struct{})
	for seed := range uint64(n) {
		go func() {
			defer func() { done <- struct{}{} }()
			together[seed] = r.Serialize(seed, sched.PCT(2), sched.Options{}, body)
		}()
	}
	for range n {
		<-done
	}
	for seed, res := range together {
		require.Nil(t, res.Failure, "seed %d", seed)
		require.Equal(t, alone[seed], res.Hash, "seed %d: the episode took other steps beside others", seed)
	}
}
