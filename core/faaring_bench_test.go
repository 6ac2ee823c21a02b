package core

// faaRing is an experiment of issue 16, not a channel flavor, and lives in
// a test file so that no build of core carries it: BenchmarkRing runs it
// beside Go channels and the Vyukov ring (ring.go) to see whether a
// fetch-and-add ring would be faster on this kind of machine. It is the
// ticket/turn ring (as in rigtorp/MPMCQueue; the fetch-and-add core of
// Morrison and Afek's CRQ, PPoPP 2013, and of Nikolaev's SCQ, DISC 2019):
// a sender takes position t with one tail.Add(1) and a receiver position h
// with one head.Add(1); neither ever retries a failed CAS. A taken position
// is a ticket that binds its taker to slot t&mask, where it waits for its
// turn. Slot sequence numbers read as in ring.go:
//
//	seq == 2p          the slot is free for the sender of position p
//	seq == 2p+1        the slot holds the value of position p
//	seq == 2(p+cap)    the value of p was consumed; free for position p+cap
//
// Invariants:
//
//  1. tail (without closedBit) is the number of tickets senders took, head
//     the number receivers took. Unlike ring.go's indices they are not
//     bounded by each other: tail may run ahead of head+cap (senders
//     waiting for room) and head ahead of tail (receivers waiting for
//     values), each waiter bound to the slot of its ticket.
//  2. The sender of ticket t writes slot t&mask only after it saw
//     seq == 2t (acquire), and publishes with seq.Store(2t+1) (release).
//     The receiver of ticket h reads the slot only after it saw
//     seq == 2h+1, and frees it with seq.Store(2(h+cap)). A slot's tickets
//     t, t+cap, t+2cap, ... are served in that order, one side at a time,
//     so each position is written once and read once.
//  3. Close takes the closing flag, then sets closedBit in tail with a CAS
//     of the value t it loaded, after storing t in closeAt; the CAS fails
//     if a sender took a ticket in between, and Close tries again. A
//     receiver that sees closedBit (sequentially consistent) therefore
//     sees the final closeAt. Tickets below closeAt were taken before
//     Close: their senders write them. A sender whose Add returns a value
//     with closedBit returns ErrClosed; its ticket is at or above closeAt
//     and nobody waits for it. A receiver whose ticket h is at or above
//     closeAt, once closedBit is set, returns ErrClosed: no sender will
//     write h.
//  4. No lost wakeup. A waiter for position p links itself in its side's
//     ticketq under p (n.Add) and only then re-checks p's slot; the peer
//     that makes the slot ready for p stores seq and only then loads n and
//     wakes the waiters linked under p (as in park.go, invariant 3). A
//     wake goes to the waiters that can proceed, not to the first parked.
//  5. Looking first (look, impl=faalook in BenchmarkRing). A sender waits,
//     holding no ticket, until the slot of the tail's position t is free
//     for t (seq >= 2t: free for t, or t already taken and written), and a
//     receiver until the slot of the head's position h holds h's value
//     (seq >= 2h+1); only then does it take a ticket, which is then
//     usually that position, and its slot ready. A goroutine that waits
//     for a full or empty ring then holds no ticket, so a peer never
//     waits behind it: it waits under p like a ticket's holder, and the
//     peer that makes p ready wakes both. A receiver that finds the ring
//     closed and h at or above closeAt returns ErrClosed with no ticket.
//
// What this prototype does not carry (the reasons it is not a flavor):
// a ticket cannot be given back, so a sender holding one at Close, or a
// Send or Recv holding one whose context ends, cannot return without
// leaving its peer of the same position waiting forever. Send and Recv
// therefore ignore ctx, and a Send that holds a ticket at Close (without
// look, any Send blocked for room; with look, one that lost a race for the
// position it looked at) stays blocked until a receiver frees its slot.
// There is no TrySend, TryRecv, batch, Len or failpoint. SCQ answers the
// binding with a receiver that finds its slot empty marking it unsafe (a
// cycle bump the late sender sees, and skips to a new ticket) and a
// threshold counter that bounds the receivers' empty passes; both cost
// atomic writes on the slot, so this ring, which has none, bounds what a
// fetch-and-add ring can gain here. docs/channels.md has the measurements
// ("Fetch-and-add rings") and why this stays an experiment.
//
// Layout: as ring.go's, two halves a cacheLine apart; each side's waiters
// are in the other side's half (the peer that wakes them loads n per
// operation).

