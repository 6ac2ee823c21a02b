package chaos

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/failpoints"
	"github.com/nimsync/nimsync/internal/gid"
	"github.com/pingcap/failpoint"
)

// ErrNoFailpoints is returned by Start when core's markers do not fire: the
// binary was built without failpoint-toolexec (use scripts/chaos-test), or
// with a build cache that mixed marked and unmarked objects.
var ErrNoFailpoints = errors.New("chaos: core was built without failpoints; build and run through scripts/chaos-test")

// Run is an active plan: every marker of core has a hook that counts its
// hits and, for the plan's active markers, acts as the plan says. Only one
// Run may be active at a time (the failpoint registry is global).
type Run struct {
	plan   Plan
	counts map[string]*atomic.Uint64 // every marker of core, active or not
	acts   map[string]Action         // active markers and enabled bugs
	hashes map[string]uint64
	storm  atomic.Pointer[func(seed uint64)]
	storms sync.WaitGroup

	cmu    sync.Mutex
	owners map[sideKey]owner // who is inside an operation of a single-sided channel side
}

type sideKey struct {
	point string // the contract marker: which side
	ch    any    // the channel
}

type owner struct {
	g   uintptr // the goroutine's gid.Self
	pcs []uintptr
}

// ContractViolation is the panic of a goroutine that started an operation
// on a single-sided channel side (an SPSC's senders or receivers, an
// MPSC's receivers) while another goroutine was inside one. It carries both
// goroutines' stacks: the first one's where its operation started.
type ContractViolation struct {
	Point         string
	First, Second string // the stacks of the goroutine already inside and of the newcomer
}

func (v *ContractViolation) Error() string {
	return fmt.Sprintf("chaos: %s broken: two goroutines on one side of a single-sided channel at once\n\nfirst goroutine, inside since:\n%s\nsecond goroutine:\n%s", v.Point, v.First, v.Second)
}

// contract tracks who is inside an operation on each single-sided channel
// side, and panics with a ContractViolation when a second goroutine enters.
func (r *Run) contract(name string, ch any, enter bool) {
	self := gid.Self() // alive while inside: a key no other goroutine has
	key := sideKey{name, ch}
	r.cmu.Lock()
	defer r.cmu.Unlock()
	if !enter {
		if o, ok := r.owners[key]; ok && o.g == self {
			delete(r.owners, key)
		}
		return
	}
	r.counts[name].Add(1)
	if o, ok := r.owners[key]; ok && o.g != self {
		panic(&ContractViolation{Point: name, First: formatPCs(o.pcs), Second: string(debug.Stack())})
	}
	pcs := make([]uintptr, 32)
	r.owners[key] = owner{self, pcs[:runtime.Callers(3, pcs)]}
}

func formatPCs(pcs []uintptr) string {
	var b strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			return b.String()
		}
	}
}

var active atomic.Pointer[Run]

// Start enables p: it registers a hook on every marker of core (but the
// serialized mode's step markers, which are not a plan's) and checks,
// with a canary (creating a scope passes scope/attach), that the markers
// fire; if they do not, it returns ErrNoFailpoints. Then it sets core's
// tuning knobs to the plan's tuning (core.SetTuning, which waits for the
// task pool to be quiet), so Start must be called while no core work runs:
// before the body of the test or run, never during it. A failpoint build
// made without -tags chaos has core's knobs compiled as constants, and
// Start refuses a plan that tunes them.
func Start(p Plan) (*Run, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	r := &Run{plan: p, counts: map[string]*atomic.Uint64{}, acts: map[string]Action{}, hashes: map[string]uint64{}, owners: map[sideKey]owner{}}
	if !active.CompareAndSwap(nil, r) {
		return nil, errors.New("chaos: another run is active; Stop it first")
	}
	for name, a := range p.Points {
		r.acts[name] = a
	}
	for name, a := range p.Bugs {
		r.acts[name] = a
	}
	// Fill in the run before enabling any hook: a goroutine of core that
	// outlived the previous run (a pool worker still draining its queue,
	// the goroutines of an abandoned run) may pass a marker as soon as its
	// hook is enabled, and the hook reads these maps without a lock. From
	// here on they are only read (TestStartWhileMarkersFire).
	for _, fp := range failpoints.All() {
		r.counts[fp.Name] = new(atomic.Uint64)
		h := fnv.New64a()
		h.Write([]byte(fp.Name))
		r.hashes[fp.Name] = h.Sum64()
	}
	for _, fp := range failpoints.All() {
		name := fp.Name
		if _, on := p.Bugs[name]; fp.Kind == failpoints.Bug && !on {
			continue // a planted bug stays compiled out of the path unless enabled
		}
		var hook any
		switch fp.Kind {
		case failpoints.Hook:
			hook = func() { r.hit(name) }
		case failpoints.Contract:
			hook = func(ch any, enter bool) { r.contract(name, ch, enter) }
		case failpoints.Step:
			hook = r.stepHook(name) // the serialized mode's scheduling points (serial.go)
		default:
			hook = func(b *bool) { *b = r.decide(name) }
		}
		if err := failpoint.EnableCall(failpoints.Path(name), hook); err != nil {
			r.Stop()
			return nil, fmt.Errorf("chaos: enabling %s: %w", name, err)
		}
	}
	// The canary: a marker that must fire in any failpoint build.
	core.NewScope(context.Background()).Cancel(nil)
	if r.counts[canary].Load() == 0 {
		r.Stop()
		return nil, ErrNoFailpoints
	}
	if err := checkBugs(p.Bugs); err != nil {
		r.Stop()
		return nil, err
	}
	if err := applyTuning(p.Tuning); err != nil {
		r.Stop()
		return nil, fmt.Errorf("chaos: applying the plan's tuning: %w", err)
	}
	for _, c := range r.counts {
		c.Store(0)
	}
	return r, nil
}

