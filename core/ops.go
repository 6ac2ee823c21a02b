package core

// The parts of the channel operations that all flavors share: the blocking
// slow paths (spin, then park, then retry: park.go) and the translation of
// internal outcomes into the public errors. Each flavor keeps its own fast
// path, so an operation that does not block makes no indirect call.

import (
	"context"

	"github.com/pingcap/failpoint"
)

// sender is the send side of a flavor, as its slow paths see it.
type sender[T any] interface {
	trySend(v T) error                          // the fast path: nil, errWouldBlock or ErrClosed
	trySendBatch(vs []T, own bool) (int, error) // own: a first attempt, as send's (ring.go, invariant 6)
	peekSend() bool                             // cheap: may a retry succeed? Prefers the sender's own slot to the receivers' index
	canSend() bool                              // the parking re-check (park.go, invariant 3)
	moreRoom() bool                             // after a send: is there room for another (spin level)
}

// receiver is the receive side of a flavor, as its slow paths see it.
type receiver[T any] interface {
	tryRecv() (T, error)
	tryRecvBatch(dst []T, own bool) (int, error) // own: a first attempt, as recv's (ring.go, invariant 6)
	peekRecv() bool                              // cheap: may a retry succeed? Prefers the receiver's own slot to the senders' index
	canRecv() bool                               // the parking re-check (park.go, invariant 3)
	moreValues() bool                            // after a receive: is another value ready (spin level)
}

// sendSlow retries c.trySend(v) after the fast path found the channel full:
// it spins while c.peekSend says a retry would fail, then parks. A send that
// succeeds while spinning feeds the sender side's spin level (park.go).
func sendSlow[T any, C sender[T]](ctx context.Context, c C, v T, st *spinState, sendq, recvq *waitq) error {
	lv := int(st.level.Load())
	i, busy := startSpin(st)
	defer func() { endSpin(st, busy) }() // busy as it is on return
	for ; ; i++ {
		if i == activeSpins && busy {
			busy = endSpin(st, busy) // before yielding or parking
		}
		if spinning(i) {
			spin(i, lv)
			if !c.peekSend() {
				continue
			}
		} else if plantedBugs && !c.canSend() && planted(fpBugSendNoRecheck) {
			if err := bugSenderParksWithoutRecheck(ctx, sendq); err != nil {
				return err
			}
		} else if err := sendq.park(ctx, c.canSend); err != nil {
			return err
		}
		if err := c.trySend(v); err != errWouldBlock {
			if err == nil {
				recvq.wake(1)
				st.adapt(lv, i < activeSpins, c.moreRoom())
			}
			return err
		}
	}
}

// recvSlow retries c.tryRecv() after the fast path found the channel empty,
// spinning while c.peekRecv says a retry would fail, then parking.
func recvSlow[T any, C receiver[T]](ctx context.Context, c C, st *spinState, recvq, sendq *waitq) (T, error) {
	lv := int(st.level.Load())
	i, busy := startSpin(st)
	defer func() { endSpin(st, busy) }() // busy as it is on return
	for ; ; i++ {
		if i == activeSpins && busy {
			busy = endSpin(st, busy) // before yielding or parking
		}
		if spinning(i) {
			spin(i, lv)
			if !c.peekRecv() {
				continue
			}
		} else if err := recvq.park(ctx, c.canRecv); err != nil {
			var zero T
			return zero, err
		}
		if v, err := c.tryRecv(); err != errWouldBlock {
			if err == nil {
				sendq.wake(1)
				st.adapt(lv, i < activeSpins, c.moreValues())
				if plantedBugs && !spinning(i) && ctx.Err() != nil && planted(fpBugCancelLosesValue) {
					return bugCancelLosesValue[T](ctx)
				}
			}
			return v, err
		}
	}
}

