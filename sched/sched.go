// Package sched runs a program one goroutine at a time under a seeded
// scheduler, so that a run is a function of its seed, its strategy and its
// program, and a failing run replays exactly from its decision list.
//
// A program is a func(*G). It starts logical goroutines with [G.Go] (ids in
// spawn order, main is 0) and reaches scheduling points: [G.Yield],
// [G.Spin], [G.Park], [G.Block], [G.BlockFor], [G.Sleep], [Mutex.Lock] and
// [Mutex.Unlock]. Code that does not hold its G finds it with [Self]. At
// each point the running goroutine hands control back, and the [Strategy]
// picks the next runnable goroutine. Between two points a goroutine runs
// alone. Time is virtual ([G.Now]): [G.Sleep] and [G.BlockFor] set timers
// on it. A run reports a [Failure] at once for a deadlock, a livelock (more
// than Options.MaxSteps steps), a panic, or a goroutine that blocks outside
// the scheduler.
//
// sched knows nothing of core; core must never import it.
package sched

// Invariants:
//
//  1. One token: at any time either the controller (the goroutine that called
//     Run) or the one goroutine it last woke (run.cur) runs; every other
//     goroutine of the run waits on its wake channel. The token moves by one
//     send on g.wake and comes back by one send on run.back, so every access
//     to run, G and Mutex state by the token holder happens before the next
//     holder's; that state needs no lock for the run's own goroutines.
//  2. A goroutine's state is ready, parked, blocked, quiescing, sleeping or
//     exited; it is runnable iff ready and not waiting for a held Mutex
//     (lockWant == nil or lockWant.owner == nil), or blocked and its
//     condition (G.cond) reports true, or quiescing and no other goroutine
//     is runnable nor has a timer pending. Only the controller evaluates a condition, once per
//     decision, while it holds the token. The controller wakes only runnable
//     goroutines, so a goroutine that wakes in Mutex.Lock finds the mutex
//     free, and one that wakes in Block finds its condition true, unless
//     it blocked with a timer (BlockFor) that fired: it is ready then, with
//     fired set and its condition dropped (invariant 4), and BlockFor
//     reports the timeout.
//  3. One step is one decision: the controller picks a runnable goroutine,
//     appends (step, id, point) to the trace, where point is where that
//     goroutine stopped, and wakes it; it runs until its next point or exit.
//     Before it picks, it records each goroutine whose runnability changed
//     since the last decision (Result.Waits, Result.Wakes: transitions),
//     which the trace hash does not cover.
//  4. Virtual time advances only when nothing is runnable, or only
//     goroutines that spin (their last point was a Spin: they wait for
//     another goroutine, maybe a sleeping one, and a real spinner burns time),
//     to the earliest timer by (at, seq), a sleeping goroutine's or one
//     blocked with a timer (BlockFor); that timer alone fires (its goroutine
//     becomes ready; one blocked with a timer is marked fired, and its
//     condition is dropped). A goroutine with a pending timer is never
//     part of a deadlock: the clock moves on to it first.
//     Quiescing goroutines become runnable only when no timer is left.
//     And every step that ends at a Spin point costs SpinQuantum of virtual
//     time, as a real spinner burns time: a timer so passed (at < now)
//     fires at the next decision, one a decision in (at, seq) order, the
//     same on every replay.
//     Without it, goroutines that wait in loops which pass other points
//     too (core's atomics) are seldom all at their Spin at once, and a
//     goroutine asleep in a plan's delay, which they wait for, would sleep
//     until the step bound.
//  5. run.back has capacity 1 and, while the run is live, the controller
//     receives every send on it; at most one goroutine runs, so a send on
//     back never blocks, even after the controller stopped listening.
//  6. End of run: each goroutine that has not exited receives false on its
//     wake channel, marks itself killed and calls runtime.Goexit; the
//     scheduling calls of a killed goroutine (in its deferred functions)
//     return at once. finish kills them one at a time, each once the one
//     before has returned (or after killWait, if its deferred code waits
//     for something), so that their deferred code, which touches the run's
//     state as the goroutines' code does, runs alone as that code did. Run
//     waits for all of them, except after an uncontrolled-blocking failure
//     (abandon): that goroutine exits at its next point.
//  7. run.mu makes invariant 1 hold when the controller gives up on a
//     goroutine that blocks outside the scheduler (abandon): every scheduling
//     call holds mu while it touches shared state and checks run.abandoned
//     first; abandon sets it under mu. Uncontended otherwise. It also
//     guards run.values (Local), which goroutines killed at the end of a
//     run (invariant 6), running at once, may still ask for.

