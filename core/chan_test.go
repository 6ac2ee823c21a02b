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
	"fmt"
	"math"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

// chanWaitTimeout bounds every wait for another goroutine.
const chanWaitTimeout = 10 * time.Second

// chanPayload is a pointer-free object too big for the tiny allocator, so a
// weak pointer to it is cleared as soon as the object is unreachable.
type chanPayload struct {
	id int
	_  [56]byte
}

// forEachChanFlavor runs f as the subtest flavor=<name> for every flavor.
func forEachChanFlavor(t *testing.T, f func(t *testing.T, fl chantest.Flavor)) {
	for _, fl := range chantest.Flavors {
		t.Run("flavor="+fl.String(), func(t *testing.T) { f(t, fl) })
	}
}

// openChan returns a new channel of flavor fl that is closed when the test
// ends, so that a goroutine left parked by a failing test is released.
func openChan(t *testing.T, fl chantest.Flavor, capacity int) core.Chan[int] {
	c := fl.New(capacity)
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

func TestChanConstructor(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
		ctor := "New" + fl.Type()
		t.Run("invalid capacity panics", func(t *testing.T) {
			bad := []int{0, -1, -100, math.MinInt}
			if strconv.IntSize == 64 {
				tooBig := uint64(1)<<40 + 1
				bad = append(bad, int(tooBig))
			}
			for _, n := range bad {
				r := recoverPanic(func() { fl.New(n) })
				require.NotNil(t, r, "%s(%d) did not panic", ctor, n)
				msg := fmt.Sprint(r)
				assert.Contains(t, msg, ctor, "panic message of %s(%d)", ctor, n)
				// The value as a whole number, not as part of another.
				num := regexp.MustCompile(`(^|[^0-9-])` + regexp.QuoteMeta(strconv.Itoa(n)) + `([^0-9]|$)`)
				assert.Regexp(t, num, msg, "panic message of %s(%d) names the value", ctor, n)
			}
		})

		t.Run("Cap rounds up to a power of two", func(t *testing.T) {
			for _, tc := range []struct{ capacity, want int }{
				{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {64, 64}, {65, 128}, {100, 128}, {1000, 1024},
			} {
				c := fl.New(tc.capacity)
				assert.Equal(t, tc.want, c.Cap(), "%s(%d).Cap()", ctor, tc.capacity)
				assert.Zero(t, c.Len(), "%s(%d).Len()", ctor, tc.capacity)
			}
		})

		t.Run("Len tracks sends and receives", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := openChan(t, fl, 8)
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
	forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
		// Capacity 4 and 1000 values: the indices wrap around the ring
		// hundreds of times, at every fill level, with every operation.
		const total = 1000
		ctx := chanTestCtx(t)
		c := openChan(t, fl, 4)
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
	forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
		for _, capacity := range []int{1, 4, 5} {
			t.Run(fmt.Sprintf("capacity=%d", capacity), func(t *testing.T) {
				c := openChan(t, fl, capacity)
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
	forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
		t.Run("second Close", func(t *testing.T) {
			c := openChan(t, fl, 4)
			require.NoError(t, c.Close())
			require.ErrorIs(t, c.Close(), core.ErrClosed)
			require.ErrorIs(t, c.Close(), core.ErrClosed)
		})

		t.Run("empty", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := openChan(t, fl, 4)
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
				c := openChan(t, fl, 8)
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
			c := openChan(t, fl, 8)
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
			c := openChan(t, fl, 4)
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
	forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
		t.Run("empty batches", func(t *testing.T) {
			ctx := chanTestCtx(t)
			c := openChan(t, fl, 4)
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
			c := openChan(t, fl, 8)
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
			c := openChan(t, fl, 8)
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