// canary is the marker every failpoint build passes when a scope is made.
const canary = failpoints.ScopeAttach

// Plan returns the run's plan.
func (r *Run) Plan() Plan { return r.plan }

// SetStorm sets the function that Storm actions call, in a goroutine of
// their own (a hook may run with core's locks held): it should cancel some
// of the scopes or groups of the code under test, chosen from seed. nil
// turns storms off; Storm actions do nothing until a function is set.
func (r *Run) SetStorm(f func(seed uint64)) { r.storm.Store(&f) }

// Stop disables the markers Start enabled, waits for running storms and restores core's
// tuning knobs to their defaults; like Start, it must be called once the
// code under test has stopped. If core's task pool is still busy after
// core.SetTuning's wait (a run that stalled with tasks queued), the run's
// tuning stays in effect: every value in it is one core is correct with.
// It is safe to call more than once.
func (r *Run) Stop() {
	r.disable()
	r.storms.Wait()
	if active.Load() == r {
		_ = applyTuning(nil)
	}
	active.CompareAndSwap(r, nil)
}

// Abandon switches the plan's markers off without waiting for its storms
// and without restoring core's tuning: for a run cut while the code under
// test still runs (a stall, a runaway), whose goroutines may still read
// the tuning knobs, which only a quiet pool may have written (core's
// tuning.go, invariant 2). The process should end soon after; a later
// Start of another plan fails while those goroutines keep the pool busy.
func (r *Run) Abandon() {
	r.disable()
	active.CompareAndSwap(r, nil)
}

// disable disables the markers Start enables: every marker of the table.
func (r *Run) disable() {
	for _, fp := range failpoints.All() {
		_ = failpoint.Disable(failpoints.Path(fp.Name))
	}
}

// Fired returns how often each marker was passed during the run: all of
// core's markers, active in the plan or not, except planted bugs the plan
// does not enable (they count 0); the serialized mode's step markers count
// only the passes of a serialized episode's goroutines.
func (r *Run) Fired() map[string]uint64 {
	m := map[string]uint64{}
	for name, c := range r.counts {
		m[name] = c.Load()
	}
	return m
}

// NeverFired returns the plan's active markers that no goroutine passed,
// sorted: a plan that never fires them tests nothing there.
func (r *Run) NeverFired() []string {
	var out []string
	for name := range r.acts {
		if r.counts[name].Load() == 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// roll counts a hit of name and reports whether the plan acts on it, with a
// hash of (seed, marker, goroutine, hit count) to draw from.
func (r *Run) roll(name string) (Action, uint64, bool) {
	n := r.counts[name].Add(1)
	a, ok := r.acts[name]
	if !ok || a.Prob == 0 {
		return a, 0, false
	}
	h := mix(r.plan.Seed ^ mix(r.hashes[name]^mix(gid.ID()^mix(n))))
	return a, h, float64(h>>11)/(1<<53) < a.Prob
}

func (r *Run) hit(name string) {
	if g := serialG(); g != nil {
		r.serialHit(g, name)
		return
	}
	a, h, ok := r.roll(name)
	if !ok {
		return
	}
	switch a.Kind {
	case Yield:
		runtime.Gosched()
	case Yields:
		for range a.Count {
			runtime.Gosched()
		}
	case Sleep:
		wait(time.Duration(mix(h) % uint64(a.MaxDelay)))
	case Storm:
		if f := r.storm.Load(); f != nil && *f != nil {
			r.storms.Add(1)
			go func() {
				defer r.storms.Done()
				(*f)(mix(h))
			}()
		}
	}
}

func (r *Run) decide(name string) bool {
	if g := serialG(); g != nil {
		r.counts[name].Add(1)
		_, _, ok := r.serialRoll(g, name)
		return ok
	}
	_, _, ok := r.roll(name)
	return ok
}

// wait sleeps for d; below the timer's resolution (about a millisecond
// here) it busy-waits, yielding, so that short delays stay short.
func wait(d time.Duration) {
	if d >= time.Millisecond {
		time.Sleep(d)
		return
	}
	for t := time.Now(); time.Since(t) < d; {
		runtime.Gosched()
	}
}

// mix is SplitMix64's finalizer.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Available reports whether core was built with failpoints (through
// scripts/chaos-test or scripts/nimsync): it enables the canary marker for
// a moment and checks that it fires. It must not race with Start.
func Available() bool {
	if active.Load() != nil {
		return true
	}
	var fired atomic.Bool
	if failpoint.EnableCall(failpoints.Path(canary), func() { fired.Store(true) }) != nil {
		return false
	}
	core.NewScope(context.Background()).Cancel(nil)
	_ = failpoint.Disable(failpoints.Path(canary))
	return fired.Load()
}
