package core_test

// Blocking operations: parking, wakeups by peers, Close and contexts.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

func TestChanBlocking(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
		// A receive on an empty channel parks and is woken by any send.
		for _, recv := range chanBlockingRecvOps {
			for _, send := range []chanOp{chanSend, chanTrySend, chanSendBatch} {
				t.Run(recv.name+" parks until "+send.name, func(t *testing.T) {
					c := openChan(t, fl, 4)
					res := goOp(func() opResult { return recv.do(context.Background(), c, nil) })
					waitParked(t, c, 0, 1, res)
					vals := []int{42}
					if send.name == "SendBatch" {
						vals = []int{42, 43, 44}
					}
					r := send.do(context.Background(), c, vals)
					require.NoError(t, r.err)
					require.Equal(t, len(vals), r.n)
					got := awaitOp(t, res)
					require.NoError(t, got.err)
					require.NotEmpty(t, got.vals)
					rest, err := drain(t, c)
					require.ErrorIs(t, err, core.ErrEmpty)
					require.Equal(t, vals, append(got.vals, rest...))
					requireNotParked(t, c)
				})
			}
		}

		// A send on a full channel parks and is woken by any receive.
		for _, send := range []chanOp{chanSend, chanSendBatch} {
			for _, recv := range chanRecvOneOps {
				t.Run(send.name+" parks until "+recv.name, func(t *testing.T) {
					ctx := chanTestCtx(t)
					c := openChan(t, fl, 2)
					require.NoError(t, c.TrySend(0))
					require.NoError(t, c.TrySend(1))
					vals := []int{2}
					if send.name == "SendBatch" {
						vals = []int{2, 3, 4}
					}
					res := goOp(func() opResult { return send.do(context.Background(), c, vals) })
					waitParked(t, c, 1, 0, res)
					r := recv.do(ctx, c, nil)
					require.NoError(t, r.err)
					require.Equal(t, []int{0}, r.vals)
					got := []int{0}
					for len(got) < 2+len(vals) {
						v, err := c.Recv(ctx)
						require.NoError(t, err)
						got = append(got, v)
					}
					sr := awaitOp(t, res)
					require.NoError(t, sr.err)
					require.Equal(t, len(vals), sr.n)
					require.Equal(t, seq(0, 2+len(vals)), got)
					require.Equal(t, 0, c.Len())
					requireNotParked(t, c)
				})
			}
		}

		// Capacity 1 is the edge case of the ring's sequence numbers: a
		// slot's "holds position p" and "free for position p+cap" coincide
		// unless the ring tells them apart.
		t.Run("capacity 1", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := openChan(t, fl, 1)
			for i := 0; i < 6; i += 2 {
				require.NoError(t, c.TrySend(i))
				require.ErrorIs(t, c.TrySend(-1), core.ErrFull, "TrySend on a full channel of capacity 1")
				res := goOp(func() opResult { return chanSend.do(context.Background(), c, []int{i + 1}) })
				waitParked(t, c, 1, 0, res)
				require.Equal(t, 1, c.Len())
				v, err := c.Recv(ctx)
				require.NoError(t, err)
				require.Equal(t, i, v)
				r := awaitOp(t, res)
				require.NoError(t, r.err)
				v, err = c.Recv(ctx)
				require.NoError(t, err)
				require.Equal(t, i+1, v)
				requireNotParked(t, c)
			}
		})

		t.Run("Close wakes parked receivers", func(t *testing.T) {
			receivers := fl.Receivers(4)
			c := openChan(t, fl, 4)
			results := make([]<-chan opResult, receivers)
			for i := range results {
				op := chanBlockingRecvOps[i%len(chanBlockingRecvOps)]
				results[i] = goOp(func() opResult { return op.do(context.Background(), c, nil) })
			}
			waitParked(t, c, 0, receivers, results...)
			require.NoError(t, c.Close())
			for i, res := range results {
				r := awaitOp(t, res)
				require.ErrorIs(t, r.err, core.ErrClosed, "receiver %d", i)
				require.Empty(t, r.vals, "receiver %d", i)
			}
			requireNotParked(t, c)
		})

		t.Run("Close wakes parked senders", func(t *testing.T) {
			senders := fl.Senders(4)
			c := openChan(t, fl, 2)
			require.NoError(t, c.TrySend(0))
			require.NoError(t, c.TrySend(1))
			results := make([]<-chan opResult, senders)
			for i := range results {
				op := chanSend
				if i%2 == 1 {
					op = chanSendBatch
				}
				results[i] = goOp(func() opResult { return op.do(context.Background(), c, []int{100 + i, 200 + i}) })
			}
			waitParked(t, c, senders, 0, results...)
			require.NoError(t, c.Close())
			for i, res := range results {
				r := awaitOp(t, res)
				require.ErrorIs(t, r.err, core.ErrClosed, "sender %d", i)
				require.Zero(t, r.n, "sender %d", i)
			}
			requireNotParked(t, c)
			got, err := drain(t, c)
			require.ErrorIs(t, err, core.ErrClosed)
			require.Equal(t, []int{0, 1}, got, "values buffered before Close are delivered")
		})

		t.Run("Close wakes a partly sent SendBatch", func(t *testing.T) {
			c := openChan(t, fl, 2)
			require.NoError(t, c.TrySend(0))
			res := goOp(func() opResult { return chanSendBatch.do(context.Background(), c, []int{1, 2, 3}) })
			waitParked(t, c, 1, 0, res)
			require.NoError(t, c.Close())
			r := awaitOp(t, res)
			require.ErrorIs(t, r.err, core.ErrClosed)
			require.Equal(t, 1, r.n, "SendBatch counts the values sent before Close")
			got, err := drain(t, c)
			require.ErrorIs(t, err, core.ErrClosed)
			require.Equal(t, []int{0, 1}, got)
			requireNotParked(t, c)
		})

		// Cancelling the context wakes a parked operation with
		// context.Canceled; the channel is unaffected.
		for _, recv := range chanBlockingRecvOps {
			t.Run("cancel wakes parked "+recv.name, func(t *testing.T) {
				c := openChan(t, fl, 2)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				res := goOp(func() opResult { return recv.do(ctx, c, nil) })
				waitParked(t, c, 0, 1, res)
				cancel()
				r := awaitOp(t, res)
				require.ErrorIs(t, r.err, context.Canceled)
				require.Empty(t, r.vals)
				requireNotParked(t, c)
				// The cancelled receiver took nothing.
				require.NoError(t, c.TrySend(7))
				v, err := c.TryRecv()
				require.NoError(t, err)
				require.Equal(t, 7, v)
			})
		}
		for _, send := range []chanOp{chanSend, chanSendBatch} {
			t.Run("cancel wakes parked "+send.name, func(t *testing.T) {
				c := openChan(t, fl, 2)
				require.NoError(t, c.TrySend(0))
				require.NoError(t, c.TrySend(1))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				res := goOp(func() opResult { return send.do(ctx, c, []int{2, 3}) })
				waitParked(t, c, 1, 0, res)
				cancel()
				r := awaitOp(t, res)
				require.ErrorIs(t, r.err, context.Canceled)
				require.Zero(t, r.n)
				requireNotParked(t, c)
				// The cancelled sender added nothing.
				got, err := drain(t, c)
				require.ErrorIs(t, err, core.ErrEmpty)
				require.Equal(t, []int{0, 1}, got)
			})
		}
		t.Run("cancel wakes a partly sent SendBatch", func(t *testing.T) {
			c := openChan(t, fl, 2)
			require.NoError(t, c.TrySend(0))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := goOp(func() opResult { return chanSendBatch.do(ctx, c, []int{1, 2, 3}) })
			waitParked(t, c, 1, 0, res)
			cancel()
			r := awaitOp(t, res)
			require.ErrorIs(t, r.err, context.Canceled)
			require.Equal(t, 1, r.n)
			requireNotParked(t, c)
			got, err := drain(t, c)
			require.ErrorIs(t, err, core.ErrEmpty)
			require.Equal(t, []int{0, 1}, got)
		})

		// A deadline ends a parked operation with DeadlineExceeded. The
		// four operations wait concurrently, on four channels.
		t.Run("deadline", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			defer cancel()
			type pending struct {
				name string
				c    core.Chan[int]
				res  <-chan opResult
				full bool
			}
			var ops []pending
			for _, recv := range chanBlockingRecvOps {
				c := openChan(t, fl, 2)
				ops = append(ops, pending{recv.name, c, goOp(func() opResult { return recv.do(ctx, c, nil) }), false})
			}
			for _, send := range []chanOp{chanSend, chanSendBatch} {
				c := openChan(t, fl, 2)
				require.NoError(t, c.TrySend(0))
				require.NoError(t, c.TrySend(1))
				ops = append(ops, pending{send.name, c, goOp(func() opResult { return send.do(ctx, c, []int{2, 3}) }), true})
			}
			for _, op := range ops {
				r := awaitOp(t, op.res)
				require.ErrorIs(t, r.err, context.DeadlineExceeded, op.name)
				require.Zero(t, r.n, op.name)
				require.Empty(t, r.vals, op.name)
				requireNotParked(t, op.c)
				got, err := drain(t, op.c)
				require.ErrorIs(t, err, core.ErrEmpty)
				if op.full {
					require.Equal(t, []int{0, 1}, got, op.name)
				} else {
					require.Empty(t, got, op.name)
				}
			}
		})

		// A cancellation racing with a send: the parked receiver either
		// gets the value or returns Canceled and leaves it buffered.
		t.Run("cancel racing with a send loses no value", func(t *testing.T) {
			c := openChan(t, fl, 2)
			for i := range 100 {
				ctx, cancel := context.WithCancel(context.Background())
				recv := chanBlockingRecvOps[i%2]
				res := goOp(func() opResult { return recv.do(ctx, c, nil) })
				waitParked(t, c, 0, 1, res)
				cancel()
				require.NoError(t, c.TrySend(i))
				r := awaitOp(t, res)
				if r.err == nil {
					require.Equal(t, []int{i}, r.vals)
				} else {
					require.ErrorIs(t, r.err, context.Canceled)
					v, err := c.TryRecv()
					require.NoError(t, err, "value lost after a cancelled receive, iteration %d", i)
					require.Equal(t, i, v)
				}
				requireNotParked(t, c)
				require.Equal(t, 0, c.Len())
			}
		})

		// A cancellation racing with a receive: the parked sender either
		// sends its value or returns Canceled having sent nothing.
		t.Run("cancel racing with a receive", func(t *testing.T) {
			c := openChan(t, fl, 2)
			for i := range 100 {
				x0, x1, a := 3*i, 3*i+1, 3*i+2
				require.NoError(t, c.TrySend(x0))
				require.NoError(t, c.TrySend(x1))
				ctx, cancel := context.WithCancel(context.Background())
				send := chanSend
				if i%2 == 1 {
					send = chanSendBatch
				}
				res := goOp(func() opResult { return send.do(ctx, c, []int{a}) })
				waitParked(t, c, 1, 0, res)
				cancel()
				v, err := c.TryRecv()
				require.NoError(t, err)
				require.Equal(t, x0, v)
				r := awaitOp(t, res)
				got, err := drain(t, c)
				require.ErrorIs(t, err, core.ErrEmpty)
				if r.err == nil {
					require.Equal(t, 1, r.n)
					require.Equal(t, []int{x1, a}, got)
				} else {
					require.ErrorIs(t, r.err, context.Canceled)
					require.Zero(t, r.n)
					require.Equal(t, []int{x1}, got)
				}
				requireNotParked(t, c)
			}
		})

		if fl.MultiRecv() {
			t.Run("cancelled receiver does not swallow a wakeup", func(t *testing.T) {
				testNoSwallowedRecvWakeup(t, fl)
			})
		}
		if fl.MultiSend() {
			t.Run("cancelled sender does not swallow a wakeup", func(t *testing.T) {
				testNoSwallowedSendWakeup(t, fl)
			})
		}
	})
}

