package core_test

// Unit tests of the channel contract (chan.go), run against every flavor.
//
// Blocking tests never sleep to synchronize: they wait until core.Parked
// reports the goroutine linked in a wait queue. Every wait for another
// goroutine is bounded by chanWaitTimeout, so that a lost wakeup fails the
// test instead of hanging it; the bound is never reached by a correct
// channel and is not a timing assertion.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
)

// chanWaitTimeout bounds every wait for another goroutine.
const chanWaitTimeout = 10 * time.Second

// chanPayload is a pointer-free object too big for the tiny allocator, so a
// weak pointer to it is cleared as soon as the object is unreachable.
type chanPayload struct {
	id int
	_  [56]byte
}

type chanFlavor struct {
	name      string
	ctor      string // constructor name, expected in panic messages
	multiSend bool   // concurrent senders allowed
	multiRecv bool   // concurrent receivers allowed
	new       func(capacity int) core.Chan[int]
}

// chanOf returns a channel of fl's flavor for values of type T.
func chanOf[T any](fl chanFlavor, capacity int) core.Chan[T] {
	switch fl.name {
	case "spsc":
		return core.NewSPSC[T](capacity)
	case "mpsc":
		return core.NewMPSC[T](capacity)
	case "spmc":
		return core.NewSPMC[T](capacity)
	case "mpmc":
		return core.NewMPMC[T](capacity)
	}
	panic("unknown flavor " + fl.name)
}

var chanFlavors = []chanFlavor{
	{
		name: "spsc", ctor: "NewSPSC",
		new: func(n int) core.Chan[int] { return core.NewSPSC[int](n) },
	},
	{
		name: "mpsc", ctor: "NewMPSC", multiSend: true,
		new: func(n int) core.Chan[int] { return core.NewMPSC[int](n) },
	},
	{
		name: "spmc", ctor: "NewSPMC", multiRecv: true,
		new: func(n int) core.Chan[int] { return core.NewSPMC[int](n) },
	},
	{
		name: "mpmc", ctor: "NewMPMC", multiSend: true, multiRecv: true,
		new: func(n int) core.Chan[int] { return core.NewMPMC[int](n) },
	},
}

// forEachChanFlavor runs f as the subtest flavor=<name> for every flavor.
func forEachChanFlavor(t *testing.T, f func(t *testing.T, fl chanFlavor)) {
	for _, fl := range chanFlavors {
		t.Run("flavor="+fl.name, func(t *testing.T) { f(t, fl) })
	}
}

