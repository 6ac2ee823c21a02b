package core

// MPSC: many senders, one receiver. Senders reserve positions as in Vyukov's
// bounded MPMC queue (ring.go), write the value and then mark the slot
// published; the single receiver consumes in order and frees slots the way
// the SPSC receiver does, by storing head. So a receive costs one atomic
// write instead of the two of ring.go (claim and free).
//
// Publication bits: instead of a sequence number per slot (8 bytes, as much
// as an int value), a slot has one bit of bits. Position p is published
// when bit p&mask equals published(p): 1 on even laps, 0 on odd ones, where
// lap(p) = p/cap. The sender of p flips the bit from the previous lap's
// value to that one with an atomic Or (even laps) or And (odd laps), which
// leaves the other senders' bits in the word as they are. Every bit starts
// at 0, which reads as the lap before the first being published. Only
// senders write bits; the receiver only reads them.
//
// Invariants:
//
//  1. tail (without closedBit) counts positions reserved by senders, head
//     positions consumed by the receiver; head <= tail <= head+cap.
//  2. A sender reserves position p by CAS(tail, p, p+1), only after it saw
//     p < head+cap (through cachedHead or a fresh load of head): the slot's
//     previous value, of position p-cap, has been consumed. It then owns the
//     slot, writes the value and publishes it by flipping its bit to
//     published(p) (release).
//  3. The receiver reads position h only after it saw bit h&mask equal to
//     published(h) (acquire), then (for pointerful T) zeroes the slot and
//     frees it with head.Store(h+1) (release), which the next reserving
//     sender loads. While the receiver is at h, bit h&mask holds
//     published(h-cap) = 1-published(h) until position h is published:
//     position h-cap was published (flipping the bit to that value) before
//     the receiver consumed it, and position h+cap cannot be reserved
//     before head passes h (invariant 2). So a bit seen equal to
//     published(h) is h's own publication, never a stale lap's.
//  4. cachedHead is a lower bound of head: it is stored only with values of
//     head that some sender loaded, and head never decreases. A sender that
//     sees room against cachedHead sees room against head.
//  5. Close sets closedBit in tail with an atomic Or; reservations are CASes
//     on the whole word and fail after it (ring.go, invariant 4).
//  6. A Recv linearizes at its store of head, a Send at its CAS. TrySend
//     reports ErrFull only if, after loading a fresh head and finding no
//     room for position t, it finds tail still at t: at that instant the
//     ring held tail-head = cap values. (A stale t is not enough: other
//     senders and the receiver may have moved head past it, and t-head then
//     wraps around.) The
//     receiver's TryRecv waits for a sender between its CAS and its publish
//     rather than report ErrEmpty (ring.go, invariant 5).
//
// Layout: three 64-byte lines (lineSize, chan.go), as SPSC's: the senders'
// line (tail, cachedHead, the receive queue and, for a capacity up to 64,
// the one word of bits: a send writes tail and bits, so they travel
// together), the read-mostly line (vals, bits, mask), and the receiver's
// line (head, rhead, the send queue), 128 bytes from the senders'. The
// struct is 192 bytes; with its values, a channel of capacity 1 of int
// takes 200 bytes, one of capacity 64 takes 704 (a Go channel: 128 and
// 640); a capacity above 64 adds cap/8 bytes of bits.

import (
	"context"

	"github.com/pingcap/failpoint"
)

// MPSC is a bounded channel for any number of concurrent senders and one
// receiving goroutine at a time; Close, Len and Cap may be called from any
// goroutine. A send costs two atomic writes (reserve, publish), a receive one.
//
// Create it with [NewMPSC]; the zero value is not usable. An MPSC must not be
// copied after first use. Concurrent receivers are a data race and corrupt
// the channel; use [MPMC] for them.
type MPSC[T any] struct {
	// Senders' line: each send writes tail and a bit of bits0 (when bits
	// is bits0) and reads recvq.n; the receiver writes recvq only to park.
	tail       atomicUint64    // reserved count | closedBit (invariants 1, 2, 5)
	cachedHead atomicUint64    // a lower bound of head (invariant 4)
	sspin      spinState       // senders' spin state (park.go)
	recvq      waitq           // the parked receiver
	bits0      [1]atomicUint64 // bits for a capacity up to 64
	_          [lineSize - 48]byte

	// Read-mostly line: written at construction only.
	vals []T
	bits []atomicUint64 // publication bits, one per slot: bits0[:] or its own array
	mask uint64
	zero bool // T has pointers: zero consumed slots
	_    [lineSize - 57]byte

	// Receiver's line.
	head  atomicUint64 // consumed count, stored by the receiver (invariant 3)
	rhead uint64       // the receiver's copy of head
	rspin spinState    // the receiver's spin state (park.go)
	sendq waitq        // parked senders
	_     [lineSize - 40]byte
}

