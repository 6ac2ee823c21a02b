package core

// MPSC: many senders, one receiver. It is the ring of ring.go (Vyukov's
// bounded queue), as MPMC and SPMC are, reached by conversion (mpmc.go:
// why a defined type, not an embedding); what it adds is the single-receiver
// contract, checked in a chaos build (failpoint contract/single-receiver).
//
// Why not a ring of its own. Until issue 16, MPSC had one (commit 1f5f3b2's
// mpsc.go): its receiver freed slots by storing head alone, one atomic
// write per value instead of the ring's two (claim, free), and its senders
// learned about free room from head, through a cached copy. But a ring
// that is full, or nearly, is the usual state of a fan-in whose senders
// outrun the receiver, and there every send reloaded head, the word the
// receiver writes per value: the receiver's line crossed to a sender and
// back on each value. The ring's senders look at the slot they are about to
// fill, whose line they take anyway to write it. Measured on the
// development VM (2 vCPUs; docs/channels.md, "MPSC on the ring"), the ring
// made MPSC faster in every topology; the old ring's sequence numbers cost
// as much memory as the ring's.
//
// Invariants: those of ring.go, with one receiver: its CAS on head never
// fails, and nothing else changes. Every method calls the ring's, so MPSC,
// SPMC and MPMC run the same machine code: a copy of ring.Recv's fast path
// in MPSC.Recv, identical instruction for instruction, measured 1.1-1.3x
// slower than the ring's own on the development VM (BenchmarkRing, 2p1c
// and 1p1c, 4 passes), an effect of where the code lies, not of what it
// does, which any change elsewhere could move.

import (
	"context"

	"github.com/pingcap/failpoint"
)

// MPSC is a bounded channel for any number of concurrent senders and one
// receiving goroutine at a time; Close, Len and Cap may be called from any
// goroutine. It is Vyukov's bounded queue (ring.go): senders reserve slots
// with a CAS, and a slot's sequence number hands it over. A send or a
// receive costs two atomic writes and allocates nothing.
//
// Create it with [NewMPSC]; the zero value is not usable. An MPSC must not be
// copied after first use. The single-receiver rule is what the channel
// promises its senders (values are received in the order their sends
// linearized, by one goroutine). Concurrent receivers do not corrupt the
// ring, but that promise no longer holds; the chaos build reports them
// (failpoint contract/single-receiver). Use [MPMC] for them.
type MPSC[T any] ring[T]

// NewMPSC returns an MPSC channel holding up to capacity values, rounded up
// to a power of two. It panics if capacity is less than 1 or more than 2^40.
func NewMPSC[T any](capacity int) *MPSC[T] {
	c := new(MPSC[T])
	c.r().init("NewMPSC", capacity)
	return c
}

// r is c's ring: a conversion, which loads nothing (mpmc.go).
func (c *MPSC[T]) r() *ring[T] { return (*ring[T])(c) }

// Send implements [Chan.Send]. Any number of goroutines may call it at once.
func (c *MPSC[T]) Send(ctx context.Context, v T) error { return c.r().Send(ctx, v) }

// TrySend implements [Chan.TrySend]. Any number of goroutines may call it at
// once.
func (c *MPSC[T]) TrySend(v T) error { return c.r().TrySend(v) }

// SendBatch implements [Chan.SendBatch]. Any number of goroutines may call it
// at once; each run of free slots is reserved with one CAS.
func (c *MPSC[T]) SendBatch(ctx context.Context, vs []T) (int, error) {
	return c.r().SendBatch(ctx, vs)
}

// Recv implements [Chan.Recv]. It must not be called concurrently with
// another Recv, TryRecv or RecvBatch.
func (c *MPSC[T]) Recv(ctx context.Context) (T, error) {
	failpoint.Inject(fpContractRecv, func() {
		failpoint.InjectCall(fpContractRecv, any(c), true)
		defer func() { failpoint.InjectCall(fpContractRecv, any(c), false) }()
	})
	return c.r().Recv(ctx)
}

// TryRecv implements [Chan.TryRecv]. It must not be called concurrently with
// another Recv, TryRecv or RecvBatch.
func (c *MPSC[T]) TryRecv() (T, error) {
	failpoint.Inject(fpContractRecv, func() {
		failpoint.InjectCall(fpContractRecv, any(c), true)
		defer func() { failpoint.InjectCall(fpContractRecv, any(c), false) }()
	})
	return c.r().TryRecv()
}

// RecvBatch implements [Chan.RecvBatch]. It must not be called concurrently
// with another Recv, TryRecv or RecvBatch.
func (c *MPSC[T]) RecvBatch(ctx context.Context, dst []T) (int, error) {
	failpoint.Inject(fpContractRecv, func() {
		failpoint.InjectCall(fpContractRecv, any(c), true)
		defer func() { failpoint.InjectCall(fpContractRecv, any(c), false) }()
	})
	return c.r().RecvBatch(ctx, dst)
}

// Close implements [Chan.Close]. It may be called from any goroutine.
func (c *MPSC[T]) Close() error { return c.r().Close() }

// Len implements [Chan.Len]. It may be called from any goroutine.
func (c *MPSC[T]) Len() int { return c.r().Len() }

// Cap implements [Chan.Cap].
func (c *MPSC[T]) Cap() int { return c.r().Cap() }
