package sched_test

import (
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBlockOnGoChannel: a goroutine that waits for a Go channel through
// Block runs only once a peer has sent, on every seed and strategy, and the
// run replays.
func TestBlockOnGoChannel(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(2)} {
		for seed := range uint64(50) {
			var got []int
			body := func(g *sched.G) {
				ch := make(chan int, 4)
				g.Go(func(c *sched.G) {
					for i := range 3 {
						c.Yield("send")
						ch <- i
					}
				})
				for range 3 {
					g.Block("recv", func() bool { return len(ch) > 0 })
					got = append(got, <-ch) // never blocks: the condition holds
				}
			}
			r := sched.Run(seed, s, sched.Options{}, body)
			require.Nil(t, r.Failure, "%v seed %d", s, seed)
			require.Equal(t, []int{0, 1, 2}, got)
			got = nil
			rr := sched.Replay(r.Artifact(), sched.Options{}, body)
			require.Nil(t, rr.Failure)
			require.Equal(t, r.Hash, rr.Hash)
		}
	}
}

// TestBlockDeadlock: a condition nobody makes true is a deadlock that names
// the blocked goroutine and says why.
func TestBlockDeadlock(t *testing.T) {
	r := sched.Run(1, sched.Random(), sched.Options{}, func(g *sched.G) {
		g.Block("never", func() bool { return false })
	})
	require.NotNil(t, r.Failure)
	require.Equal(t, sched.Deadlock, r.Failure.Kind)
	require.Len(t, r.Failure.Blocked, 1)
	assert.Equal(t, "never", r.Failure.Blocked[0].Point)
	assert.Contains(t, r.Failure.Blocked[0].Reason, "condition is false")
}

// TestBlockConditionPanics: a panicking condition fails the run as a panic
// of the blocked goroutine instead of crashing the controller.
func TestBlockConditionPanics(t *testing.T) {
	r := sched.Run(1, sched.Random(), sched.Options{}, func(g *sched.G) {
		g.Block("bad", func() bool { panic("boom") })
	})
	require.NotNil(t, r.Failure)
	require.Equal(t, sched.Panic, r.Failure.Kind)
	assert.Equal(t, 0, r.Failure.G)
	assert.Contains(t, r.Failure.Error(), "boom")
}

// spinWait: g1 spins until g2, which has more work before it sets the flag,
// is done. Under pct a spinner that kept its priority would spin until the
// step bound whenever it outranks g2; Spin must prevent that livelock.
func spinWait(g *sched.G) {
	done := false
	g.Go(func(c *sched.G) {
		for !done {
			c.Spin("spin")
		}
	})
	g.Go(func(c *sched.G) {
		for range 20 {
			c.Yield("work")
		}
		done = true
	})
}

func TestSpinLeavesThePeerRunning(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(1), sched.PCT(3)} {
		for seed := range uint64(100) {
			r := sched.Run(seed, s, sched.Options{MaxSteps: 2000}, spinWait)
			require.Nil(t, r.Failure, "%v seed %d", s, seed)
		}
	}
}

// TestYieldInSpinLoopLivelocksUnderPCT shows why Spin exists: the same loop
// with Yield is a livelock under pct:1 for every seed at which the spinner
// outranks its peer.
func TestYieldInSpinLoopLivelocksUnderPCT(t *testing.T) {
	livelocks := 0
	for seed := range uint64(100) {
		r := sched.Run(seed, sched.PCT(1), sched.Options{MaxSteps: 2000}, func(g *sched.G) {
			done := false
			g.Go(func(c *sched.G) {
				for !done {
					c.Yield("spin")
				}
			})
			g.Go(func(c *sched.G) {
				for range 20 {
					c.Yield("work")
				}
				done = true
			})
		})
		if r.Failure != nil && r.Failure.Kind == sched.Livelock {
			livelocks++
		}
	}
	t.Logf("pct:1, Yield in the spin loop: %d livelocks in 100 seeds", livelocks)
	assert.Greater(t, livelocks, 20)
}

// TestSelf: a goroutine of a run finds its own G; others find nil, during
// and after the run.
func TestSelf(t *testing.T) {
	require.Nil(t, sched.Self())
	var ids []int
	var outside *sched.G
	var wg sync.WaitGroup
	r := sched.Run(1, sched.Random(), sched.Options{}, func(g *sched.G) {
		require.Same(t, g, sched.Self())
		c := g.Go(func(c *sched.G) { ids = append(ids, sched.Self().ID()) })
		require.NotSame(t, c, sched.Self())
		wg.Add(1)
		go func() { defer wg.Done(); outside = sched.Self() }()
		g.Block("outside", func() bool { return true })
		wg.Wait()
	})
	require.Nil(t, r.Failure)
	assert.Equal(t, []int{1}, ids)
	assert.Nil(t, outside, "a goroutine the run did not start has no G")
	assert.Nil(t, sched.Self())
}

