package core

// BenchmarkRing: the ring flavors (SPMC, MPMC; SPSC and MPSC where they
// apply) and the experiments of issue 16 (impl=faa, faalook, faaspread:
// faaring_bench_test.go; impl=mpmclocal: ringlocal_bench_test.go;
// impl=2lock-*: twolock_bench_test.go; impl=embedded: MPMC's definition
// before 2026-12-08) beside a Go channel of the same capacity and
// topology, in the same run, so that a ratio against impl=gochan is
// measured under the same machine load. items/s counts values delivered
// end to end. docs/channels.md has the measurements.

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportItems reports n items moved in b's elapsed time as items/s, and per
// CPU second used since cpu0 as items/cpu-s: on a shared machine, where the
// wall-clock rate depends on what else runs, the CPU cost is the steadier
// figure (a waiter that burns CPU while it spins pays for it there).
func reportItems(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "items/cpu-s")
	}
}

// embeddedRing is MPMC's old definition (impl=embedded).
type embeddedRing[T any] struct{ ring[T] }

type benchChan interface {
	Send(ctx context.Context, v int) error
	Recv(ctx context.Context) (int, error)
	Close() error
}

func BenchmarkRing(b *testing.B) {
	topos := []struct{ p, c int }{{1, 1}, {2, 1}, {1, 2}, {2, 2}, {8, 8}}
	impls := []struct {
		name  string
		multi bool // allows concurrent senders
		mk    func(capacity int) benchChan
	}{
		{"gochan", true, nil},
		{"spsc", false, func(n int) benchChan { return NewSPSC[int](n) }}, // 1p1c only
		{"mpsc", true, func(n int) benchChan { return NewMPSC[int](n) }},  // one receiver only
		{"spmc", false, func(n int) benchChan { return NewSPMC[int](n) }},
		{"mpmc", true, func(n int) benchChan { return NewMPMC[int](n) }},
		// The experiment of faaring_bench_test.go: tickets taken at once, or after
		// looking at the slot (invariant 5), and with consecutive
		// positions spread over lines.
		{"faa", true, func(n int) benchChan { return newFAARing[int](n, false, false) }},
		{"faalook", true, func(n int) benchChan { return newFAARing[int](n, true, false) }},
		{"faaspread", true, func(n int) benchChan { return newFAARing[int](n, true, true) }},
		// ring.go's MPMC whose blocking operations never load the other
		// side's index (ringlocal_bench_test.go).
		{"mpmclocal", true, func(n int) benchChan { return newRingLocal[int](n) }},
		// MPMC as it was before 2026-12-08: a struct embedding the ring,
		// whose promoted methods nil-check it by loading its first word,
		// the senders' index, on every receive (mpmc.go).
		{"embedded", true, func(n int) benchChan { e := new(embeddedRing[int]); e.init("embedded", n); return e }},
		// The two-lock experiment (twolock_bench_test.go).
		{"2lock-mutex", true, func(n int) benchChan { return newTwoLockMutex(n) }},
		{"2lock-park", true, func(n int) benchChan { return newTwoLockPark(n, 0) }},
		{"2lock-spin", true, func(n int) benchChan { return newTwoLockPark(n, twoLockSpins) }},
	}
	for _, t := range topos {
		for _, capacity := range []int{64, 1024} {
			for _, im := range impls {
				if t.p > 1 && !im.multi || t.c > 1 && (im.name == "spsc" || im.name == "mpsc") {
					continue
				}
				name := fmt.Sprintf("topo=%dp%dc/cap=%d/impl=%s", t.p, t.c, capacity, im.name)
				b.Run(name, func(b *testing.B) {
					if im.mk == nil {
						benchGoChan(b, t.p, t.c, capacity)
						return
					}
					benchRing(b, im.mk(capacity), t.p, t.c)
				})
			}
		}
	}
}

func benchShare(n, k, i int) int {
	q := n / k
	if i < n%k {
		q++
	}
	return q
}

func benchGoChan(b *testing.B, p, c, capacity int) {
	b.ReportAllocs()
	ch := make(chan int, capacity)
	var wgP, wgC sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	for range c {
		wgC.Go(func() {
			for range ch {
			}
		})
	}
	for i := range p {
		wgP.Go(func() {
			for j := range benchShare(b.N, p, i) {
				ch <- j
			}
		})
	}
	wgP.Wait()
	close(ch)
	wgC.Wait()
	b.StopTimer()
	reportItems(b, b.N, cpu0)
}

func benchRing(b *testing.B, ch benchChan, p, c int) {
	b.ReportAllocs()
	ctx := context.Background()
	var wgP, wgC sync.WaitGroup
	var mu sync.Mutex
	total := 0
	b.ResetTimer()
	cpu0 := cpuTime()
	for range c {
		wgC.Go(func() {
			n := 0
			for {
				if _, err := ch.Recv(ctx); err != nil {
					break
				}
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	for i := range p {
		wgP.Go(func() {
			for j := range benchShare(b.N, p, i) {
				if err := ch.Send(ctx, j); err != nil {
					panic(err)
				}
			}
		})
	}
	wgP.Wait()
	ch.Close()
	wgC.Wait()
	b.StopTimer()
	if total != b.N {
		b.Fatalf("received %d of %d", total, b.N)
	}
	reportItems(b, b.N, cpu0)
}

// BenchmarkRingMem reports the bytes a ring channel of int costs, struct
// and slots, beside a Go channel of the same capacity.
func BenchmarkRingMem(b *testing.B) {
	for _, capacity := range []int{1, 64, 1024} {
		for _, impl := range []string{"gochan", "spmc", "mpmc"} {
			b.Run(fmt.Sprintf("cap=%d/impl=%s", capacity, impl), func(b *testing.B) {
				var keep []any
				b.ReportAllocs()
				for b.Loop() {
					switch impl {
					case "gochan":
						keep = append(keep[:0], make(chan int, capacity))
					case "spmc":
						keep = append(keep[:0], NewSPMC[int](capacity))
					case "mpmc":
						keep = append(keep[:0], NewMPMC[int](capacity))
					}
				}
				_ = keep
			})
		}
	}
}