// open returns a new channel that is closed when the test ends, so that a
// goroutine left parked by a failing test is released.
func (fl chanFlavor) open(t *testing.T, capacity int) core.Chan[int] {
	c := fl.new(capacity)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// chanTestCtx is the context of operations that must not block for long: if
// one does, it fails with DeadlineExceeded instead of hanging the test.
func chanTestCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), chanWaitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitParked waits until c has exactly the given numbers of parked senders
// and receivers. It fails at once if one of the operations expected to park
// has returned instead.
func waitParked(t *testing.T, c core.Chan[int], senders, receivers int, ops ...<-chan opResult) {
	t.Helper()
	deadline := time.Now().Add(chanWaitTimeout)
	for {
		s, r := core.Parked(c)
		if s == senders && r == receivers {
			return
		}
		for _, op := range ops {
			if len(op) > 0 {
				t.Fatalf("operation returned %+v instead of parking", <-op)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Parked = (%d senders, %d receivers), want (%d, %d)", s, r, senders, receivers)
		}
		runtime.Gosched()
	}
}

func requireNotParked(t *testing.T, c core.Chan[int]) {
	t.Helper()
	s, r := core.Parked(c)
	require.Equal(t, [2]int{0, 0}, [2]int{s, r}, "Parked (senders, receivers)")
}

// opResult is the outcome of an operation run by another goroutine: the
// values received, or the count sent, and the error.
type opResult struct {
	vals []int
	n    int
	err  error
}

// goOp runs op on a new goroutine; awaitOp collects its result.
func goOp(op func() opResult) <-chan opResult {
	ch := make(chan opResult, 1)
	go func() { ch <- op() }()
	return ch
}

func awaitOp(t *testing.T, ch <-chan opResult) opResult {
	t.Helper()
	timer := time.NewTimer(chanWaitTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r
	case <-timer.C:
		t.Fatal("operation did not return (lost wakeup?)")
		return opResult{}
	}
}

// chanOp is a named send or receive operation, so that tests can run over
// every way of sending or receiving.
type chanOp struct {
	name string
	// For receive operations: receive once and return the values (vals
	// is unused). For send operations: send vals (Send and TrySend send
	// only vals[0]) and return the count sent.
	do func(ctx context.Context, c core.Chan[int], vals []int) opResult
}

func recvOnce(ctx context.Context, c core.Chan[int]) opResult {
	v, err := c.Recv(ctx)
	if err != nil {
		if v != 0 {
			return opResult{vals: []int{v}, err: fmt.Errorf("Recv returned %d with %w", v, err)}
		}
		return opResult{err: err}
	}
	return opResult{vals: []int{v}, n: 1}
}

func tryRecvOnce(c core.Chan[int]) opResult {
	v, err := c.TryRecv()
	if err != nil {
		if v != 0 {
			return opResult{vals: []int{v}, err: fmt.Errorf("TryRecv returned %d with %w", v, err)}
		}
		return opResult{err: err}
	}
	return opResult{vals: []int{v}, n: 1}
}

func recvBatchOnce(ctx context.Context, c core.Chan[int], size int) opResult {
	dst := make([]int, size)
	n, err := c.RecvBatch(ctx, dst)
	return opResult{vals: dst[:n], n: n, err: err}
}

// Blocking receive operations.
var chanBlockingRecvOps = []chanOp{
	{"Recv", func(ctx context.Context, c core.Chan[int], _ []int) opResult { return recvOnce(ctx, c) }},
	{"RecvBatch", func(ctx context.Context, c core.Chan[int], _ []int) opResult { return recvBatchOnce(ctx, c, 4) }},
}

// Receive operations that take exactly one value when one is buffered.
var chanRecvOneOps = []chanOp{
	{"Recv", func(ctx context.Context, c core.Chan[int], _ []int) opResult { return recvOnce(ctx, c) }},
	{"TryRecv", func(_ context.Context, c core.Chan[int], _ []int) opResult { return tryRecvOnce(c) }},
	{"RecvBatch", func(ctx context.Context, c core.Chan[int], _ []int) opResult { return recvBatchOnce(ctx, c, 1) }},
}

var (
	chanSend = chanOp{"Send", func(ctx context.Context, c core.Chan[int], vals []int) opResult {
		if err := c.Send(ctx, vals[0]); err != nil {
			return opResult{err: err}
		}
		return opResult{n: 1}
	}}
	chanTrySend = chanOp{"TrySend", func(_ context.Context, c core.Chan[int], vals []int) opResult {
		if err := c.TrySend(vals[0]); err != nil {
			return opResult{err: err}
		}
		return opResult{n: 1}
	}}
	chanSendBatch = chanOp{"SendBatch", func(ctx context.Context, c core.Chan[int], vals []int) opResult {
		n, err := c.SendBatch(ctx, vals)
		return opResult{n: n, err: err}
	}}
)

// drain takes every buffered value with TryRecv until ErrEmpty or ErrClosed
// and returns the values and that error.
func drain(t *testing.T, c core.Chan[int]) ([]int, error) {
	t.Helper()
	var got []int
	for {
		v, err := c.TryRecv()
		if err != nil {
			require.Zero(t, v, "TryRecv returned a value with %v", err)
			return got, err
		}
		got = append(got, v)
	}
}

// seq returns [from, from+n).
func seq(from, n int) []int {
	if n == 0 {
		return nil // as drain and append return for nothing
	}
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}

// recoverPanic returns the value f panics with, or nil.
func recoverPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

func TestChanConstructor(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
		t.Run("invalid capacity panics", func(t *testing.T) {
			bad := []int{0, -1, -100, math.MinInt}
			if strconv.IntSize == 64 {
				tooBig := uint64(1)<<40 + 1
				bad = append(bad, int(tooBig))
			}
			for _, n := range bad {
				r := recoverPanic(func() { fl.new(n) })
				require.NotNil(t, r, "%s(%d) did not panic", fl.ctor, n)
				msg := fmt.Sprint(r)
				assert.Contains(t, msg, fl.ctor, "panic message of %s(%d)", fl.ctor, n)
				// The value as a whole number, not as part of another.
				num := regexp.MustCompile(`(^|[^0-9-])` + regexp.QuoteMeta(strconv.Itoa(n)) + `([^0-9]|$)`)
				assert.Regexp(t, num, msg, "panic message of %s(%d) names the value", fl.ctor, n)
			}
		})

		t.Run("Cap rounds up to a power of two", func(t *testing.T) {
			for _, tc := range []struct{ capacity, want int }{
				{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {64, 64}, {65, 128}, {100, 128}, {1000, 1024},
			} {
				c := fl.new(tc.capacity)
				assert.Equal(t, tc.want, c.Cap(), "%s(%d).Cap()", fl.ctor, tc.capacity)
				assert.Zero(t, c.Len(), "%s(%d).Len()", fl.ctor, tc.capacity)
			}
		})

		t.Run("Len tracks sends and receives", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := fl.open(t, 8)
			require.Equal(t, 0, c.Len())
			require.NoError(t, c.Send(ctx, 1))
			require.Equal(t, 1, c.Len())
			require.NoError(t, c.TrySend(2))
			require.Equal(t, 2, c.Len())
			n, err := c.SendBatch(ctx, []int{3, 4, 5})
			require.NoError(t, err)
			require.Equal(t, 3, n)
			require.Equal(t, 5, c.Len())
			_, err = c.Recv(ctx)
			require.NoError(t, err)
			require.Equal(t, 4, c.Len())
			_, err = c.TryRecv()
			require.NoError(t, err)
			require.Equal(t, 3, c.Len())
			dst := make([]int, 2)
			n, err = c.RecvBatch(ctx, dst)
			require.NoError(t, err)
			require.True(t, n >= 1 && n <= 2, "RecvBatch(len 2) = %d", n)
			require.Equal(t, 3-n, c.Len())
			require.NoError(t, c.Close())
			require.Equal(t, 3-n, c.Len(), "Close keeps buffered values")
			_, err = drain(t, c)
			require.ErrorIs(t, err, core.ErrClosed)
			require.Equal(t, 0, c.Len())
			require.Equal(t, 8, c.Cap())
		})
	})
}

