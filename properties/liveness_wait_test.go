package properties_test

// The liveness property's concurrent steps (liveness_test.go): the waiters,
// the event, and the quiescent points the model must accept.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/nimsync/nimsync/core"
)

// parkedAre waits (bounded) until ReadStats().ParkedWaiters is k above the
// scenario's base.
func (r *liveRun) parkedAre(k int, when string) error {
	var n int64
	if waitUntil(liveBound(), func() bool { n = core.ReadStats().ParkedWaiters - r.base; return n == int64(k) }) {
		return nil
	}
	return fmt.Errorf("%s: ReadStats().ParkedWaiters is %d above its base, the model says %d parked", when, n, k)
}

// startWaiters starts the waiters and returns once they parked or, for
// a spinning scenario, as soon as each has started. Parking waiters start
// one at a time, each once the one before parked, so that they wait in
// the queue in the order of r.ws: the event's cancellations hit the
// waiters its batch wakes first.
func (r *liveRun) startWaiters() error {
	for i := range r.Waiters {
		w := &liveWaiter{want: max(r.Batch, 1)}
		w.ctx, w.cancel = context.WithCancel(r.ctx)
		if r.Senders {
			w.vals = r.led.issue(w.want)
		}
		r.ws = append(r.ws, w)
		r.wg.Add(1)
		go r.wait(w)
		if r.Parked {
			if err := r.parkedAre(i+1, fmt.Sprintf("once %d of %d waiters blocked", i+1, r.Waiters)); err != nil {
				return err
			}
		}
	}
	if r.Parked {
		return nil
	}
	// Each waiter spins for about a microsecond before it parks: poll
	// without sleeping, and let the event follow at once.
	if !spinUntil(liveBound(), func() bool {
		for _, w := range r.ws {
			if !w.started.Load() {
				return false
			}
		}
		return true
	}) {
		return fmt.Errorf("the waiters did not start within %v", liveBound())
	}
	jitter(r.Delay)
	return nil
}

// jitter busy-waits for about 0, 20 ns, 200 ns or 2 µs (d = 0..3), so that
// an event lands at a seed-chosen point of a waiter's spinning.
func jitter(d int) {
	for i := [4]int{0, 1 << 6, 1 << 9, 1 << 12}[d]; i > 0; i-- {
		jitterSink.Add(1)
	}
}

// jitterSink keeps jitter's loop from being optimized away.
var jitterSink atomic.Int64

// wait is a waiter's goroutine.
func (r *liveRun) wait(w *liveWaiter) {
	defer r.wg.Done()
	w.started.Store(true)
	switch {
	case r.Senders && r.Batch == 0:
		if w.err = r.c.Send(w.ctx, w.vals[0]); w.err == nil {
			w.n = 1
		}
	case r.Senders:
		w.n, w.err = r.c.SendBatch(w.ctx, w.vals)
	case r.Batch == 0:
		var v int
		if v, w.err = r.c.Recv(w.ctx); w.err == nil {
			w.vals, w.n = []int{v}, 1
		}
	default:
		dst := make([]int, w.want)
		w.n, w.err = r.c.RecvBatch(w.ctx, dst)
		w.vals = dst[:min(max(w.n, 0), len(dst))]
	}
	w.late = r.closed.Load()
	if r.Senders {
		n := min(max(w.n, 0), len(w.vals))
		r.led.settle(w.vals[:n], true)
		r.led.settle(w.vals[n:], false)
	} else {
		r.led.receive(w.vals...)
	}
	w.done.Store(true)
}

// cancel cancels the first Cancel waiters' contexts.
func (r *liveRun) cancel() {
	for _, w := range r.ws[:r.Cancel] {
		w.cancel()
	}
}

// event triggers the scenario's event.
func (r *liveRun) event() error {
	for _, w := range r.ws[:r.Cancel] {
		w.cancelled = true
	}
	if r.Serial {
		// One P: the goroutines the event wakes or cancels run only once
		// it is done (or yields), so its cancellations and wakeups land in
		// one step for them, and a waiter still spinning is held mid-spin.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	switch r.Event {
	case evClose:
		return r.closeNow()
	case evBatch:
		return r.sendOrFree()
	case evCancel:
		r.cancel()
		return nil
	}
	switch r.Order {
	case 0:
		r.cancel()
		return r.sendOrFree()
	case 1:
		err := r.sendOrFree()
		jitter(r.Delay)
		r.cancel()
		return err
	}
	gate := make(chan struct{})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		<-gate
		r.cancel()
	}()
	close(gate)
	return r.sendOrFree()
}

