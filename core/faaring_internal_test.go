package core

// Tests of the experiments of issue 16 (faaring_bench_test.go,
// ringlocal_bench_test.go): every value sent before Close is received
// exactly once, each sender's values in its order as each receiver sees
// them, and receivers end with ErrClosed.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"unsafe"
)

func TestFAARingExactlyOnce(t *testing.T) {
	for _, look := range []bool{false, true} {
		for _, spread := range []bool{false, true} {
			t.Run(fmt.Sprintf("look=%v/spread=%v", look, spread), func(t *testing.T) {
				testExactlyOnce(t, func(n int) benchChan { return newFAARing[int](n, look, spread) })
			})
		}
	}
}

func TestRingLocalExactlyOnce(t *testing.T) {
	testExactlyOnce(t, func(n int) benchChan { return newRingLocal[int](n) })
}

func testExactlyOnce(t *testing.T, mk func(capacity int) benchChan) {
	for _, tc := range []struct{ p, c, capacity, per int }{
		{1, 1, 1, 20000}, {2, 1, 2, 10000}, {1, 3, 4, 20000}, {4, 4, 8, 5000}, {8, 8, 64, 5000},
	} {
		t.Run(fmt.Sprintf("p=%d/c=%d/cap=%d", tc.p, tc.c, tc.capacity), func(t *testing.T) {
			r := mk(tc.capacity)
			ctx := context.Background()
			got := make([][]int, tc.c)
			var wgP, wgC sync.WaitGroup
			for c := range tc.c {
				wgC.Go(func() {
					for {
						v, err := r.Recv(ctx)
						if err != nil {
							if !errors.Is(err, ErrClosed) {
								t.Errorf("Recv: %v", err)
							}
							return
						}
						got[c] = append(got[c], v)
					}
				})
			}
			for p := range tc.p {
				wgP.Go(func() {
					for i := range tc.per {
						if err := r.Send(ctx, p*tc.per+i); err != nil {
							t.Errorf("Send: %v", err)
							return
						}
					}
				})
			}
			wgP.Wait()
			if err := r.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := r.Close(); !errors.Is(err, ErrClosed) {
				t.Fatalf("second Close = %v, want ErrClosed", err)
			}
			wgC.Wait()
			if err := r.Send(ctx, -1); !errors.Is(err, ErrClosed) {
				t.Fatalf("Send after Close = %v, want ErrClosed", err)
			}
			seen := make([]int, tc.p*tc.per)
			for c, vs := range got {
				last := make([]int, tc.p)
				for i := range last {
					last[i] = -1
				}
				for _, v := range vs {
					seen[v]++
					p, i := v/tc.per, v%tc.per
					if i <= last[p] {
						t.Fatalf("receiver %d got sender %d's value %d after %d", c, p, i, last[p])
					}
					last[p] = i
				}
			}
			for v, n := range seen {
				if n != 1 {
					t.Fatalf("value %d received %d times", v, n)
				}
			}
		})
	}
}

// TestFAARingCloseWakesReceivers: receivers parked on tickets no sender
// took return ErrClosed when the ring closes, after the values sent before
// Close.
func TestFAARingCloseWakesReceivers(t *testing.T) {
	for _, look := range []bool{false, true} {
		t.Run(fmt.Sprintf("look=%v", look), func(t *testing.T) { testFAARingCloseWakesReceivers(t, look) })
	}
}

func testFAARingCloseWakesReceivers(t *testing.T, look bool) {
	r := newFAARing[int](4, look, false)
	ctx := context.Background()
	for i := range 3 {
		if err := r.Send(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 8)
	vals := make(chan int, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			v, err := r.Recv(ctx)
			if err == nil {
				vals <- v
			}
			errs <- err
		})
	}
	// Five receivers wait (parked, sooner or later) until Close: with
	// tickets 3..7, which no sender took, or with none (look).
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("Recv before Close: %v", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	close(vals)
	for err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close: %v, want ErrClosed", err)
		}
	}
	sum := 0
	for v := range vals {
		sum += v
	}
	if sum != 0+1+2 {
		t.Fatalf("values received sum to %d, want 3", sum)
	}
}

// TestFAARingSpreadIsPermutation: with spread, the positions of one lap map
// to every slot once, and consecutive positions of slots of 16 bytes (int)
// land on different 64-byte lines when there are lines enough.
func TestFAARingSpreadIsPermutation(t *testing.T) {
	for _, capacity := range []int{1, 2, 4, 8, 16, 64, 1024} {
		r := newFAARing[int](capacity, true, true)
		n := uint64(r.Cap())
		seen := make(map[*slot[int]]bool)
		for p := range n {
			s := r.sendSlot(p)
			if s != r.recvSlot(p) {
				t.Fatalf("cap %d: position %d: the sides disagree", capacity, p)
			}
			seen[s] = true
			if p > 0 && n >= 8 {
				line := func(s *slot[int]) uintptr { return uintptr(unsafe.Pointer(s)) / lineSize }
				if line(s) == line(r.sendSlot(p-1)) {
					t.Fatalf("cap %d: positions %d and %d share a line", capacity, p-1, p)
				}
			}
		}
		if uint64(len(seen)) != n {
			t.Fatalf("cap %d: %d slots used of %d", capacity, len(seen), n)
		}
	}
}
