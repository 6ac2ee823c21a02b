package sched_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSameSeedSameRun(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(3)} {
		for seed := range uint64(3) {
			first, c0 := runCounter(seed, s, sched.Options{MaxSteps: 500}, false)
			require.Nil(t, first.Failure)
			require.Equal(t, first.Hash, sched.TraceHash(first.Trace))
			for range 50 {
				r, c := runCounter(seed, s, sched.Options{MaxSteps: 500}, false)
				require.Equal(t, first.Hash, r.Hash, "%v seed %d", s, seed)
				require.Equal(t, first.Decisions, r.Decisions)
				require.Equal(t, c0.racy, c.racy)
				require.Equal(t, 9, c.locked, "the mutex section never loses an update")
			}
		}
	}
}

func TestSeedsGiveDifferentInterleavings(t *testing.T) {
	const n = 100
	for s, want := range map[sched.Strategy]int{sched.Random(): n / 2, sched.PCT(2): 15} {
		hashes := map[uint64]bool{}
		for seed := range uint64(n) {
			r, _ := runCounter(seed, s, sched.Options{MaxSteps: 200}, false)
			hashes[r.Hash] = true
		}
		t.Logf("%v: %d distinct trace hashes over %d seeds", s, len(hashes), n)
		assert.GreaterOrEqual(t, len(hashes), want, "%v", s)
	}
}

// TestLostUpdateFound: random and pct:2 find the read-yield-write race;
// pct:1 never preempts the running goroutine at a yield, so it cannot.
func TestLostUpdateFound(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		s     sched.Strategy
		found bool
	}{{sched.Random(), true}, {sched.PCT(1), false}, {sched.PCT(2), true}, {sched.PCT(3), true}} {
		lost, first := 0, -1
		for seed := range n {
			_, c := runCounter(uint64(seed), tc.s, sched.Options{MaxSteps: 100}, false)
			if c.lost() {
				lost++
				if first < 0 {
					first = seed
				}
			}
		}
		t.Logf("%v: lost update in %d of %d seeds, first at seed %d", tc.s, lost, n, first)
		assert.Equal(t, tc.found, lost > 0, "%v", tc.s)
	}
}

func TestDeadlockPark(t *testing.T) {
	start := time.Now()
	r := sched.Run(1, sched.Random(), sched.Options{}, func(g *sched.G) {
		var a, b *sched.G
		a = g.Go(func(g *sched.G) { g.Park("a waits for b"); g.Unpark(b) })
		b = g.Go(func(g *sched.G) { g.Park("b waits for a"); g.Unpark(a) })
	})
	require.NotNil(t, r.Failure)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, sched.Deadlock, r.Failure.Kind)
	require.Len(t, r.Failure.Blocked, 2)
	for i, b := range r.Failure.Blocked {
		// Each blocked goroutine's stack, at its Park, by the function
		// that parked it (the test's closures, func1.1 and func1.2).
		assert.Contains(t, b.Stack, "sched.(*G).Park", "g%d's stack", b.G)
		assert.Contains(t, b.Stack, fmt.Sprintf("TestDeadlockPark.func1.%d(", i+1), "g%d's stack", b.G)
	}
	assert.Equal(t, []sched.Blocked{{G: 1, Point: "a waits for b", Reason: "parked"}, {G: 2, Point: "b waits for a", Reason: "parked"}}, withoutStacks(r.Failure.Blocked))
	assert.Contains(t, r.Failure.Error(), `g1 at "a waits for b" (parked); g2 at "b waits for a" (parked)`)
	assert.NotContains(t, r.Failure.Error(), "goroutine ", "the message stays the same on every replay")
}

func TestParkUnpark(t *testing.T) {
	for seed := range uint64(20) {
		order := []string{}
		r := sched.Run(seed, sched.Random(), sched.Options{}, func(g *sched.G) {
			w := g.Go(func(g *sched.G) { g.Park("wait"); order = append(order, "woken") })
			g.Yield("before")
			order = append(order, "wake")
			g.Unpark(w) // a permit if w has not parked yet
		})
		require.Nil(t, r.Failure, "seed %d", seed)
		require.Equal(t, []string{"wake", "woken"}, order)
	}
}

func TestDeadlockLockOrderInversion(t *testing.T) {
	deadlocks := 0
	for seed := range uint64(50) {
		r := sched.Run(seed, sched.Random(), sched.Options{}, func(g *sched.G) {
			m1, m2 := &sched.Mutex{Name: "m1"}, &sched.Mutex{Name: "m2"}
			for _, ms := range [][2]*sched.Mutex{{m1, m2}, {m2, m1}} {
				g.Go(func(g *sched.G) {
					ms[0].Lock(g)
					defer ms[0].Unlock(g) // runs in the killed goroutine too
					ms[1].Lock(g)
					ms[1].Unlock(g)
				})
			}
		})
		if r.Failure == nil {
			continue
		}
		deadlocks++
		require.Equal(t, sched.Deadlock, r.Failure.Kind)
		require.Equal(t, []sched.Blocked{
			{G: 1, Point: "lock m2", Reason: `waits for mutex "m2" held by g2`},
			{G: 2, Point: "lock m1", Reason: `waits for mutex "m1" held by g1`},
		}, withoutStacks(r.Failure.Blocked))
	}
	t.Logf("lock order inversion deadlocked in %d of 50 seeds", deadlocks)
	assert.Positive(t, deadlocks)
	assert.Less(t, deadlocks, 50)
}