// sendOrFree is the batch. When receivers wait: a SendBatch of M values,
// or M Sends (by the test's goroutine if they fit in the empty channel, so
// that cancellations after the batch follow its wakeups at once; otherwise
// on a goroutine of their own, which blocks once the waiters took what they
// take, and sendOrFree returns once it started), or TrySends by the test's
// goroutine into the room the empty channel has, each of which must
// succeed. When senders wait: a RecvBatch of up to M values, or Recvs or
// TryRecvs of as many values as the full channel holds (up to M), by the
// test's goroutine; each must return a value at once.
func (r *liveRun) sendOrFree() error {
	single := r.Cancel == 0 && r.Batch == 0 // each value (slot) releases one waiter
	switch {
	case !r.Senders && r.Op == opTry:
		n := min(r.M, r.room)
		vs := r.led.issue(n)
		for i, v := range vs {
			if err := r.c.TrySend(v); err != nil {
				r.led.settle(vs[i:], false)
				return fmt.Errorf("TrySend → %v with %d values sent into an empty channel of %d", err, i, r.room)
			}
			r.led.settle(vs[i:i+1], true)
		}
		if single {
			r.exact = min(n, r.Waiters)
		}
		return nil
	case !r.Senders:
		b := &liveWaiter{want: r.M, vals: r.led.issue(r.M)}
		b.ctx, b.cancel = context.WithCancel(r.ctx)
		r.batch = b
		if single {
			r.exact = min(r.M, r.Waiters)
		}
		if r.M <= r.room {
			r.send(b)
			return nil
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.send(b)
		}()
		if !spinUntil(liveBound(), b.started.Load) {
			return fmt.Errorf("the batch sender did not start within %v", liveBound())
		}
		return nil
	case r.Op == opBatch:
		dst := make([]int, r.M)
		n, err := r.c.RecvBatch(r.ctx, dst)
		r.led.receive(dst[:min(max(n, 0), len(dst))]...)
		if err != nil || n < 1 || n > min(r.M, r.room) {
			return fmt.Errorf("RecvBatch(%d) on a full channel of %d → %d, %v", r.M, r.room, n, err)
		}
		if single {
			r.exact = min(n, r.Waiters)
		}
		return nil
	}
	n := min(r.M, r.room)
	for i := range n {
		op, v, err := "Recv", 0, error(nil)
		if r.Op == opTry {
			op = "TryRecv"
			v, err = r.c.TryRecv()
		} else {
			v, err = r.c.Recv(r.ctx)
		}
		if err != nil {
			return fmt.Errorf("%s → %v after %d values taken from a full channel of %d", op, err, i, r.room)
		}
		r.led.receive(v)
	}
	if single {
		r.exact = min(n, r.Waiters)
	}
	return nil
}

// send sends b's values, with one SendBatch or one Send each.
func (r *liveRun) send(b *liveWaiter) {
	b.started.Store(true)
	if r.Op == opBatch {
		b.n, b.err = r.c.SendBatch(b.ctx, b.vals)
	} else {
		for ; b.n < len(b.vals); b.n++ {
			if b.err = r.c.Send(b.ctx, b.vals[b.n]); b.err != nil {
				break
			}
		}
	}
	b.late = r.closed.Load()
	n := min(max(b.n, 0), len(b.vals))
	r.led.settle(b.vals[:n], true)
	r.led.settle(b.vals[n:], false)
	b.done.Store(true)
}

// settled waits (bounded) for a quiescent point the model accepts.
func (r *liveRun) settled(when string) error {
	var why string
	if waitUntil(liveBound(), func() bool { why = r.unsettled(); return why == "" }) {
		return nil
	}
	return fmt.Errorf("%s: no quiescent point within %v: %s", when, liveBound(), why)
}