// NewMPSC returns an MPSC channel holding up to capacity values, rounded up
// to a power of two. It panics if capacity is less than 1 or more than 2^40.
func NewMPSC[T any](capacity int) *MPSC[T] {
	n := roundCapacity("NewMPSC", capacity)
	c := &MPSC[T]{vals: make([]T, n), mask: n - 1, zero: hasPointers[T]()}
	// Every bit starts at 0, published(p-cap) for every position p of the
	// first lap: nothing reads as published before a sender publishes it.
	if n <= 64 {
		c.bits = c.bits0[:]
	} else {
		c.bits = make([]atomicUint64, n/64)
	}
	return c
}

// published reports whether position p is published (invariant 3). Only
// the receiver may ask, for a position at or after its own.
func (c *MPSC[T]) published(p uint64) bool {
	i := p & c.mask
	set := c.bits[i>>6].Load()>>(i&63)&1 != 0
	return set == (p&(c.mask+1) == 0) // 1 on even laps, 0 on odd ones
}

// publish publishes positions p to p+k-1, whose values the calling sender
// wrote (invariant 2): one Or or And per run of them that shares a word
// and a lap.
func (c *MPSC[T]) publish(p, k uint64) {
	for k > 0 {
		i := p & c.mask
		b := i & 63
		n := min(k, 64-b, c.mask+1-i) // up to the word's end and the lap's
		m := ^uint64(0) >> (64 - n) << b
		if p&(c.mask+1) == 0 {
			c.bits[i>>6].Or(m)
		} else {
			c.bits[i>>6].And(^m)
		}
		p, k = p+n, k-n
	}
}

// room reports how many positions from t on are free, reloading head when
// cachedHead says fewer than want.
func (c *MPSC[T]) room(t, want uint64) uint64 {
	capacity := c.mask + 1
	h := c.cachedHead.Load()
	if t-h >= capacity || capacity-(t-h) < want {
		h = c.head.Load()
		c.cachedHead.Store(h) // invariant 4: h is a value of head
	}
	if t-h >= capacity {
		return 0
	}
	return capacity - (t - h)
}

func (c *MPSC[T]) trySend(v T) error {
	for {
		t := c.tail.Load()
		if t&closedBit != 0 {
			return ErrClosed
		}
		if plantedBugs && planted(fpBugStaleFull) && c.bugTrySendFullOnStaleTail(t) {
			return errWouldBlock
		}
		if c.room(t, 1) == 0 {
			if c.tail.Load() != t {
				continue // t went stale: head may have passed it (invariant 6)
			}
			return errWouldBlock
		}
		if c.tail.CompareAndSwap(t, t+1) { // invariant 2: reserve
			failpoint.InjectCall(fpSendReserved)
			c.vals[t&c.mask] = v
			c.publish(t, 1)
			return nil
		}
	}
}

func (c *MPSC[T]) trySendBatch(vs []T) (int, error) {
	for {
		t := c.tail.Load()
		if t&closedBit != 0 {
			return 0, ErrClosed
		}
		k := min(c.room(t, uint64(len(vs))), uint64(len(vs)))
		if k == 0 {
			if c.tail.Load() != t {
				continue // t went stale (invariant 6)
			}
			return 0, errWouldBlock
		}
		if c.tail.CompareAndSwap(t, t+k) {
			for j := uint64(0); j < k; j++ {
				c.vals[(t+j)&c.mask] = vs[j]
			}
			c.publish(t, k)
			return int(k), nil
		}
	}
}

// waitPublished reports whether position h is published, waiting for a
// sender that reserved it to publish it (invariant 6). It returns
// errWouldBlock if the ring is empty and ErrClosed if it is closed and
// drained.
func (c *MPSC[T]) waitPublished(h uint64) error {
	for i := 0; ; i++ {
		if c.published(h) {
			return nil
		}
		t := c.tail.Load()
		if t&^closedBit == h {
			if t&closedBit != 0 {
				return ErrClosed
			}
			return errWouldBlock
		}
		backoff(i)
	}
}

func (c *MPSC[T]) tryRecv() (T, error) {
	h := c.rhead
	if err := c.waitPublished(h); err != nil {
		var zero T
		return zero, err
	}
	i := h & c.mask
	v := c.vals[i]
	failpoint.InjectCall(fpRecvClaimed)
	if c.zero {
		var zero T
		c.vals[i] = zero
	}
	c.rhead = h + 1
	c.head.Store(h + 1) // invariant 3: free
	return v, nil
}

func (c *MPSC[T]) tryRecvBatch(dst []T) (int, error) {
	h := c.rhead
	if err := c.waitPublished(h); err != nil {
		return 0, err
	}
	k := uint64(1)
	for n := min(uint64(len(dst)), c.mask+1); k < n && c.published(h+k); k++ {
	}
	var zero T
	for j := uint64(0); j < k; j++ {
		i := (h + j) & c.mask
		dst[j] = c.vals[i]
		if c.zero {
			c.vals[i] = zero
		}
	}
	c.rhead = h + k
	c.head.Store(h + k)
	return int(k), nil
}