func TestChanFIFO(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
		// Capacity 4 and 1000 values: the indices wrap around the ring
		// hundreds of times, at every fill level, with every operation.
		const total = 1000
		ctx := chanTestCtx(t)
		c := fl.open(t, 4)
		dst := make([]int, 4)
		sent, want := 0, 0
		for round := 0; want < total; round++ {
			// Send a burst of up to 4 values, as much as fits.
			burst := min(1+round%4, c.Cap()-c.Len(), total-sent)
			switch round % 3 {
			case 0:
				for range burst {
					require.NoError(t, c.Send(ctx, sent))
					sent++
				}
			case 1:
				for range burst {
					require.NoError(t, c.TrySend(sent))
					sent++
				}
			case 2:
				n, err := c.SendBatch(ctx, seq(sent, burst))
				require.NoError(t, err)
				require.Equal(t, burst, n)
				sent += burst
			}
			require.Equal(t, sent-want, c.Len())
			// Receive a burst of up to 4 values, at most what is buffered.
			take := min(1+(round*7)%4, c.Len())
			for take > 0 {
				var got []int
				switch round % 3 {
				case 0:
					v, err := c.TryRecv()
					require.NoError(t, err)
					got = []int{v}
				case 1:
					v, err := c.Recv(ctx)
					require.NoError(t, err)
					got = []int{v}
				case 2:
					n, err := c.RecvBatch(ctx, dst[:take])
					require.NoError(t, err)
					require.True(t, n >= 1 && n <= take, "RecvBatch(len %d) = %d", take, n)
					got = dst[:n]
				}
				for _, v := range got {
					require.Equal(t, want, v, "FIFO order")
					want++
				}
				take -= len(got)
			}
			require.Equal(t, sent-want, c.Len())
		}
		require.Equal(t, total, sent)
		_, err := c.TryRecv()
		require.ErrorIs(t, err, core.ErrEmpty)
	})
}

