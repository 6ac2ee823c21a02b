package core

// The parts of the channel operations that all flavors share: the blocking
// slow paths (spin, then park, then retry: park.go) and the translation of
// internal outcomes into the public errors. Each flavor keeps its own fast
// path, so an operation that does not block makes no indirect call.

import (
	"context"
	"sync/atomic"
)

// sendSlow retries try(v) after the fast path found the channel full.
func sendSlow[T any](ctx context.Context, v T, try func(T) error, ready func() bool, sendq, recvq *waitq) error {
	for i := 0; ; i++ {
		if spinning(i) {
			spin(i)
		} else if err := sendq.park(ctx, ready); err != nil {
			return err
		}
		if err := try(v); err != errWouldBlock {
			if err == nil {
				recvq.wake(1)
			}
			return err
		}
	}
}

// recvSlow retries try() after the fast path found the channel empty.
func recvSlow[T any](ctx context.Context, try func() (T, error), ready func() bool, recvq, sendq *waitq) (T, error) {
	for i := 0; ; i++ {
		if spinning(i) {
			spin(i)
		} else if err := recvq.park(ctx, ready); err != nil {
			var zero T
			return zero, err
		}
		if v, err := try(); err != errWouldBlock {
			if err == nil {
				sendq.wake(1)
			}
			return v, err
		}
	}
}

// sendBatch sends vs in runs, each run as large as the free room, blocking
// while the channel is full. It wakes one receiver per value sent.
func sendBatch[T any](ctx context.Context, vs []T, try func([]T) (int, error), ready func() bool, sendq, recvq *waitq) (int, error) {
	sent := 0
	for i := 0; sent < len(vs); i++ {
		k, err := try(vs[sent:])
		if k > 0 {
			sent += k
			recvq.wake(k)
			i = -1 // progress: spin afresh before parking
			continue
		}
		if err != errWouldBlock {
			return sent, err
		}
		if spinning(i) {
			spin(i)
		} else if err := sendq.park(ctx, ready); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// recvBatch fills dst with the values available, blocking until there is at
// least one. It wakes one sender per value received.
func recvBatch[T any](ctx context.Context, dst []T, try func([]T) (int, error), ready func() bool, recvq, sendq *waitq) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	for i := 0; ; i++ {
		k, err := try(dst)
		if err != errWouldBlock {
			if k > 0 {
				sendq.wake(k)
			}
			return k, err
		}
		if spinning(i) {
			spin(i)
		} else if err := recvq.park(ctx, ready); err != nil {
			return 0, err
		}
	}
}

// trySendResult finishes a TrySend: it wakes a receiver after a send and
// turns errWouldBlock into ErrFull.
func trySendResult(err error, recvq *waitq) error {
	switch err {
	case nil:
		recvq.wake(1)
	case errWouldBlock:
		err = ErrFull
	}
	return err
}

// tryRecvResult finishes a TryRecv: it wakes a sender after a receive and
// turns errWouldBlock into ErrEmpty.
func tryRecvResult(err error, sendq *waitq) error {
	switch err {
	case nil:
		sendq.wake(1)
	case errWouldBlock:
		err = ErrEmpty
	}
	return err
}

// closeRing sets closedBit in tail and wakes every parked goroutine. After
// the Or no reservation (a CAS on tail) can succeed, so a woken sender fails
// with ErrClosed and a woken receiver drains what is left.
func closeRing(tail *atomic.Uint64, recvq, sendq *waitq) error {
	if tail.Or(closedBit)&closedBit != 0 {
		return ErrClosed
	}
	recvq.wakeAll()
	sendq.wakeAll()
	return nil
}

// ringLen returns tail-head, clamped to [0, mask+1]. head is loaded first:
// tail only grows, so the tail loaded after it is at least that head.
func ringLen(head, tail *atomic.Uint64, mask uint64) int {
	h := head.Load()
	t := tail.Load() &^ closedBit
	if t <= h {
		return 0
	}
	return int(min(t-h, mask+1))
}
