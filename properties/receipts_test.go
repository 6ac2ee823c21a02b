package properties_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// receipts checks each value of an episode as it is received: it must
// have been sent (its Send, TrySend or SendBatch called), and not received
// before. Any goroutine may call its methods.
//
// Invariants:
//
//  1. A sender counts a value in issued before the call that sends it,
//     so a value received is never counted late: one with seq >= issued
//     was never sent.
//  2. got has one bit per value, set by an atomic Or that returns the old
//     word, so of two receipts of the same value exactly one sees the bit
//     already set, however they race.
//  3. The first violation is kept (bad, then mu and first); later ones
//     are consequences.
type receipts struct {
	issued []atomic.Int64    // per goroutine: how many of its values were sent
	got    [][]atomic.Uint64 // per goroutine: one bit per value received
	bad    atomic.Bool

	mu    sync.Mutex // guards first
	first error
}

func newReceipts(progs [][]step) *receipts {
	r := &receipts{issued: make([]atomic.Int64, len(progs)), got: make([][]atomic.Uint64, len(progs))}
	for g, prog := range progs {
		n := 0
		for _, st := range prog {
			switch st.Kind {
			case kSend, kTrySend:
				n++
			case kSendBatch:
				n += st.N
			}
		}
		r.got[g] = make([]atomic.Uint64, (n+63)/64)
	}
	return r
}

// issue counts n more values of goroutine g as sent (invariant 1).
func (r *receipts) issue(g, n int) { r.issued[g].Add(int64(n)) }

// receive checks value v, received by goroutine who, and records a
// violation.
func (r *receipts) receive(who, v int) {
	g, seq := v>>20, v&(1<<20-1)
	if g < 0 || g >= len(r.issued) || int64(seq) >= r.issued[g].Load() || seq/64 >= len(r.got[g]) {
		r.fail(fmt.Errorf("goroutine %d received %d, value %d of goroutine %d, which was never sent", who, v, seq, g))
		return
	}
	bit := uint64(1) << (seq % 64)
	if r.got[g][seq/64].Or(bit)&bit != 0 { // invariant 2
		r.fail(fmt.Errorf("goroutine %d received value %d of goroutine %d, which was received before", who, seq, g))
	}
}

func (r *receipts) fail(err error) {
	r.mu.Lock()
	if r.first == nil {
		r.first = err
	}
	r.mu.Unlock()
	r.bad.Store(true)
}

// failed reports whether a violation was seen; it takes no lock.
func (r *receipts) failed() bool { return r.bad.Load() }

// err returns the first violation, or nil.
func (r *receipts) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

// runaway is a channel with the bug that once kept the chaos run of this
// suite going until it was killed from outside: after Close, its receives
// hand out values (the last one received, again and again) instead of
// ErrClosed. Its receives are for one goroutine at a time.
type runaway struct {
	core.Chan[int]
	last int
}

func (c *runaway) Recv(ctx context.Context) (int, error) {
	v, err := c.Chan.Recv(ctx)
	if errors.Is(err, core.ErrClosed) {
		return c.last, nil
	}
	c.last = v
	return v, err
}

func (c *runaway) TryRecv() (int, error) {
	v, err := c.Chan.TryRecv()
	if errors.Is(err, core.ErrClosed) {
		return c.last, nil
	}
	c.last = v
	return v, err
}

func (c *runaway) RecvBatch(ctx context.Context, dst []int) (int, error) {
	n, err := c.Chan.RecvBatch(ctx, dst)
	if errors.Is(err, core.ErrClosed) {
		dst[0] = c.last
		return 1, nil
	}
	if n > 0 {
		c.last = dst[n-1]
	}
	return n, err
}

// TestDeliveryStopsAtFirstDuplicate: the exactly-once property reports a
// value received twice the moment it is received, and ends, instead of
// receiving for ever (which it did before receipts were checked at once).
func TestDeliveryStopsAtFirstDuplicate(t *testing.T) {
	done := make(chan error, 1)
	go func() { done <- deliver(&runaway{Chan: core.NewSPSC[int](8)}, 1, 1, 100, 4, 4) }()
	select {
	case err := <-done:
		require.ErrorContains(t, err, "value 99 of sender 0 received twice")
	case <-time.After(time.Minute):
		require.FailNow(t, "the delivery went on receiving for a minute")
	}
}

// TestEpisodeStopsAtFirstDuplicate: a linearizability episode reports a
// value received twice as it happens, before porcupine sees the history,
// and a value nobody sent likewise.
func TestEpisodeStopsAtFirstDuplicate(t *testing.T) {
	progs := [][]step{
		{{Kind: kSend}, {Kind: kSend}, {Kind: kClose}},
		{{Kind: kRecv}, {Kind: kRecv}, {Kind: kRecv}, {Kind: kRecvBatch, N: 4}},
	}
	_, err := runEpisode(&runaway{Chan: core.NewSPSC[int](4)}, progs)
	require.ErrorContains(t, err, "goroutine 1 received value 1 of goroutine 0, which was received before")

	r := newReceipts(progs)
	r.issue(0, 1)
	r.receive(1, 0)
	require.NoError(t, r.err())
	r.receive(1, 1) // value 1 of goroutine 0: its Send was never called
	require.ErrorContains(t, r.err(), "which was never sent")
	r.receive(1, 1<<20) // of goroutine 1, a receiver
	require.ErrorContains(t, r.err(), "which was never sent", "the first violation is kept")
}