func TestChanTrySendTryRecv(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
		for _, capacity := range []int{1, 4, 5} {
			t.Run(fmt.Sprintf("capacity=%d", capacity), func(t *testing.T) {
				c := fl.open(t, capacity)
				cp := c.Cap()
				v, err := c.TryRecv()
				require.ErrorIs(t, err, core.ErrEmpty)
				require.Zero(t, v)
				next := 0
				for lap := range 3 {
					// TrySend succeeds exactly while Len() < Cap().
					for i := range cp {
						require.Equal(t, i, c.Len())
						require.NoError(t, c.TrySend(next+i), "lap %d, Len %d of %d", lap, i, cp)
					}
					require.Equal(t, cp, c.Len())
					err := c.TrySend(-1)
					require.ErrorIs(t, err, core.ErrFull)
					require.NotErrorIs(t, err, core.ErrClosed)
					require.Equal(t, cp, c.Len(), "a failed TrySend changes nothing")

					// One out, one in: full again.
					v, err := c.TryRecv()
					require.NoError(t, err)
					require.Equal(t, next, v)
					require.Equal(t, cp-1, c.Len())
					require.NoError(t, c.TrySend(next+cp))
					require.ErrorIs(t, c.TrySend(-1), core.ErrFull)

					for i := 1; i <= cp; i++ {
						v, err := c.TryRecv()
						require.NoError(t, err)
						require.Equal(t, next+i, v)
						require.Equal(t, cp-i, c.Len())
					}
					v, err = c.TryRecv()
					require.ErrorIs(t, err, core.ErrEmpty)
					require.NotErrorIs(t, err, core.ErrClosed)
					require.Zero(t, v)
					next += cp + 1
				}
			})
		}
	})
}