// testNoSwallowedRecvWakeup parks two receivers, first r1 then r2, cancels
// r1 and sends one value: r2 must get it unless r1 did. The first iteration
// waits for r1 to return before sending; the others cancel and send back to
// back, so that the send's wakeup often goes to r1 (first in the queue) while
// r1 is returning Canceled, and r1 must pass it on.
func testNoSwallowedRecvWakeup(t *testing.T, fl chantest.Flavor) {
	c := openChan(t, fl, 2)
	var passedOn, tookIt int
	for i := range 200 {
		ctx1, cancel1 := context.WithCancel(context.Background())
		op1 := chanBlockingRecvOps[i%2]
		op2 := chanBlockingRecvOps[(i/2)%2]
		r1 := goOp(func() opResult { return op1.do(ctx1, c, nil) })
		waitParked(t, c, 0, 1, r1)
		r2 := goOp(func() opResult { return op2.do(context.Background(), c, nil) })
		waitParked(t, c, 0, 2, r2)
		cancel1()
		var res1 opResult
		if i == 0 {
			res1 = awaitOp(t, r1)
			require.ErrorIs(t, res1.err, context.Canceled)
			waitParked(t, c, 0, 1)
		}
		require.NoError(t, c.TrySend(i))
		if i != 0 {
			res1 = awaitOp(t, r1)
		}
		if res1.err == nil {
			// r1 was woken before it saw the cancellation.
			tookIt++
			require.Equal(t, []int{i}, res1.vals)
			require.NoError(t, c.TrySend(-i))
			res2 := awaitOp(t, r2)
			require.NoError(t, res2.err)
			require.Equal(t, []int{-i}, res2.vals)
		} else {
			passedOn++
			require.ErrorIs(t, res1.err, context.Canceled)
			require.Empty(t, res1.vals)
			res2 := awaitOp(t, r2)
			require.NoError(t, res2.err, "iteration %d", i)
			require.Equal(t, []int{i}, res2.vals, "iteration %d", i)
		}
		requireNotParked(t, c)
		require.Equal(t, 0, c.Len())
	}
	t.Logf("r1 cancelled: %d, r1 took the value: %d", passedOn, tookIt)
}