func TestLivelock(t *testing.T) {
	r := sched.Run(7, sched.Random(), sched.Options{MaxSteps: 1000}, func(g *sched.G) {
		flag := false
		g.Go(func(g *sched.G) {
			for !flag {
				g.Yield("spin")
			}
		})
	})
	require.NotNil(t, r.Failure)
	assert.Equal(t, sched.Livelock, r.Failure.Kind)
	assert.Equal(t, 1000, r.Steps)
	require.Len(t, r.Failure.Last, 16)
	assert.Equal(t, sched.Event{Step: 999, G: 1, Point: "spin"}, r.Failure.Last[15])
}

func TestVirtualTime(t *testing.T) {
	start := time.Now()
	for seed := range uint64(20) {
		var order []int
		var at []time.Duration
		r := sched.Run(seed, sched.Random(), sched.Options{}, func(g *sched.G) {
			for _, h := range []int{3, 1, 2, 1} {
				g.Go(func(g *sched.G) {
					g.Sleep(time.Duration(h) * time.Hour)
					order = append(order, h)
					at = append(at, g.Now())
				})
			}
		})
		require.Nil(t, r.Failure)
		assert.Equal(t, []int{1, 1, 2, 3}, order)
		assert.Equal(t, []time.Duration{time.Hour, time.Hour, 2 * time.Hour, 3 * time.Hour}, at)
		assert.Equal(t, 3*time.Hour, r.Now)
	}
	assert.Less(t, time.Since(start), time.Second)
}

// TestSameTimeTimersFireInCreationOrder: timers due at the same time fire in
// the order they were created, whatever order the seed made them in.
func TestSameTimeTimersFireInCreationOrder(t *testing.T) {
	orders := map[string]bool{}
	for seed := range uint64(30) {
		var created, fired []int
		r := sched.Run(seed, sched.Random(), sched.Options{}, func(g *sched.G) {
			for range 3 {
				g.Go(func(g *sched.G) {
					g.Yield("before sleep")
					created = append(created, g.ID())
					g.Sleep(time.Hour)
					fired = append(fired, g.ID())
				})
			}
		})
		require.Nil(t, r.Failure)
		require.Equal(t, created, fired, "seed %d", seed)
		orders[fmt.Sprint(created)] = true
	}
	assert.Greater(t, len(orders), 1, "the seeds create the timers in different orders")
}

func TestPanicReported(t *testing.T) {
	r := sched.Run(3, sched.Random(), sched.Options{}, func(g *sched.G) {
		g.Go(func(g *sched.G) { g.Park("forever") })
		g.Go(func(g *sched.G) {
			g.Yield("before")
			panic("boom")
		})
	})
	require.NotNil(t, r.Failure)
	assert.Equal(t, sched.Panic, r.Failure.Kind)
	assert.Equal(t, "boom", r.Failure.Value)
	assert.Equal(t, 2, r.Failure.G)
	assert.Equal(t, "before", r.Failure.Point)
	assert.Contains(t, r.Failure.Stack, "sched_test.TestPanicReported")
	assert.Contains(t, r.Failure.Error(), "g2 panicked")
}

func TestUnlockNotHeldPanics(t *testing.T) {
	r := sched.Run(0, sched.Random(), sched.Options{}, func(g *sched.G) {
		var m sched.Mutex
		m.Name = "m"
		m.Unlock(g)
	})
	require.NotNil(t, r.Failure)
	assert.Equal(t, `sched: g0 unlocks mutex "m" held by nobody`, r.Failure.Value)
}

func TestUncontrolledBlocking(t *testing.T) {
	ch := make(chan struct{})
	start := time.Now()
	r := sched.Run(0, sched.Random(), sched.Options{WallBound: 50 * time.Millisecond}, func(g *sched.G) {
		g.Go(func(g *sched.G) { g.Park("idle") })
		g.Go(func(g *sched.G) {
			g.Yield("before the channel")
			<-ch // blocks outside the scheduler
			g.Yield("after")
			t.Error("the abandoned goroutine went on")
		})
	})
	require.NotNil(t, r.Failure)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, sched.Uncontrolled, r.Failure.Kind)
	assert.Equal(t, 2, r.Failure.G)
	assert.Equal(t, "before the channel", r.Failure.Point)
	assert.True(t, strings.HasPrefix(r.Failure.Error(), `sched: g2 reached no scheduling point within 50ms after "before the channel"`), r.Failure.Error())
	close(ch) // it exits at its next point; goleak checks that
}

func TestMisusedG(t *testing.T) {
	r := sched.Run(0, sched.Random(), sched.Options{}, func(g0 *sched.G) {
		g0.Go(func(g *sched.G) { g0.Yield("wrong") })
	})
	require.NotNil(t, r.Failure)
	assert.Equal(t, "sched: g0 called from a goroutine other than its own (g1 is running)", r.Failure.Value)
}

// withoutStacks returns bs without their stacks, which hold addresses.
func withoutStacks(bs []sched.Blocked) []sched.Blocked {
	out := make([]sched.Blocked, len(bs))
	for i, b := range bs {
		b.Stack = ""
		out[i] = b
	}
	return out
}

// TestKilledDefersRunAlone: the goroutines a run kills at its end run their
// deferred code one at a time, as their code ran (invariant 6): deferred
// writes to one map race with nothing (go test -race).
func TestKilledDefersRunAlone(t *testing.T) {
	for seed := range uint64(10) {
		m := map[int]int{}
		r := sched.Run(seed, sched.Random(), sched.Options{}, func(g *sched.G) {
			for i := range 4 {
				g.Go(func(c *sched.G) {
					defer func() { m[i]++ }()
					c.Park("forever")
				})
			}
			defer func() { m[-1]++ }()
			g.Park("main, forever")
		})
		require.NotNil(t, r.Failure)
		require.Equal(t, sched.Deadlock, r.Failure.Kind)
		require.Equal(t, map[int]int{-1: 1, 0: 1, 1: 1, 2: 1, 3: 1}, m, "seed %d", seed)
	}
}