import (
	"fmt"
	"hash"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimsync/nimsync/internal/gid"
	"github.com/nimsync/nimsync/internal/stacks"
)

// Options bounds a run. The zero value means the defaults.
type Options struct {
	// MaxSteps is the livelock bound: a run still going after MaxSteps
	// steps fails with a livelock. Default 100000.
	MaxSteps int
	// Horizon is the range [0, Horizon) in which PCT draws its change
	// points: about the length of a typical run. A horizon far beyond the
	// runs' length (the livelock bound, say) puts the change points past
	// their end, and pct:D then acts as pct:1. Default MaxSteps; at most
	// MaxSteps.
	Horizon int
	// WallBound is how long, in wall time, the running goroutine may go
	// without reaching a scheduling point before the run fails with
	// uncontrolled blocking. Default 2 s.
	WallBound time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxSteps <= 0 {
		o.MaxSteps = 100000
	}
	if o.WallBound <= 0 {
		o.WallBound = 2 * time.Second
	}
	if o.Horizon <= 0 || o.Horizon > o.MaxSteps {
		o.Horizon = o.MaxSteps
	}
	return o
}

// G is a logical goroutine of a run, the handle through which it reaches
// scheduling points. Only the goroutine a G was given to may call its methods
// (the scheduler panics otherwise); a G must not be kept after the run. Each
// call costs a mutex round trip, and a scheduling point two channel handoffs
// (a few µs).
type G struct {
	r     *run
	id    int
	wake  chan bool     // capacity 1; true: run, false: exit (invariant 6)
	dead  chan struct{} // closed when its goroutine has returned
	state gState
	point string // where it stopped; "sched.start" before it first runs

	lockWant *Mutex      // the mutex its pending Lock waits for
	cond     func() bool // blocked: the condition it waits for
	spun     bool        // it stopped at a Spin point (the strategy is told)
	spinning bool        // its last point was a Spin (invariant 4)
	key      uintptr     // its goroutine's gid.Self, for Self
	goid     uint64      // its goroutine's id, for the stacks of a deadlock report
	permit   bool        // an Unpark that came before the Park
	at       time.Duration
	seq      uint64 // timer creation order
	timer    bool   // blocked with a timer at at (BlockFor; invariant 2)
	fired    bool   // that timer fired: BlockFor returns true

	runnable bool // it was runnable at the last decision (transitions)
	clocked  bool // a timer made it ready since the last decision

	killed   bool // set by its own goroutine only
	panicked bool
	panicVal any
	stack    string
}

type gState uint8

const (
	ready gState = iota
	parked
	blocked
	quiescing
	sleeping
	exited
)

const startPoint = "sched.start"

// SpinQuantum is the virtual time a step that ends at a Spin point costs
// (invariant 4): about a spin round's yield to the Go scheduler and back.
const SpinQuantum = 10 * time.Microsecond

type run struct {
	opts Options
	pick chooser
	rec  *Artifact // replay: the recorded run to follow, else nil

	mu        sync.Mutex // invariant 7
	abandoned bool

	gs       []*G
	cur      *G
	back     chan struct{}
	wg       sync.WaitGroup
	now      time.Duration
	timerSeq uint64
	step     int

	values map[any]any // Local's; guarded by mu

	condTimer *time.Timer       // watchCond's watchdog, made on first use
	condG     atomic.Pointer[G] // the goroutine whose condition it watches

	runnable  []int
	preempted []int // the steps at which the chosen goroutine preempted the one before
	waits     []Wait
	wakes     []Wake
	decisions []int
	trace     []Event
	h         hash.Hash64
	failure   *Failure
}

