package core_test

// Ports of fifo.go, goroutines.go and nonblock.go (see gochan_test.go).

import (
	"context"
	"fmt"
	"testing"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/stretchr/testify/require"
)

// TestGoChanFIFO ports fifo.go: a buffered channel returns values in the order
// sent (AsynchFifo), and so does an "unbuffered" one whose values are taken by
// a daisy chain of goroutines that each receive one value, in turn
// (SynchFifo).
//
// Adapted: unbuffered channels become capacity 1; N = 10 as in the original
// (the buffered channel's capacity rounds up to 16, and its Len is checked
// too); Chain's panic(val) becomes an error reported by the group. In
// SynchFifo the Chain goroutines receive from the shared channel strictly one
// after another (each waits for its predecessor's token), so it has one
// receiver at a time and all four flavors run.
func TestGoChanFIFO(t *testing.T) {
	const N = 10
	for _, f := range chantest.Flavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			t.Run("fifo=asynch", func(t *testing.T) {
				ctx := context.Background()
				ch := chantest.New[int](f, N)
				for i := 0; i < N; i++ {
					require.NoError(t, ch.Send(ctx, i))
				}
				require.Equal(t, N, ch.Len())
				for i := 0; i < N; i++ {
					v, err := ch.Recv(ctx)
					require.NoError(t, err)
					require.Equal(t, i, v, "bad receive")
				}
			})

			t.Run("fifo=synch", func(t *testing.T) {
				g := gcStart(t)
				mk := func() core.Chan[int] { return chantest.New[int](f, 1) }
				chain := func(ch core.Chan[int], val int, in, out core.Chan[int]) {
					g.Go(fmt.Sprintf("Chain(%d)", val), func() error {
						gcRecv(g, in)
						if v := gcRecv(g, ch); v != val {
							return fmt.Errorf("Chain %d received %d", val, v)
						}
						gcSend(g, out, 1)
						return nil
					})
				}

				// thread together a daisy chain to read the elements in sequence
				ch := mk()
				in := mk()
				start := in
				for i := 0; i < N; i++ {
					out := mk()
					chain(ch, i, in, out)
					in = out
				}
				require.NoError(t, start.Send(g.ctx, 0))
				for i := 0; i < N; i++ {
					require.NoError(t, ch.Send(g.ctx, i))
				}
				_, err := in.Recv(g.ctx)
				require.NoError(t, err)
				g.wait()
			})
		})
	}
}

// ---------------------------------------------------------------------------
// goroutines.go

// TestGoChanGoroutines ports goroutines.go, a torture test: 10000 goroutines
// threaded together by channels, each forwarding one value from its right
// channel to its left, and torn down cleanly.
//
// Adapted: unbuffered channels become capacity 1; the value arriving at the
// leftmost channel is checked (the original only receives it); the test waits
// for all goroutines to have ended. The count stays at the original's 10000.
// Every channel has one sender and one receiver, so all four flavors run.
func TestGoChanGoroutines(t *testing.T) {
	const n = 10000
	for _, fl := range chantest.Flavors {
		t.Run("flavor="+fl.String(), func(t *testing.T) {
			g := gcStart(t)
			f := func(left, right core.Chan[int]) {
				g.Go("f", func() error {
					gcSend(g, left, gcRecv(g, right))
					return nil
				})
			}

			leftmost := chantest.New[int](fl, 1)
			right := leftmost
			left := leftmost
			for i := 0; i < n; i++ {
				right = chantest.New[int](fl, 1)
				f(left, right)
				left = right
			}
			g.Go("c <- 1", func() error {
				gcSend(g, right, 1)
				return nil
			})
			v, err := leftmost.Recv(g.ctx)
			require.NoError(t, err)
			require.Equal(t, 1, v)
			g.wait()
		})
	}
}

// ---------------------------------------------------------------------------
// nonblock.go