func TestChanClose(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
		t.Run("second Close", func(t *testing.T) {
			c := fl.open(t, 4)
			require.NoError(t, c.Close())
			require.ErrorIs(t, c.Close(), core.ErrClosed)
			require.ErrorIs(t, c.Close(), core.ErrClosed)
		})

		t.Run("empty", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := fl.open(t, 4)
			require.NoError(t, c.Close())
			requireSendsClosed(t, ctx, c)
			requireRecvsClosed(t, ctx, c)
			require.Equal(t, 0, c.Len())
			requireNotParked(t, c)
		})

		// Values buffered at Close are delivered, in order, by each
		// receive operation; then every receive returns ErrClosed.
		for _, op := range chanRecvOneOps {
			t.Run("buffered values are delivered by "+op.name, func(t *testing.T) {
				ctx := chanTestCtx(t)
				c := fl.open(t, 8)
				n, err := c.SendBatch(ctx, seq(0, 5))
				require.NoError(t, err)
				require.Equal(t, 5, n)
				require.NoError(t, c.Close())
				require.Equal(t, 5, c.Len())
				requireSendsClosed(t, ctx, c)
				require.Equal(t, 5, c.Len(), "sends after Close add nothing")
				var got []int
				for len(got) < 5 {
					r := op.do(ctx, c, nil)
					require.NoError(t, r.err, "after %v", got)
					got = append(got, r.vals...)
				}
				require.Equal(t, seq(0, 5), got)
				require.Equal(t, 0, c.Len())
				requireRecvsClosed(t, ctx, c)
				requireNotParked(t, c)
			})
		}

		t.Run("RecvBatch drains in chunks", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := fl.open(t, 8)
			n, err := c.SendBatch(ctx, seq(0, 7))
			require.NoError(t, err)
			require.Equal(t, 7, n)
			require.NoError(t, c.Close())
			var got []int
			dst := make([]int, 3)
			for len(got) < 7 {
				n, err := c.RecvBatch(ctx, dst)
				require.NoError(t, err)
				require.True(t, n >= 1 && n <= len(dst), "RecvBatch(len %d) = %d", len(dst), n)
				got = append(got, dst[:n]...)
			}
			require.Equal(t, seq(0, 7), got)
			n, err = c.RecvBatch(ctx, dst)
			require.ErrorIs(t, err, core.ErrClosed)
			require.Zero(t, n)
		})

		t.Run("full", func(t *testing.T) {
			// A closed full channel rejects sends with ErrClosed, not
			// ErrFull, and Send must not block on it.
			ctx := chanTestCtx(t)
			c := fl.open(t, 4)
			for i := range 4 {
				require.NoError(t, c.TrySend(i))
			}
			require.NoError(t, c.Close())
			requireSendsClosed(t, ctx, c)
			require.Equal(t, 4, c.Len())
			got, err := drain(t, c)
			require.ErrorIs(t, err, core.ErrClosed)
			require.Equal(t, seq(0, 4), got)
			requireRecvsClosed(t, ctx, c)
			requireNotParked(t, c)
		})
	})
}

// requireSendsClosed checks that every send operation fails with ErrClosed
// and sends nothing.
func requireSendsClosed(t *testing.T, ctx context.Context, c core.Chan[int]) {
	t.Helper()
	require.ErrorIs(t, c.Send(ctx, 100), core.ErrClosed, "Send")
	require.ErrorIs(t, c.TrySend(101), core.ErrClosed, "TrySend")
	n, err := c.SendBatch(ctx, []int{102, 103})
	require.ErrorIs(t, err, core.ErrClosed, "SendBatch")
	require.Zero(t, n, "SendBatch count")
}

// requireRecvsClosed checks that every receive operation fails with
// ErrClosed and returns no value.
func requireRecvsClosed(t *testing.T, ctx context.Context, c core.Chan[int]) {
	t.Helper()
	for range 2 { // and it stays so
		v, err := c.Recv(ctx)
		require.ErrorIs(t, err, core.ErrClosed, "Recv")
		require.Zero(t, v, "Recv value")
		v, err = c.TryRecv()
		require.ErrorIs(t, err, core.ErrClosed, "TryRecv")
		require.Zero(t, v, "TryRecv value")
		dst := make([]int, 4)
		n, err := c.RecvBatch(ctx, dst)
		require.ErrorIs(t, err, core.ErrClosed, "RecvBatch")
		require.Zero(t, n, "RecvBatch count")
	}
}

