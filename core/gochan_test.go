package core_test

// Ports of the Go distribution's channel test programs ($GOROOT/test/chan:
// sieve1.go, sieve2.go, fifo.go, goroutines.go, nonblock.go, powser1.go) to
// nimsync channels. The originals are Copyright 2009 The Go Authors, under
// the BSD-style license of the Go distribution.
//
// Common adaptations:
//
//   - Go's unbuffered channels become capacity 1 (nimsync has no unbuffered
//     channel); buffered ones keep their capacity (rounded up to a power of
//     two by core).
//   - The originals leave goroutines blocked forever when main returns. Here
//     every goroutine runs in a gcGroup and every blocking operation takes the
//     group's context, which the test cancels when it is done; the group then
//     waits for all its goroutines, so goleak (main_test.go) stays quiet.
//   - panic/println checks become testify assertions: require on the test
//     goroutine; other goroutines return an error, which their gcGroup
//     reports with assert (require must not be called off the test
//     goroutine) before canceling the group so that the test cannot hang.
//   - Programs run as subtests flavor=spsc|mpsc|spmc|mpmc over every flavor
//     whose contract they respect. "One sender (receiver) at a time" is
//     what SPSC, SPMC (MPSC) promise, so a channel whose sending (receiving)
//     side is handed from one goroutine to the next still counts as having
//     one sender (receiver), provided the previous goroutine's operation has
//     returned before the next one's starts (a go statement or a channel
//     operation after it orders them). Receiving the value a Send published
//     is not enough: that Send may not have returned yet.

import (
	"container/heap"
	"container/ring"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Shared helpers.

// gcFlavor names a channel flavor by the concurrency it allows.
type gcFlavor uint8

const (
	gcMultiSend gcFlavor = 1 << iota // several concurrent senders
	gcMultiRecv                      // several concurrent receivers

	gcSPSC = gcFlavor(0)
	gcMPSC = gcMultiSend
	gcSPMC = gcMultiRecv
	gcMPMC = gcMultiSend | gcMultiRecv
)

var gcAllFlavors = []gcFlavor{gcSPSC, gcMPSC, gcSPMC, gcMPMC}

func (f gcFlavor) String() string {
	return [...]string{"spsc", "mpsc", "spmc", "mpmc"}[f]
}

// gcMake returns a channel of flavor f. A program that needs more than f
// allows on some channel asks for it with f|gcMultiSend or f|gcMultiRecv and
// gets the least flavor that allows both.
func gcMake[T any](f gcFlavor, capacity int) core.Chan[T] {
	switch f {
	case gcSPSC:
		return core.NewSPSC[T](capacity)
	case gcMPSC:
		return core.NewMPSC[T](capacity)
	case gcSPMC:
		return core.NewSPMC[T](capacity)
	default:
		return core.NewMPMC[T](capacity)
	}
}

// gcStop is the panic value with which gcRecv and gcSend end a goroutine of a
// gcGroup when a channel operation fails; gcGroup.Go recovers it.
type gcStop struct{ err error }

// gcGroup runs the goroutines of one ported program. Its context is canceled
// when the test ends (or a goroutine fails), and the test does not return
// before all of them have.
type gcGroup struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func gcStart(t *testing.T) *gcGroup {
	ctx, cancel := context.WithCancel(context.Background())
	g := &gcGroup{t: t, ctx: ctx, cancel: cancel}
	t.Cleanup(func() {
		g.cancel()
		g.wg.Wait()
	})
	return g
}

// Go runs f in a new goroutine. f reports a failed check by returning an
// error; a failed channel operation ends it through gcRecv/gcSend. After the
// group's context is canceled, context.Canceled is the expected way out; any
// other error fails the test and cancels the group.
func (g *gcGroup) Go(name string, f func() error) {
	g.wg.Go(func() {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					s, ok := r.(gcStop)
					if !ok {
						panic(r)
					}
					err = s.err
				}
			}()
			return f()
		}()
		if err == nil || errors.Is(err, context.Canceled) && g.ctx.Err() != nil {
			return
		}
		assert.NoError(g.t, err, "goroutine %s", name)
		g.cancel()
	})
}

// wait waits for goroutines that end by themselves, without canceling them.
func (g *gcGroup) wait() { g.wg.Wait() }

