package core

// SPSC: a single-producer single-consumer ring (Lamport's ring buffer) with
// cached indices in the style of rigtorp's SPSCQueue: each side keeps a private
// copy of the other side's index and reloads the shared one only when the
// copy says the ring is full (sender) or empty (receiver).
//
// Invariants:
//
//  1. tail (without closedBit) counts values ever published; head counts
//     values ever consumed. head <= tail <= head+cap at every instant.
//  2. Only the sender advances tail, always by CAS so that it fails once
//     Close has set closedBit; Close only sets closedBit. Only the receiver
//     stores head.
//  3. Slot buf[i&mask] for head <= i < tail holds a published value. The
//     sender writes a slot before the CAS that publishes it (release); the
//     receiver loads tail before reading the slot (acquire). The receiver
//     zeroes a slot (if T has pointers) before the store of head that frees it; the sender loads
//     head before writing the slot again. So no slot is ever accessed by both
//     sides at once.
//  4. stail and scachedHead are the sender's alone, rhead and rcachedTail the
//     receiver's alone: "one sender at a time" makes them race-free, and a
//     second concurrent sender or receiver is reported by the race detector.
//     Each side updates its private fields before the atomic that publishes
//     its step, so a goroutine that takes over a side after observing that
//     step (e.g. by receiving the value just sent) sees them current.
//  5. Close linearizes at the atomic Or of closedBit. A Send linearizes at its
//     successful CAS, which precedes the Or, so its value is within tail and
//     is delivered to receivers draining after Close. A Send whose CAS
//     failed returns ErrClosed and its value is never visible.
//
// Layout: three 64-byte lines (lineSize, chan.go). The sender's line (tail,
// stail, scachedHead, and the receive queue, whose count the sender reads
// per send) and the receiver's line (head, rhead, rcachedTail, the send
// queue) have the read-mostly line (buf, mask) between them, so the two
// sides' written words are 128 bytes apart, the distance the adjacent-line
// prefetcher of x86 needs. The struct is 192 bytes, an allocation size class
// whose objects start on 64-byte boundaries; with its slot array, a channel
// of capacity 1 of int takes 200 bytes, one of capacity 64 takes 704 (a Go
// channel: 128 and 640). The wait queues are 16 bytes each until someone
// parks (park.go, invariant 6).

import (
	"context"

	"github.com/pingcap/failpoint"
)

// SPSC is a bounded channel for one sending goroutine at a time and one
// receiving goroutine at a time; Close, Len and Cap may be called from any
// goroutine. It is the smallest flavor, and the fastest for batches: a send
// or receive costs one atomic write, a batch one for the whole run, and
// the other side's index is read only when the cached copy runs out. When
// the receiver keeps up with the sender, so that the ring stays nearly
// empty, that copy runs out on every value and the sender's index crosses
// between the cores each time: there single values measured about 1.7x
// faster through an [MPSC] on the development VM (docs/channels.md).
//
// Create it with [NewSPSC]; the zero value is not usable. An SPSC must not be
// copied after first use. Concurrent Sends (or concurrent Recvs) are a data
// race and corrupt the channel; use [MPSC], [SPMC] or [MPMC] instead.
type SPSC[T any] struct {
	// Sender's line: the sender writes tail and its own fields on every
	// send, and reads recvq.n (the receiver writes it only to park).
	tail        atomicUint64 // published count | closedBit (invariants 1, 2)
	stail       uint64       // sender's copy of tail without closedBit
	scachedHead uint64       // sender's last view of head
	sspin       spinState    // sender's spin state (park.go)
	recvq       waitq        // parked receiver
	_           [lineSize - 48]byte

	// Read-mostly line: written at construction only.
	buf  []T
	mask uint64
	zero bool // T has pointers: zero consumed slots
	_    [lineSize - 33]byte

	// Receiver's line: the receiver writes head and its own fields on
	// every receive, and reads sendq.n (the sender writes it only to park).
	head        atomicUint64 // consumed count (invariants 1, 2)
	rhead       uint64       // receiver's copy of head
	rcachedTail uint64       // receiver's last view of tail, without closedBit
	rspin       spinState    // receiver's spin state (park.go)
	sendq       waitq        // parked sender
	_           [lineSize - 48]byte
}