func TestChanBatch(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
		t.Run("empty batches", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := fl.open(t, 4)
			for _, vs := range [][]int{nil, {}} {
				n, err := c.SendBatch(ctx, vs)
				require.NoError(t, err)
				require.Zero(t, n)
				// On an empty channel RecvBatch(empty dst) must not block.
				n, err = c.RecvBatch(ctx, vs)
				require.NoError(t, err)
				require.Zero(t, n)
			}
			require.NoError(t, c.TrySend(1))
			n, err := c.RecvBatch(ctx, []int{})
			require.NoError(t, err)
			require.Zero(t, n)
			require.Equal(t, 1, c.Len(), "RecvBatch(empty dst) takes nothing")
			require.NoError(t, c.Close())
			n, err = c.RecvBatch(ctx, nil)
			require.NoError(t, err, "RecvBatch(empty dst) returns 0, nil at once, even when closed")
			require.Zero(t, n)
			require.Equal(t, 1, c.Len())
		})

		t.Run("without blocking", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := fl.open(t, 8)
			n, err := c.SendBatch(ctx, seq(0, 5))
			require.NoError(t, err)
			require.Equal(t, 5, n)
			require.Equal(t, 5, c.Len())
			n, err = c.SendBatch(ctx, seq(5, 3))
			require.NoError(t, err)
			require.Equal(t, 3, n)
			require.Equal(t, 8, c.Len())
			var got []int
			dst := make([]int, 16)
			for size := 3; len(got) < 8; size = len(dst) { // then larger than the capacity
				n, err := c.RecvBatch(ctx, dst[:size])
				require.NoError(t, err)
				require.True(t, n >= 1 && n <= size, "RecvBatch(len %d) = %d", size, n)
				got = append(got, dst[:n]...)
			}
			require.Equal(t, seq(0, 8), got)
			require.Equal(t, 0, c.Len())
		})

		// A batch much larger than the capacity is sent by one goroutine
		// while another receives with batches of varied sizes (some larger
		// than the capacity too) and with Recv.
		t.Run("larger than the capacity", func(t *testing.T) {
			const total = 1000
			ctx := chanTestCtx(t)
			c := fl.open(t, 8)
			sender := goOp(func() opResult {
				n, err := c.SendBatch(ctx, seq(0, total))
				return opResult{n: n, err: err}
			})
			sizes := []int{1, 3, 8, 13, 64, 2}
			dst := make([]int, 64)
			got := make([]int, 0, total)
			for i := 0; len(got) < total; i++ {
				if i%7 == 6 {
					v, err := c.Recv(ctx)
					require.NoError(t, err)
					got = append(got, v)
					continue
				}
				size := sizes[i%len(sizes)]
				n, err := c.RecvBatch(ctx, dst[:size])
				require.NoError(t, err)
				require.True(t, n >= 1 && n <= size, "RecvBatch(len %d) = %d", size, n)
				got = append(got, dst[:n]...)
			}
			r := awaitOp(t, sender)
			require.NoError(t, r.err)
			require.Equal(t, total, r.n)
			require.Equal(t, seq(0, total), got)
			require.NoError(t, c.Close())
			n, err := c.RecvBatch(ctx, dst)
			require.ErrorIs(t, err, core.ErrClosed)
			require.Zero(t, n)
			requireNotParked(t, c)
		})
	})
}

