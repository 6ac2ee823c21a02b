package core

// Parking: how a goroutine waits for a channel to become ready without burning
// CPU, and how a peer wakes it without ever losing a wakeup.
//
// Every channel has two wait queues, one for senders waiting for room and one
// for receivers waiting for values. A waiter is a pooled struct with a
// one-token Go channel; the goroutine parks by receiving from it (together
// with ctx.Done()), so a parked goroutine is invisible to the scheduler.
//
// Invariants:
//
//  1. q.n equals the number of waiters linked in q's list. It is written
//     only with the list's mu held and read without it by the other side's
//     fast path.
//  2. A waiter's token channel is empty whenever the waiter is linked in a
//     queue or sits in the pool. A waker sends exactly one token to each
//     waiter it unlinks, and the waiter consumes exactly that token before it
//     is reused (in park or in leave).
//  3. No lost wakeup (Dekker). A waiter links itself (q.n.Add, a sequentially
//     consistent atomic) and only then re-checks the ring. A peer changes the
//     ring (an atomic store or CAS) and only then loads q.n. Go's atomics are
//     sequentially consistent, so either the waiter's re-check sees the
//     change, or the peer sees q.n > 0 and wakes someone.
//  4. A wakeup is never swallowed. A waiter that was unlinked by a waker but
//     returns without retrying the operation (its context ended) passes the
//     wakeup on with q.wake(1). A woken waiter that loses the race for the
//     value to an active (unparked) peer simply parks again; the value was
//     taken, so nothing is left unserved.
//  5. Serialized waits (step.go). In the serialized mode a goroutine may
//     block only where the scheduler knows it: park and leave announce each
//     blocking receive of a token with awaitStep, whose hook returns once
//     the receive can complete (the token is in w.token, or park's ctx
//     ended), so the receive that follows does not block. A waker may be
//     descheduled between unlinking w and sending its token, so leave's
//     "arrives at once" does not hold there. When both park's token and
//     ctx.Done() are ready, park takes the token (the woken path, as if
//     select had picked it): the schedule, not select's random pick,
//     decides the outcome, so a serialized run replays. Either outcome is
//     one the protocol allows, and taking the token keeps invariant 2. In
//     a plain build stepMarkers is false and these waits are compiled out.
//  6. Lazy list. q.list is nil until the first park, which allocates a
//     waitList and installs it with CAS(nil, l); a parker that loses the CAS
//     uses the winner's. q.list changes only from nil to a list, once, so
//     every goroutine that reads it non-nil reads the same list. A parker
//     installs (or loads) the list before it locks it and links itself,
//     and the link increments q.n: the install is sequenced before the
//     Add, and Go's atomics are sequentially consistent, so a waker whose
//     load of q.n sees the waiter (n > 0) then loads the list, not nil, and
//     finds the waiter in it; leave, whose waiter was linked, finds it
//     too. A waker that loads nil (wakeAll from Close, or wake racing
//     with a first park) has nobody to wake: any waiter links itself after
//     that load, and re-checks the ring after linking (invariant 3), which
//     sees the change the waker made before it loaded. The list is never
//     freed before its queue, so a parked goroutine costs, beyond its
//     pooled waiter, 24 bytes per queue it ever parked on; a queue nobody
//     parks on costs its 16 bytes and no allocation.
//
// Lock order: each waitList's mu is a leaf lock. No code holds two of them,
// and no token is sent while one is held (tokens go to waiters already
// unlinked).

import (
	"context"
	"runtime"
	"sync"

	"github.com/pingcap/failpoint"
)

// Spin policy. Before parking, an operation that would block retries
// activeSpins times after busy waits of 2^(spinShift+level) loop iterations
// for the first (capped at 2^maxShift, about a microsecond) and 2^(spinShift+i)
// for the others, then yieldSpins times after runtime.Gosched. So, with the
// defaults, a blocked goroutine burns CPU for at most about a microsecond
// before it yields its P, and parks soon after: when goroutines outnumber
// Ps, the peer it waits for may need that P. These counts, shifts and the level's bounds (maxLevel,
// parkFirst) are tuning knobs (tuning.go): constants in a plain build, and
// in a chaos build values a fault plan chose, down to no busy round and no
// yield at all (park at once). No invariant of this file depends on their
// values: spinning only delays the parking protocol, which alone guarantees
// that no wakeup is lost.
//
// level is an adaptive hint kept per side of a channel (adapt). On this kind
// of machine a cache line takes tens of nanoseconds to move between cores, so
// a receiver that polls right behind a streaming sender steals the lines the
// sender writes on every value; waiting longer lets values pile up and move
// in bulk. But a request/response peer wants no busy wait at all (see
// adapt). The hint grows while waits end with more than one value (or free
// slot) ready, and shrinks while they end with exactly one; at parkFirst
// (below 0 by default) it means park first. Only one goroutine per side
// busy-waits at a time (spinState).

