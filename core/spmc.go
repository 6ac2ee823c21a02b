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
type SPMC[T any] struct{ ring[T] }

// NewSPMC returns an SPMC channel holding up to capacity values, rounded up
// to a power of two. It panics if capacity is less than 1 or more than 2^40.
func NewSPMC[T any](capacity int) *SPMC[T] {
	c := new(SPMC[T])
	c.init("NewSPMC", capacity)
	return c
}

// Send implements [Chan.Send]. It must not be called concurrently with
// another Send, TrySend or SendBatch.
func (c *SPMC[T]) Send(ctx context.Context, v T) error {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	return c.ring.Send(ctx, v)
}

// TrySend implements [Chan.TrySend], with the concurrency rule of Send.
func (c *SPMC[T]) TrySend(v T) error {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	return c.ring.TrySend(v)
}

// SendBatch implements [Chan.SendBatch], with the concurrency rule of Send.
func (c *SPMC[T]) SendBatch(ctx context.Context, vs []T) (int, error) {
	failpoint.Inject(fpContractSend, func() {
		failpoint.InjectCall(fpContractSend, any(c), true)
		defer func() { failpoint.InjectCall(fpContractSend, any(c), false) }()
	})
	return c.ring.SendBatch(ctx, vs)
}
