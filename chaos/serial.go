package chaos

// The serialized mode: an episode runs under a seeded scheduler (package
// sched), one goroutine at a time, so that its outcome is a function of its
// seed, its strategy, its fault plan and its program, and a failing episode
// replays exactly from its decision list.
//
// How core's markers become scheduling points. While a serialized episode
// runs, core's step markers are on (core.SetStepMarkers, chaos build only):
// every atomic operation, mutex lock and unlock, spin round and blocking
// receive of core calls its hook, and so does every marker of the table.
// Each hook asks sched.Self for the calling goroutine's G:
//
//   - nil: the goroutine is not one of the episode's (a goroutine started
//     with a plain go statement, another test's, or the free-running task
//     pool); the hook does what a free-running run does, and the step
//     markers do nothing.
//   - a G: the marker is a scheduling point of that G. step/atomic and
//     step/unlock are G.Yield; step/spin is G.Spin; step/lock is G.Block
//     until the mutex is free (the controller tries it: TryLock, Unlock),
//     so no goroutine of the episode ever blocks on a core mutex behind the
//     scheduler's back; step/block is G.Block on core's own condition ("a
//     token is there or ctx is done"). The markers through which core
//     starts goroutines, sleeps, reads the clock, waits with a timeout,
//     arms timers and finds its task pool hand those to the episode (see
//     below). A marker of the table is G.Yield,
//     and its plan action, if it acts, becomes a step too: sleep is a
//     virtual-time G.Sleep (a serialized episode never sleeps in wall
//     time), yield and yields are more G.Yield, storm runs the storm
//     function as a new goroutine of the episode; decisions (spurious
//     wakeups, planted bugs) are drawn from (plan seed, marker, logical
//     goroutine id, step), which are the same on every replay, never from
//     a Go goroutine id or a hit counter shared with other episodes.
//
// A point's name is the marker's kind and the file and line of core that
// passed it ("atomic ring.go:103", "chan/park park.go:243"): names are the
// same in every run of the same code, so traces compare step by step.
//
// Groups, the task pool and scope deadlines. For a goroutine of an episode
// core's go statements, sleeps, clock reads, timed waits and timers are the
// scheduler's (core/step.go), so that everything core does for the episode
// runs under it, in virtual time, and replays:
//
//   - step/go starts the goroutine as a new G of the episode (G.Go): pool
//     workers, the pool's monitor, its temporary workers and the AfterFunc
//     hook of an already-cancelled scope are logical goroutines of the
//     episode that started them. In a goroutine the episode has killed (its
//     end, sched's invariant 6), the start is dropped: the episode is over,
//     and what the goroutine would have done belongs to it.
//   - step/sleep is G.Sleep, and step/now the episode's clock, SerialNow:
//     a fixed epoch plus the virtual time G.Now, the same in every run and
//     replay. The pool's monitor ticks in it, and scope deadlines
//     (NewScopeWithTimeout, NewScopeWithDeadline, Deadline) are on it: a
//     deadline an episode computes itself must start from SerialNow, not
//     from time.Now.
//   - step/block-for is G.BlockFor: an idle pool worker waits for its wake
//     token or its idle timeout in virtual time.
//   - step/after arms a deadline's timer as a new G that waits with
//     G.BlockFor until it is stopped or the delay has passed, then calls
//     the deadline's function unless stopped; the stop function marks it
//     stopped, which also lets the timer's G exit.
//   - step/pool gives each episode a task pool of its own (G.Local): an
//     episode's groups queue their tasks there and its workers take them
//     from there, so no goroutine outside the episode (an idle worker of the
//     process's pool, another episode's) ever runs its tasks, and the pool
//     is dropped with the episode. ReadStats in an episode reports it.

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimsync/nimsync/internal/failpoints"
	"github.com/nimsync/nimsync/sched"
)

// Serialize runs body as goroutine 0 of a serialized episode under strategy
// strat seeded with seed (see sched.Run), with r's plan acting at core's
// markers as described above. body starts the episode's goroutines with
// g.Go; core code they call is scheduled at every step marker. Serialize
// needs a chaos build (scripts/chaos-test); it panics in another. Several
// episodes may run at once, each with a task pool of its own; the markers
// are on while any runs.
func (r *Run) Serialize(seed uint64, strat sched.Strategy, opts sched.Options, body func(*sched.G)) *sched.Result {
	stepsOn()
	defer stepsOff()
	return sched.Run(seed, strat, opts, body)
}

