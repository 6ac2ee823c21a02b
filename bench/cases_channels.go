package bench

// The channels group: throughput of every flavor in every topology it
// allows, beside a Go channel of the same capacity and topology.
//
// items/s counts values delivered end to end (each sent once and received
// once), so it is the rate of send+receive pairs; the seed report's
// "operations per second" are read as items/s, the stricter reading (a
// send and a receive counted as two operations would double it).

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/nimsync/nimsync/internal/chantest"
)

// chanTopos are the topologies measured: p senders, c receivers. Only
// MPMC allows the larger ones (4p4c, 8p8c, 16p16c: 4, 8 and 16 times as
// many goroutines on each side as the 2-core machine has cores).
var chanTopos = []struct{ p, c int }{{1, 1}, {2, 1}, {1, 2}, {2, 2}, {4, 4}, {8, 8}, {16, 16}}

// queuePeer is a third-party queue measured beside Go channels: run moves
// b.N values from p senders to c receivers through a queue of the given
// capacity and reports items/s. cases_thirdparty.go fills queuePeers in
// builds with the thirdparty tag.
type queuePeer struct {
	name string
	run  func(b *testing.B, p, c, capacity int)
}

var queuePeers []queuePeer

// chanClaims are the seed report's channel claims, each checked on the row
// that is fair to it: the flavor's own most typical topology (1p1c for
// SPSC, 2p1c for MPSC, 1p2c for SPMC, 2p2c for MPMC; as many goroutines as
// the 2-core machine has cores) with a roomy buffer (1024), so that neither
// oversubscription nor a tiny buffer stands between the channel and its
// claim.
var chanClaims = map[string]*Claim{
	"spsc/1p1c/1024": {Text: "SPSC: 50M+ ops/s", Value: 50e6},
	"mpsc/2p1c/1024": {Text: "MPSC/SPMC: 20M+ ops/s", Value: 20e6},
	"spmc/1p2c/1024": {Text: "MPSC/SPMC: 20M+ ops/s", Value: 20e6},
	"mpmc/2p2c/1024": {Text: "MPMC: 10M+ ops/s", Value: 10e6},
}

// chanQuick are the channel rows of a quick run: the claim rows and the
// oversubscribed MPMC at each size.
var chanQuick = map[string]bool{
	"spsc/1p1c/1024": true, "mpsc/2p1c/1024": true, "spmc/1p2c/1024": true,
	"mpmc/2p2c/1024": true, "mpmc/4p4c/64": true, "mpmc/8p8c/64": true, "mpmc/16p16c/64": true,
}

// channelCases returns the channels group.
func channelCases() []Case {
	var cases []Case
	for _, f := range chantest.Flavors {
		for _, t := range chanTopos {
			if !f.Allows(t.p, t.c) {
				continue
			}
			for _, capacity := range []int{64, 1024} {
				key := fmt.Sprintf("%s/%dp%dc/%d", f, t.p, t.c, capacity)
				cases = append(cases, Case{
					Group:  "channels",
					Name:   fmt.Sprintf("Chan/flavor=%s/topo=%dp%dc/cap=%d", f, t.p, t.c, capacity),
					Metric: "items/s",
					Higher: true,
					Impls:  chanImpls(f, t.p, t.c, capacity),
					Claim:  chanClaims[key],
					Quick:  chanQuick[key],
				})
			}
		}
	}
	// Batches: each flavor in its claim topology; the primary peer is the
	// Go channel, beside it nimsync's own single-value operations.
	for _, f := range chantest.Flavors {
		p, c := f.Senders(2), f.Receivers(2)
		const capacity, batch = 1024, 64
		cases = append(cases, Case{
			Group:  "channels",
			Name:   fmt.Sprintf("ChanBatch/flavor=%s/topo=%dp%dc/cap=%d/batch=%d", f, p, c, capacity, batch),
			Metric: "items/s",
			Higher: true,
			Impls: []Contender{
				// The primary peer is the same channel one value at a
				// time: the row measures what batching buys. A Go
				// channel, which has no batch operation, is beside it.
				{"nimsync", func(b *testing.B) { runChan(b, f, p, c, capacity, batch) }},
				{"nimsync-single", func(b *testing.B) { runChan(b, f, p, c, capacity, 1) }},
				{"gochan", func(b *testing.B) { runGoChan(b, p, c, capacity) }},
			},
			Quick: f == chantest.SPSC,
		})
	}
	return cases
}

// chanImpls returns nimsync's flavor f, a Go channel and the third-party
// queues, each moving values from p senders to c receivers.
func chanImpls(f chantest.Flavor, p, c, capacity int) []Contender {
	impls := []Contender{
		{"nimsync", func(b *testing.B) { runChan(b, f, p, c, capacity, 1) }},
		{"gochan", func(b *testing.B) { runGoChan(b, p, c, capacity) }},
	}
	for _, q := range queuePeers {
		impls = append(impls, Contender{q.name, func(b *testing.B) { q.run(b, p, c, capacity) }})
	}
	return impls
}

// shareOf divides n items among k workers: worker i's share.
func shareOf(n, k, i int) int {
	q := n / k
	if i < n%k {
		q++
	}
	return q
}

// reportItems reports n items moved in b's elapsed time as items/s.
func reportItems(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// checkCount fails b unless the receivers' counts add up to b.N.
func checkCount(b *testing.B, counts []int) {
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != b.N {
		failf(b, "received %d values, sent %d", total, b.N)
	}
}

// runGoChan moves b.N ints through a Go channel with p senders and c
// receivers and reports items/s.
func runGoChan(b *testing.B, p, c, capacity int) {
	b.ReportAllocs()
	ch := make(chan int, capacity)
	var wgP, wgC sync.WaitGroup
	counts := make([]int, c)
	b.ResetTimer()
	for i := range c {
		wgC.Go(func() {
			n := 0
			for range ch {
				n++
			}
			counts[i] = n
		})
	}
	for i := range p {
		wgP.Go(func() {
			for j := range shareOf(b.N, p, i) {
				ch <- j
			}
		})
	}
	wgP.Wait()
	close(ch)
	wgC.Wait()
	b.StopTimer()
	checkCount(b, counts)
	reportItems(b, b.N)
}

// runChan moves b.N ints through a nimsync channel of flavor f with p
// senders and c receivers, in batches of batch values when batch > 1
// (SendBatch, RecvBatch), and reports items/s.
func runChan(b *testing.B, f chantest.Flavor, p, c, capacity, batch int) {
	b.ReportAllocs()
	ch := f.New(capacity)
	ctx := context.Background()
	var wgP, wgC sync.WaitGroup
	counts := make([]int, c)
	b.ResetTimer()
	for i := range c {
		wgC.Go(func() {
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
		})
	}
	for i := range p {
		wgP.Go(func() {
			n := shareOf(b.N, p, i)
			if batch > 1 {
				src := make([]int, batch)
				for n > 0 {
					k := min(n, batch)
					if _, err := ch.SendBatch(ctx, src[:k]); err != nil {
						errorf(b, "SendBatch: %v", err)
						return
					}
					n -= k
				}
				return
			}
			for j := range n {
				if err := ch.Send(ctx, j); err != nil {
					errorf(b, "Send: %v", err)
					return
				}
			}
		})
	}
	wgP.Wait()
	_ = ch.Close()
	wgC.Wait()
	b.StopTimer()
	checkCount(b, counts)
	reportItems(b, b.N)
}
