package core

import (
	"context"

	"github.com/pingcap/failpoint"
)

// SPMC is a bounded channel for one sending goroutine at a time and any
// number of concurrent receivers; Close, Len and Cap may be called from any
// goroutine. It is Vyukov's bounded queue (ring.go). Its sender reserves with
// a CAS that only Close can make fail. A send or a receive costs two atomic
// writes (claim, hand over) and allocates nothing.
//
// Create it with [NewSPMC]; the zero value is not usable. An SPMC must not be
// copied after first use. The single-sender rule is what the channel promises
// its receivers: per-sender order is then the total order. Concurrent
// senders do not corrupt the ring, but that promise no longer holds; the
// chaos build reports them (failpoint contract/single-sender).
type SPMC[T any] ring[T]

// NewSPMC returns an SPMC channel holding up to capacity values, rounded up
// to a power of two. It panics if capacity is less than 1 or more than 2^40.
func NewSPMC[T any](capacity int) *SPMC[T] {
	c := new(SPMC[T])
	c.r().init("NewSPMC", capacity)
	return c
}

// r is c's ring: a conversion, which loads nothing, where a promoted method
// would load c's first word, the senders' index, on every receive (mpmc.go).
func (c *SPMC[T]) r() *ring[T] { return (*ring[T])(c) }

// Send implements [Chan.Send]. It must not be called concurrently with
// another Send, TrySend or SendBatch.
func (c *SPMC[T]) Send(ctx context.Context, v T) error {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	return c.r().Send(ctx, v)
}

// TrySend implements [Chan.TrySend], with the concurrency rule of Send.
func (c *SPMC[T]) TrySend(v T) error {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	return c.r().TrySend(v)
}

// SendBatch implements [Chan.SendBatch], with the concurrency rule of Send.
func (c *SPMC[T]) SendBatch(ctx context.Context, vs []T) (int, error) {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	return c.r().SendBatch(ctx, vs)
}

// Recv implements [Chan.Recv]. Any number of goroutines may call it at once.
func (c *SPMC[T]) Recv(ctx context.Context) (T, error) { return c.r().Recv(ctx) }

// TryRecv implements [Chan.TryRecv]. Any number of goroutines may call it at
// once.
func (c *SPMC[T]) TryRecv() (T, error) { return c.r().TryRecv() }

// RecvBatch implements [Chan.RecvBatch]. Any number of goroutines may call it
// at once. Each run of published slots is claimed with one CAS.
func (c *SPMC[T]) RecvBatch(ctx context.Context, dst []T) (int, error) {
	return c.r().RecvBatch(ctx, dst)
}

// Close implements [Chan.Close]. It may be called from any goroutine.
func (c *SPMC[T]) Close() error { return c.r().Close() }

// Len implements [Chan.Len]. It may be called from any goroutine.
func (c *SPMC[T]) Len() int { return c.r().Len() }

// Cap implements [Chan.Cap].
func (c *SPMC[T]) Cap() int { return c.r().Cap() }