func (c *MPSC[T]) canSend() bool {
	t := c.tail.Load()
	if plantedBugs && t&closedBit != 0 && planted(fpBugRecheckMissesClose) {
		t &^= closedBit // PLANTED: Close goes unseen
	}
	return t&closedBit != 0 || c.head.Load()+c.mask+1 > t
}

func (c *MPSC[T]) canRecv() bool {
	t := c.tail.Load()
	if plantedBugs && t&closedBit != 0 && planted(fpBugRecheckMissesClose) {
		t &^= closedBit // PLANTED: Close goes unseen
	}
	return t != c.rhead
}

// peekSend is canSend: a waiting sender polls head, which the receiver
// writes per value. peekRecv polls the slot the receiver waits for, not
// tail, which senders write per value; it does not notice Close, which the
// parking re-check sees a microsecond or so later.
func (c *MPSC[T]) peekSend() bool { return c.canSend() }
func (c *MPSC[T]) peekRecv() bool { return c.published(c.rhead) }

// moreRoom and moreValues tell the spin levels whether the other side got
// ahead while this one waited.
func (c *MPSC[T]) moreRoom() bool   { return c.room(c.tail.Load()&^closedBit, 1) > 0 }
func (c *MPSC[T]) moreValues() bool { return c.peekRecv() }

// Send implements [Chan.Send]. Any number of goroutines may call it at once.
func (c *MPSC[T]) Send(ctx context.Context, v T) error {
	if err := c.trySend(v); err != errWouldBlock {
		if err == nil {
			c.recvq.wake(1)
		}
		return err
	}
	return sendSlow(ctx, c, v, &c.sspin, &c.sendq, &c.recvq)
}

// TrySend implements [Chan.TrySend]. Any number of goroutines may call it at
// once.
func (c *MPSC[T]) TrySend(v T) error {
	return trySendResult(c.trySend(v), &c.recvq)
}

// SendBatch implements [Chan.SendBatch]. Any number of goroutines may call it
// at once; each run of values that fits is reserved with one CAS.
func (c *MPSC[T]) SendBatch(ctx context.Context, vs []T) (int, error) {
	return sendBatch(ctx, c, vs, &c.sendq, &c.recvq)
}

// Recv implements [Chan.Recv]. It must not be called concurrently with
// another Recv, TryRecv or RecvBatch.
func (c *MPSC[T]) Recv(ctx context.Context) (T, error) {
	failpoint.Inject(fpContractRecv, func() {
		failpoint.InjectCall(fpContractRecv, any(c), true)
		defer func() { failpoint.InjectCall(fpContractRecv, any(c), false) }()
	})
	if v, err := c.tryRecv(); err != errWouldBlock {
		if err == nil {
			c.sendq.wake(1)
		}
		return v, err
	}
	if plantedBugs && planted(fpBugContractLeftEarly) {
		failpoint.InjectCall(fpContractRecv, any(c), false) // PLANTED: leaves the contract check before it waits
	}
	return recvSlow[T](ctx, c, &c.rspin, &c.recvq, &c.sendq)
}

// TryRecv implements [Chan.TryRecv]. It must not be called concurrently with
// another Recv, TryRecv or RecvBatch.
func (c *MPSC[T]) TryRecv() (T, error) {
	failpoint.Inject(fpContractRecv, func() {
		failpoint.InjectCall(fpContractRecv, any(c), true)
		defer func() { failpoint.InjectCall(fpContractRecv, any(c), false) }()
	})
	v, err := c.tryRecv()
	return v, tryRecvResult(err, &c.sendq)
}

// RecvBatch implements [Chan.RecvBatch]. It must not be called concurrently
// with another Recv, TryRecv or RecvBatch.
func (c *MPSC[T]) RecvBatch(ctx context.Context, dst []T) (int, error) {
	failpoint.Inject(fpContractRecv, func() {
		failpoint.InjectCall(fpContractRecv, any(c), true)
		defer func() { failpoint.InjectCall(fpContractRecv, any(c), false) }()
	})
	return recvBatch(ctx, c, dst, &c.recvq, &c.sendq)
}

// Close implements [Chan.Close]. It may be called from any goroutine.
func (c *MPSC[T]) Close() error { return closeRing(&c.tail, &c.recvq, &c.sendq) }

// Len implements [Chan.Len]. It may be called from any goroutine.
func (c *MPSC[T]) Len() int { return ringLen(&c.head, &c.tail, c.mask) }

// Cap implements [Chan.Cap].
func (c *MPSC[T]) Cap() int { return int(c.mask + 1) }
