//go:build chaos

package core

// A chaos build: the serialized mode's seam (step.go). Each atomic type
// wraps sync/atomic's with the methods core uses, each passing step/atomic
// first; mutex passes step/lock before Lock and step/unlock after Unlock.
// Every marker is guarded by stepping, so that while the serialized mode is
// off an operation costs one more atomic load and no failpoint lookup.

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingcap/failpoint"
)

// stepMarkers is true in a chaos build: the serialized waits (`if
// stepMarkers` blocks) are compiled in. They act only while stepping is on.
const stepMarkers = true

// stepping is whether the step markers fire (SetStepMarkers). It is a
// sync/atomic Bool, never a wrapper: reading it is not a scheduling point.
var stepping atomic.Bool

// SetStepMarkers switches the serialized mode's step markers on or off
// (chaos build only). They are off by default, so that a free-running chaos
// run pays one atomic load per operation and no failpoint lookup; the
// harness turns them on only while a serialized episode runs, with hooks
// registered for every marker of kind Step (internal/failpoints).
func SetStepMarkers(on bool) { stepping.Store(on) }

// step is the scheduling point before an atomic operation.
func step() {
	if stepping.Load() {
		failpoint.InjectCall(fpStepAtomic)
	}
}

// spinStep is the scheduling point of a spin or back-off round: the calling
// goroutine waits for another to make progress (the scheduler lowers its
// priority).
func spinStep() {
	if stepping.Load() {
		failpoint.InjectCall(fpStepSpin)
	}
}

// awaitStep is the scheduling point before a blocking receive: the calling
// goroutine is about to block, and the hook returns once ready() reports
// true. ready must not block, and is called by another goroutine while this
// one waits (step.go, invariant 3).
func awaitStep(ready func() bool) {
	if stepping.Load() {
		failpoint.InjectCall(fpStepBlock, ready)
	}
}

// goStep runs f on a new goroutine: one of the caller's serialized episode
// if the hook of step/go starts it, else one a go statement starts.
func goStep(f func()) {
	started := false
	if stepping.Load() {
		failpoint.InjectCall(fpStepGo, f, &started)
	}
	if !started {
		go f()
	}
}

// sleepStep offers a sleep of d to step/sleep: it reports whether the hook
// slept (in the episode's virtual time); if not, the caller sleeps.
func sleepStep(d time.Duration) bool {
	slept := false
	if stepping.Load() {
		failpoint.InjectCall(fpStepSleep, d, &slept)
	}
	return slept
}

// nowStep asks step/now for the time: the episode's virtual clock and
// true for a goroutine of a serialized episode, else false (the caller
// reads time.Now).
func nowStep() (time.Time, bool) {
	var now time.Time
	ok := false
	if stepping.Load() {
		failpoint.InjectCall(fpStepNow, &now, &ok)
	}
	return now, ok
}

// awaitForStep offers step/block-for a wait until ready() reports true or
// d has passed: it reports whether the hook waited (in the episode's
// virtual time). If it did, the caller re-checks what ready reads rather
// than trusting the timeout: the condition may have come true after the
// timer fired and before the caller ran. ready is as awaitStep's.
func awaitForStep(ready func() bool, d time.Duration) bool {
	timedOut, handled := false, false
	if stepping.Load() {
		failpoint.InjectCall(fpStepBlockFor, ready, d, &timedOut, &handled)
	}
	return handled
}

// afterStep offers step/after a timer that calls f after d: it returns the
// function that stops that timer (reporting whether it kept f from being
// called, as time.Timer.Stop does) if the hook armed it (in the episode's
// virtual time), or nil: the caller calls time.AfterFunc.
func afterStep(d time.Duration, f func()) (stop func() bool) {
	handled := false
	if stepping.Load() {
		failpoint.InjectCall(fpStepAfter, d, f, &stop, &handled)
	}
	if !handled {
		return nil
	}
	return stop
}