// ReplaySerial replays the serialized episode a recorded, running body again
// under a's decisions (sched.Replay): the result's Failure is a Divergence
// at the first step that differs, or the recorded failure if it replays.
func (r *Run) ReplaySerial(a *sched.Artifact, opts sched.Options, body func(*sched.G)) *sched.Result {
	stepsOn()
	defer stepsOff()
	return sched.Replay(a, opts, body)
}

// Follow runs body along a's schedule as far as it applies (sched.Follow),
// with r's plan acting at core's markers as in Serialize: for a plan or a
// case that changed since a was recorded.
func (r *Run) Follow(a *sched.Artifact, opts sched.Options, body func(*sched.G)) *sched.Result {
	stepsOn()
	defer stepsOff()
	return sched.Follow(a, opts, body)
}

// Explore runs body under every schedule with at most o.Preemptions
// preemptions, depth-first (sched.Explore), with r's plan acting at core's
// markers as in Serialize. body is run afresh for every schedule, each a
// serialized episode of its own (its own task pool), and must build its
// state anew each time.
func (r *Run) Explore(o sched.ExploreOptions, body func(*sched.G)) *sched.Exploration {
	stepsOn()
	defer stepsOff()
	return sched.Explore(o, body)
}

// Minimize looks for a failing schedule of body with fewer preemptions
// than orig (sched.Minimize), with r's plan acting at core's markers as in
// Serialize; body must build its state anew for every run.
func (r *Run) Minimize(orig *sched.Result, o sched.MinimizeOptions, body func(*sched.G)) *sched.Minimization {
	stepsOn()
	defer stepsOff()
	return sched.Minimize(orig, o, body)
}

// stepUsers counts the serialized episodes running; the step markers are on
// while it is positive. serialLive mirrors it for the markers' hooks, which
// ask sched.Self (a microsecond) only while an episode runs, so that a
// free-running run's hooks cost what they did.
var (
	stepMu     sync.Mutex
	stepUsers  int
	serialLive atomic.Bool
)

func stepsOn() {
	if !serialBuild {
		panic("chaos: the serialized mode needs a chaos build (-tags chaos with failpoint-toolexec: scripts/chaos-test)")
	}
	stepMu.Lock()
	defer stepMu.Unlock()
	if stepUsers++; stepUsers == 1 {
		serialLive.Store(true)
		setStepMarkers(true)
	}
}

func stepsOff() {
	stepMu.Lock()
	defer stepMu.Unlock()
	if stepUsers--; stepUsers == 0 {
		setStepMarkers(false)
		serialLive.Store(false)
	}
}

// stepHook returns the hook of the step marker name: a scheduling point of
// the calling goroutine's G, counted, or nothing outside an episode.
func (r *Run) stepHook(name string) any {
	n := r.counts[name]
	self := func() *sched.G {
		g := sched.Self()
		if g != nil {
			n.Add(1)
		}
		return g
	}
	switch name {
	case failpoints.StepGo:
		return func(f func(), started *bool) {
			if g := self(); g != nil {
				g.Go(func(*sched.G) { f() }) // nil in a killed goroutine: dropped (see the top of this file)
				*started = true
			}
		}
	case failpoints.StepSleep:
		return func(d time.Duration, slept *bool) {
			if g := self(); g != nil {
				g.Sleep(d)
				*slept = true
			}
		}
	case failpoints.StepNow:
		return func(now *time.Time, ok *bool) {
			if g := self(); g != nil {
				*now, *ok = SerialNow(g), true
			}
		}
	case failpoints.StepBlockFor:
		return func(ready func() bool, d time.Duration, timedOut, handled *bool) {
			if g := self(); g != nil {
				*timedOut, *handled = g.BlockFor(site("block-for"), ready, d), true
			}
		}
	case failpoints.StepAfter:
		return func(d time.Duration, f func(), stop *func() bool, handled *bool) {
			if g := self(); g != nil {
				*stop, *handled = afterFunc(g, site("after"), d, f), true
			}
		}
	case failpoints.StepPool:
		return func(mk func() any, p *any) {
			if g := self(); g != nil {
				*p = g.Local(poolKey{}, mk)
			}
		}
	case failpoints.StepLock:
		return func(m *sync.Mutex) {
			if g := self(); g != nil {
				g.Block(site("lock"), func() bool {
					if m.TryLock() {
						m.Unlock()
						return true
					}
					return false
				})
			}
		}
	case failpoints.StepBlock:
		return func(ready func() bool) {
			if g := self(); g != nil {
				g.Block(site("block"), ready)
			}
		}
	case failpoints.StepSpin:
		return func() {
			if g := self(); g != nil {
				g.Spin(site("spin"))
			}
		}
	case failpoints.StepUnlock:
		return func() {
			if g := self(); g != nil {
				g.Yield(site("unlock"))
			}
		}
	default: // StepAtomic
		return func() {
			if g := self(); g != nil {
				g.Yield(site("atomic"))
			}
		}
	}
}