// TestBlockTwice: a goroutine that blocked once and was picked is ready
// again: its next points are plain ones, and a second Block waits anew.
func TestBlockTwice(t *testing.T) {
	for seed := range uint64(50) {
		n := 0
		r := sched.Run(seed, sched.Random(), sched.Options{}, func(g *sched.G) {
			g.Go(func(c *sched.G) {
				for range 4 {
					c.Yield("inc")
					n++
				}
			})
			g.Block("two", func() bool { return n >= 2 })
			require.GreaterOrEqual(t, n, 2)
			g.Yield("between")
			g.Block("four", func() bool { return n == 4 })
			require.Equal(t, 4, n)
		})
		require.Nil(t, r.Failure, "seed %d", seed)
	}
}

// TestSpinReplays: a run with spins replays from its artifact.
func TestSpinReplays(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(2)} {
		r := sched.Run(3, s, sched.Options{MaxSteps: 2000}, spinWait)
		require.Nil(t, r.Failure)
		rr := sched.Replay(r.Artifact(), sched.Options{}, spinWait)
		require.Nil(t, rr.Failure, "%v", s)
		require.Equal(t, r.Hash, rr.Hash)
	}
}

// TestQuiesce: a quiescing goroutine runs only once every other goroutine
// waits for another or has exited, after every timer fired.
func TestQuiesce(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(3)} {
		for seed := range uint64(50) {
			work, slept := 0, false
			r := sched.Run(seed, s, sched.Options{}, func(g *sched.G) {
				waiter := g.Go(func(c *sched.G) { c.Park("wait") })
				g.Go(func(c *sched.G) {
					for range 5 {
						c.Yield("work")
						work++
					}
				})
				g.Go(func(c *sched.G) {
					c.Sleep(time.Second)
					slept = true
				})
				g.Quiesce("settle")
				require.Equal(t, 5, work, "everything runnable ran first")
				require.True(t, slept, "a sleeping goroutine has not settled")
				g.Unpark(waiter)
			})
			require.Nil(t, r.Failure, "%v seed %d", s, seed)
		}
	}
}

// TestSpinLetsTimeAdvance: a goroutine spinning for one that sleeps does
// not hold virtual time back: the sleeper wakes, under every strategy.
func TestSpinLetsTimeAdvance(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(1), sched.PCT(2)} {
		for seed := range uint64(30) {
			r := sched.Run(seed, s, sched.Options{MaxSteps: 1000}, func(g *sched.G) {
				done := false
				g.Go(func(c *sched.G) {
					c.Sleep(time.Millisecond)
					done = true
				})
				for !done {
					g.Spin("wait for the sleeper")
				}
			})
			require.Nil(t, r.Failure, "%v seed %d", s, seed)
			// The clock reaches the sleeper's timer, by a jump when every
			// runnable goroutine spins or by the spins' own cost.
			require.GreaterOrEqual(t, r.Now, time.Millisecond)
			require.Less(t, r.Now, time.Millisecond+sched.SpinQuantum*time.Duration(r.Steps))
		}
	}
}

// TestSpinCostsTime: a goroutine that waits for a sleeper in a loop, beside
// one that polls without a spin point, is never the only runnable kind, so
// the clock never jumps to the sleeper's timer; the spins' own cost moves
// it there (invariant 4), and the run ends well before its step bound.
func TestSpinCostsTime(t *testing.T) {
	for seed := range uint64(20) {
		r := sched.Run(seed, sched.Random(), sched.Options{MaxSteps: 5000}, func(g *sched.G) {
			done := false
			g.Go(func(c *sched.G) {
				c.Sleep(2 * time.Millisecond)
				done = true
			})
			g.Go(func(c *sched.G) {
				for !done {
					c.Yield("load")
					c.Spin("wait for the sleeper")
				}
			})
			g.Go(func(c *sched.G) {
				for !done {
					c.Yield("poll") // no spin point: a hole the clock must not depend on
				}
			})
		})
		require.Nil(t, r.Failure, "seed %d", seed)
		require.GreaterOrEqual(t, r.Now, 2*time.Millisecond)
	}
}

