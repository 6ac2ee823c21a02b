package sched

import (
	"fmt"
	"time"
)

// Park is a scheduling point at which g stops being runnable until another
// goroutine calls [G.Unpark] on it. If an Unpark came first, Park consumes
// that permit and is a plain scheduling point (as LockSupport.park). A run
// in which every live goroutine is parked (or waits for a mutex) and no timer
// is pending fails with a [Deadlock] naming each goroutine's point.
func (g *G) Park(point string) {
	if g.enter() == nil {
		return
	}
	if g.permit {
		g.permit = false
	} else {
		g.state = parked
	}
	g.pause(point)
}

// Unpark makes t runnable if it is parked, and otherwise gives it a permit
// that its next [G.Park] consumes; permits do not add up. Unpark is not a
// scheduling point: t runs when the strategy picks it, after g's next point
// at the earliest. Unpark of an exited goroutine does nothing.
func (g *G) Unpark(t *G) {
	r := g.enter()
	if r == nil {
		return
	}
	switch t.state {
	case parked:
		t.state = ready
	case ready, sleeping:
		t.permit = true
	}
	r.mu.Unlock()
}

// Sleep is a scheduling point at which g sleeps for d of virtual time: it is
// not runnable until the clock reaches Now()+d. The clock moves only when no
// goroutine is runnable, straight to the earliest timer; timers due at the
// same time fire one at a time in creation order. Sleep never sleeps in wall
// time. Sleep with d ≤ 0 is [G.Yield]("sched.Sleep").
func (g *G) Sleep(d time.Duration) {
	r := g.enter()
	if r == nil {
		return
	}
	if d > 0 {
		g.state, g.at, g.seq = sleeping, r.now+d, r.timerSeq
		r.timerSeq++
	}
	g.pause("sched.Sleep")
}

// Now returns the run's virtual time: zero at the start, moved only by
// timers (see [G.Sleep]). Now is not a scheduling point.
func (g *G) Now() time.Duration {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	return g.r.now
}

// Mutex is a mutual exclusion lock among the goroutines of one run. The zero
// value is unlocked; a Mutex must not be copied after first use nor shared
// between runs. A goroutine waiting in Lock for a held Mutex is not runnable,
// so lock-order inversions end in a [Deadlock] report.
type Mutex struct {
	// Name names the mutex in scheduling points ("lock NAME",
	// "unlock NAME") and in deadlock reports.
	Name  string
	owner *G
}

// Lock is a scheduling point, "lock NAME": g may be preempted before it
// takes m, and takes it when picked, which the scheduler does only once m is
// free (invariant 2).
func (m *Mutex) Lock(g *G) {
	if g.enter() == nil {
		return
	}
	g.lockWant = m
	g.pause("lock " + m.Name)
	if g.killed {
		return
	}
	if m.owner != nil {
		panic(fmt.Sprintf("sched: internal: g%d woke to take mutex %q held by g%d", g.id, m.Name, m.owner.id))
	}
	m.owner, g.lockWant = g, nil
}

// Unlock releases m and is then a scheduling point, "unlock NAME". It panics
// if g does not hold m.
func (m *Mutex) Unlock(g *G) {
	r := g.enter()
	if r == nil {
		return
	}
	if m.owner != g {
		holder := "nobody"
		if m.owner != nil {
			holder = fmt.Sprintf("g%d", m.owner.id)
		}
		r.mu.Unlock()
		panic(fmt.Sprintf("sched: g%d unlocks mutex %q held by %s", g.id, m.Name, holder))
	}
	m.owner = nil
	g.pause("unlock " + m.Name)
}
