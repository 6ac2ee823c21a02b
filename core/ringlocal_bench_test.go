package core

// ringLocal is an experiment of issue 16 beside faaring_bench_test.go, for
// BenchmarkRing (impl=mpmclocal): ring.go's Vyukov ring, whose blocking Send
// and Recv, when the slot at their index is not ready, go to the slow path
// at once instead of loading the other side's index to tell a full (empty)
// ring from a peer in flight (ring.go, invariant 5). Only TrySend and
// TryRecv need that distinction: the slow path polls the side's own slot
// (peekSend, peekRecv) and loads the other side's index only when it parks
// (canSend, canRecv), which is also where a Recv on a closed, drained ring
// finds closedBit. faaRing's look-first waits (faaring_bench_test.go, invariant 5)
// never load the other side's index either: this measures what of its
// gain needs no fetch-and-add.

import "context"

type ringLocal[T any] struct{ ring[T] }

func newRingLocal[T any](capacity int) *ringLocal[T] {
	r := new(ringLocal[T])
	r.init("newRingLocal", capacity)
	return r
}

// Send reserves as ring.trySend does while the slot at the tail is free
// (invariant 2), and otherwise waits in sendSlow.
func (r *ringLocal[T]) Send(ctx context.Context, v T) error {
	for i := 0; ; i++ {
		t := r.tail.Load()
		if t&closedBit != 0 {
			return ErrClosed
		}
		s := &r.sslots[t&r.smask]
		seq := s.seq.Load()
		if seq < 2*t {
			break // full, or a receiver in flight: wait for this slot
		}
		if seq == 2*t {
			if r.tail.CompareAndSwap(t, t+1) {
				s.val = v
				s.seq.Store(2*t + 1)
				r.recvq.wake(1)
				return nil
			}
			contended(i)
		}
	}
	return sendSlow(ctx, &r.ring, v, &r.sspin, &r.sendq, &r.recvq)
}

// Recv claims as ring.tryRecv does while the slot at the head holds its
// value (invariant 3), and otherwise waits in recvSlow.
func (r *ringLocal[T]) Recv(ctx context.Context) (T, error) {
	for i := 0; ; i++ {
		h := r.head.Load()
		s := &r.rslots[h&r.rmask]
		seq := s.seq.Load()
		if seq < 2*h+1 {
			break // empty, closed, or a sender in flight: wait for this slot
		}
		if seq == 2*h+1 {
			if r.head.CompareAndSwap(h, h+1) {
				v := s.val
				var zero T
				s.val = zero
				s.seq.Store(2 * (h + r.rmask + 1))
				r.sendq.wake(1)
				return v, nil
			}
			contended(i)
		}
	}
	return recvSlow[T](ctx, &r.ring, &r.rspin, &r.recvq, &r.sendq)
}