// NewSPSC returns an SPSC channel holding up to capacity values, rounded up
// to a power of two. It panics if capacity is less than 1 or more than 2^40.
func NewSPSC[T any](capacity int) *SPSC[T] {
	n := roundCapacity("NewSPSC", capacity)
	return &SPSC[T]{buf: make([]T, n), mask: n - 1, zero: hasPointers[T]()}
}

// trySend is the sender's non-blocking attempt: nil, errWouldBlock or ErrClosed.
func (c *SPSC[T]) trySend(v T) error {
	t := c.stail
	if t-c.scachedHead > c.mask {
		c.scachedHead = c.head.Load()
		if t-c.scachedHead > c.mask {
			if c.tail.Load()&closedBit != 0 {
				return ErrClosed
			}
			return errWouldBlock
		}
	}
	i := t & c.mask
	if plantedBugs && planted(fpBugEarlyPub) {
		return c.bugPublishBeforeWrite(t, v)
	}
	c.buf[i] = v
	failpoint.InjectCall(fpSendReserved)
	c.stail = t + 1                     // before the publish: see invariant 4
	if !c.tail.CompareAndSwap(t, t+1) { // invariant 3: publish (release)
		// Only Close changes tail behind the sender's back (invariant 2).
		c.stail = t
		var zero T
		c.buf[i] = zero
		return ErrClosed
	}
	return nil
}

// trySendBatch publishes as many of vs as fit with one CAS.
func (c *SPSC[T]) trySendBatch(vs []T, _ bool) (int, error) {
	t := c.stail
	free := c.mask + 1 - (t - c.scachedHead)
	if free < uint64(len(vs)) {
		c.scachedHead = c.head.Load()
		free = c.mask + 1 - (t - c.scachedHead)
		if free == 0 {
			if c.tail.Load()&closedBit != 0 {
				return 0, ErrClosed
			}
			return 0, errWouldBlock
		}
	}
	k := min(free, uint64(len(vs)))
	for j := uint64(0); j < k; j++ {
		c.buf[(t+j)&c.mask] = vs[j]
	}
	c.stail = t + k
	if !c.tail.CompareAndSwap(t, t+k) { // invariant 3
		c.stail = t
		var zero T
		for j := uint64(0); j < k; j++ {
			c.buf[(t+j)&c.mask] = zero
		}
		return 0, ErrClosed
	}
	return int(k), nil
}

// tryRecv is the receiver's non-blocking attempt: value, errWouldBlock or
// ErrClosed.
func (c *SPSC[T]) tryRecv() (T, error) {
	h := c.rhead
	if h == c.rcachedTail {
		t := c.tail.Load() // invariant 3: acquire
		c.rcachedTail = t &^ closedBit
		if h == c.rcachedTail {
			var zero T
			if t&closedBit != 0 {
				return zero, ErrClosed
			}
			return zero, errWouldBlock
		}
	}
	i := h & c.mask
	v := c.buf[i]
	failpoint.InjectCall(fpRecvClaimed)
	if c.zero {
		var zero T
		c.buf[i] = zero // do not keep the value alive
	}
	c.rhead = h + 1
	c.head.Store(h + 1) // invariant 3: free the slot (release)
	return v, nil
}

// tryRecvBatch consumes up to len(dst) values with one store of head.
func (c *SPSC[T]) tryRecvBatch(dst []T, _ bool) (int, error) {
	h := c.rhead
	avail := c.rcachedTail - h
	if avail < uint64(len(dst)) {
		t := c.tail.Load()
		c.rcachedTail = t &^ closedBit
		avail = c.rcachedTail - h
		if avail == 0 {
			if t&closedBit != 0 {
				return 0, ErrClosed
			}
			return 0, errWouldBlock
		}
	}
	k := min(avail, uint64(len(dst)))
	var zero T
	for j := uint64(0); j < k; j++ {
		i := (h + j) & c.mask
		dst[j] = c.buf[i]
		if c.zero {
			c.buf[i] = zero
		}
	}
	c.rhead = h + k
	c.head.Store(h + k)
	return int(k), nil
}

