package properties_test

// The liveness property's sequential steps (liveness_test.go): the prelude,
// which checks the channel alone against a FIFO model, the drain after
// Close, and the ledger that accounts for every value of a scenario.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nimsync/nimsync/core"
)

// prelude checks the channel alone against a FIFO model and leaves it
// empty (receivers will wait) or full (senders will).
func (r *liveRun) prelude() error {
	c := r.c
	if want := roundPow2(r.Capacity); c.Cap() != want {
		return fmt.Errorf("Cap() = %d for capacity %d, want %d", c.Cap(), r.Capacity, want)
	}
	r.room = c.Cap()
	if err := r.lenIs("a new channel"); err != nil {
		return err
	}
	for range min(r.Fill, r.room) {
		if err := r.trySend(); err != nil {
			return err
		}
	}
	if err := r.probe(); err != nil {
		return err
	}
	for _, ctx := range []context.Context{r.ctx, doneCtx} {
		if n, err := c.RecvBatch(ctx, nil); n != 0 || err != nil {
			return fmt.Errorf("RecvBatch with an empty dst → %d, %v, want 0, nil", n, err)
		}
	}
	if r.Senders {
		for len(r.model) < r.room {
			if err := r.trySend(); err != nil {
				return err
			}
		}
		v := r.led.issue(1)
		err := c.TrySend(v[0])
		r.led.settle(v, err == nil)
		if !errors.Is(err, core.ErrFull) {
			return fmt.Errorf("TrySend on a full channel → %v, want ErrFull", err)
		}
	} else {
		for len(r.model) > 0 {
			if err := r.tryRecv(); err != nil {
				return err
			}
		}
		if v, err := c.TryRecv(); !errors.Is(err, core.ErrEmpty) {
			r.led.receive(v)
			return fmt.Errorf("TryRecv on an empty channel → %d, %v, want ErrEmpty", v, err)
		}
	}
	if err := r.lenIs("the state the waiters wait in"); err != nil {
		return err
	}
	return r.parkedAre(0, "after the prelude")
}

// trySend sends a new value with TrySend, which must succeed: the model
// says the channel has room.
func (r *liveRun) trySend() error {
	v := r.led.issue(1)
	err := r.c.TrySend(v[0])
	r.led.settle(v, err == nil)
	if err != nil {
		return fmt.Errorf("TrySend → %v with %d of %d slots taken", err, len(r.model), r.room)
	}
	r.model = append(r.model, v[0])
	return r.lenIs("after TrySend")
}

// tryRecv receives with TryRecv, which must return the model's oldest value.
func (r *liveRun) tryRecv() error {
	v, err := r.c.TryRecv()
	if err != nil {
		return fmt.Errorf("TryRecv → %v with %d values buffered", err, len(r.model))
	}
	r.led.receive(v)
	if v != r.model[0] {
		return fmt.Errorf("TryRecv → %d, want %d, the oldest value", v, r.model[0])
	}
	r.model = r.model[1:]
	return r.lenIs("after TryRecv")
}

func (r *liveRun) lenIs(when string) error {
	if n := r.c.Len(); n != len(r.model) {
		return fmt.Errorf("%s: Len() = %d, the model says %d", when, n, len(r.model))
	}
	return nil
}

// probe makes one operation with a context already done: it must complete
// if it can at once, and otherwise return ctx.Err() at once.
func (r *liveRun) probe() error {
	c, free, held := r.c, r.room-len(r.model), len(r.model)
	t0 := time.Now()
	var what string
	var err error
	switch r.Probe {
	case probeSend:
		what = "Send"
		v := r.led.issue(1)
		err = c.Send(doneCtx, v[0])
		r.led.settle(v, err == nil)
		switch {
		case free > 0 && err != nil:
			err = fmt.Errorf("→ %v with %d free slots", err, free)
		case free == 0 && !errors.Is(err, context.Canceled):
			err = fmt.Errorf("→ %v on a full channel, want ctx.Err()", err)
		case err == nil:
			r.model = append(r.model, v[0])
		default:
			err = nil
		}
	case probeRecv:
		what = "Recv"
		var v int
		v, err = c.Recv(doneCtx)
		switch {
		case err == nil:
			r.led.receive(v)
			if held == 0 || v != r.model[0] {
				err = fmt.Errorf("→ %d, the model holds %v", v, r.model)
			} else {
				r.model = r.model[1:]
			}
		case held > 0:
			err = fmt.Errorf("→ %v with %d values buffered", err, held)
		case errors.Is(err, context.Canceled):
			err = nil
		default:
			err = fmt.Errorf("→ %v on an empty channel, want ctx.Err()", err)
		}
	case probeSendBatch:
		what = fmt.Sprintf("SendBatch(%d)", r.ProbeN)
		vs := r.led.issue(r.ProbeN)
		var n int
		n, err = c.SendBatch(doneCtx, vs)
		n = min(max(n, 0), len(vs))
		r.led.settle(vs[:n], true)
		r.led.settle(vs[n:], false)
		want, wantErr := min(len(vs), free), error(nil)
		if len(vs) > free {
			wantErr = context.Canceled
		}
		if n != want || !errors.Is(err, wantErr) && err != wantErr {
			err = fmt.Errorf("→ %d, %v with %d free slots, want %d, %v", n, err, free, want, wantErr)
		} else {
			err = nil
		}
		r.model = append(r.model, vs[:n]...)
	case probeRecvBatch:
		what = fmt.Sprintf("RecvBatch(%d)", r.ProbeN)
		dst := make([]int, r.ProbeN)
		var n int
		n, err = c.RecvBatch(doneCtx, dst)
		n = min(max(n, 0), len(dst))
		r.led.receive(dst[:n]...)
		switch {
		case held == 0 && errors.Is(err, context.Canceled) && n == 0:
			err = nil
		case held == 0:
			err = fmt.Errorf("→ %d, %v on an empty channel, want 0, ctx.Err()", n, err)
		case err != nil || n < 1 || n > held || !slices.Equal(dst[:n], r.model[:n]):
			err = fmt.Errorf("→ %v, %v with %v buffered, want the oldest 1..%d of them", dst[:n], err, r.model, min(held, len(dst)))
		default:
			r.model = r.model[n:]
		}
	}
	if err != nil {
		return fmt.Errorf("%s with a done context %w", what, err)
	}
	if d := time.Since(t0); d > liveBound() {
		return fmt.Errorf("%s with a done context took %v: it must complete or fail at once", what, d)
	}
	if err := r.lenIs("after " + what + " with a done context"); err != nil {
		return err
	}
	return r.parkedAre(0, "after "+what+" with a done context")
}