// testNoSwallowedSendWakeup is testNoSwallowedRecvWakeup for senders: two
// senders park on a full channel, the first is cancelled and a value is
// received; the second must then send.
func testNoSwallowedSendWakeup(t *testing.T, fl chantest.Flavor) {
	ctx := chanTestCtx(t)
	c := openChan(t, fl, 2)
	var passedOn, sentIt int
	for i := range 200 {
		x0, x1, a, b := 4*i, 4*i+1, 4*i+2, 4*i+3
		require.NoError(t, c.TrySend(x0))
		require.NoError(t, c.TrySend(x1))
		ctx1, cancel1 := context.WithCancel(context.Background())
		op1, op2 := chanSend, chanSend
		if i%2 == 1 {
			op1 = chanSendBatch
		}
		if (i/2)%2 == 1 {
			op2 = chanSendBatch
		}
		s1 := goOp(func() opResult { return op1.do(ctx1, c, []int{a}) })
		waitParked(t, c, 1, 0, s1)
		s2 := goOp(func() opResult { return op2.do(context.Background(), c, []int{b}) })
		waitParked(t, c, 2, 0, s2)
		cancel1()
		var res1 opResult
		if i == 0 {
			res1 = awaitOp(t, s1)
			require.ErrorIs(t, res1.err, context.Canceled)
			waitParked(t, c, 1, 0)
		}
		v, err := c.TryRecv()
		require.NoError(t, err)
		require.Equal(t, x0, v)
		if i != 0 {
			res1 = awaitOp(t, s1)
		}
		var want []int
		if res1.err == nil {
			// s1 was woken before it saw the cancellation and sent a;
			// s2 waits for the next free slot.
			sentIt++
			require.Equal(t, 1, res1.n)
			v, err := c.Recv(ctx)
			require.NoError(t, err)
			require.Equal(t, x1, v)
			want = []int{a, b}
		} else {
			// The slot freed by TryRecv is s2's: it must send without
			// another receive.
			passedOn++
			require.ErrorIs(t, res1.err, context.Canceled)
			require.Zero(t, res1.n)
			want = []int{x1, b}
		}
		res2 := awaitOp(t, s2)
		require.NoError(t, res2.err, "iteration %d", i)
		require.Equal(t, 1, res2.n)
		got, err := drain(t, c)
		require.ErrorIs(t, err, core.ErrEmpty)
		require.Equal(t, want, got)
		requireNotParked(t, c)
	}
	t.Logf("s1 cancelled: %d, s1 sent: %d", passedOn, sentIt)
}