// Run runs main as logical goroutine 0 of a new run, picking the goroutine at
// each step with strat seeded by seed, and returns when every goroutine has
// exited or the run has failed. No goroutine of the run is left running or
// blocked when it returns (except the one an uncontrolled-blocking failure
// names, which exits at its next scheduling point). Run may be called
// concurrently; runs share nothing.
func Run(seed uint64, strat Strategy, opts Options, main func(*G)) *Result {
	opts = opts.withDefaults()
	return execute(seed, strat, opts, newChooser(seed, strat, opts.Horizon), nil, main)
}

func execute(seed uint64, strat Strategy, opts Options, pick chooser, rec *Artifact, main func(*G)) *Result {
	r := &run{opts: opts, pick: pick, rec: rec, back: make(chan struct{}, 1), h: newHash()}
	r.spawn(main)
	if r.loop() {
		r.finish()
	}
	return &Result{
		Seed: seed, Strategy: strat, Decisions: r.decisions, Trace: r.trace, Preempted: r.preempted,
		Waits: r.waits, Wakes: r.wakes, Hash: r.h.Sum64(), Steps: r.step, Now: r.now, Failure: r.failure,
	}
}

func (r *run) spawn(f func(*G)) *G {
	g := &G{r: r, id: len(r.gs), wake: make(chan bool, 1), dead: make(chan struct{}), point: startPoint, runnable: true}
	r.gs = append(r.gs, g)
	r.wg.Add(1)
	go g.main(f)
	return g
}

// loop makes decisions until the run ends; false means it abandoned a
// goroutine (invariant 7).
func (r *run) loop() bool {
	timer := time.NewTimer(r.opts.WallBound)
	defer timer.Stop()
	for {
		if t := r.nextTimer(); t != nil && t.at < r.now {
			t.state, t.clocked = ready, true // invariant 4: past due after spins cost time; one a decision
			if t.timer {
				t.cond, t.timer, t.fired = nil, false, true
			}
		}
		r.runnable = r.runnable[:0]
		live := 0
		for _, g := range r.gs {
			if g.state != exited {
				live++
			}
			ok, perr := g.check()
			if perr != nil {
				r.failure = perr
				return true
			}
			if ok {
				r.runnable = append(r.runnable, g.id)
			}
		}
		if live == 0 {
			r.ended("every goroutine exited")
			return true
		}
		if len(r.runnable) == 0 || r.allSpinning() {
			if t := r.nextTimer(); t != nil {
				r.now, t.state, t.clocked = t.at, ready, true // invariant 4
				if t.timer {
					t.cond, t.timer, t.fired = nil, false, true
				}
				continue
			}
		}
		if len(r.runnable) == 0 {
			for _, g := range r.gs { // invariant 2: quiescing goroutines run last
				if g.state == quiescing {
					r.runnable = append(r.runnable, g.id)
				}
			}
		}
		r.transitions()
		if len(r.runnable) == 0 {
			if !r.ended("deadlock") {
				r.deadlock()
			}
			return true
		}
		if r.step >= r.opts.MaxSteps {
			r.livelock()
			return true
		}
		id, ok := r.decide()
		if !ok {
			return true
		}
		g := r.gs[id]
		if g.state == blocked || g.state == quiescing { // its condition held when it was picked (invariant 2)
			g.state, g.cond, g.timer = ready, nil, false
		}
		if p := r.cur; p != nil && p != g && !p.spinning && slices.Contains(r.runnable, p.id) {
			r.preempted = append(r.preempted, r.step) // g preempts p, which could have gone on
		}
		r.record(Event{Step: r.step, G: id, Point: g.point})
		r.step++
		r.cur = g
		timer.Reset(r.opts.WallBound)
		g.wake <- true
		select {
		case <-r.back:
		case <-timer.C:
			r.abandon(g)
			return false
		}
		if g.spun {
			g.spun = false
			r.now += SpinQuantum // invariant 4
			if r.pick != nil {   // a replay follows its record, not a strategy
				r.pick.spun(g.id)
			}
		}
		if g.panicked {
			if !r.ended("panic") {
				r.failure = &Failure{Kind: Panic, Step: r.step - 1, G: g.id, Point: g.point, Value: g.panicVal, Stack: g.stack}
			}
			return true
		}
	}
}