// spin backs off before attempt i+1 of an operation that would block.
func spin(i, level int) {
	if i < activeSpins {
		shift := spinShift + i // later rounds: short, whatever the level
		if i == 0 {
			shift = spinShift + max(level, 0) // the first round waits for a batch
		}
		busyWait(min(shift, maxShift))
		return
	}
	runtime.Gosched()
}

// busyWait waits 2^shift iterations of an empty loop: core's one busy wait,
// for a peer on another core that is about to finish (a spin round of a
// blocked operation here, a lost CAS on a ring index in ring.go, the last
// tasks of a group in Group.wait). The caller caps shift; it must not be
// negative. It inlines: its cost is the loop alone, about a cycle an
// iteration (2^12 iterations, maxShift's default, are about a microsecond).
//
// Why an empty loop. runtime.Gosched is the next step, not a shorter one:
// it goes through the scheduler and gives the P to another goroutine, which
// the spin policy does only after the busy rounds. The runtime's procyield
// (the PAUSE instruction) is internal to the runtime, and a PAUSE costs
// ten times more on some CPU models than on others, whereas an iteration of
// the loop costs about a cycle wherever it runs. The loop touches no memory,
// so it takes from the peer none of the cache lines it is writing. The
// compiler keeps an empty loop; the countdown bounds it.
func busyWait(shift int) {
	for j := 1 << shift; j > 0; j-- {
	}
}

// spinning reports whether attempt i should spin rather than park.
func spinning(i int) bool { return i < activeSpins+yieldSpins }

// spinState is one side of a channel (its senders, or its receivers) as
// the spin policy sees it. It lives on that side's cache line.
type spinState struct {
	level atomicInt32 // adaptive level, a hint (see above)
	// busy is 1 while one goroutine of the side busy-waits. Others of the
	// same side skip busy waiting and go straight to yielding: with more
	// goroutines than Ps, the peer they all wait for needs a P, and one
	// busy waiter per side is enough to catch a peer running on another P
	// (the Go runtime limits its spinning Ms the same way).
	busy atomicInt32
}

// adapt moves a side's spin level after a wait at level lv that ended in
// success, during the busy rounds or not: up if more was ready (the peer
// streams); down otherwise. A wait that outlasted the busy rounds and found
// exactly one value is the mark of request/response traffic, which can go
// down to level parkFirst: no busy rounds at all. There a parked waiter is
// woken onto its waker's P (the scheduler's runnext) and runs on the same
// core, as with Go channels, which on this kind of machine beats talking
// across cores, whose cache-line round trip ranges from about 90 to 360 ns
// as the host places its vCPUs. The level is a hint: concurrent updates
// may lose one another, harmlessly. (A level stored under other tuning,
// by a channel that outlived a chaos run, may lie outside [parkFirst,
// maxLevel]; it is read as the same hint, and adapt moves it back.)
func (st *spinState) adapt(lv int, busy, more bool) {
	switch {
	case more:
		st.level.Store(int32(min(max(lv, 0)+1, maxLevel)))
	case lv > parkFirst+1 || (lv == parkFirst+1 && !busy):
		st.level.Store(int32(lv - 1))
	}
}

// waiter is one parked goroutine. next and prev are guarded by the mutex of
// the queue the waiter is linked in; queued is true while it is linked.
type waiter struct {
	next, prev *waiter
	queued     bool
	token      chan struct{} // capacity 1; see invariant 2
}

var waiterPool = sync.Pool{New: func() any {
	return &waiter{token: make(chan struct{}, 1)}
}}

// waitq is a FIFO of parked goroutines. The zero value is an empty queue.
//
// A waitq is 16 bytes: the count of parked waiters, which the other side's
// fast path reads (wake), and a pointer to its waitList, the mutex and the
// list itself, which the first park allocates and installs (invariant 6).
// A queue nobody ever parks on costs no more than those 16 bytes.
type waitq struct {
	n    atomicInt32             // invariant 1
	list atomicPointer[waitList] // nil until the first park (invariant 6)
}

// waitList is the heavy part of a waitq: the waiters, linked in FIFO order.
// It is never freed while its queue lives, nor replaced.
type waitList struct {
	mu          mutex // guards first, last and the links of waiters
	first, last *waiter
}

// parked reports how many goroutines are parked in q (a snapshot).
func (q *waitq) parked() int { return int(q.n.Load()) }

// wake unparks up to k waiters in FIFO order. It costs one atomic load when
// nobody waits, which is the common case on the fast path.
func (q *waitq) wake(k int) {
	if q.n.Load() == 0 {
		return
	}
	q.wakeSlow(k)
}

