package core

// Tests of the two-lock experiment (twolock_bench_test.go): what it claims
// for the benchmark, every value delivered exactly once and in per-sender
// order, and, for parkLock, that a goroutine waiting for a side's lock can
// be cancelled and is released by Close.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

var twoLockImpls = []struct {
	name string
	mk   func(capacity int) benchChan
}{
	{"mutex", func(n int) benchChan { return newTwoLockMutex(n) }},
	{"park", func(n int) benchChan { return newTwoLockPark(n, 0) }},
	{"spin", func(n int) benchChan { return newTwoLockPark(n, twoLockSpins) }},
}

// TestTwoLockExactlyOnce sends n values from each of p senders (sender<<32
// | sequence) to c receivers, and checks that each receiver sees each
// sender's values in increasing order and that every value arrives once.
func TestTwoLockExactlyOnce(t *testing.T) {
	const n = 5000 // per sender: seconds under the race detector
	for _, im := range twoLockImpls {
		for _, topo := range []struct{ p, c int }{{1, 1}, {2, 1}, {1, 2}, {4, 3}, {8, 8}} {
			for _, capacity := range []int{1, 64} {
				name := fmt.Sprintf("lock=%s/topo=%dp%dc/cap=%d", im.name, topo.p, topo.c, capacity)
				t.Run(name, func(t *testing.T) {
					twoLockExactlyOnce(t, im.mk(capacity), topo.p, topo.c, n)
				})
			}
		}
	}
}

func twoLockExactlyOnce(t *testing.T, ch benchChan, p, c, n int) {
	ctx := context.Background()
	got := make([][]int, c)
	var wgP, wgC sync.WaitGroup
	for r := range c {
		wgC.Go(func() {
			last := make([]int, p)
			for i := range last {
				last[i] = -1
			}
			for {
				v, err := ch.Recv(ctx)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Recv: %v", err)
					return
				}
				s, q := v>>32, v&(1<<32-1)
				if q <= last[s] {
					t.Errorf("receiver %d: sender %d's %d after its %d", r, s, q, last[s])
				}
				last[s] = q
				got[r] = append(got[r], v)
			}
		})
	}
	for s := range p {
		wgP.Go(func() {
			for q := range n {
				if err := ch.Send(ctx, s<<32|q); err != nil {
					t.Errorf("Send: %v", err)
					return
				}
			}
		})
	}
	wgP.Wait()
	if err := ch.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wgC.Wait()
	seen := make([]int, p*n)
	for _, vs := range got {
		for _, v := range vs {
			seen[(v>>32)*n+v&(1<<32-1)]++
		}
	}
	for i, k := range seen {
		if k != 1 {
			t.Fatalf("sender %d's %d arrived %d times", i/n, i%n, k)
		}
	}
}

// waitFor yields until cond holds: the goroutines it waits for park.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 1e7 {
			t.Fatalf("timed out waiting: %s", what)
		}
		runtime.Gosched()
	}
}

// TestTwoLockParkCancel: a sender waiting for the senders' lock, behind a
// holder blocked on a full ring, returns its context's error when the
// context ends; the channel then goes on as if it had never tried.
func TestTwoLockParkCancel(t *testing.T) {
	for _, spins := range []int{0, twoLockSpins} {
		c := newTwoLockPark(1, spins)
		bg := context.Background()
		if err := c.Send(bg, 1); err != nil {
			t.Fatal(err)
		}
		holder := make(chan error)
		go func() { holder <- c.Send(bg, 2) }()
		waitFor(t, "holder parked on the full ring", func() bool { return c.s.sendq.parked() == 1 })
		ctx, cancel := context.WithCancel(bg)
		waiter := make(chan error)
		go func() { waiter <- c.Send(ctx, 3) }()
		waitFor(t, "waiter parked on the lock", func() bool { return c.sendMu.q.parked() == 1 })
		cancel()
		if err := <-waiter; !errors.Is(err, context.Canceled) {
			t.Fatalf("spins %d: cancelled waiter: %v", spins, err)
		}
		for want := 1; want <= 2; want++ {
			if v, err := c.Recv(bg); v != want || err != nil {
				t.Fatalf("spins %d: Recv = %d, %v; want %d", spins, v, err, want)
			}
		}
		if err := <-holder; err != nil {
			t.Fatalf("spins %d: holder: %v", spins, err)
		}
		if got := c.sendMu.q.parked(); got != 0 {
			t.Fatalf("spins %d: %d still parked on the lock", spins, got)
		}
	}
}

// TestTwoLockParkClose: receivers waiting for the receivers' lock, behind a
// holder blocked on an empty ring, all return ErrClosed after Close.
func TestTwoLockParkClose(t *testing.T) {
	c := newTwoLockPark(4, 0)
	bg := context.Background()
	const k = 3
	errs := make(chan error, k)
	for range k {
		go func() {
			_, err := c.Recv(bg)
			errs <- err
		}()
	}
	waitFor(t, "receivers parked", func() bool {
		return c.r.recvq.parked() == 1 && c.recvMu.q.parked() == k-1
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range k {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close: %v", err)
		}
	}
	if err := c.Send(bg, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
}