func (r *run) decide() (int, bool) {
	if r.rec == nil {
		return r.pick.choose(r.step, r.runnable), true
	}
	runnable := func(id int) bool { return slices.Contains(r.runnable, id) }
	if r.step >= len(r.rec.Decisions) {
		g := r.gs[r.runnable[0]]
		r.diverge(fmt.Sprintf("the end of the run after %d steps", r.step),
			fmt.Sprintf("g%d runnable at %q", g.id, g.point))
		return 0, false
	}
	id, want := r.rec.Decisions[r.step], r.rec.Points[r.step]
	exp := fmt.Sprintf("g%d at %q", id, want)
	switch {
	case id < 0 || id >= len(r.gs):
		r.diverge(exp, fmt.Sprintf("no g%d (%d goroutines)", id, len(r.gs)))
	case !runnable(id):
		r.diverge(exp, fmt.Sprintf("g%d not runnable (at %q); runnable: %v", id, r.gs[id].point, r.runnable))
	case r.gs[id].point != want:
		r.diverge(exp, fmt.Sprintf("g%d at %q", id, r.gs[id].point))
	default:
		return id, true
	}
	return 0, false
}

// ended reports whether a replay ended before its recorded run did, and if
// so records the divergence.
func (r *run) ended(how string) bool {
	if r.rec == nil || r.step >= len(r.rec.Decisions) {
		return false
	}
	r.diverge(fmt.Sprintf("g%d at %q", r.rec.Decisions[r.step], r.rec.Points[r.step]), "the end of the run ("+how+")")
	return true
}

func (r *run) diverge(expected, got string) {
	r.failure = &Failure{Kind: Divergence, Step: r.step, Expected: expected, Got: got}
}

func (r *run) record(e Event) {
	r.decisions = append(r.decisions, e.G)
	r.trace = append(r.trace, e)
	hashEvent(r.h, e)
}

// transitions records, against each goroutine's runnable flag, the ones
// that stopped being runnable since the last decision (waits) and those
// that became runnable (wakes, by the goroutine that ran the step before,
// or by the clock). r.runnable is in id order. One pass over the
// goroutines, no locks, an append only on a change.
func (r *run) transitions() {
	by, j := -1, 0
	if r.cur != nil {
		by = r.cur.id
	}
	for _, g := range r.gs {
		now := j < len(r.runnable) && r.runnable[j] == g.id
		if now {
			j++
		}
		clocked := g.clocked
		g.clocked = false
		if now == g.runnable {
			continue
		}
		g.runnable = now
		switch {
		case now && clocked:
			r.wakes = append(r.wakes, Wake{Step: r.step - 1, By: -1, G: g.id})
		case now:
			r.wakes = append(r.wakes, Wake{Step: r.step - 1, By: by, G: g.id})
		case g.state != exited:
			r.waits = append(r.waits, Wait{Step: r.step - 1, G: g.id, Point: g.point})
		}
	}
}

// allSpinning reports whether every runnable goroutine spins (invariant 4).
func (r *run) allSpinning() bool {
	for _, id := range r.runnable {
		if !r.gs[id].spinning {
			return false
		}
	}
	return len(r.runnable) > 0
}