func TestChanBlocking(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
		// A receive on an empty channel parks and is woken by any send.
		for _, recv := range chanBlockingRecvOps {
			for _, send := range []chanOp{chanSend, chanTrySend, chanSendBatch} {
				t.Run(recv.name+" parks until "+send.name, func(t *testing.T) {
					c := fl.open(t, 4)
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
					c := fl.open(t, 2)
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
			c := fl.open(t, 1)
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
			receivers := 1
			if fl.multiRecv {
				receivers = 4
			}
			c := fl.open(t, 4)
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
			senders := 1
			if fl.multiSend {
				senders = 4
			}
			c := fl.open(t, 2)
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
			c := fl.open(t, 2)
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
				c := fl.open(t, 2)
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
				c := fl.open(t, 2)
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
			c := fl.open(t, 2)
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
				c := fl.open(t, 2)
				ops = append(ops, pending{recv.name, c, goOp(func() opResult { return recv.do(ctx, c, nil) }), false})
			}
			for _, send := range []chanOp{chanSend, chanSendBatch} {
				c := fl.open(t, 2)
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
			c := fl.open(t, 2)
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
			c := fl.open(t, 2)
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

		if fl.multiRecv {
			t.Run("cancelled receiver does not swallow a wakeup", func(t *testing.T) {
				testNoSwallowedRecvWakeup(t, fl)
			})
		}
		if fl.multiSend {
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
func testNoSwallowedRecvWakeup(t *testing.T, fl chanFlavor) {
	c := fl.open(t, 2)
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
func testNoSwallowedSendWakeup(t *testing.T, fl chanFlavor) {
	ctx := chanTestCtx(t)
	c := fl.open(t, 2)
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
			forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
				ctx := dc.ctx
				c := fl.open(t, 4)

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

func TestChanAllocs(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
		ctx := context.Background()
		c := fl.open(t, 16)
		var failed error
		for _, tc := range []struct {
			name string
			f    func()
		}{
			{"Send+Recv", func() {
				if err := c.Send(ctx, 1); err != nil {
					failed = err
				}
				if v, err := c.Recv(ctx); err != nil || v != 1 {
					failed = errors.Join(failed, err, errors.New("Recv: wrong value"))
				}
			}},
			{"TrySend+TryRecv", func() {
				if err := c.TrySend(1); err != nil {
					failed = err
				}
				if v, err := c.TryRecv(); err != nil || v != 1 {
					failed = errors.Join(failed, err, errors.New("TryRecv: wrong value"))
				}
			}},
			{"SendBatch+RecvBatch", func() {
				src, dst := chanAllocSrc[:], chanAllocDst[:]
				if n, err := c.SendBatch(ctx, src); err != nil || n != len(src) {
					failed = errors.Join(failed, err, errors.New("SendBatch: short"))
				}
				for got := 0; got < len(src); {
					n, err := c.RecvBatch(ctx, dst[got:])
					if err != nil {
						failed = errors.Join(failed, err)
						return
					}
					got += n
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				failed = nil
				allocs := testing.AllocsPerRun(1000, tc.f)
				require.NoError(t, failed)
				require.Zero(t, allocs, "allocations per %s", tc.name)
				require.Equal(t, 0, c.Len())
			})
		}
	})
}

var chanAllocSrc, chanAllocDst [16]int

// Received values must not stay reachable from the channel: the ring zeroes a
// slot when it hands its value out. If it did not, the slot (kept alive by
// runtime.KeepAlive(c)) would keep the payload reachable and its weak pointer
// would never be cleared, which requireCollected reports. Element types cover
// every kind of pointerful value the ring may have to zero.
func TestChanReceivedValuesAreNotRetained(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chanFlavor) {
		t.Run("type=pointer", func(t *testing.T) {
			testNotRetained(t, fl,
				func(p *chanPayload) *chanPayload { return p },
				func(v *chanPayload) *chanPayload { return v })
		})
		t.Run("type=struct", func(t *testing.T) {
			type box struct {
				n int
				p *chanPayload
			}
			testNotRetained(t, fl,
				func(p *chanPayload) box { return box{1, p} },
				func(v box) *chanPayload { return v.p })
		})
		t.Run("type=array", func(t *testing.T) {
			testNotRetained(t, fl,
				func(p *chanPayload) [2]*chanPayload { return [2]*chanPayload{nil, p} },
				func(v [2]*chanPayload) *chanPayload { return v[1] })
		})
		t.Run("type=slice", func(t *testing.T) {
			testNotRetained(t, fl,
				func(p *chanPayload) []*chanPayload { return []*chanPayload{p} },
				func(v []*chanPayload) *chanPayload { return v[0] })
		})
		t.Run("type=interface", func(t *testing.T) {
			testNotRetained(t, fl,
				func(p *chanPayload) any { return p },
				func(v any) *chanPayload { return v.(*chanPayload) })
		})
	})
}

func testNotRetained[T any](t *testing.T, fl chanFlavor, wrap func(*chanPayload) T, unwrap func(T) *chanPayload) {
	const n = 4 // every slot of a ring of capacity 4
	recvs := []struct {
		name string
		recv func(t *testing.T, c core.Chan[T])
	}{
		{"Recv", func(t *testing.T, c core.Chan[T]) {
			for i := range n {
				v, err := c.Recv(context.Background())
				require.NoError(t, err)
				require.Equal(t, i, unwrap(v).id)
			}
		}},
		{"TryRecv", func(t *testing.T, c core.Chan[T]) {
			for i := range n {
				v, err := c.TryRecv()
				require.NoError(t, err)
				require.Equal(t, i, unwrap(v).id)
			}
		}},
		{"RecvBatch", func(t *testing.T, c core.Chan[T]) {
			dst := make([]T, n)
			for got := 0; got < n; {
				k, err := c.RecvBatch(context.Background(), dst[got:])
				require.NoError(t, err)
				got += k
			}
			for i, v := range dst {
				require.Equal(t, i, unwrap(v).id)
			}
			clear(dst)
		}},
	}
	for _, r := range recvs {
		t.Run(r.name, func(t *testing.T) {
			c := chanOf[T](fl, 4)
			// Two laps: the second reuses the slots of the first.
			for range 2 {
				wps := sendPayloads(t, c, n, wrap)
				require.Equal(t, n, c.Len())
				r.recv(t, c)
				require.Equal(t, 0, c.Len())
				requireCollected(t, wps)
			}
			runtime.KeepAlive(c)
		})
	}

	// A value rejected after Close is not kept either (SPSC writes the
	// slot before it learns that the channel is closed). Each send
	// operation on a channel of its own, as they would use the same slot.
	for _, send := range []string{"TrySend", "Send", "SendBatch"} {
		t.Run(send+" rejected after Close", func(t *testing.T) {
			c := chanOf[T](fl, 4)
			require.NoError(t, c.Close())
			wp := rejectPayload(t, c, send, wrap)
			requireCollected(t, []weak.Pointer[chanPayload]{wp})
			runtime.KeepAlive(c)
		})
	}
}

// sendPayloads sends n new payloads with ids 0..n-1 and returns weak
// pointers to them; the caller holds no strong pointer.
//
//go:noinline
func sendPayloads[T any](t *testing.T, c core.Chan[T], n int, wrap func(*chanPayload) T) []weak.Pointer[chanPayload] {
	wps := make([]weak.Pointer[chanPayload], n)
	for i := range wps {
		p := &chanPayload{id: i}
		wps[i] = weak.Make(p)
		require.NoError(t, c.TrySend(wrap(p)))
	}
	return wps
}

// rejectPayload sends a new payload on the closed channel c with the named
// operation, which must fail, and returns a weak pointer to the payload.
//
//go:noinline
func rejectPayload[T any](t *testing.T, c core.Chan[T], send string, wrap func(*chanPayload) T) weak.Pointer[chanPayload] {
	p := &chanPayload{}
	wp := weak.Make(p)
	var err error
	switch send {
	case "TrySend":
		err = c.TrySend(wrap(p))
	case "Send":
		err = c.Send(context.Background(), wrap(p))
	case "SendBatch":
		var n int
		n, err = c.SendBatch(context.Background(), []T{wrap(p)})
		require.Zero(t, n)
	}
	require.ErrorIs(t, err, core.ErrClosed, send)
	return wp
}

// requireCollected runs the GC until every payload is collected.
func requireCollected(t *testing.T, wps []weak.Pointer[chanPayload]) {
	t.Helper()
	var alive []int
	for range 10 {
		runtime.GC()
		alive = alive[:0]
		for i, wp := range wps {
			if wp.Value() != nil {
				alive = append(alive, i)
			}
		}
		if len(alive) == 0 {
			return
		}
	}
	t.Fatalf("payloads %v are still reachable after 10 GCs: the channel retains values it no longer holds", alive)
}