// Operations consult ctx only when they would block (chan.go).
func TestChanDoneContext(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	for _, dc := range []struct {
		name string
		ctx  context.Context
		err  error
	}{
		{"canceled", canceled, context.Canceled},
		{"expired", expired, context.DeadlineExceeded},
	} {
		t.Run(dc.name, func(t *testing.T) {
			forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
				ctx := dc.ctx
				c := openChan(t, fl, 4)

				// Would not block: succeed.
				require.NoError(t, c.Send(ctx, 0))
				n, err := c.SendBatch(ctx, []int{1, 2})
				require.NoError(t, err)
				require.Equal(t, 2, n)
				v, err := c.Recv(ctx)
				require.NoError(t, err)
				require.Equal(t, 0, v)
				dst := make([]int, 4)
				n, err = c.RecvBatch(ctx, dst)
				require.NoError(t, err)
				require.True(t, n >= 1 && n <= 2, "RecvBatch = %d", n)
				require.Equal(t, seq(1, n), dst[:n])
				rest, err := drain(t, c)
				require.ErrorIs(t, err, core.ErrEmpty)
				require.Equal(t, seq(1+n, 2-n), rest)

				// Would block: return ctx.Err().
				v, err = c.Recv(ctx)
				require.ErrorIs(t, err, dc.err)
				require.Zero(t, v)
				n, err = c.RecvBatch(ctx, dst)
				require.ErrorIs(t, err, dc.err)
				require.Zero(t, n)
				n, err = c.SendBatch(ctx, seq(10, 3))
				require.NoError(t, err)
				require.Equal(t, 3, n)
				// One slot left: a batch of 3 sends one and stops.
				n, err = c.SendBatch(ctx, seq(13, 3))
				require.ErrorIs(t, err, dc.err)
				require.Equal(t, 1, n)
				require.ErrorIs(t, c.Send(ctx, 99), dc.err)
				n, err = c.SendBatch(ctx, []int{99})
				require.ErrorIs(t, err, dc.err)
				require.Zero(t, n)
				require.Equal(t, 4, c.Len())
				requireNotParked(t, c)

				// Closed: ErrClosed, which does not block either.
				require.NoError(t, c.Close())
				require.ErrorIs(t, c.Send(ctx, 99), core.ErrClosed)
				n, err = c.SendBatch(ctx, []int{99})
				require.ErrorIs(t, err, core.ErrClosed)
				require.Zero(t, n)
				v, err = c.Recv(ctx)
				require.NoError(t, err, "buffered values are still delivered")
				require.Equal(t, 10, v)
				n, err = c.RecvBatch(ctx, dst)
				require.NoError(t, err)
				require.Equal(t, seq(11, n), dst[:n])
				rest, err = drain(t, c)
				require.ErrorIs(t, err, core.ErrClosed)
				require.Equal(t, seq(11+n, 3-n), rest)
				v, err = c.Recv(ctx)
				require.ErrorIs(t, err, core.ErrClosed)
				require.Zero(t, v)
				n, err = c.RecvBatch(ctx, dst)
				require.ErrorIs(t, err, core.ErrClosed)
				require.Zero(t, n)
				requireNotParked(t, c)
			})
		})
	}
}