func (r *run) nextTimer() *G {
	var t *G
	for _, g := range r.gs {
		if (g.state == sleeping || g.state == blocked && g.timer) && (t == nil || g.at < t.at || g.at == t.at && g.seq < t.seq) {
			t = g
		}
	}
	return t
}

func (r *run) deadlock() {
	f := &Failure{Kind: Deadlock, Step: r.step}
	for _, g := range r.gs {
		if g.state == exited {
			continue
		}
		f.Blocked = append(f.Blocked, Blocked{G: g.id, Point: g.point, Reason: g.reason()})
	}
	byID := goroutineStacks()
	for i := range f.Blocked {
		f.Blocked[i].Stack = byID[r.gs[f.Blocked[i].G].goid]
	}
	r.failure = f
}

// goroutineStacks returns every goroutine's stack by goroutine id.
func goroutineStacks() map[uint64]string {
	out := map[uint64]string{}
	for _, s := range stacks.All() {
		if id, ok := parseGoroutineHeader([]byte(s)); ok {
			out[id] = s
		}
	}
	return out
}

// parseGoroutineHeader reads the id of a "goroutine 123 [...]" header.
func parseGoroutineHeader(b []byte) (uint64, bool) {
	const prefix = "goroutine "
	if !strings.HasPrefix(string(b), prefix) {
		return 0, false
	}
	var id uint64
	digits := 0
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
		digits++
	}
	return id, digits > 0
}

func (r *run) livelock() {
	f := &Failure{Kind: Livelock, Step: r.step}
	f.Last = r.trace[max(0, len(r.trace)-16):]
	r.failure = f
}

// finish ends every goroutine still there and waits for them (invariant 6).
func (r *run) finish() {
	for _, g := range r.gs {
		if g.state != exited {
			g.wake <- false
			select { // one at a time (invariant 6)
			case <-g.dead:
			case <-time.After(killWait):
			}
		}
	}
	r.wg.Wait()
}

// killWait is how long finish waits for a killed goroutine to return
// before it kills the next one anyway (invariant 6).
const killWait = 100 * time.Millisecond

// abandon gives up on g, which reached no point within WallBound, and ends
// the others (invariants 6 and 7). It does not wait: g may never come back.
func (r *run) abandon(g *G) {
	r.mu.Lock()
	r.abandoned = true
	var rest []*G
	for _, h := range r.gs {
		if h.state != exited {
			rest = append(rest, h)
		}
	}
	r.mu.Unlock()
	for _, h := range rest {
		h.wake <- false
	}
	r.failure = &Failure{Kind: Uncontrolled, Step: r.step - 1, G: g.id, Point: g.point, Wall: r.opts.WallBound}
}

// reason says why g waits, or what it is doing, in a few words.
func (g *G) reason() string {
	switch g.state {
	case parked:
		return "parked"
	case blocked:
		if g.timer {
			return fmt.Sprintf("blocked: its condition is false, timeout at %v", g.at)
		}
		return "blocked: its condition is false"
	case quiescing:
		return "quiescing"
	case sleeping:
		return fmt.Sprintf("sleeping until %v", g.at)
	case ready:
		if m := g.lockWant; m != nil && m.owner != nil {
			return fmt.Sprintf("waits for mutex %q held by g%d", m.Name, m.owner.id)
		}
		if g == g.r.cur {
			return "running"
		}
		return "runnable"
	}
	return "exited"
}

// check reports whether g is runnable (invariant 2), evaluating its
// condition if it is blocked; a condition that panics fails the run.
func (g *G) check() (ok bool, f *Failure) {
	switch g.state {
	case ready:
		return g.lockWant == nil || g.lockWant.owner == nil, nil
	case blocked:
		defer func() {
			if v := recover(); v != nil {
				ok, f = false, &Failure{Kind: Panic, Step: g.r.step, G: g.id, Point: g.point,
					Value: fmt.Sprintf("the condition of Block panicked: %v", v), Stack: string(debug.Stack())}
			}
		}()
		stop := g.r.watchCond(g)
		defer stop()
		return g.cond(), nil
	}
	return false, nil
}