// TestQuiesceWaitsForSpinners: a goroutine spinning for another is
// runnable: the quiescing goroutine waits for it to stop.
func TestQuiesceWaitsForSpinners(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(1), sched.PCT(2)} {
		for seed := range uint64(30) {
			r := sched.Run(seed, s, sched.Options{MaxSteps: 1000}, func(g *sched.G) {
				spins, flag := 0, false
				g.Go(func(c *sched.G) {
					for !flag {
						c.Spin("spin")
						spins++
					}
				})
				g.Go(func(c *sched.G) {
					c.Park("wait")
				})
				g.Go(func(c *sched.G) {
					for range 3 {
						c.Yield("work")
					}
					flag = true
				})
				g.Quiesce("settle")
				require.True(t, flag, "quiesced while a goroutine spun")
				for _, b := range g.Snapshot() {
					require.NotEqual(t, "runnable", b.Reason, "%+v", b)
				}
			})
			require.NotNil(t, r.Failure)
			require.Equal(t, sched.Deadlock, r.Failure.Kind, "the parked goroutine is left: %v", r.Failure)
		}
	}
}

// TestBlockForTimesOut: a condition nobody makes true ends in a timeout at
// Now()+d, not in a deadlock; with d ≤ 0 the timeout is at once.
func TestBlockForTimesOut(t *testing.T) {
	for _, d := range []time.Duration{time.Hour, 0, -time.Second} {
		var timedOut bool
		r := sched.Run(1, sched.Random(), sched.Options{}, func(g *sched.G) {
			timedOut = g.BlockFor("never", func() bool { return false }, d)
		})
		require.Nil(t, r.Failure, "d %v", d)
		assert.True(t, timedOut, "d %v", d)
		assert.Equal(t, max(d, 0), r.Now, "d %v", d)
	}
	r := sched.Run(1, sched.Random(), sched.Options{}, func(g *sched.G) {
		require.False(t, g.BlockFor("ready", func() bool { return true }, 0))
	})
	require.Nil(t, r.Failure)
}

// TestBlockForReadyFirst: a condition made true before the timer is due
// ends the wait without a timeout, on every seed, and the timer is gone:
// the clock stops where the peer's sleep left it.
func TestBlockForReadyFirst(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(2)} {
		for seed := range uint64(50) {
			var timedOut bool
			r := sched.Run(seed, s, sched.Options{}, func(g *sched.G) {
				flag := false
				g.Go(func(c *sched.G) {
					c.Sleep(time.Second)
					flag = true
				})
				timedOut = g.BlockFor("flag", func() bool { return flag }, time.Hour)
				require.True(t, flag)
			})
			require.Nil(t, r.Failure, "%v seed %d", s, seed)
			assert.False(t, timedOut, "%v seed %d", s, seed)
			assert.Equal(t, time.Second, r.Now)
		}
	}
}

// TestBlockForTimerOrder: a BlockFor's timer and a Sleep's due at the same
// time fire in creation order: if the sleeper's timer is older, it sets the
// flag first and the wait ends without a timeout; if the BlockFor's is
// older, it times out, with the flag still false.
func TestBlockForTimerOrder(t *testing.T) {
	for _, sleeperFirst := range []bool{true, false} {
		for seed := range uint64(30) {
			var timedOut, flagThen bool
			r := sched.Run(seed, sched.Random(), sched.Options{}, func(g *sched.G) {
				flag := false
				created := false
				g.Go(func(c *sched.G) {
					if !sleeperFirst {
						c.Block("after the waiter", func() bool { return created })
					}
					created = true
					c.Sleep(time.Second)
					flag = true
				})
				if sleeperFirst {
					g.Block("after the sleeper", func() bool { return created })
				}
				created = true
				timedOut = g.BlockFor("flag", func() bool { return flag }, time.Second)
				flagThen = flag
			})
			require.Nil(t, r.Failure, "seed %d", seed)
			assert.Equal(t, !sleeperFirst, timedOut, "sleeper first %v, seed %d", sleeperFirst, seed)
			if timedOut {
				assert.False(t, flagThen, "the waiter ran before the sleeper's timer fired")
			}
			assert.Equal(t, time.Second, r.Now)
		}
	}
}