func (q *waitq) wakeSlow(k int) {
	if plantedBugs && planted(fpBugLostWakeup) {
		return // PLANTED: the wakeups owed are skipped
	}
	l := q.list.Load()
	if l == nil {
		return // nobody ever parked on q; whoever parks later re-checks (invariant 6)
	}
	l.mu.Lock()
	var woken *waiter // unlinked waiters, chained through next
	for ; k > 0 && l.first != nil; k-- {
		w := l.first
		q.unlinkLocked(l, w)
		w.next = woken
		woken = w
	}
	l.mu.Unlock()
	for woken != nil {
		w := woken
		woken = w.next // read before the token: w may be reused at once
		w.next = nil
		w.token <- struct{}{} // never blocks: invariant 2
	}
}

// wakeAll unparks every waiter; Close uses it.
func (q *waitq) wakeAll() { q.wakeSlow(int(^uint(0) >> 1)) }

// waitList returns q's list, installing a new one if nobody parked on q
// before (invariant 6). This is the one allocation of parking, once per
// queue: 24 bytes.
func (q *waitq) waitList() *waitList {
	if l := q.list.Load(); l != nil {
		return l
	}
	l := new(waitList)
	if q.list.CompareAndSwap(nil, l) {
		return l
	}
	return q.list.Load() // another parker installed one first
}

func (q *waitq) linkLocked(l *waitList, w *waiter) {
	w.prev, w.next, w.queued = l.last, nil, true
	if l.last != nil {
		l.last.next = w
	} else {
		l.first = w
	}
	l.last = w
	q.n.Add(1)
	parkedTotal.Add(1)
}

func (q *waitq) unlinkLocked(l *waitList, w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		l.first = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		l.last = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	q.n.Add(-1)
	parkedTotal.Add(-1)
}

// leave takes w out of q after it stopped waiting for a reason of its own.
// If w is still linked it is unlinked and leave reports true. Otherwise a
// waker has already unlinked it and owes it a token; leave consumes that
// token (the waker is past its unlock, so it arrives at once; in the
// serialized mode, once the scheduler has run the waker: invariant 5) to
// restore invariant 2 and reports false.
func (q *waitq) leave(w *waiter) bool {
	l := q.list.Load() // not nil: w was linked in it (invariant 6)
	l.mu.Lock()
	if w.queued {
		q.unlinkLocked(l, w)
		l.mu.Unlock()
		return true
	}
	l.mu.Unlock()
	if stepMarkers { // invariant 5: the waker may not have sent it yet
		awaitStep(func() bool { return len(w.token) > 0 })
	}
	<-w.token
	return false
}

// park blocks the calling goroutine until a peer wakes it, ready() reports
// true, or ctx ends. ready must report whether the operation the caller waits
// for may now succeed (or fail for good, e.g. on Close); it is evaluated after
// the caller is linked (invariant 3). park returns ctx.Err() if ctx ended and
// nil otherwise; after nil the caller retries its operation.
//
// park allocates nothing in the steady state: waiters come from a pool, and
// ready does not escape. The first park on q allocates q's waitList, once
// (invariant 6). (A chaos build allocates the closure of its
// serialized wait, invariant 5, which escapes to the step/block hook.)
func (q *waitq) park(ctx context.Context, ready func() bool) error {
	failpoint.InjectCall(fpPark)
	w := waiterPool.Get().(*waiter)
	l := q.waitList()
	l.mu.Lock()
	q.linkLocked(l, w)
	l.mu.Unlock()
	failpoint.Inject(fpParkSpurious, func() {
		var spurious bool
		failpoint.InjectCall(fpParkSpurious, &spurious)
		if spurious { // as if woken: the caller retries (see ready below)
			q.leave(w)
			waiterPool.Put(w)
			failpoint.Return(nil)
		}
	})
	if ready() {
		// Whether or not a waker got to w first, the caller retries now,
		// which serves any wakeup meant for w.
		q.leave(w)
		waiterPool.Put(w)
		return nil
	}
	if stepMarkers { // the serialized mode (step.go): the episode's pool
		poolStep().handoff()
	} else {
		tasks.handoff() // a pool worker blocking here is a runner less (pool.go)
	}
	done := ctx.Done()
	if stepMarkers { // invariant 5: wait where the scheduler sees it, and take the token first
		awaitStep(func() bool { return len(w.token) > 0 || isClosed(done) })
		if len(w.token) > 0 {
			<-w.token
			waiterPool.Put(w)
			failpoint.InjectCall(fpWoken)
			return nil
		}
	}
	if done == nil {
		<-w.token
	} else {
		select {
		case <-w.token:
		case <-done:
			if plantedBugs && planted(fpBugCancelStaysLinked) {
				return ctx.Err() // PLANTED: w stays linked and counted; its waker's token goes to nobody
			}
			if !q.leave(w) {
				q.wake(1) // invariant 4: pass the consumed wakeup on
			}
			waiterPool.Put(w)
			return ctx.Err()
		}
	}
	waiterPool.Put(w)
	failpoint.InjectCall(fpWoken)
	return nil
}