// watchCond arms the controller's watchdog while it evaluates g's
// condition and returns the function that disarms it. A condition that
// blocks (it takes a lock a paused goroutine holds, or receives from a
// channel) would stop the whole run with no goroutine running and nothing
// to report it: past WallBound the watchdog panics, ending the process
// with the goroutine, its point and every stack, rather than leave it hung.
func (r *run) watchCond(g *G) func() {
	if r.condTimer == nil {
		r.condTimer = time.AfterFunc(time.Hour, func() {
			w := r.condG.Load()
			panic(fmt.Sprintf("sched: the condition of g%d's Block at %q did not return within %v: a condition must not block (no locks, no blocking receives; read a channel with a non-blocking receive)", w.id, w.point, r.opts.WallBound))
		})
	}
	r.condG.Store(g)
	r.condTimer.Reset(r.opts.WallBound)
	return func() { r.condTimer.Stop() }
}

func (g *G) main(f func(*G)) {
	defer g.r.wg.Done()
	defer close(g.dead)
	g.key, g.goid = gid.Self(), gid.ID() // the id: a traceback, paid once per G
	registry.Store(g.key, g)
	defer registry.Delete(g.key)
	if !<-g.wake {
		return
	}
	defer g.exit()
	f(g)
}

// exit hands the token back for the last time, with the panic if any.
func (g *G) exit() {
	if g.killed {
		return
	}
	v := recover()
	r := g.r
	r.mu.Lock()
	if r.abandoned {
		r.mu.Unlock()
		return
	}
	if v != nil {
		g.panicked, g.panicVal, g.stack = true, v, string(debug.Stack())
	}
	g.state = exited
	r.mu.Unlock()
	r.back <- struct{}{}
}

// enter starts a scheduling call: it takes r.mu and returns r, or returns
// nil (mu not held) if g was killed.
func (g *G) enter() *run {
	r := g.r
	r.mu.Lock()
	if g.killed {
		r.mu.Unlock()
		return nil
	}
	if r.abandoned {
		r.mu.Unlock()
		g.killed = true
		runtime.Goexit()
	}
	if r.cur != g {
		r.mu.Unlock()
		panic(fmt.Sprintf("sched: g%d called from a goroutine other than its own (g%d is running)", g.id, r.cur.id))
	}
	g.spinning = false // Spin sets it again
	return r
}

// pause records point, releases r.mu, hands the token back and waits for
// it (invariant 1).
func (g *G) pause(point string) {
	g.point = point
	g.r.mu.Unlock()
	g.r.back <- struct{}{}
	if !<-g.wake {
		g.killed = true
		runtime.Goexit()
	}
}

// ID returns g's logical id: 0 for main, then 1, 2, … in spawn order.
func (g *G) ID() int { return g.id }

// Step returns the number of steps the run has taken so far; while g runs,
// the step at which it was picked is Step()−1. With ID it names a moment of
// the run the same way on every replay: a hook that must draw a random
// number draws it from (seed, ID, Step), never from the Go goroutine id or
// from a counter shared with other runs. Step is not a scheduling point.
func (g *G) Step() int {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	return g.r.step
}

// Go starts f as a new logical goroutine and returns its handle. Go is not a
// scheduling point: the new goroutine is runnable at point "sched.start" and
// runs when the strategy first picks it. In a killed goroutine Go returns nil.
func (g *G) Go(f func(*G)) *G {
	r := g.enter()
	if r == nil {
		return nil
	}
	c := r.spawn(f)
	r.mu.Unlock()
	return c
}

// Yield is a scheduling point named point: the strategy may run any runnable
// goroutine, g included, before Yield returns.
func (g *G) Yield(point string) {
	if g.enter() == nil {
		return
	}
	g.pause(point)
}
