package core_test

// Benchmarks: every flavor against a Go channel of the same capacity, in the
// same benchmark, with key=value names for benchstat:
//
//	go test -run '^$' -bench . -count 10 ./core > new.txt
//	benchstat -col /impl new.txt
//
// items/s counts values delivered end to end (sent and received).

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
)

type flavor struct {
	name   string
	multiP bool // allows concurrent senders
	multiC bool // allows concurrent receivers
	new    func(capacity int) core.Chan[int]
}

var flavors = []flavor{
	{"spsc", false, false, func(n int) core.Chan[int] { return core.NewSPSC[int](n) }},
	{"mpsc", true, false, func(n int) core.Chan[int] { return core.NewMPSC[int](n) }},
	{"spmc", false, true, func(n int) core.Chan[int] { return core.NewSPMC[int](n) }},
	{"mpmc", true, true, func(n int) core.Chan[int] { return core.NewMPMC[int](n) }},
}

// split divides n items among k workers.
func split(n, k, i int) int {
	q := n / k
	if i < n%k {
		q++
	}
	return q
}

func reportItems(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// runGoChan moves b.N ints through a Go channel with p senders and c receivers.
func runGoChan(b *testing.B, p, c, capacity int) {
	ch := make(chan int, capacity)
	var wgP, wgC sync.WaitGroup
	counts := make([]int, c)
	rtt := lineRTT(1000)
	b.ResetTimer()
	for i := range c {
		wgC.Add(1)
		go func() {
			defer wgC.Done()
			n := 0
			for range ch {
				n++
			}
			counts[i] = n
		}()
	}
	for i := range p {
		wgP.Add(1)
		go func() {
			defer wgP.Done()
			for j := range split(b.N, p, i) {
				ch <- j
			}
		}()
	}
	wgP.Wait()
	close(ch)
	wgC.Wait()
	b.StopTimer()
	checkCount(b, counts)
	reportPlacement(b, rtt)
}

// runCore moves b.N ints through a nimsync channel with p senders and c
// receivers, in batches of batch values when batch > 1.
func runCore(b *testing.B, f flavor, p, c, capacity, batch int) {
	ch := f.new(capacity)
	ctx := context.Background()
	var wgP, wgC sync.WaitGroup
	counts := make([]int, c)
	rtt := lineRTT(1000)
	b.ResetTimer()
	for i := range c {
		wgC.Add(1)
		go func() {
			defer wgC.Done()
			n := 0
			if batch > 1 {
				dst := make([]int, batch)
				for {
					k, err := ch.RecvBatch(ctx, dst)
					if err != nil {
						break
					}
					n += k
				}
			} else {
				for {
					if _, err := ch.Recv(ctx); err != nil {
						break
					}
					n++
				}
			}
			counts[i] = n
		}()
	}
	for i := range p {
		wgP.Add(1)
		go func() {
			defer wgP.Done()
			n := split(b.N, p, i)
			if batch > 1 {
				src := make([]int, batch)
				for n > 0 {
					k := min(n, batch)
					if _, err := ch.SendBatch(ctx, src[:k]); err != nil {
						panic(err)
					}
					n -= k
				}
			} else {
				for j := range n {
					if err := ch.Send(ctx, j); err != nil {
						panic(err)
					}
				}
			}
		}()
	}
	wgP.Wait()
	ch.Close()
	wgC.Wait()
	b.StopTimer()
	checkCount(b, counts)
	reportPlacement(b, rtt)
}

func checkCount(b *testing.B, counts []int) {
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != b.N {
		b.Fatalf("received %d values, sent %d", total, b.N)
	}
}

// BenchmarkChan compares throughput across topologies and capacities. The
// implementations alternate inside each configuration so that drift on a
// noisy machine hits all of them.
func BenchmarkChan(b *testing.B) {
	topos := []struct{ p, c int }{{1, 1}, {2, 1}, {1, 2}, {2, 2}, {8, 8}}
	for _, topo := range topos {
		for _, capacity := range []int{64, 1024} {
			name := func(impl string) string {
				return fmt.Sprintf("impl=%s/topo=%dp%dc/cap=%d", impl, topo.p, topo.c, capacity)
			}
			b.Run(name("gochan"), func(b *testing.B) {
				b.ReportAllocs()
				runGoChan(b, topo.p, topo.c, capacity)
				reportItems(b, b.N)
			})
			for _, f := range flavors {
				if (topo.p > 1 && !f.multiP) || (topo.c > 1 && !f.multiC) {
					continue
				}
				for _, batch := range []int{1, 64} {
					impl := f.name
					if batch > 1 {
						impl = fmt.Sprintf("%s-batch%d", f.name, batch)
					}
					b.Run(name(impl), func(b *testing.B) {
						b.ReportAllocs()
						runCore(b, f, topo.p, topo.c, capacity, batch)
						reportItems(b, b.N)
					})
				}
			}
		}
	}
}

// BenchmarkPingPong measures a round trip: one goroutine sends on ping and
// waits on pong, a partner echoes. Both goroutines block on every message, so
// this is the cost of parking and waking. Ours run at capacity 1 beside Go's
// unbuffered (cap=0) and capacity-1 channels.
func BenchmarkPingPong(b *testing.B) {
	for _, capacity := range []int{0, 1} {
		b.Run(fmt.Sprintf("impl=gochan/cap=%d", capacity), func(b *testing.B) {
			b.ReportAllocs()
			ping, pong := make(chan int, capacity), make(chan int, capacity)
			go func() {
				for v := range ping {
					pong <- v
				}
				close(pong)
			}()
			b.ResetTimer()
			for i := range b.N {
				ping <- i
				<-pong
			}
			b.StopTimer()
			close(ping)
			<-pong
			reportItems(b, b.N)
		})
	}
	for _, f := range flavors {
		b.Run(fmt.Sprintf("impl=%s/cap=1", f.name), func(b *testing.B) { pingpong(b, f) })
	}
}

// pingpong measures round trips over two capacity-1 channels of flavor f.
func pingpong(b *testing.B, f flavor) {
	b.ReportAllocs()
	ctx := context.Background()
	ping, pong := f.new(1), f.new(1)
	go func() {
		for {
			v, err := ping.Recv(ctx)
			if err != nil {
				break
			}
			if err := pong.Send(ctx, v); err != nil {
				panic(err)
			}
		}
		pong.Close()
	}()
	b.ResetTimer()
	for i := range b.N {
		if err := ping.Send(ctx, i); err != nil {
			b.Fatal(err)
		}
		if _, err := pong.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	ping.Close()
	if _, err := pong.Recv(ctx); err == nil {
		b.Fatal("pong not closed")
	}
	reportItems(b, b.N)
}

var sink any

// BenchmarkNew reports the memory of one channel (B/op): cap=1 is the fixed
// overhead plus one slot, cap=64 a typical small buffer.
func BenchmarkNew(b *testing.B) {
	for _, capacity := range []int{1, 64} {
		b.Run(fmt.Sprintf("impl=gochan/cap=%d", capacity), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				sink = make(chan int, capacity)
			}
		})
		for _, f := range flavors {
			b.Run(fmt.Sprintf("impl=%s/cap=%d", f.name, capacity), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					sink = f.new(capacity)
				}
			})
		}
	}
}

