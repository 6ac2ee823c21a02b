package bench

// The latency group: percentiles of how long a value takes to arrive, from
// an HDR histogram filled inside the benchmark.
//
// One run of each benchmark records every sample and reports the four
// percentiles; the four cases of a benchmark (one per percentile) share
// that run (cases_shared.go), so each round measures each implementation
// once, not four times.
//
//   - LatencyWake: send to receive over a channel of capacity 64 at a
//     steady 50K values/s (one every 20 µs), the sender spinning on its own
//     core between sends as a producer that computes between values would.
//     Whenever the receiver keeps up it parks between values, and the
//     next Send must wake it onto the other core; on the development VM a
//     wake takes about 50 µs, longer than the gap, so values queue behind
//     a late receiver and the percentiles measure mostly the scheduler's
//     and the VM's wake-up, which are the same for both channels. It is
//     the latency a user sees at that rate, not the cost of the wake path
//     alone. nimsync's SPSC against a Go channel.
//   - LatencyPingPong: one round trip over two channels between two
//     goroutines, each waiting for the other at every step: nimsync's SPSC
//     of capacity 1 against Go's unbuffered channel (primary) and Go's
//     channel of capacity 1.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/nimsync/nimsync/core"
)

// wakeGap is the time between two sends of LatencyWake: long enough for a
// receiver that keeps up to spin out (about 1 µs in nimsync, none in Go)
// and park.
const wakeGap = 20 * time.Microsecond

// latencyQuantiles are the percentiles reported, as metric prefixes and
// hdrhistogram quantiles.
var latencyQuantiles = []struct {
	name string
	q    float64
}{{"p50", 50}, {"p95", 95}, {"p99", 99}, {"p99.9", 99.9}}

// latencyEpoch is the origin of the time stamps the wake benchmark sends.
var latencyEpoch = time.Now()

// sinceEpoch returns the monotonic time since latencyEpoch in nanoseconds.
func sinceEpoch() int64 { return int64(time.Since(latencyEpoch)) }

// latencyCases returns the latency group.
func latencyCases() []Case {
	var cases []Case
	for _, q := range latencyQuantiles {
		metric := q.name + "-ns"
		cases = append(cases,
			Case{
				Group:  "latency",
				Name:   fmt.Sprintf("LatencyWake/cap=64/q=%s", q.name),
				Metric: metric,
				Impls: []Contender{
					sharedImpl("nimsync", "wake/nimsync", metric, func(b *testing.B, r reporter) {
						c := core.NewSPSC[int64](64)
						runWake(b, r, func(v int64) { _ = c.Send(context.Background(), v) },
							func() (int64, bool) { v, err := c.Recv(context.Background()); return v, err == nil },
							func() { _ = c.Close() })
					}),
					sharedImpl("gochan", "wake/gochan", metric, func(b *testing.B, r reporter) {
						c := make(chan int64, 64)
						runWake(b, r, func(v int64) { c <- v },
							func() (int64, bool) { v, ok := <-c; return v, ok },
							func() { close(c) })
					}),
				},
				Quick: true,
			},
			Case{
				Group:  "latency",
				Name:   fmt.Sprintf("LatencyPingPong/q=%s", q.name),
				Metric: metric,
				Impls: []Contender{
					sharedImpl("nimsync", "pingpong/nimsync", metric, pingPongSPSC),
					sharedImpl("gochan", "pingpong/gochan", metric, func(b *testing.B, r reporter) { pingPongGo(b, r, 0) }),
					sharedImpl("gochan-cap1", "pingpong/gochan-cap1", metric, func(b *testing.B, r reporter) { pingPongGo(b, r, 1) }),
				},
				Quick: true,
			})
	}
	return cases
}

// newLatencyHist returns a histogram of 1 ns to 10 s at 3 significant
// digits.
func newLatencyHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(10*time.Second), 3)
}

// reportQuantiles reports h's percentiles in nanoseconds.
func reportQuantiles(r reporter, h *hdrhistogram.Histogram) {
	for _, q := range latencyQuantiles {
		r(q.name+"-ns", float64(h.ValueAtQuantile(q.q)))
	}
}

// recordLatency adds one latency sample to h, clamped to its range.
func recordLatency(h *hdrhistogram.Histogram, ns int64) {
	_ = h.RecordValue(min(max(ns, 1), h.HighestTrackableValue()))
}

// runWake sends b.N time stamps, one every wakeGap, and records in the
// receiving goroutine how long each took to arrive.
func runWake(b *testing.B, r reporter, send func(int64), recv func() (int64, bool), closeChan func()) {
	h := newLatencyHist()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			v, ok := recv()
			if !ok {
				return
			}
			recordLatency(h, sinceEpoch()-v)
		}
	}()
	b.ResetTimer()
	next := sinceEpoch()
	for range b.N {
		for sinceEpoch() < next {
		}
		now := sinceEpoch()
		send(now)
		next = now + int64(wakeGap)
	}
	closeChan()
	<-done
	b.StopTimer()
	if h.TotalCount() != int64(b.N) {
		failf(b, "recorded %d samples of %d", h.TotalCount(), b.N)
	}
	reportQuantiles(r, h)
}

// pingPongSPSC records round trips over two nimsync SPSC channels of
// capacity 1.
func pingPongSPSC(b *testing.B, r reporter) {
	ctx := context.Background()
	ping, pong := core.NewSPSC[int](1), core.NewSPSC[int](1)
	go func() {
		defer pong.Close()
		for {
			v, err := ping.Recv(ctx)
			if err != nil {
				return
			}
			if err := pong.Send(ctx, v); err != nil {
				errorf(b, "pong.Send: %v", err)
				return
			}
		}
	}()
	h := newLatencyHist()
	b.ResetTimer()
	for i := range b.N {
		t := sinceEpoch()
		if err := ping.Send(ctx, i); err != nil {
			failf(b, "ping.Send: %v", err)
		}
		if _, err := pong.Recv(ctx); err != nil {
			failf(b, "pong.Recv: %v", err)
		}
		recordLatency(h, sinceEpoch()-t)
	}
	b.StopTimer()
	_ = ping.Close()
	if _, err := pong.Recv(ctx); err == nil {
		failf(b, "pong not closed")
	}
	reportQuantiles(r, h)
}

// pingPongGo records round trips over two Go channels of the given
// capacity.
func pingPongGo(b *testing.B, r reporter, capacity int) {
	ping, pong := make(chan int, capacity), make(chan int, capacity)
	go func() {
		defer close(pong)
		for v := range ping {
			pong <- v
		}
	}()
	h := newLatencyHist()
	b.ResetTimer()
	for i := range b.N {
		t := sinceEpoch()
		ping <- i
		<-pong
		recordLatency(h, sinceEpoch()-t)
	}
	b.StopTimer()
	close(ping)
	<-pong
	reportQuantiles(r, h)
}