// blockForPool is a small worker pool in the manner of core's: workers wait
// for a job or an idle timeout, and exit on the timeout; the producer
// submits jobs with pauses in virtual time between them, starting a worker
// when none is idle.
func blockForPool(done *int) func(*sched.G) {
	return func(g *sched.G) {
		var jobs []int
		idle := 0
		worker := func(c *sched.G) {
			for {
				if len(jobs) == 0 {
					idle++
					timedOut := c.BlockFor("idle", func() bool { return len(jobs) > 0 }, 3*time.Millisecond)
					idle--
					if timedOut && len(jobs) == 0 {
						return
					}
					continue
				}
				jobs = jobs[1:]
				c.Yield("run job")
				*done++
			}
		}
		for i := range 12 {
			jobs = append(jobs, i)
			if idle == 0 {
				g.Go(worker)
			}
			g.Sleep(time.Duration(i%4) * time.Millisecond)
		}
	}
}

// TestBlockForDeterministic: a program whose goroutines time out and are
// woken takes the same steps on the same seed, and replays from its
// artifact with the same trace hash, under random and pct.
func TestBlockForDeterministic(t *testing.T) {
	hashes := map[uint64]bool{}
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(2)} {
		for seed := range uint64(50) {
			var done int
			r := sched.Run(seed, s, sched.Options{}, blockForPool(&done))
			require.Nil(t, r.Failure, "%v seed %d", s, seed)
			require.Equal(t, 12, done)
			hashes[r.Hash] = true
			again := sched.Run(seed, s, sched.Options{}, blockForPool(&done))
			require.Equal(t, r.Hash, again.Hash, "%v seed %d: the same seed took other steps", s, seed)
			require.Equal(t, r.Now, again.Now)
			rr := sched.Replay(r.Artifact(), sched.Options{}, blockForPool(&done))
			require.Nil(t, rr.Failure, "%v seed %d", s, seed)
			require.Equal(t, r.Hash, rr.Hash)
			require.Equal(t, r.Now, rr.Now)
		}
	}
	assert.Greater(t, len(hashes), 10, "the seeds should give different interleavings")
}

// TestBlockForSnapshotAndQuiesce: a goroutine blocked with a timer is
// reported with its timeout, is no deadlock, and a Quiesce waits for its
// timer to fire.
func TestBlockForSnapshotAndQuiesce(t *testing.T) {
	var reasons []string
	var timedOut bool
	r := sched.Run(1, sched.Random(), sched.Options{}, func(g *sched.G) {
		started := false
		g.Go(func(c *sched.G) {
			started = true
			timedOut = c.BlockFor("wait", func() bool { return false }, time.Minute)
		})
		g.Block("started", func() bool { return started })
		g.Yield("let it block")
		for _, b := range g.Snapshot() {
			reasons = append(reasons, b.Reason)
		}
		g.Quiesce("settle")
		require.True(t, timedOut, "quiesced before the timer fired")
		require.Equal(t, time.Minute, g.Now())
	})
	require.Nil(t, r.Failure)
	require.Len(t, reasons, 2)
	assert.Contains(t, reasons[1], "timeout at 1m0s")
}

// TestLocal: every goroutine of a run gets the value made once for a key;
// another run makes its own.
func TestLocal(t *testing.T) {
	made := 0
	mk := func() any { made++; return new(int) }
	var got []*int
	body := func(g *sched.G) {
		for range 3 {
			g.Go(func(c *sched.G) {
				c.Yield("ask")
				got = append(got, c.Local("k", mk).(*int))
			})
		}
		got = append(got, g.Local("k", mk).(*int))
		require.NotSame(t, got[len(got)-1], g.Local("other", mk))
	}
	r := sched.Run(1, sched.Random(), sched.Options{}, body)
	require.Nil(t, r.Failure)
	require.Len(t, got, 4)
	for _, p := range got {
		require.Same(t, got[0], p)
	}
	require.Equal(t, 2, made)
	first := got[0]
	got = nil
	sched.Run(2, sched.Random(), sched.Options{}, body)
	require.NotSame(t, first, got[0])
}

// TestBlockingConditionEndsTheProcess: a condition that blocks (here on a
// lock nobody releases) would hang the run with nothing running; the
// controller's watchdog ends the process with a message that says so. It
// runs in a child process, whose end is the point.
func TestBlockingConditionEndsTheProcess(t *testing.T) {
	if os.Getenv("SCHED_BLOCKING_CONDITION") == "1" {
		var mu sync.Mutex
		mu.Lock()
		sched.Run(1, sched.Random(), sched.Options{WallBound: 100 * time.Millisecond}, func(g *sched.G) {
			g.Block("locked", func() bool { mu.Lock(); return true })
		})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBlockingConditionEndsTheProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SCHED_BLOCKING_CONDITION=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), `the condition of g0's Block at "locked" did not return within 100ms`)
}