// serialEpoch is the episodes' clock at virtual time zero (SerialNow).
var serialEpoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// SerialNow returns the clock of g's serialized episode: a fixed epoch
// (2000-01-01 UTC) plus the episode's virtual time g.Now(). It is what
// core's clock reads return in an episode (scope deadlines, the pool's
// monitor), the same in every run and replay of the episode; a deadline the
// episode computes for core.NewScopeWithDeadline must start from it.
func SerialNow(g *sched.G) time.Time { return serialEpoch.Add(g.Now()) }

// poolKey is the key of an episode's task pool in its G.Local.
type poolKey struct{}

// afterFunc is time.AfterFunc(d, f) for g's episode: a new goroutine of the
// episode waits, at point, until stop is called or d of virtual time has
// passed, and then calls f unless stop was called. stop reports whether it
// kept f from being called, as time.Timer.Stop does; it may be called from
// any goroutine (its state is atomic), and lets the waiting goroutine exit.
func afterFunc(g *sched.G, point string, d time.Duration, f func()) (stop func() bool) {
	const pending, stopped, fired = 0, 1, 2
	var state atomic.Int32
	g.Go(func(t *sched.G) {
		if t.BlockFor(point, func() bool { return state.Load() == stopped }, d) && state.CompareAndSwap(pending, fired) {
			f()
		}
	})
	return func() bool { return state.CompareAndSwap(pending, stopped) }
}

// serialG returns the calling goroutine's G if a serialized episode runs
// and the goroutine is one of its own, and nil otherwise.
func serialG() *sched.G {
	if !serialLive.Load() {
		return nil
	}
	return sched.Self()
}

// serialHit is hit for a goroutine of a serialized episode (see the top of
// this file): the marker is a scheduling point, and the plan's action
// becomes steps.
func (r *Run) serialHit(g *sched.G, name string) {
	r.counts[name].Add(1)
	g.Yield(site(name))
	a, h, ok := r.serialRoll(g, name)
	if !ok {
		return
	}
	switch a.Kind {
	case Yield:
		g.Yield(name + " (yield)")
	case Yields:
		for range a.Count {
			g.Yield(name + " (yields)")
		}
	case Sleep:
		g.Sleep(time.Duration(mix(h) % uint64(a.MaxDelay)))
	case Storm:
		if f := r.storm.Load(); f != nil && *f != nil {
			seed := mix(h)
			g.Go(func(*sched.G) { (*f)(seed) })
		}
	}
}

// serialRoll is roll for a goroutine of a serialized episode: the draw
// depends on (plan seed, marker, logical id, step) only.
func (r *Run) serialRoll(g *sched.G, name string) (Action, uint64, bool) {
	a, ok := r.acts[name]
	if !ok || a.Prob == 0 {
		return a, 0, false
	}
	h := mix(r.plan.Seed ^ mix(r.hashes[name]^mix(uint64(g.ID())<<32^mix(uint64(g.Step())))))
	return a, h, float64(h>>11)/(1<<53) < a.Prob
}

// site names a scheduling point: what it is, then the file and line of
// core's code that reached it, the first frame of core outside the step
// marker's wrappers (step_chaos.go). What each return address of the
// stack resolves to is cached (siteCache): resolving it, its inlined
// frames included, costs more than the rest of a step.
func site(what string) string {
	// The core frame is within the first few of the hook's callers; the
	// unwinder's cost grows with the frames asked for, so ask for few
	// first.
	var pcs [24]uintptr
	for _, depth := range [...]int{10, len(pcs)} {
		n := runtime.Callers(2, pcs[:depth])
		for _, pc := range pcs[:n] {
			loc, ok := siteCache.Load(pc)
			if !ok {
				loc, _ = siteCache.LoadOrStore(pc, coreLine(pc))
			}
			if l := loc.(string); l != "" {
				return what + " " + l
			}
		}
		if n < depth {
			break // the whole stack
		}
	}
	return what
}

// siteCache maps a return address to coreLine's answer for it.
var siteCache sync.Map // uintptr → string

// coreLine returns "file.go:line" of the first of the frames at return
// address pc (the inlined ones first) that is core's code outside
// step_chaos.go, or "" if none is.
func coreLine(pc uintptr) string {
	frames := runtime.CallersFrames([]uintptr{pc})
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, failpoints.Package+".") && !strings.HasSuffix(f.File, "step_chaos.go") {
			return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}
