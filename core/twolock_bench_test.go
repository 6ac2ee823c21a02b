package core

// Two-lock channels: a benchmark-only experiment for issue 16
// (docs/channels.md, "Alternatives tried for SPMC and MPMC").
//
// A channel for any number of senders and receivers made of one SPSC ring
// (spsc.go) and two locks, one per side: a Send takes the senders' lock
// around the inner Send, a Recv the receivers' lock around the inner Recv.
// One goroutine per side at a time is all SPSC needs (spsc.go, invariant
// 4): the lock's unlock happens before the next holder's lock, so the next
// holder sees the side's private fields current. A holder that finds the
// ring full (empty) blocks inside the inner operation, lock held, and the
// rest of its side waits for the lock. 1p1c costs an SPSC operation and an
// uncontended lock and unlock; same-side contention waits on the lock, and
// a lock that parks hands its waiter to the unlocker's P (the runtime's
// runnext), as Go channels do, instead of bouncing a ring index between
// cores.
//
// Invariants (beyond spsc.go's):
//
//  1. At most one goroutine is inside the inner Send, and at most one
//     inside the inner Recv: each is called only with its side's lock held.
//  2. FIFO per channel, hence per sender: the inner ring is FIFO, and the
//     senders' lock serializes the sends, so the order of the sends'
//     returns is the order of the values in the ring.
//  3. Close needs no lock: the inner Close is callable from any goroutine.
//     A holder blocked in the inner Send or Recv is woken by it; the
//     goroutines waiting for a lock then get ErrClosed (senders) or drain
//     (receivers) one by one.
//
// The lock kinds:
//
//   - twoLockMutex: sync.Mutex (spins a few rounds while the holder runs
//     on another P, then parks on a runtime semaphore). Not context-aware:
//     a sender waiting for the lock behind a holder blocked on a full ring
//     cannot be cancelled.
//   - twoLockPark with spins 0: parkLock, one CAS then park on a core
//     waitq (park.go); context-aware.
//   - twoLockPark with twoLockSpins: the same lock, which busy-waits up to
//     about a microsecond (the cross-core round trip of the development
//     VM) before it parks.
//
// Layout: the senders' lock and the receivers' lock are a line pair
// (cacheLine) apart, each beside the side's copy of the inner pointer.

import (
	"context"
	"sync"
	"unsafe"
)

// parkLock is a context-aware lock whose waiters park on a core waitq. The
// zero value is unlocked. held is 1 while the lock is held. No wakeup is
// lost (park.go, invariant 3): unlock stores held=0 and then loads q.n; a
// waiter links itself (q.n.Add) and then re-checks held. A waiter whose
// context ends passes a wakeup it consumed on (park.go, invariant 4).
// Barging is allowed: a woken waiter competes with arrivals and may park
// again.
type parkLock struct {
	held atomicInt32
	q    waitq
}

// free is the parking re-check: may a CAS succeed now?
func (l *parkLock) free() bool { return l.held.Load() == 0 }

// lock takes l, busy-waiting up to spins rounds (round i: 2^(9+i) loop
// iterations) before it parks, or returns ctx.Err() if ctx ends first.
func (l *parkLock) lock(ctx context.Context, spins int) error {
	for i := 0; ; i++ {
		if l.held.Load() == 0 && l.held.CompareAndSwap(0, 1) {
			return nil
		}
		if i < spins {
			busyWait(min(9+i, maxShift))
			continue
		}
		if err := l.q.park(ctx, l.free); err != nil {
			return err
		}
	}
}

func (l *parkLock) unlock() {
	l.held.Store(0)
	l.q.wake(1)
}

// twoLockSpins is twoLockSpin's number of busy rounds: 2^9+2^10+2^11
// iterations, about a microsecond here (park.go, busyWait).
const twoLockSpins = 3

type twoLockMutex struct {
	s      *SPSC[int] // the inner ring, as the senders see it
	sendMu sync.Mutex
	_      [cacheLine - 16]byte
	r      *SPSC[int] // the same ring, as the receivers see it
	recvMu sync.Mutex
}

func newTwoLockMutex(capacity int) *twoLockMutex {
	in := NewSPSC[int](capacity)
	return &twoLockMutex{s: in, r: in}
}

func (c *twoLockMutex) Send(ctx context.Context, v int) error {
	c.sendMu.Lock() // not context-aware
	err := c.s.Send(ctx, v)
	c.sendMu.Unlock()
	return err
}

func (c *twoLockMutex) Recv(ctx context.Context) (int, error) {
	c.recvMu.Lock()
	v, err := c.r.Recv(ctx)
	c.recvMu.Unlock()
	return v, err
}

func (c *twoLockMutex) Close() error { return c.s.Close() }

// twoLockPark is the two-lock channel with parkLocks; spins is 0 (park at
// once) or twoLockSpins.
type twoLockPark struct {
	s      *SPSC[int] // the inner ring, as the senders see it
	sspins int        // busy rounds before parking, senders' copy
	sendMu parkLock
	_      [cacheLine - 16 - unsafe.Sizeof(parkLock{})]byte
	r      *SPSC[int]
	rspins int
	recvMu parkLock
}

func newTwoLockPark(capacity, spins int) *twoLockPark {
	in := NewSPSC[int](capacity)
	return &twoLockPark{s: in, r: in, sspins: spins, rspins: spins}
}

func (c *twoLockPark) Send(ctx context.Context, v int) error {
	if err := c.sendMu.lock(ctx, c.sspins); err != nil {
		return err
	}
	err := c.s.Send(ctx, v)
	c.sendMu.unlock()
	return err
}

func (c *twoLockPark) Recv(ctx context.Context) (int, error) {
	if err := c.recvMu.lock(ctx, c.rspins); err != nil {
		return 0, err
	}
	v, err := c.r.Recv(ctx)
	c.recvMu.unlock()
	return v, err
}

func (c *twoLockPark) Close() error { return c.s.Close() }