// drain empties the closed channel, checking Len and the Try operations
// against the ledger, and then what a closed, drained channel returns.
func (r *liveRun) drain() error {
	c, rem := r.c, r.led.buffered()
	var lenErr error
	if n := c.Len(); n != rem {
		lenErr = fmt.Errorf("Len() = %d, the model says %d values buffered", n, rem)
	}
	// Drain whatever there is, so that the ledger can tell a value lost
	// from one still buffered.
	for got := 0; ; got++ {
		v, err := c.TryRecv()
		switch {
		case errors.Is(err, core.ErrClosed) && got >= rem:
		case errors.Is(err, core.ErrClosed):
			return fmt.Errorf("TryRecv → ErrClosed after %d values, the model says %d were buffered", got, rem)
		case err != nil:
			return fmt.Errorf("TryRecv → %v on a closed channel, %d of %d values drained", err, got, rem)
		case got >= rem+r.room:
			return fmt.Errorf("TryRecv still returns values after %d, the model says %d were buffered", got, rem)
		default:
			r.led.receive(v)
			if n := c.Len(); n != rem-got-1 && lenErr == nil {
				lenErr = fmt.Errorf("Len() = %d after %d of %d values drained", n, got+1, rem)
			}
			continue
		}
		break
	}
	if lenErr != nil {
		return lenErr
	}
	if v, err := c.Recv(doneCtx); !errors.Is(err, core.ErrClosed) {
		r.led.receive(v)
		return fmt.Errorf("Recv with a done context on a closed, drained channel → %d, %v, want ErrClosed", v, err)
	}
	dst := make([]int, 2)
	if n, err := c.RecvBatch(r.ctx, dst); n != 0 || !errors.Is(err, core.ErrClosed) {
		return fmt.Errorf("RecvBatch on a closed, drained channel → %d, %v, want 0, ErrClosed", n, err)
	}
	if n, err := c.RecvBatch(r.ctx, dst[:0]); n != 0 || err != nil {
		return fmt.Errorf("RecvBatch with an empty dst on a closed channel → %d, %v, want 0, nil", n, err)
	}
	vs := r.led.issue(4)
	r.led.settle(vs, false)
	if err := c.TrySend(vs[0]); !errors.Is(err, core.ErrClosed) {
		return fmt.Errorf("TrySend on a closed channel → %v, want ErrClosed", err)
	}
	if err := c.Send(doneCtx, vs[1]); !errors.Is(err, core.ErrClosed) {
		return fmt.Errorf("Send with a done context on a closed channel → %v, want ErrClosed", err)
	}
	if n, err := c.SendBatch(r.ctx, vs[2:]); n != 0 || !errors.Is(err, core.ErrClosed) {
		return fmt.Errorf("SendBatch on a closed channel → %d, %v, want 0, ErrClosed", n, err)
	}
	if n := c.Len(); n != 0 {
		return fmt.Errorf("Len() = %d on a closed, drained channel", n)
	}
	return nil
}

// ledger accounts for every value of a scenario: issued values are
// 1, 2, ...; each is sent (its send returned nil), not sent (its send
// returned an error) or in flight, and received some number of times.
type ledger struct {
	mu   sync.Mutex
	sent []int8 // by value-1: 0 in flight, 1 sent, -1 not sent
	got  []int8 // by value-1: times received
	err  error  // the first receipt of a value never issued, or received twice
}

func (l *ledger) issue(n int) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	vs := make([]int, n)
	for i := range vs {
		l.sent, l.got = append(l.sent, 0), append(l.got, 0)
		vs[i] = len(l.sent)
	}
	return vs
}

func (l *ledger) settle(vs []int, sent bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range vs {
		l.sent[v-1] = -1
		if sent {
			l.sent[v-1] = 1
		}
	}
}

func (l *ledger) receive(vs ...int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range vs {
		switch {
		case v < 1 || v > len(l.got):
			l.err = cmp(l.err, fmt.Errorf("received %d, which nobody sent", v))
		case l.got[v-1] > 0:
			l.err = cmp(l.err, fmt.Errorf("value %d received twice", v))
		default:
			l.got[v-1]++
		}
	}
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// buffered is how many values were sent and not received (exact once no
// send is in flight).
func (l *ledger) buffered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for i, s := range l.sent {
		if s == 1 {
			n += 1 - int(l.got[i])
		}
	}
	return n
}

// check reports the first value lost, received twice, received though its
// send failed, or never settled.
func (l *ledger) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	for i, s := range l.sent {
		switch {
		case s == 0:
			return fmt.Errorf("the send of value %d never returned", i+1)
		case s == 1 && l.got[i] == 0:
			return fmt.Errorf("value %d was sent and never received (lost)", i+1)
		case s == -1 && l.got[i] > 0:
			return fmt.Errorf("value %d was received though its send failed", i+1)
		}
	}
	return nil
}