// startSpin claims the side's busy-waiting slot. It returns the first
// attempt to make: 0 (busy-wait first) for the claimant, activeSpins (go
// straight to yielding) for everyone else, and for every goroutine of a side
// at level parkFirst (park.go), which skips busy waiting altogether. The
// claimant releases the slot at attempt activeSpins, before it yields or
// parks, so no goroutine holds it while parked, whatever the tuning
// (tuning.go: yieldSpins may be 0, and activeSpins too).
func startSpin(st *spinState) (int, bool) {
	if int(st.level.Load()) > parkFirst && st.busy.Load() == 0 && st.busy.CompareAndSwap(0, 1) {
		return 0, true
	}
	return activeSpins, false
}

// endSpin releases the busy-waiting slot if held, and returns false.
func endSpin(st *spinState, busy bool) bool {
	if busy {
		st.busy.Store(0)
	}
	return false
}

// sendBatch sends vs in runs, each run as large as the free room, blocking
// while the channel is full. It wakes one receiver per value sent.
func sendBatch[T any, C sender[T]](ctx context.Context, c C, vs []T, sendq, recvq *waitq) (int, error) {
	sent := 0
	for i := 0; sent < len(vs); i++ {
		k, err := c.trySendBatch(vs[sent:], i == 0) // first after progress: own
		if k > 0 {
			sent += k
			if plantedBugs && k > 1 && planted(fpBugBatchWakesOne) {
				k = 1 // PLANTED: one wakeup for the whole run
			}
			recvq.wake(k)
			i = -1 // progress: spin afresh before parking
			continue
		}
		if err != errWouldBlock {
			return sent, err
		}
		// Wait as sendSlow does: poll the senders' own slot while spinning
		// (peekSend), not the receivers' index, which trySendBatch loads
		// when it finds no room and which the receivers write on every
		// claim. Retrying trySendBatch in the spin took that line from
		// them on every round.
		for ; spinning(i); i++ {
			spin(i, 0)
			if c.peekSend() {
				break
			}
		}
		if !spinning(i) {
			if err := sendq.park(ctx, c.canSend); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

// recvBatch fills dst with the values available, blocking until there is at
// least one. It wakes one sender per value received.
func recvBatch[T any, C receiver[T]](ctx context.Context, c C, dst []T, recvq, sendq *waitq) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	parked := false // the last wait was a park
	for i := 0; ; i++ {
		k, err := c.tryRecvBatch(dst, i == 0)
		if err != errWouldBlock {
			if k > 0 {
				wakes := k
				if plantedBugs && k > 1 && planted(fpBugBatchWakesOne) {
					wakes = 1 // PLANTED: one wakeup for the whole run
				}
				sendq.wake(wakes)
				if plantedBugs && parked && ctx.Err() != nil && planted(fpBugCancelLosesValue) {
					return bugCancelLosesValue[int](ctx)
				}
			}
			return k, err
		}
		// Wait as recvSlow does: poll the receivers' own slot while
		// spinning (peekRecv), not the senders' index (see sendBatch).
		for ; spinning(i); i++ {
			spin(i, 0)
			if c.peekRecv() {
				break
			}
		}
		if parked = !spinning(i); parked {
			if err := recvq.park(ctx, c.canRecv); err != nil {
				return 0, err
			}
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
func closeRing(tail *atomicUint64, recvq, sendq *waitq) error {
	if tail.Or(closedBit)&closedBit != 0 {
		if planted(fpBugCloseTwiceNil) {
			return nil // PLANTED: a second Close reports success
		}
		return ErrClosed
	}
	failpoint.InjectCall(fpClose)
	recvq.wakeAll()
	sendq.wakeAll()
	return nil
}

// ringLen returns tail-head, clamped to [0, mask+1]. head is loaded first:
// tail only grows, so the tail loaded after it is at least that head.
func ringLen(head, tail *atomicUint64, mask uint64) int {
	h := head.Load()
	t := tail.Load() &^ closedBit
	if plantedBugs && t != tail.Load() && planted(fpBugLenClosedBit) {
		t |= closedBit // PLANTED: the closed mark counts as values
	}
	if t <= h {
		return 0
	}
	return int(min(t-h, mask+1))
}
