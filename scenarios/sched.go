package scenarios

// How a scenario starts and waits for its own goroutines, under Go's
// scheduler or under Config.Sched (the serialized mode).
//
// Every go statement of a scenario is env.spawn, every wait of its own is
// env.join, env.await, env.waitFor, env.sleep or env.lock, and its one
// context hook is env.onAbort. Without a Sched they are the plain go
// statement, sync.WaitGroup, a channel receive, a timer, time.Sleep,
// sync.Mutex and context.AfterFunc.
// With one, they go through it, so that the run's goroutines block only
// where the scheduler sees them:
//
//  1. spawn counts the goroutine on its crew before it starts it, and the
//     goroutine uncounts itself as the last thing it does; join waits
//     (Sched.Wait) until the count is zero. The count's last decrement and
//     the WaitGroup's Done that follows it run with no scheduling point
//     between them (sync/atomic, not core), so a serialized join that sees
//     zero finds the WaitGroup done too and its Wait returns at once.
//  2. lock waits until the mutex is free, probing it with TryLock and
//     Unlock: a serialized run's goroutines run one at a time and are
//     paused while the scheduler calls ready, so the probe takes the mutex
//     from nobody and the Lock that follows does not block. A scenario's
//     mutex that is held across a call into core (a scheduling point) must
//     be taken with lock; one held only around plain memory (faults.mu,
//     Meter.mu) is never seen held by another goroutine of a serialized
//     run and needs no lock.
//  3. Times a scenario waits for (settle's second, noLeak's, a round's
//     delay before its Cancel) are the scheduler's under a Sched: virtual
//     time, which advances only while no goroutine can run, so a
//     serialized run never sleeps in wall time and its waits end at the
//     same step on every replay.

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// crew counts the goroutines a scenario started and waits for them: a
// sync.WaitGroup whose count the scheduler can read (invariant 1).
type crew struct {
	n  atomic.Int64
	wg sync.WaitGroup
}

// spawn starts f as a goroutine of the run, counted on c (invariant 1).
func (e *env) spawn(c *crew, f func()) {
	c.n.Add(1)
	c.wg.Add(1)
	run := func() {
		defer func() {
			c.n.Add(-1)
			c.wg.Done()
		}()
		f()
	}
	if e.sched != nil {
		e.sched.Go(run)
	} else {
		go run()
	}
}

// join waits until every goroutine spawned on c has returned.
func (e *env) join(c *crew) {
	if e.sched != nil {
		e.sched.Wait(func() bool { return c.n.Load() == 0 }, 0)
	}
	c.wg.Wait()
}

// waitFor waits until ready reports true, or d has passed (d > 0), and
// reports whether ready did; ready only reads. Without a Sched it polls
// every 100 µs.
func (e *env) waitFor(ready func() bool, d time.Duration) bool {
	if e.sched != nil {
		return e.sched.Wait(ready, d)
	}
	deadline := time.Now().Add(d)
	for !ready() {
		if d > 0 && time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

// await waits until done is closed: a receive that nobody sends on (a
// Done channel), through the Sched if there is one.
func (e *env) await(done <-chan struct{}) {
	if e.sched != nil {
		e.sched.Wait(func() bool { return isDone(done) }, 0)
	}
	<-done
}

// sleep waits d, on the scheduler's clock under a Sched.
func (e *env) sleep(d time.Duration) {
	if e.sched != nil {
		e.sched.Wait(func() bool { return false }, d)
		return
	}
	time.Sleep(d)
}

// lock locks mu, waiting for it through the Sched if there is one
// (invariant 2).
func (e *env) lock(mu *sync.Mutex) {
	if e.sched != nil {
		e.sched.Wait(func() bool {
			if mu.TryLock() {
				mu.Unlock()
				return true
			}
			return false
		}, 0)
	}
	mu.Lock()
}

// onAbort arranges for f to run on a goroutine of its own once the run's
// abort context is cancelled (its first violation), as context.AfterFunc
// does; stop cancels that if f has not started, and ends the goroutine a
// Sched waits on.
func (e *env) onAbort(f func()) (stop func()) {
	if e.sched == nil {
		s := context.AfterFunc(e.ctx, f)
		return func() { s() }
	}
	var stopped atomic.Bool
	done := e.ctx.Done()
	var c crew
	e.spawn(&c, func() {
		e.sched.Wait(func() bool { return stopped.Load() || isDone(done) }, 0)
		if !stopped.Load() {
			f()
		}
	})
	return func() { stopped.Store(true) }
}

// isDone reports whether done is closed, without blocking.
func isDone(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