// poolStep returns the task pool a group of the calling goroutine uses:
// its serialized episode's own (step/pool makes one with newPool on the
// episode's first ask), or tasks outside an episode.
func poolStep() *pool {
	if stepping.Load() {
		var p any
		failpoint.InjectCall(fpStepPool, newPoolAny, &p)
		if p, ok := p.(*pool); ok {
			return p
		}
	}
	return tasks
}

// newPoolAny makes an episode's task pool for step/pool, as tasks is made.
func newPoolAny() any { return &pool{buf: make([]task, minQueue), procs: runtime.GOMAXPROCS(0)} }

// stats is ReadStats of pool p: in a serialized episode, the episode's own
// pool (poolStep).
func (p *pool) stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{
		ParkedWaiters: parkedTotal.Load(),
		QueuedTasks:   p.n,
		LiveTasks:     int64(p.submitted - p.finished),
		LiveScopes:    liveScopes.Load(),
		Workers:       p.workers,
	}
}

// mutex is sync.Mutex with the serialized mode's scheduling points.
type mutex struct{ mu sync.Mutex }

// Lock passes step/lock, whose hook returns only once m.mu can be taken
// without blocking, and locks m.
func (m *mutex) Lock() {
	if stepping.Load() {
		failpoint.InjectCall(fpStepLock, &m.mu)
	}
	m.mu.Lock()
}

// Unlock unlocks m and passes step/unlock: a goroutine waiting for m may
// run now.
func (m *mutex) Unlock() {
	m.mu.Unlock()
	if stepping.Load() {
		failpoint.InjectCall(fpStepUnlock)
	}
}

// The atomic types: sync/atomic's, each operation after step().

type atomicUint64 struct{ v atomic.Uint64 }

func (a *atomicUint64) Load() uint64                    { step(); return a.v.Load() }
func (a *atomicUint64) Store(v uint64)                  { step(); a.v.Store(v) }
func (a *atomicUint64) Add(d uint64) uint64             { step(); return a.v.Add(d) }
func (a *atomicUint64) Or(m uint64) uint64              { step(); return a.v.Or(m) }
func (a *atomicUint64) CompareAndSwap(o, n uint64) bool { step(); return a.v.CompareAndSwap(o, n) }

type atomicUint32 struct{ v atomic.Uint32 }

func (a *atomicUint32) Load() uint32   { step(); return a.v.Load() }
func (a *atomicUint32) Store(v uint32) { step(); a.v.Store(v) }

type atomicInt32 struct{ v atomic.Int32 }

func (a *atomicInt32) Load() int32                    { step(); return a.v.Load() }
func (a *atomicInt32) Store(v int32)                  { step(); a.v.Store(v) }
func (a *atomicInt32) Add(d int32) int32              { step(); return a.v.Add(d) }
func (a *atomicInt32) CompareAndSwap(o, n int32) bool { step(); return a.v.CompareAndSwap(o, n) }

type atomicInt64 struct{ v atomic.Int64 }

func (a *atomicInt64) Load() int64       { step(); return a.v.Load() }
func (a *atomicInt64) Store(v int64)     { step(); a.v.Store(v) }
func (a *atomicInt64) Add(d int64) int64 { step(); return a.v.Add(d) }

type atomicBool struct{ v atomic.Bool }

func (a *atomicBool) Load() bool   { step(); return a.v.Load() }
func (a *atomicBool) Store(v bool) { step(); a.v.Store(v) }

type atomicValue struct{ v atomic.Value }

func (a *atomicValue) Load() any   { step(); return a.v.Load() }
func (a *atomicValue) Store(v any) { step(); a.v.Store(v) }

type atomicPointer[T any] struct{ v atomic.Pointer[T] }

func (a *atomicPointer[T]) Load() *T                    { step(); return a.v.Load() }
func (a *atomicPointer[T]) CompareAndSwap(o, n *T) bool { step(); return a.v.CompareAndSwap(o, n) }