import (
	"context"
	"math/bits"
	"sync"
	"unsafe"
)

type faaRing[T any] struct {
	// The senders' half: tail is written by every send.
	tail   atomicUint64 // tickets taken | closedBit; Add by senders, CAS by Close
	sslots []slot[T]
	smask  uint64
	recvq  ticketq   // receivers waiting for a value: every send loads recvq.n
	sspin  spinState // senders' spin state (park.go)
	sa, sb uint8     // the spread of positions over lines (slotAt)
	_      [cacheLine - faaSendSize]byte

	// The receivers' half: head is written by every receive.
	head    atomicUint64 // tickets taken; Add by receivers
	rslots  []slot[T]
	rmask   uint64
	sendq   ticketq // senders waiting for room: every receive loads sendq.n
	rspin   spinState
	ra, rb  uint8        // as sa, sb
	closeAt atomicUint64 // tail when Close set closedBit (invariant 3)
	closing atomicInt32  // 1 once the first Close began
	look    bool         // wait for a ready slot before taking a ticket (invariant 5)
}

const faaSendSize = unsafe.Sizeof(atomicUint64{}) + unsafe.Sizeof([]byte(nil)) + 8 + unsafe.Sizeof(ticketq{}) + unsafe.Sizeof(spinState{}) + 8

// newFAARing returns a faaRing of capacity rounded up to a power of two.
// With look, Send and Recv wait holding no ticket until the slot at their
// side's index is ready, and only then take a ticket (invariant 5). With
// spread, consecutive positions go to slots on different 64-byte lines
// (slotAt), as SCQ's cache_remap does.
func newFAARing[T any](capacity int, look, spread bool) *faaRing[T] {
	r := &faaRing[T]{look: look}
	n := roundCapacity("newFAARing", capacity)
	slots := make([]slot[T], n)
	r.sslots, r.smask = slots, n-1
	r.rslots, r.rmask = slots, n-1
	// Position i goes to slot (i mod L)*k + i/L: L lines of k slots, k
	// a power of two. Without spread (a = 0, L = n) that is slot i.
	a, b := 0, bits.Len64(n-1)
	if sz := unsafe.Sizeof(slot[T]{}); spread && sz <= lineSize/2 && sz&(sz-1) == 0 {
		k := uint64(lineSize / sz)
		for a = 0; 1<<a < k && 1<<(a+1) <= n; a++ {
		}
		b -= a
	}
	r.sa, r.sb, r.ra, r.rb = uint8(a), uint8(b), uint8(a), uint8(b)
	for i := range n {
		r.sendSlot(i).seq.Store(2 * i)
	}
	return r
}

// sendSlot and recvSlot return the slot of position p, each from its side's
// half of the header.
func (r *faaRing[T]) sendSlot(p uint64) *slot[T] {
	i := p & r.smask
	return &r.sslots[(i&(1<<r.sb-1))<<r.sa|i>>r.sb]
}

func (r *faaRing[T]) recvSlot(p uint64) *slot[T] {
	i := p & r.rmask
	return &r.rslots[(i&(1<<r.rb-1))<<r.ra|i>>r.rb]
}

// Send puts v in the ring, waiting for room (invariant 2). It returns
// ErrClosed if Close came first. ctx is not consulted (see the file's
// comment). Any number of goroutines may call it at once.
func (r *faaRing[T]) Send(_ context.Context, v T) error {
	if r.look {
		r.waitRoom()
	}
	t := r.tail.Add(1) - 1
	if t&closedBit != 0 {
		return ErrClosed // invariant 3: nobody waits for this ticket
	}
	s := r.sendSlot(t)
	if s.seq.Load() != 2*t {
		lv, busy := waitTurn(&r.sendq, &r.sspin, t, func() bool { return s.seq.Load() == 2*t })
		r.sspin.adapt(lv, busy, r.sendSlot(t+1).seq.Load() == 2*(t+1))
	}
	s.val = v
	s.seq.Store(2*t + 1) // publish
	r.recvq.wake(t)      // invariant 4
	return nil
}