// gcRecv and gcSend are <-c and c <- v for goroutines of g.
func gcRecv[T any](g *gcGroup, c core.Chan[T]) T {
	v, err := c.Recv(g.ctx)
	if err != nil {
		panic(gcStop{err})
	}
	return v
}

func gcSend[T any](g *gcGroup, c core.Chan[T], v T) {
	if err := c.Send(g.ctx, v); err != nil {
		panic(gcStop{err})
	}
}

// gcAwaitParked waits, without sleeping, until at least the given numbers of
// goroutines are parked on c.
func gcAwaitParked[T any](c core.Chan[T], senders, receivers int) {
	for {
		s, r := core.Parked(c)
		if s >= senders && r >= receivers {
			return
		}
		runtime.Gosched()
	}
}

// gcRequireCapacityOne checks, before a program that uses capacity-1 channels
// of the given flavors runs, that such a channel holds exactly one value: a
// second TrySend must fail with ErrFull. (At the time of writing, SPMC and
// MPMC fail it: the second TrySend overwrites the first value, and TryRecv
// then spins forever, so the programs would hang instead of failing.)
func gcRequireCapacityOne(t *testing.T, flavors ...gcFlavor) {
	t.Helper()
	for _, f := range flavors {
		c := gcMake[int](f, 1)
		require.NoError(t, c.TrySend(1), "%s capacity 1: first TrySend", f)
		require.ErrorIs(t, c.TrySend(2), core.ErrFull,
			"core bug: a full capacity-1 %s channel must refuse a second TrySend with ErrFull "+
				"(the ring flavors accepted it, losing the first value, and TryRecv then never returned)", f)
	}
}

// gcFirstPrimes returns the first n primes by trial division: the reference
// for the sieves.
func gcFirstPrimes(n int) []int {
	var ps []int
	for c := 2; len(ps) < n; c++ {
		prime := true
		for _, p := range ps {
			if p*p > c {
				break
			}
			if c%p == 0 {
				prime = false
				break
			}
		}
		if prime {
			ps = append(ps, c)
		}
	}
	return ps
}

// gcPrimesTo100 is the table that sieve1.go and sieve2.go check against.
var gcPrimesTo100 = []int{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97}

// ---------------------------------------------------------------------------
// sieve1.go

// TestGoChanSieve1 ports sieve1.go, the classical inefficient concurrent prime
// sieve: a generator and a daisy chain of divisibility filters, one goroutine
// and one new channel per prime.
//
// Adapted: unbuffered channels become capacity 1; the generator and filters
// stop when the test cancels the group's context; the original checks the
// primes below 100 (its table is checked first), this port the first 100
// primes (up to 541, so 100 filters). Every channel has one sender and one
// receiver at a time (the Sieve goroutine receives a channel's first value,
// then hands the channel to the new Filter), so all four flavors run.
func TestGoChanSieve1(t *testing.T) {
	want := gcFirstPrimes(100)
	require.Equal(t, gcPrimesTo100, want[:len(gcPrimesTo100)])
	for _, f := range gcAllFlavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			gcRequireCapacityOne(t, f)
			g := gcStart(t)
			mk := func() core.Chan[int] { return gcMake[int](f, 1) }

			// Send the sequence 2, 3, 4, ... to channel 'ch'.
			generate := func(ch core.Chan[int]) {
				g.Go("Generate", func() error {
					for i := 2; ; i++ {
						gcSend(g, ch, i)
					}
				})
			}
			// Copy the values from channel 'in' to channel 'out',
			// removing those divisible by 'prime'.
			filter := func(in, out core.Chan[int], prime int) {
				g.Go(fmt.Sprintf("Filter(%d)", prime), func() error {
					for {
						if i := gcRecv(g, in); i%prime != 0 {
							gcSend(g, out, i)
						}
					}
				})
			}
			// The prime sieve: Daisy-chain Filter processes together.
			sieve := func(primes core.Chan[int]) {
				g.Go("Sieve", func() error {
					ch := mk()
					generate(ch)
					for {
						// Note that ch is different on each iteration.
						prime := gcRecv(g, ch)
						gcSend(g, primes, prime)
						ch1 := mk()
						filter(ch, ch1, prime)
						ch = ch1
					}
				})
			}

			primes := mk()
			sieve(primes)
			for i, p := range want {
				x, err := primes.Recv(g.ctx)
				require.NoError(t, err, "prime #%d", i)
				require.Equal(t, p, x, "prime #%d", i)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// sieve2.go

// TestGoChanSieve2 ports sieve2.go, an Eratosthenes-style sieve over odd
// candidates: a heap merges the streams of odd multiples of each prime into
// one stream of composites, fed back the primes found through a proxy with an
// unbounded buffer.
//
// Adapted: sendproxy's select (receive from the proxy, or send the oldest
// buffered value) becomes two goroutines sharing the original's expanding
// container/ring buffer under a mutex, one per select case: the receiving
// half appends and rings a capacity-1 doorbell channel with TrySend (ErrFull
// means a ring is already pending), the sending half waits on the doorbell
// while the buffer is empty. Buffered channel capacities are kept (50 and 10
// round up to 64 and 16). Goroutines stop when the test cancels the group.
// The original checks the primes below 100, this port the first 100 primes.
// Every channel has one sender and one receiver at a time (out and primes get
// their first values from the test goroutine before the goroutines that
// take over their sending side start), so all four flavors run.
func TestGoChanSieve2(t *testing.T) {
	want := gcFirstPrimes(100)
	require.Equal(t, gcPrimesTo100, want[:len(gcPrimesTo100)])
	for _, f := range gcAllFlavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			gcRequireCapacityOne(t, f) // sendproxy's doorbell
			g := gcStart(t)
			primes := gcSieve2(t, g, f)
			for i, p := range want {
				x, err := primes.Recv(g.ctx)
				require.NoError(t, err, "prime #%d", i)
				require.Equal(t, p, x, "prime #%d", i)
			}
		})
	}
}