// lineRTT measures the machine's cache-line round trip between two cores
// (see BenchmarkMachineLineRoundTrip) with n bounces, in nanoseconds.
func lineRTT(n int) float64 {
	var x atomic.Int64
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		for i := int64(1); i < int64(2*n); i += 2 {
			for spins := 1; x.Load() != i; spins++ {
				if spins%1024 == 0 && time.Since(start) > time.Second {
					return // the peer is not running beside us: give up
				}
			}
			x.Store(i + 1)
		}
	}()
	for i := int64(0); i < int64(2*n); i += 2 {
		for spins := 1; x.Load() != i; spins++ {
			if spins%1024 == 0 && time.Since(start) > time.Second {
				<-done
				return -1
			}
		}
		x.Store(i + 1)
	}
	<-done
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// reportPlacement records, beside a channel benchmark, the cache-line round
// trip measured just before it: on a VM the host moves vCPUs closer or
// farther apart from one minute to the next, and lock-free channels whose
// ends run on two cores feel it (Go channels much less).
func reportPlacement(b *testing.B, rtt float64) {
	b.ReportMetric(rtt, "line-rtt-ns")
}

// BenchmarkMachineLineRoundTrip measures how long one cache line takes to go
// from one core to another and back (two goroutines taking turns on an
// atomic). It explains the channel figures: on a VM the host may place the
// vCPUs close (≈90 ns here) or far apart (≈360 ns), and a lock-free channel
// whose ends run on two cores pays it, where a Go channel hands the woken
// goroutine to the waker's core. Record it with every benchmark run.
func BenchmarkMachineLineRoundTrip(b *testing.B) {
	var x atomic.Int64
	done := make(chan struct{})
	n := int64(b.N)
	go func() {
		defer close(done)
		for i := int64(1); i < 2*n; i += 2 {
			for x.Load() != i {
			}
			x.Store(i + 1)
		}
	}()
	for i := int64(0); i < 2*n; i += 2 {
		for x.Load() != i {
		}
		x.Store(i + 1)
	}
	<-done
}