// waitRoom waits, holding no ticket, until the slot at the tail was free
// for the tail's position, or the ring is closed (invariant 5).
func (r *faaRing[T]) waitRoom() {
	for {
		t := r.tail.Load()
		s := r.sendSlot(t)
		if t&closedBit != 0 || s.seq.Load() >= 2*t {
			return
		}
		lv, busy := waitTurn(&r.sendq, &r.sspin, t, func() bool {
			return s.seq.Load() >= 2*t || r.tail.Load()&closedBit != 0
		})
		r.sspin.adapt(lv, busy, r.sendSlot(t+1).seq.Load() >= 2*(t+1))
	}
}

// Recv takes the value of its ticket, waiting for it (invariant 2), or
// returns ErrClosed once the ring is closed and its ticket will never be
// written (invariant 3). Any number of goroutines may call it at once.
func (r *faaRing[T]) Recv(_ context.Context) (T, error) {
	var zero T
	if r.look && !r.waitValue() {
		return zero, ErrClosed
	}
	h := r.head.Add(1) - 1
	s := r.recvSlot(h)
	if s.seq.Load() != 2*h+1 {
		gone := func() bool { return r.tail.Load()&closedBit != 0 && h >= r.closeAt.Load() }
		lv, busy := waitTurn(&r.recvq, &r.rspin, h, func() bool { return s.seq.Load() == 2*h+1 || gone() })
		if s.seq.Load() != 2*h+1 {
			return zero, ErrClosed // gone: invariant 3
		}
		r.rspin.adapt(lv, busy, r.recvSlot(h+1).seq.Load() == 2*(h+1)+1)
	}
	v := s.val
	s.val = zero                       // do not retain the value for the GC
	s.seq.Store(2 * (h + r.rmask + 1)) // free for the next lap
	r.sendq.wake(h + r.rmask + 1)      // invariant 4
	return v, nil
}

// waitValue waits, holding no ticket, until the slot at the head held the
// head's value (invariant 5). It reports false if the ring is closed and
// every ticket senders took before Close was taken by receivers.
func (r *faaRing[T]) waitValue() bool {
	for {
		h := r.head.Load()
		s := r.recvSlot(h)
		if s.seq.Load() >= 2*h+1 {
			return true
		}
		if t := r.tail.Load(); t&closedBit != 0 {
			return h < r.closeAt.Load()
		}
		lv, busy := waitTurn(&r.recvq, &r.rspin, h, func() bool {
			return s.seq.Load() >= 2*h+1 || r.tail.Load()&closedBit != 0
		})
		r.rspin.adapt(lv, busy, r.recvSlot(h+1).seq.Load() >= 2*(h+1)+1)
	}
}

// Close sets closedBit (invariant 3) and wakes every parked goroutine: a
// receiver whose ticket will not be written returns ErrClosed, one with no
// ticket (invariant 5) too, or takes one if values are left, and a sender
// with no ticket takes one and finds closedBit. It returns ErrClosed if the
// ring was already closed.
func (r *faaRing[T]) Close() error {
	if r.closing.Load() != 0 || !r.closing.CompareAndSwap(0, 1) {
		return ErrClosed
	}
	for {
		t := r.tail.Load()
		r.closeAt.Store(t)
		if r.tail.CompareAndSwap(t, t|closedBit) {
			break
		}
	}
	r.recvq.wakeAll()
	r.sendq.wakeAll()
	return nil
}