// canSend and canRecv are the re-checks of a parking goroutine (park.go,
// invariant 3): they report whether a retry may make progress. They may be
// called only by the sender (receiver) itself.
func (c *SPSC[T]) canSend() bool {
	t := c.tail.Load()
	if plantedBugs && t&closedBit != 0 && planted(fpBugRecheckMissesClose) {
		t &^= closedBit // PLANTED: Close goes unseen
	}
	return t&closedBit != 0 || c.stail-c.head.Load() <= c.mask
}

func (c *SPSC[T]) canRecv() bool {
	t := c.tail.Load()
	if plantedBugs && t&closedBit != 0 && planted(fpBugRecheckMissesClose) {
		t &^= closedBit // PLANTED: Close goes unseen
	}
	return t != c.rhead // differs if a value is published or closedBit is set
}

// peekSend and peekRecv are the spinning polls: for SPSC they are the
// parking re-checks, since the indices are all there is to read.
func (c *SPSC[T]) peekSend() bool { return c.canSend() }
func (c *SPSC[T]) peekRecv() bool { return c.canRecv() }

// moreRoom and moreValues tell the spin levels whether the other side got
// ahead while this one waited; each reads only its own side's fields.
func (c *SPSC[T]) moreRoom() bool   { return c.stail-c.scachedHead <= c.mask }
func (c *SPSC[T]) moreValues() bool { return c.rcachedTail != c.rhead }

// Send implements [Chan.Send]. It must not be called concurrently with
// another Send, TrySend or SendBatch.
func (c *SPSC[T]) Send(ctx context.Context, v T) error {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	if err := c.trySend(v); err != errWouldBlock {
		if err == nil {
			c.recvq.wake(1)
		}
		return err
	}
	if plantedBugs && planted(fpBugContractLeftEarly) {
		failpoint.InjectCall(fpContractSend, any(c), false) // PLANTED: leaves the contract check before it waits
	}
	return sendSlow(ctx, c, v, &c.sspin, &c.sendq, &c.recvq)
}

// TrySend implements [Chan.TrySend], with the concurrency rule of Send.
func (c *SPSC[T]) TrySend(v T) error {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	return trySendResult(c.trySend(v), &c.recvq)
}

// SendBatch implements [Chan.SendBatch], with the concurrency rule of Send.
// Each run of values that fits is published with one CAS.
func (c *SPSC[T]) SendBatch(ctx context.Context, vs []T) (int, error) {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	return sendBatch(ctx, c, vs, &c.sendq, &c.recvq)
}

// Recv implements [Chan.Recv]. It must not be called concurrently with
// another Recv, TryRecv or RecvBatch.
func (c *SPSC[T]) Recv(ctx context.Context) (T, error) {
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

// TryRecv implements [Chan.TryRecv], with the concurrency rule of Recv.
func (c *SPSC[T]) TryRecv() (T, error) {
	failpoint.Inject(fpContractRecv, func() {
		failpoint.InjectCall(fpContractRecv, any(c), true)
		defer func() { failpoint.InjectCall(fpContractRecv, any(c), false) }()
	})
	v, err := c.tryRecv()
	return v, tryRecvResult(err, &c.sendq)
}

// RecvBatch implements [Chan.RecvBatch], with the concurrency rule of Recv.
// Each run of values is consumed with one store of head.
func (c *SPSC[T]) RecvBatch(ctx context.Context, dst []T) (int, error) {
	failpoint.Inject(fpContractRecv, func() {
		failpoint.InjectCall(fpContractRecv, any(c), true)
		defer func() { failpoint.InjectCall(fpContractRecv, any(c), false) }()
	})
	return recvBatch(ctx, c, dst, &c.recvq, &c.sendq)
}

// Close implements [Chan.Close]. It may be called from any goroutine.
func (c *SPSC[T]) Close() error { return closeRing(&c.tail, &c.recvq, &c.sendq) }

// Len implements [Chan.Len]. It may be called from any goroutine.
func (c *SPSC[T]) Len() int { return ringLen(&c.head, &c.tail, c.mask) }

// Cap implements [Chan.Cap].
func (c *SPSC[T]) Cap() int { return int(c.mask + 1) }
