package core

// MPSC: many senders, one receiver. Senders reserve positions as in Vyukov's
// bounded MPMC queue (ring.go) and publish each slot with its own sequence
// number; the single receiver consumes in order and frees slots the way the
// SPSC receiver does, by storing head. So a receive costs one atomic write
// instead of the two of ring.go (claim and free).
//
// Slot sequence numbers: seq == p+1 means the slot holds the value of
// position p. A receiver at position h waits for seq == h+1; a stale seq from
// an earlier lap never equals it.
//
// Invariants:
//
//  1. tail (without closedBit) counts positions reserved by senders, head
//     positions consumed by the receiver; head <= tail <= head+cap.
//  2. A sender reserves position p by CAS(tail, p, p+1), only after it saw
//     p < head+cap (through cachedHead or a fresh load of head): the slot's
//     previous value, of position p-cap, has been consumed. It then owns the
//     slot, writes the value and publishes it with seq.Store(p+1) (release).
//  3. The receiver reads position h only after it saw seq == h+1 (acquire),
//     then (for pointerful T) zeroes the slot and frees it with
//     head.Store(h+1) (release), which the next reserving sender loads.
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
//  7. A blocking Recv waits on its own slot (ring.go, invariant 6): its
//     first attempt (recv with own set) does not load tail when the slot
//     at rhead is unpublished, unless Close set rclosed (after it marked
//     tail), and does not wait for a sender in flight; it goes to the slow
//     path, which polls the slot (peekRecv) and re-checks tail only before
//     it parks (canRecv).
//
// Layout: three 64-byte lines (lineSize, chan.go), as SPSC's: the senders'
// line (tail, cachedHead, and the receive queue, whose count a sender reads
// per send), the read-mostly line (slots, mask), and the receiver's line
// (head, rhead, the send queue), 128 bytes from the senders'. The struct is
// 192 bytes; with its slots, a channel of capacity 1 of int takes 208
// bytes, one of capacity 64 takes 1216 (a Go channel: 128 and 640): a slot
// is the value and its 8-byte sequence number. (Commit 18b034f replaced the
// sequence numbers by one publication bit per slot, 704 bytes at capacity
// 64, but the one word of bits all sides touch halved the throughput of two
// senders at that capacity: issue 16.)

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
	// Senders' line: each send writes tail and reads recvq.n; the receiver
	// writes recvq only to park.
	tail       atomicUint64 // reserved count | closedBit (invariants 1, 2, 5)
	cachedHead atomicUint64 // a lower bound of head (invariant 4)
	sspin      spinState    // senders' spin state (park.go)
	recvq      waitq        // the parked receiver
	_          [lineSize - 40]byte

	// Read-mostly line: written at construction only.
	slots []mpscSlot[T]
	mask  uint64
	zero  bool // T has pointers: zero consumed slots
	_     [lineSize - 33]byte

	// Receiver's line: the receiver writes head on every receive and reads
	// sendq.n; senders write sendq only to park.
	head  atomicUint64 // consumed count, stored by the receiver (invariant 3)
	rhead uint64       // the receiver's copy of head
	rspin spinState    // the receiver's spin state (park.go)
	sendq waitq        // parked senders
	// rclosed is set by Close after it marked tail: a hint, on the
	// receiver's line, that a Recv finding no value should load tail
	// (invariant 7).
	rclosed atomicBool
	_       [lineSize - 44]byte
}

type mpscSlot[T any] struct {
	seq atomicUint64 // position+1 once published (invariant 2)
	val T
}

// NewMPSC returns an MPSC channel holding up to capacity values, rounded up
// to a power of two. It panics if capacity is less than 1 or more than 2^40.
func NewMPSC[T any](capacity int) *MPSC[T] {
	n := roundCapacity("NewMPSC", capacity)
	// Every seq starts at 0, below p+1 for any position p: nothing reads
	// as published before a sender publishes it.
	return &MPSC[T]{slots: make([]mpscSlot[T], n), mask: n - 1, zero: hasPointers[T]()}
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
			s := &c.slots[t&c.mask]
			s.val = v
			s.seq.Store(t + 1) // publish
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
				s := &c.slots[(t+j)&c.mask]
				s.val = vs[j]
				s.seq.Store(t + j + 1)
			}
			return int(k), nil
		}
	}
}

// waitPublished reports whether position h is published, waiting for a
// sender that reserved it to publish it (invariant 6). It returns
// errWouldBlock if the ring is empty and ErrClosed if it is closed and
// drained.
func (c *MPSC[T]) waitPublished(h uint64, own bool) error {
	for i := 0; ; i++ {
		if c.slots[h&c.mask].seq.Load() == h+1 {
			return nil
		}
		if own && !c.rclosed.Load() {
			return errWouldBlock // invariant 7
		}
		t := c.tail.Load()
		if t&^closedBit == h {
			if t&closedBit != 0 {
				return ErrClosed
			}
			return errWouldBlock
		}
		if own {
			return errWouldBlock // a sender in flight (invariant 7)
		}
		backoff(i)
	}
}

func (c *MPSC[T]) tryRecv() (T, error) { return c.recv(false) }

// recv is tryRecv, or with own the first attempt of a blocking Recv
// (invariant 7).
func (c *MPSC[T]) recv(own bool) (T, error) {
	h := c.rhead
	if err := c.waitPublished(h, own); err != nil {
		var zero T
		return zero, err
	}
	s := &c.slots[h&c.mask]
	v := s.val
	failpoint.InjectCall(fpRecvClaimed)
	if c.zero {
		var zero T
		s.val = zero
	}
	c.rhead = h + 1
	c.head.Store(h + 1) // invariant 3: free
	return v, nil
}

func (c *MPSC[T]) tryRecvBatch(dst []T) (int, error) {
	h := c.rhead
	if err := c.waitPublished(h, false); err != nil {
		return 0, err
	}
	k := uint64(1)
	for n := min(uint64(len(dst)), c.mask+1); k < n && c.slots[(h+k)&c.mask].seq.Load() == h+k+1; k++ {
	}
	var zero T
	for j := uint64(0); j < k; j++ {
		s := &c.slots[(h+j)&c.mask]
		dst[j] = s.val
		if c.zero {
			s.val = zero
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
func (c *MPSC[T]) peekRecv() bool { return c.slots[c.rhead&c.mask].seq.Load() == c.rhead+1 }

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
	if v, err := c.recv(true); err != errWouldBlock { // invariant 7
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
func (c *MPSC[T]) Close() error {
	err := closeRing(&c.tail, &c.recvq, &c.sendq)
	c.rclosed.Store(true) // after closedBit (invariant 7)
	return err
}

// Len implements [Chan.Len]. It may be called from any goroutine.
func (c *MPSC[T]) Len() int { return ringLen(&c.head, &c.tail, c.mask) }

// Cap implements [Chan.Cap].
func (c *MPSC[T]) Cap() int { return int(c.mask + 1) }