// waitTurn waits until ready() reports true, with the spin policy of
// ops.go's sendSlow and recvSlow (busy rounds for one goroutine of the side
// at a time, then yields), then parks on q under position p: the peer that
// makes position p's slot ready wakes the waiters of p (invariant 4). It
// returns the side's spin level it started at and whether it ended in the
// busy rounds, for spinState.adapt.
func waitTurn(q *ticketq, st *spinState, p uint64, ready func() bool) (int, bool) {
	lv := int(st.level.Load())
	i, busy := startSpin(st)
	for ; !ready(); i++ {
		if i == activeSpins && busy {
			busy = endSpin(st, busy)
		}
		if spinning(i) {
			spin(i, lv)
		} else {
			q.park(p, ready)
		}
	}
	endSpin(st, busy)
	return lv, i <= activeSpins
}

// ticketq is a set of parked goroutines, each waiting for the slot of one
// ticket. The zero value is empty; the first park allocates its list.
type ticketq struct {
	n    atomicInt32 // waiters linked; written under the list's mu
	list atomicPointer[ticketList]
}

type ticketList struct {
	mu    mutex // guards first and the links
	first *ticketWaiter
}

type ticketWaiter struct {
	next   *ticketWaiter
	ticket uint64
	queued bool
	token  chan struct{} // capacity 1; empty while linked or pooled
}

var ticketWaiterPool = sync.Pool{New: func() any {
	return &ticketWaiter{token: make(chan struct{}, 1)}
}}

func (q *ticketq) ticketList() *ticketList {
	if l := q.list.Load(); l != nil {
		return l
	}
	l := new(ticketList)
	if q.list.CompareAndSwap(nil, l) {
		return l
	}
	return q.list.Load()
}

// park blocks until the waker of ticket wakes it or ready() reports true
// after it linked itself (invariant 4).
func (q *ticketq) park(ticket uint64, ready func() bool) {
	w := ticketWaiterPool.Get().(*ticketWaiter)
	w.ticket = ticket
	l := q.ticketList()
	l.mu.Lock()
	w.next, w.queued = l.first, true
	l.first = w
	q.n.Add(1)
	l.mu.Unlock()
	if !ready() {
		tasks.handoff() // a pool worker blocking here is a runner less (pool.go)
		if stepMarkers {
			awaitStep(func() bool { return len(w.token) > 0 })
		}
		<-w.token
		ticketWaiterPool.Put(w)
		return
	}
	l.mu.Lock()
	linked := w.queued
	if linked {
		q.unlinkLocked(l, w)
	}
	l.mu.Unlock()
	if !linked { // a waker unlinked w and owes it its token
		if stepMarkers {
			awaitStep(func() bool { return len(w.token) > 0 })
		}
		<-w.token
	}
	ticketWaiterPool.Put(w)
}

func (q *ticketq) unlinkLocked(l *ticketList, w *ticketWaiter) {
	for p := &l.first; *p != nil; p = &(*p).next {
		if *p == w {
			*p = w.next
			w.next, w.queued = nil, false
			q.n.Add(-1)
			return
		}
	}
	panic("core: ticketq: waiter not linked")
}

// wake unparks the waiter of ticket, if one is linked. It costs one atomic
// load when nobody waits.
func (q *ticketq) wake(ticket uint64) {
	if q.n.Load() == 0 {
		return
	}
	q.wakeIf(func(w *ticketWaiter) bool { return w.ticket == ticket })
}

// wakeAll unparks every waiter; Close uses it.
func (q *ticketq) wakeAll() { q.wakeIf(func(*ticketWaiter) bool { return true }) }

func (q *ticketq) wakeIf(match func(*ticketWaiter) bool) {
	l := q.list.Load()
	if l == nil {
		return
	}
	var woken *ticketWaiter
	l.mu.Lock()
	for p := &l.first; *p != nil; {
		w := *p
		if !match(w) {
			p = &w.next
			continue
		}
		*p = w.next
		w.queued = false
		q.n.Add(-1)
		w.next = woken
		woken = w
	}
	l.mu.Unlock()
	for woken != nil {
		w := woken
		woken = w.next // read before the token: w may be reused at once
		w.next = nil
		w.token <- struct{}{}
	}
}

// Cap returns the number of slots.
func (r *faaRing[T]) Cap() int { return int(r.rmask + 1) }