type gcPeekCh struct {
	head int
	ch   core.Chan[int]
}

// gcPeekChHeap is a heap of gcPeekCh, sorted by head values.
type gcPeekChHeap []*gcPeekCh

func (h *gcPeekChHeap) Less(i, j int) bool { return (*h)[i].head < (*h)[j].head }
func (h *gcPeekChHeap) Swap(i, j int)      { (*h)[i], (*h)[j] = (*h)[j], (*h)[i] }
func (h *gcPeekChHeap) Len() int           { return len(*h) }

func (h *gcPeekChHeap) Pop() (v any) {
	*h, v = (*h)[:h.Len()-1], (*h)[h.Len()-1]
	return
}

func (h *gcPeekChHeap) Push(v any) { *h = append(*h, v.(*gcPeekCh)) }

// gcSieve2 is sieve2.go's Sieve: it returns a channel of primes.
func gcSieve2(t *testing.T, g *gcGroup, f gcFlavor) core.Chan[int] {
	// Return a chan of odd numbers, starting from 5.
	odds := func() core.Chan[int] {
		out := gcMake[int](f, 50)
		g.Go("odds", func() error {
			for n := 5; ; n += 2 {
				gcSend(g, out, n)
			}
		})
		return out
	}

	// Return a chan of odd multiples of the prime number p, starting from p*p.
	multiples := func(p int) core.Chan[int] {
		out := gcMake[int](f, 10)
		g.Go(fmt.Sprintf("multiples(%d)", p), func() error {
			for n := p * p; ; n += 2 * p {
				gcSend(g, out, n)
			}
		})
		return out
	}

	// Return a channel to serve as a sending proxy to 'out'.
	// Use goroutines to receive values from 'proxy' and store them
	// in an expanding buffer, so that sending to 'proxy' never blocks.
	sendproxy := func(out core.Chan[int]) core.Chan[int] {
		proxy := gcMake[int](f, 10)
		doorbell := gcMake[struct{}](f, 1)
		var mu sync.Mutex
		n := 16 // the allocated size of the circular queue
		first := ring.New(n)
		last := first
		g.Go("sendproxy: case e = <-proxy", func() error {
			for {
				e := gcRecv(g, proxy)
				mu.Lock()
				last.Value = e
				if last.Next() == first {
					// buffer full: expand it
					last.Link(ring.New(n))
					n *= 2
				}
				last = last.Next()
				mu.Unlock()
				if err := doorbell.TrySend(struct{}{}); err != nil && !errors.Is(err, core.ErrFull) {
					return fmt.Errorf("doorbell.TrySend: %w", err)
				}
			}
		})
		g.Go("sendproxy: case c <- e", func() error {
			for {
				mu.Lock()
				empty := first == last
				var e int
				if !empty {
					e = first.Value.(int)
				}
				mu.Unlock()
				if empty {
					// buffer empty: disable output
					gcRecv(g, doorbell)
					continue
				}
				gcSend(g, out, e)
				mu.Lock()
				first = first.Next()
				mu.Unlock()
			}
		})
		return proxy
	}

	// The output values.
	out := gcMake[int](f, 10)
	require.NoError(t, out.Send(g.ctx, 2))
	require.NoError(t, out.Send(g.ctx, 3))

	// The channel of all composites to be eliminated in increasing order.
	composites := gcMake[int](f, 50)

	// The feedback loop.
	primes := gcMake[int](f, 10)
	require.NoError(t, primes.Send(g.ctx, 3))

	// Merge channels of multiples of 'primes' into 'composites'.
	g.Go("merge", func() error {
		var h gcPeekChHeap
		minv := 15
		for {
			m := multiples(gcRecv(g, primes))
			head := gcRecv(g, m)
			for minv < head {
				gcSend(g, composites, minv)
				minchan := heap.Pop(&h).(*gcPeekCh)
				minv = minchan.head
				minchan.head = gcRecv(g, minchan.ch)
				heap.Push(&h, minchan)
			}
			for minv == head {
				minchan := heap.Pop(&h).(*gcPeekCh)
				minv = minchan.head
				minchan.head = gcRecv(g, minchan.ch)
				heap.Push(&h, minchan)
			}
			gcSend(g, composites, head)
			heap.Push(&h, &gcPeekCh{gcRecv(g, m), m})
		}
	})

	// Sieve out 'composites' from 'candidates'.
	g.Go("sieve", func() error {
		// In order to generate the nth prime we only need multiples of
		// primes ≤ sqrt(nth prime).  Thus, the merging goroutine will
		// receive from 'primes' much slower than this goroutine
		// will send to it, making the buffer accumulate and block this
		// goroutine from sending, causing a deadlock.  The solution is to
		// use a proxy goroutine to do automatic buffering.
		primes := sendproxy(primes)

		candidates := odds()
		p := gcRecv(g, candidates)

		for {
			c := gcRecv(g, composites)
			for p < c {
				gcSend(g, primes, p)
				gcSend(g, out, p)
				p = gcRecv(g, candidates)
			}
			if p == c {
				p = gcRecv(g, candidates)
			}
		}
	})

	return out
}

