package core_test

// Memory: allocations on the fast paths and retention of received values.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

func TestChanAllocs(t *testing.T) {
	forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
		ctx := context.Background()
		c := openChan(t, fl, 16)
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
	forEachChanFlavor(t, func(t *testing.T, fl chantest.Flavor) {
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

func testNotRetained[T any](t *testing.T, fl chantest.Flavor, wrap func(*chanPayload) T, unwrap func(T) *chanPayload) {
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
			c := chantest.New[T](fl, 4)
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
			c := chantest.New[T](fl, 4)
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

// TestChanMemory10K checks the memory budget: 10K channels of capacity 64
// of int, all alive, take at most 16 MiB in all, for every flavor.
func TestChanMemory10K(t *testing.T) {
	const n, budget = 10_000, 16 << 20
	for _, f := range chantest.Flavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			chans := make([]core.Chan[int], n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range chans {
				chans[i] = f.New(64)
			}
			runtime.ReadMemStats(&after)
			used := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d channels of cap 64: %d bytes (%d per channel)", n, used, used/n)
			require.LessOrEqual(t, used, uint64(budget))
			runtime.KeepAlive(chans)
		})
	}
}

// TestChanBytesPerChannel checks what one channel of int costs, measured as
// bench/cases_memory.go measures it: the growth of the live heap (HeapAlloc
// after a GC, so garbage does not count) over memChans channels kept alive,
// divided by their number. That is what a user pays, size classes and the
// slot array included, which unsafe.Sizeof alone would not tell; averaged
// over 10K channels, the allocations of stray goroutines (a pool worker, the
// test runner) move the figure by well under a byte. The goals (issue 16):
// at capacity 1 at most 256 bytes, at capacity 64 at most 1.25 times a Go
// channel of the same capacity and element type, measured in the same run.
func TestChanBytesPerChannel(t *testing.T) {
	const capOneBudget = 256 // bytes, at capacity 1
	const capRatio = 1.25    // of a Go channel's bytes, at capacity 64
	// The rows held to the goals. MPSC, SPMC and MPMC at capacity 64 miss
	// theirs (a slot is the value and an 8-byte sequence number: mpsc.go,
	// ring.go; docs/channels.md) and are logged, not asserted.
	rows := []struct {
		flavor   chantest.Flavor
		capacity int
		asserted bool
	}{
		{chantest.SPSC, 1, true},
		{chantest.MPSC, 1, true},
		{chantest.SPMC, 1, true},
		{chantest.MPMC, 1, true},
		{chantest.SPSC, 64, true},
		{chantest.MPSC, 64, false},
		{chantest.SPMC, 64, false},
		{chantest.MPMC, 64, false},
	}
	goBytes := map[int]float64{}
	for _, r := range rows {
		if _, ok := goBytes[r.capacity]; !ok {
			goBytes[r.capacity] = bytesPerChannel(func() any { return make(chan int, r.capacity) })
		}
	}
	for _, r := range rows {
		t.Run(fmt.Sprintf("flavor=%s/cap=%d", r.flavor, r.capacity), func(t *testing.T) {
			budget := capRatio * goBytes[r.capacity]
			if r.capacity == 1 {
				budget = capOneBudget
			}
			got := bytesPerChannel(func() any { return r.flavor.New(r.capacity) })
			t.Logf("%.1f bytes per channel (a Go channel: %.1f; budget %.0f)", got, goBytes[r.capacity], budget)
			if r.asserted {
				require.LessOrEqual(t, got, budget)
			}
		})
	}
}

// memChans is how many channels bytesPerChannel keeps alive at once.
const memChans = 10_000

// bytesPerChannel returns the growth of the live heap over memChans channels
// that newChan makes, all alive, divided by memChans.
func bytesPerChannel(newChan func() any) float64 {
	keep := make([]any, memChans)
	before := liveHeap()
	for i := range keep {
		keep[i] = newChan()
	}
	after := liveHeap()
	runtime.KeepAlive(keep)
	return (float64(after) - float64(before)) / memChans
}

// liveHeap returns the bytes of live heap objects, after two GCs: the
// first moves what sync.Pools hold to their victim caches, the second
// frees it, so that a pool emptied during the measurement does not count.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