// unsettled reports why the scenario is not at a quiescent point the
// model accepts, or "". At such a point every goroutine that has not
// returned is parked (counted in ParkedWaiters: a goroutine still
// spinning, or woken and not yet returned, is not), none of them could
// proceed (no receiver parked beside a buffered value, no sender beside a
// free slot), the waiters whose contexts were cancelled have returned,
// and Len is what the values sent and received say.
func (r *liveRun) unsettled() string {
	var recv, send, returned int
	for _, w := range r.ws {
		switch {
		case w.done.Load():
			returned++
		case w.cancelled:
			return "a waiter whose context was cancelled has not returned"
		case r.Senders:
			send++
		default:
			recv++
		}
	}
	if r.batch != nil && !r.batch.done.Load() {
		send++
	}
	parked := core.ReadStats().ParkedWaiters - r.base
	n := r.c.Len()
	switch {
	case parked != int64(recv+send):
		return fmt.Sprintf("ReadStats().ParkedWaiters is %d above its base, the model says %d parked (%d receivers, %d senders)", parked, recv+send, recv, send)
	case recv > 0 && n != 0:
		return fmt.Sprintf("%d receivers parked while Len() = %d", recv, n)
	case send > 0 && n != r.room:
		return fmt.Sprintf("%d senders parked while Len() = %d of %d", send, n, r.room)
	case r.exact >= 0 && returned != r.exact:
		return fmt.Sprintf("%d waiters returned, the model says exactly %d", returned, r.exact)
	case send == 0 && n != r.led.buffered():
		return fmt.Sprintf("Len() = %d, the model says %d values buffered", n, r.led.buffered())
	}
	return ""
}

// close closes the channel, which must wake every goroutine still blocked.
func (r *liveRun) close() error {
	if err := r.closeNow(); err != nil {
		return err
	}
	return r.joinClosed()
}

// closeNow closes the channel, twice.
func (r *liveRun) closeNow() error {
	r.closed.Store(true)
	if err := r.c.Close(); err != nil {
		return fmt.Errorf("Close of an open channel → %v", err)
	}
	if err := r.c.Close(); !errors.Is(err, core.ErrClosed) {
		return fmt.Errorf("a second Close → %v, want ErrClosed", err)
	}
	return nil
}

// joinClosed waits (bounded) until every goroutine returned, as each must
// once the channel is closed.
func (r *liveRun) joinClosed() error {
	blocked := 0
	if waitUntil(liveBound(), func() bool {
		blocked = 0
		for _, w := range append(r.ws, r.batch) {
			if w != nil && !w.done.Load() {
				blocked++
			}
		}
		return blocked == 0
	}) {
		return nil
	}
	return fmt.Errorf("%d goroutines still blocked %v after Close (ReadStats().ParkedWaiters %d above its base)",
		blocked, liveBound(), core.ReadStats().ParkedWaiters-r.base)
}

// results checks what each waiter and the batch sender returned.
func (r *liveRun) results() error {
	for i, w := range r.ws {
		who := fmt.Sprintf("receiver %d", i)
		if r.Senders {
			who = fmt.Sprintf("sender %d", i)
		}
		if err := r.result(who, w, r.Senders); err != nil {
			return err
		}
		if !r.Senders && r.Event == evCancel && w.cancelled && w.err == nil {
			return fmt.Errorf("%s, cancelled on an empty channel, returned %v", who, w.vals)
		}
	}
	if r.batch != nil {
		return r.result("the batch sender", r.batch, true)
	}
	return nil
}

func (r *liveRun) result(who string, w *liveWaiter, send bool) error {
	switch err := w.err; {
	case w.n < 0 || w.n > w.want:
		return fmt.Errorf("%s returned %d, %v for %d", who, w.n, err, w.want)
	case err == nil && send && w.n != w.want:
		return fmt.Errorf("%s sent %d of %d values and returned nil", who, w.n, w.want)
	case err == nil && w.n == 0:
		return fmt.Errorf("%s received nothing and returned nil", who)
	case err == nil:
	case errors.Is(err, core.ErrClosed) && !w.late:
		return fmt.Errorf("%s returned ErrClosed before Close", who)
	case errors.Is(err, core.ErrClosed) && !send && w.n != 0:
		return fmt.Errorf("%s returned %d values with ErrClosed", who, w.n)
	case errors.Is(err, core.ErrClosed):
	case errors.Is(err, context.Canceled) && !w.cancelled:
		return fmt.Errorf("%s returned ctx.Err() but its context was not cancelled", who)
	case errors.Is(err, context.Canceled) && !send && w.n != 0:
		return fmt.Errorf("%s returned %d values with ctx.Err()", who, w.n)
	case errors.Is(err, context.Canceled):
	default:
		return fmt.Errorf("%s returned %d, %v", who, w.n, err)
	}
	return nil
}