// ---------------------------------------------------------------------------
// fifo.go

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
	for _, f := range gcAllFlavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			t.Run("fifo=asynch", func(t *testing.T) {
				ctx := context.Background()
				ch := gcMake[int](f, N)
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
				gcRequireCapacityOne(t, f)
				g := gcStart(t)
				mk := func() core.Chan[int] { return gcMake[int](f, 1) }
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
	for _, fl := range gcAllFlavors {
		t.Run("flavor="+fl.String(), func(t *testing.T) {
			gcRequireCapacityOne(t, fl)
			g := gcStart(t)
			f := func(left, right core.Chan[int]) {
				g.Go("f", func() error {
					gcSend(g, left, gcRecv(g, right))
					return nil
				})
			}

			leftmost := gcMake[int](fl, 1)
			right := leftmost
			left := leftmost
			for i := 0; i < n; i++ {
				right = gcMake[int](fl, 1)
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
// flavor|gcMultiSend.
func TestGoChanNonBlock(t *testing.T) {
	for _, f := range gcAllFlavors {
		for _, capacity := range []int{1, 4} {
			for _, parked := range []bool{true, false} {
				peer := "running"
				if parked {
					peer = "parked"
				}
				name := fmt.Sprintf("flavor=%s/cap=%d/peer=%s", f, capacity, peer)
				t.Run(name, func(t *testing.T) {
					gcRequireCapacityOne(t, f, f|gcMultiSend) // c, and the strobe
					g := gcStart(t)
					// Both goroutines send on the strobe, and the
					// test starts XXsender once it has received
					// XXreceiver's value, possibly before
					// XXreceiver's Send has returned: two senders.
					strobe := gcMake[bool](f|gcMultiSend, 1)
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
func gcNonblock[T comparable](t *testing.T, g *gcGroup, f gcFlavor, capacity int, parked bool,
	strobe core.Chan[bool], typ string, toRecv, toSend, filler T) {
	t.Helper()
	c := gcMake[T](f, capacity)
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

// TestGoChanPowser ports powser1.go, Doug McIlroy's power series: a series is
// a demand channel (a request channel and a data channel) along which flow
// rational coefficients, each operator a goroutine; split replicates a series
// for two consumers that read at different rates, which multiplication and
// the feedback loop of Exp need.
//
// Adapted:
//   - Unbuffered channels become capacity 1. The global seqno sent with each
//     request (written racily by every goroutine in the original) is an
//     atomic counter; the channel names used only for printing are dropped.
//   - getn's select over two requests and two replies becomes a goroutine per
//     input: get2 reads its second input in a helper goroutine while reading
//     the first itself, then joins on a channel.
//   - dosplit's chain of goroutine generations with selects over out[0].req,
//     out[1].req and a release channel is restructured: both outputs of a
//     split share one request channel whose requests say which output asks,
//     a server goroutine keeps the terms one output has and the other has not
//     seen yet, and a fetcher goroutine reads the input on the server's
//     behalf and posts each term on the same channel, so the server waits on
//     one channel only and can serve one output while the input is being
//     read for the other (Exp's feedback loop needs that).
//   - The checks are the original's (Ones, Diff, Integ, Cmul, Mul, Exp,
//     ATan). The original passes count 0 for Add(Ones, Ones), Add(Ones, Twos)
//     and Sub(Ones, Twos), so it only builds them; this port reads 5 terms
//     of each. The print mode and the operators no check uses (Recip, Subst,
//     Binom, Mon, Monmul, Xmul, Shift, eval, evaln, printn) are omitted.
//   - Operator goroutines stop when the test cancels the group.
//
// Channels: every series has one consumer at a time, except Ones and Twos,
// which every operator reads (their request channel has many senders, their
// data channel many receivers), and the shared request channel of a split
// (three senders). Those get flavor|gcMultiSend or flavor|gcMultiRecv; all
// other channels have the flavor of the subtest, so all four flavors run.
func TestGoChanPowser(t *testing.T) {
	for _, f := range gcAllFlavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			gcRequireCapacityOne(t, f, f|gcMultiSend, f|gcMultiRecv)
			p := &gcPowser{t: t, g: gcStart(t), flavor: f}
			p.Init()
			p.check(p.Ones, p.one, 5, "Ones")
			p.check(p.Add(p.Ones, p.Ones), psItor(2), 5, "Add Ones Ones") // 2 2 2 2 2
			p.check(p.Add(p.Ones, p.Twos), psItor(3), 5, "Add Ones Twos") // 3 3 3 3 3
			a := make([]psRat, psN)
			d := p.Diff(p.Ones)
			for i := 0; i < psN; i++ {
				a[i] = psItor(int64(i + 1))
			}
			p.checka(d, a, "Diff") // 1 2 3 4 5
			in := p.Integ(p.zero, p.Ones)
			a[0] = p.zero // integration constant
			for i := 1; i < psN; i++ {
				a[i] = psI2tor(1, int64(i))
			}
			p.checka(in, a, "Integ")                                       // 0 1 1/2 1/3 1/4 1/5
			p.check(p.Cmul(p.one.neg(), p.Twos), psItor(-2), 10, "CMul")   // -2 -2 -2 -2 -2
			p.check(p.Sub(p.Ones, p.Twos), psItor(-1), 5, "Sub Ones Twos") // -1 -1 -1 -1 -1
			m := p.Mul(p.Ones, p.Ones)
			for i := 0; i < psN; i++ {
				a[i] = psItor(int64(i + 1))
			}
			p.checka(m, a, "Mul") // 1 2 3 4 5
			e := p.Exp(p.Ones)
			a[0] = psItor(1)
			a[1] = psItor(1)
			a[2] = psI2tor(3, 2)
			a[3] = psI2tor(13, 6)
			a[4] = psI2tor(73, 24)
			a[5] = psI2tor(167, 40)
			a[6] = psI2tor(4051, 720)
			a[7] = psI2tor(37633, 5040)
			a[8] = psI2tor(43817, 4480)
			a[9] = psI2tor(4596553, 362880)
			p.checka(e, a, "Exp") // 1 1 3/2 13/6 73/24
			at := p.Integ(p.zero, p.MonSubst(p.Ones, p.one.neg(), 2))
			for c, i := 1, 0; i < psN; i++ {
				if i%2 == 0 {
					a[i] = p.zero
				} else {
					a[i] = psI2tor(int64(c), int64(i))
					c *= -1
				}
			}
			p.checka(at, a, "ATan") // 0 1 0 -1/3 0 1/5
		})
	}
}

const psN = 10

// psRat is a rational number; a denominator of zero marks the end of a
// series.
type psRat struct {
	num, den int64 // numerator, denominator
}

func (u psRat) String() string {
	if u.den == 1 {
		return fmt.Sprint(u.num)
	}
	return fmt.Sprintf("%d/%d", u.num, u.den)
}

// end is the end test: 1 for the end mark, else 0.
func (u psRat) end() int64 {
	if u.den == 0 {
		return 1
	}
	return 0
}

// Integer gcd; needed for rational arithmetic.
func psGCD(u, v int64) int64 {
	if u < 0 {
		return psGCD(-u, v)
	}
	if u == 0 {
		return v
	}
	return psGCD(v%u, u)
}

// Make a rational from two ints and from one int.
func psI2tor(u, v int64) psRat {
	g := psGCD(u, v)
	var r psRat
	if v > 0 {
		r.num = u / g
		r.den = v / g
	} else {
		r.num = -u / g
		r.den = -v / g
	}
	return r
}

func psItor(u int64) psRat { return psI2tor(u, 1) }

// Operations on rationals.

func (u psRat) add(v psRat) psRat {
	g := psGCD(u.den, v.den)
	return psI2tor(u.num*(v.den/g)+v.num*(u.den/g), u.den*(v.den/g))
}

func (u psRat) mul(v psRat) psRat {
	g1 := psGCD(u.num, v.den)
	g2 := psGCD(u.den, v.num)
	var r psRat
	r.num = (u.num / g1) * (v.num / g2)
	r.den = (u.den / g2) * (v.den / g1)
	return r
}

func (u psRat) neg() psRat { return psI2tor(-u.num, u.den) }

// psReq is what flows on a request channel: the original sends seqno. The
// outputs of a split share one request channel, so a request also says which
// output asks (out), and the split's fetcher posts the terms it read on the
// same channel (fetched, dat).
type psReq struct {
	seq     int64
	out     int
	fetched bool
	dat     psRat
}

// psDch is a demand channel: a consumer sends a request on req and receives
// the term on dat. out is the index of a split's output, else 0.
type psDch struct {
	req core.Chan[psReq]
	dat core.Chan[psRat]
	out int
}

type gcPowser struct {
	t      *testing.T
	g      *gcGroup
	flavor gcFlavor
	seqno  atomic.Int64 // incremented by every get

	zero, one, finis psRat
	Ones, Twos       *psDch
}

// mkdch makes a demand channel. A shared one (Ones, Twos) has many consumers.
func (p *gcPowser) mkdch(shared bool) *psDch {
	reqf, datf := p.flavor, p.flavor
	if shared {
		reqf |= gcMultiSend
		datf |= gcMultiRecv
	}
	return &psDch{req: gcMake[psReq](reqf, 1), dat: gcMake[psRat](datf, 1)}
}

// mkdch2 makes the two outputs of a split, sharing one request channel, to
// which both consumers and the split's fetcher send.
func (p *gcPowser) mkdch2() *[2]*psDch {
	req := gcMake[psReq](p.flavor|gcMultiSend, 1)
	return &[2]*psDch{
		{req: req, dat: gcMake[psRat](p.flavor, 1), out: 0},
		{req: req, dat: gcMake[psRat](p.flavor, 1), out: 1},
	}
}

func (p *gcPowser) mkPS() *psDch { return p.mkdch(false) }

// spawn is the go statement for an operator: it ends when a channel
// operation fails, normally because the test canceled the group.
func (p *gcPowser) spawn(name string, f func()) {
	p.g.Go(name, func() error {
		f()
		return nil
	})
}

// await is <-Z.req, send is Z.dat <- v.
func (p *gcPowser) await(Z *psDch)          { gcRecv(p.g, Z.req) }
func (p *gcPowser) send(Z *psDch, v psRat)  { gcSend(p.g, Z.dat, v) }
func (p *gcPowser) request(in *psDch) psReq { return psReq{seq: p.seqno.Add(1), out: in.out} }

func (p *gcPowser) put(dat psRat, out *psDch) {
	p.await(out)
	p.send(out, dat)
}

func (p *gcPowser) get(in *psDch) psRat {
	gcSend(p.g, in.req, p.request(in))
	return gcRecv(p.g, in.dat)
}

// tryGet is get for the test goroutine.
func (p *gcPowser) tryGet(in *psDch) (psRat, error) {
	if err := in.req.Send(p.g.ctx, p.request(in)); err != nil {
		return psRat{}, err
	}
	return in.dat.Recv(p.g.ctx)
}

// get2 gets one rat from each of 2 demand channels, concurrently, as getn's
// select does: in1 is read by a helper goroutine.
func (p *gcPowser) get2(in0, in1 *psDch) [2]psRat {
	res := gcMake[psRat](p.flavor, 1)
	p.spawn("getn", func() { gcSend(p.g, res, p.get(in1)) })
	var out [2]psRat
	out[0] = p.get(in0)
	out[1] = gcRecv(p.g, res)
	return out
}

func (p *gcPowser) copy(in, out *psDch) {
	for {
		p.await(out)
		p.send(out, p.get(in))
	}
}

func (p *gcPowser) repeat(dat psRat, out *psDch) {
	for {
		p.put(dat, out)
	}
}

// split reads a single demand channel and replicates its output onto two,
// which may be read at different rates. See TestGoChanPowser for how it
// replaces the original's generations of dosplit.
func (p *gcPowser) split(in *psDch, out *[2]*psDch) {
	events := out[0].req // shared with out[1]
	fetch := gcMake[struct{}](p.flavor, 1)
	p.spawn("split fetcher", func() {
		for {
			gcRecv(p.g, fetch)
			gcSend(p.g, events, psReq{fetched: true, dat: p.get(in)})
		}
	})
	p.spawn("split", func() {
		var pending [2][]psRat // terms read from in, not yet sent to out[k]
		var waiting [2]bool    // out[k] asked and was not served yet
		fetching := false      // the fetcher is reading in
		for {
			e := gcRecv(p.g, events)
			if e.fetched {
				fetching = false
				pending[0] = append(pending[0], e.dat)
				pending[1] = append(pending[1], e.dat)
			} else {
				waiting[e.out] = true
			}
			need := false
			for k := range out {
				switch {
				case !waiting[k]:
				case len(pending[k]) == 0:
					need = true
				default:
					p.send(out[k], pending[k][0])
					pending[k] = pending[k][1:]
					waiting[k] = false
				}
			}
			if need && !fetching {
				gcSend(p.g, fetch, struct{}{})
				fetching = true
			}
		}
	})
}

// Power-series constructors return channels on which power series flow. They
// start an encapsulated generator that puts the terms of the series on the
// channel.

// Split makes a pair of power series identical to a given power series.
func (p *gcPowser) Split(U *psDch) *[2]*psDch {
	UU := p.mkdch2()
	p.split(U, UU)
	return UU
}

// Add two power series.
func (p *gcPowser) Add(U, V *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Add", func() {
		for {
			p.await(Z)
			uv := p.get2(U, V)
			switch uv[0].end() + 2*uv[1].end() {
			case 0:
				p.send(Z, uv[0].add(uv[1]))
			case 1:
				p.send(Z, uv[1])
				p.copy(V, Z)
			case 2:
				p.send(Z, uv[0])
				p.copy(U, Z)
			case 3:
				p.send(Z, p.finis)
			}
		}
	})
	return Z
}

// Cmul multiplies a power series by a constant.
func (p *gcPowser) Cmul(c psRat, U *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Cmul", func() {
		done := false
		for !done {
			p.await(Z)
			u := p.get(U)
			if u.end() != 0 {
				done = true
			} else {
				p.send(Z, c.mul(u))
			}
		}
		p.send(Z, p.finis)
	})
	return Z
}

// Sub subtracts.
func (p *gcPowser) Sub(U, V *psDch) *psDch {
	return p.Add(U, p.Cmul(p.one.neg(), V))
}

// Rep is c, c, c, ...
func (p *gcPowser) Rep(c psRat) *psDch {
	Z := p.mkdch(true) // Ones and Twos are read by every operator
	p.spawn("Rep", func() { p.repeat(c, Z) })
	return Z
}

// Mul multiplies. The algorithm is
//
//	let U = u + x*UU
//	let V = v + x*VV
//	then UV = u*v + x*(u*VV+v*UU) + x*x*UU*VV
func (p *gcPowser) Mul(U, V *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Mul", func() {
		p.await(Z)
		uv := p.get2(U, V)
		if uv[0].end() != 0 || uv[1].end() != 0 {
			p.send(Z, p.finis)
		} else {
			p.send(Z, uv[0].mul(uv[1]))
			UU := p.Split(U)
			VV := p.Split(V)
			W := p.Add(p.Cmul(uv[0], VV[0]), p.Cmul(uv[1], UU[0]))
			p.await(Z)
			p.send(Z, p.get(W))
			p.copy(p.Add(W, p.Mul(UU[1], VV[1])), Z)
		}
	})
	return Z
}

// Diff differentiates.
func (p *gcPowser) Diff(U *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Diff", func() {
		p.await(Z)
		u := p.get(U)
		if u.end() == 0 {
			done := false
			for i := 1; !done; i++ {
				u = p.get(U)
				if u.end() != 0 {
					done = true
				} else {
					p.send(Z, psItor(int64(i)).mul(u))
					p.await(Z)
				}
			}
		}
		p.send(Z, p.finis)
	})
	return Z
}

// Integ integrates, with const of integration.
func (p *gcPowser) Integ(c psRat, U *psDch) *psDch {
	Z := p.mkPS()
	p.spawn("Integ", func() {
		p.put(c, Z)
		done := false
		for i := 1; !done; i++ {
			p.await(Z)
			u := p.get(U)
			if u.end() != 0 {
				done = true
			}
			p.send(Z, psI2tor(1, int64(i)).mul(u))
		}
		p.send(Z, p.finis)
	})
	return Z
}

// Exp is the exponential of a power series with constant term 0 (nonzero
// constant term would make nonrational coefficients); bug: the constant term
// is simply ignored.
//
//	Z = exp(U)
//	DZ = Z*DU
//	integrate to get Z
func (p *gcPowser) Exp(U *psDch) *psDch {
	ZZ := p.mkdch2()
	p.split(p.Integ(p.one, p.Mul(ZZ[0], p.Diff(U))), ZZ)
	return ZZ[1]
}

// MonSubst is monomial substitution: U(c x^n). Each Ui is multiplied by c^i
// and followed by n-1 zeros.
func (p *gcPowser) MonSubst(U *psDch, c0 psRat, n int) *psDch {
	Z := p.mkPS()
	p.spawn("MonSubst", func() {
		c := p.one
		for {
			p.await(Z)
			u := p.get(U)
			p.send(Z, u.mul(c))
			c = c.mul(c0)
			if u.end() != 0 {
				p.send(Z, p.finis)
				break
			}
			for i := 1; i < n; i++ {
				p.await(Z)
				p.send(Z, p.zero)
			}
		}
	})
	return Z
}

func (p *gcPowser) Init() {
	p.zero = psItor(0)
	p.one = psItor(1)
	p.finis = psI2tor(1, 0)
	p.Ones = p.Rep(p.one)
	p.Twos = p.Rep(psItor(2))
}

func (p *gcPowser) check(U *psDch, c psRat, count int, str string) {
	p.t.Helper()
	for i := 0; i < count; i++ {
		r, err := p.tryGet(U)
		require.NoError(p.t, err, "%s: term %d", str, i)
		require.Equal(p.t, c, r, "%s: term %d: got %v, should get %v", str, i, r, c)
	}
}

func (p *gcPowser) checka(U *psDch, a []psRat, str string) {
	p.t.Helper()
	for i := 0; i < psN; i++ {
		p.check(U, a[i], 1, fmt.Sprintf("%s[%d]", str, i))
	}
}