// TestGoChanNonBlock ports nonblock.go: non-blocking sends and receives on
// channels of int32, int64, bool and string, with a goroutine blocked (or
// about to block) on the other side.
//
// Adapted: select with a default case becomes TrySend/TryRecv, default
// becomes ErrEmpty/ErrFull. The original runs with buffer 0 and 1 and retries
// a non-blocking operation up to 10000 times, sleeping on a 10µs ticker in
// between, because with buffer 0 it succeeds only once the peer goroutine is
// blocked. nimsync has no unbuffered channel and forbids sleeping, so:
//
//   - peer=parked stands for buffer 0: the test waits (core.Parked, no sleep)
//     until the peer goroutine is parked in Recv on the empty channel, or in
//     Send on a channel it has filled (TrySend must then report ErrFull),
//     and the non-blocking operation must then succeed at the first attempt
//     and wake the peer.
//   - peer=running stands for buffer 1: the peer is started and the
//     operation attempted at once; TrySend must succeed at the first attempt
//     because there is room, and TryRecv, attempted after the sender's strobe
//     (as the original does for buffer > 0), must find the value.
//
// Both run with capacity 1 (as in the original) and 4. The original's initial
// "blocked sender" selects become TryRecv on the new channel reporting
// ErrEmpty; added at the end: TrySend and TryRecv after Close (ErrClosed once
// the buffered value is drained). On the channel under test one goroutine
// sends and one receives at a time (the strobe orders them), so all four
// flavors run; the strobe itself has two senders, so it gets
// flavor.WithMultiSend().
func TestGoChanNonBlock(t *testing.T) {
	for _, f := range chantest.Flavors {
		for _, capacity := range []int{1, 4} {
			for _, parked := range []bool{true, false} {
				peer := "running"
				if parked {
					peer = "parked"
				}
				name := fmt.Sprintf("flavor=%s/cap=%d/peer=%s", f, capacity, peer)
				t.Run(name, func(t *testing.T) {
					g := gcStart(t)
					// Both goroutines send on the strobe, and the
					// test starts XXsender once it has received
					// XXreceiver's value, possibly before
					// XXreceiver's Send has returned: two senders.
					strobe := chantest.New[bool](f.WithMultiSend(), 1)
					gcNonblock(t, g, f, capacity, parked, strobe, "i32", int32(123), int32(234), int32(-1))
					gcNonblock(t, g, f, capacity, parked, strobe, "i64", int64(123456), int64(234567), int64(-1))
					gcNonblock(t, g, f, capacity, parked, strobe, "b", true, true, false)
					gcNonblock(t, g, f, capacity, parked, strobe, "s", "hello", "hello again", "filler")
				})
			}
		}
	}
}

// gcNonblock runs nonblock.go's steps for one type: the XXreceiver goroutine
// expects toRecv, the XXsender goroutine sends toSend, and filler fills the
// channel so that the sender blocks.
func gcNonblock[T comparable](t *testing.T, g *gcGroup, f chantest.Flavor, capacity int, parked bool,
	strobe core.Chan[bool], typ string, toRecv, toSend, filler T) {
	t.Helper()
	c := chantest.New[T](f, capacity)
	awaitStrobe := func() {
		t.Helper()
		_, err := strobe.Recv(g.ctx)
		require.NoError(t, err, "%s strobe", typ)
	}

	// Nothing was sent: a non-blocking receive finds nothing.
	v, err := c.TryRecv()
	require.ErrorIs(t, err, core.ErrEmpty, "blocked %ssender", typ)
	require.Zero(t, v, "blocked %ssender", typ)

	// XXreceiver: a goroutine receives; a non-blocking send serves it.
	g.Go(typ+"receiver", func() error {
		if v := gcRecv(g, c); v != toRecv {
			return fmt.Errorf("%s value: got %v, want %v", typ, v, toRecv)
		}
		gcSend(g, strobe, true)
		return nil
	})
	if parked {
		gcAwaitParked(c, 0, 1)
	}
	require.NoError(t, c.TrySend(toRecv), "%sreceiver", typ)
	awaitStrobe()

	// XXsender: a goroutine sends; a non-blocking receive gets the value.
	if parked {
		for i := 0; i < c.Cap(); i++ {
			require.NoError(t, c.TrySend(filler), "%ssender: fill", typ)
		}
		require.ErrorIs(t, c.TrySend(filler), core.ErrFull, "%ssender: full", typ)
	}
	g.Go(typ+"sender", func() error {
		gcSend(g, c, toSend)
		gcSend(g, strobe, true)
		return nil
	})
	if parked {
		gcAwaitParked(c, 1, 0)
		// The first TryRecv wakes the sender; all fillers precede its value.
		for i := 0; i < c.Cap(); i++ {
			v, err := c.TryRecv()
			require.NoError(t, err, "%ssender: drain", typ)
			require.Equal(t, filler, v, "%ssender: drain", typ)
		}
	}
	awaitStrobe()
	v, err = c.TryRecv()
	require.NoError(t, err, "%ssender", typ)
	require.Equal(t, toSend, v, "%ssender value", typ)
	_, err = c.TryRecv()
	require.ErrorIs(t, err, core.ErrEmpty, "%ssender: drained", typ)

	// Added: the non-blocking operations after Close.
	require.NoError(t, c.TrySend(toSend), "%s: before Close", typ)
	require.NoError(t, c.Close(), "%s: Close", typ)
	require.ErrorIs(t, c.TrySend(toSend), core.ErrClosed, "%s: TrySend after Close", typ)
	v, err = c.TryRecv()
	require.NoError(t, err, "%s: TryRecv of a value buffered before Close", typ)
	require.Equal(t, toSend, v, "%s: TryRecv of a value buffered before Close", typ)
	_, err = c.TryRecv()
	require.ErrorIs(t, err, core.ErrClosed, "%s: TryRecv after Close, drained", typ)
}

// ---------------------------------------------------------------------------
// powser1.go
