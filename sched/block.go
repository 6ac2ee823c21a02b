package sched

import (
	"sync"
	"time"

	"github.com/nimsync/nimsync/internal/gid"
)

// Block is a scheduling point named point at which g stops being runnable
// until ready reports true. The controller evaluates ready, on its own
// goroutine, once per decision while g is blocked, and only while no
// goroutine of the run runs (invariant 2): ready may read the run's shared
// state without synchronization, and should depend only on that state, or
// the run is not a function of its seed. ready must not block: no locks
// (a paused goroutine may hold them; a context.Context's Err or Done may
// take one), no blocking receives (read a channel obtained beforehand with
// a non-blocking receive). A ready that has not returned after
// Options.WallBound ends the process with a panic that says so. Block returns when
// the strategy picks g with ready true; nothing runs in between, so the
// condition still holds. A run in which every live goroutine is blocked,
// parked or waiting for a mutex, and no timer is pending, fails with a
// [Deadlock]. If ready panics, the run fails with a [Panic] of g.
//
// Block is how code that waits on something the scheduler does not own (a
// Go channel, a sync.Mutex) waits under it: the condition is "a receive
// would not block" or "TryLock would succeed".
func (g *G) Block(point string, ready func() bool) {
	if g.enter() == nil {
		return
	}
	g.state, g.cond = blocked, ready
	g.pause(point) // the controller made g ready again when it picked it
}

// BlockFor is [G.Block] with a timeout of d in virtual time: g also has a
// timer at Now()+d, ordered with [G.Sleep]'s timers by due time and then
// creation order. BlockFor returns false when the strategy picks g with
// ready true, and true if the timer fired first, while ready was false: the
// clock reached it (it moves only when nothing else is runnable, see
// [G.Sleep]) and g became runnable; other goroutines may run between the
// timer firing and g's return, so the condition may hold by then. A
// goroutine blocked with a pending timer is never part of a [Deadlock].
// With d ≤ 0 BlockFor is a scheduling point named point after which g
// evaluates ready itself and returns true if it is false.
//
// BlockFor is how a wait with a timeout (a select on a channel and a timer)
// waits under the scheduler: a pool worker parked until it is woken or its
// idle timeout, a timer that a stop function may cancel first. In a killed
// goroutine (invariant 6) it returns false at once.
func (g *G) BlockFor(point string, ready func() bool, d time.Duration) (timedOut bool) {
	r := g.enter()
	if r == nil {
		return false
	}
	if d <= 0 {
		g.pause(point)
		return !ready()
	}
	g.state, g.cond = blocked, ready
	g.timer, g.fired, g.at, g.seq = true, false, r.now+d, r.timerSeq
	r.timerSeq++
	g.pause(point) // the controller made g ready again: ready held, or the timer fired
	return g.fired
}

// Quiesce is a scheduling point named point at which g waits until no
// other goroutine of the run is runnable or asleep: each has exited or
// waits for another goroutine (parked, blocked on a false condition with
// no timer, or waiting for a mutex). Virtual time advances through every
// pending timer first ([G.BlockFor]'s too), so a run with a goroutine that
// sleeps in a loop for ever never quiesces (it ends in a livelock). A check
// that must hold only when everything has settled ("no value stays
// buffered while a receiver is parked") runs right after Quiesce: nothing
// else runs in between, and nothing else could.
func (g *G) Quiesce(point string) {
	if g.enter() == nil {
		return
	}
	g.state = quiescing
	g.pause(point)
}

// Spin is a scheduling point named point at which g says that it waits, in a
// loop, for another goroutine to make progress: a spin or back-off round.
// The random strategy treats it as [G.Yield]; pct drops g below every other
// goroutine's priority, so that a spin loop does not run until the step
// bound while the goroutine it waits for is never picked. And while every
// runnable goroutine spins, virtual time moves on to the next timer: the
// goroutine they wait for may be asleep.
func (g *G) Spin(point string) {
	if g.enter() == nil {
		return
	}
	g.spun, g.spinning = true, true
	g.pause(point)
}

// Snapshot describes every goroutine of g's run that has not exited, as a
// deadlock report does: its id, the point it stopped at and why it waits
// ("runnable" if it does not). For the messages of checks that run after
// [G.Quiesce]. Snapshot is not a scheduling point.
func (g *G) Snapshot() []Blocked {
	r := g.r
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Blocked
	for _, h := range r.gs {
		if h.state == exited {
			continue
		}
		out = append(out, Blocked{G: h.id, Point: h.point, Reason: h.reason()})
	}
	return out
}

// Local returns the value g's run holds under key, calling mk to make it
// the first time a goroutine of the run asks for key; every goroutine of
// the run gets the same value, and another run never sees it. It is for
// state that code outside the program keeps per run: package chaos keeps
// there the task pool core uses in a serialized episode. mk runs under the
// run's lock: it must not reach a scheduling point nor call g's methods.
// Local is not a scheduling point; goroutines killed at the end of the run
// may call it too (the run's lock keeps them apart).
func (g *G) Local(key any, mk func() any) any {
	r := g.r
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.values[key]
	if !ok {
		if r.values == nil {
			r.values = map[any]any{}
		}
		v = mk()
		r.values[key] = v
	}
	return v
}

// registry maps each live goroutine of every run, by its key (gid.Self), to
// its G, for Self. A goroutine adds itself when it starts and removes itself
// before it exits (G.main): a key may pass to a later goroutine once its
// goroutine has exited.
var registry sync.Map // uintptr → *G

// Self returns the G of the calling goroutine if it is a goroutine of a live
// run, and nil otherwise. It costs a map lookup (the goroutine's key,
// gid.Self, is a register or thread-local read on amd64 and arm64). Code
// that cannot be handed its G (a hook called deep inside a library) finds
// it this way; a goroutine that Self maps to nil is not under any run's
// control.
func Self() *G {
	if g, ok := registry.Load(gid.Self()); ok {
		return g.(*G)
	}
	return nil
}
