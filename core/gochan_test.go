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
	"testing"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Shared helpers.

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
	for _, f := range chantest.Flavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			g := gcStart(t)
			mk := func() core.Chan[int] { return chantest.New[int](f, 1) }

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
	for _, f := range chantest.Flavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
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
func gcSieve2(t *testing.T, g *gcGroup, f chantest.Flavor) core.Chan[int] {
	// Return a chan of odd numbers, starting from 5.
	odds := func() core.Chan[int] {
		out := chantest.New[int](f, 50)
		g.Go("odds", func() error {
			for n := 5; ; n += 2 {
				gcSend(g, out, n)
			}
		})
		return out
	}

	// Return a chan of odd multiples of the prime number p, starting from p*p.
	multiples := func(p int) core.Chan[int] {
		out := chantest.New[int](f, 10)
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
		proxy := chantest.New[int](f, 10)
		doorbell := chantest.New[struct{}](f, 1)
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
	out := chantest.New[int](f, 10)
	require.NoError(t, out.Send(g.ctx, 2))
	require.NoError(t, out.Send(g.ctx, 3))

	// The channel of all composites to be eliminated in increasing order.
	composites := chantest.New[int](f, 50)

	// The feedback loop.
	primes := chantest.New[int](f, 10)
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
