package bench

// A third-party queue beside Go channels in the channels group:
// github.com/Workiva/go-datastructures's queue.RingBuffer, a bounded
// lock-free MPMC queue (Vyukov's algorithm, like nimsync's ring) of
// interface{} values whose Put and Get spin with runtime.Gosched while the
// queue is full or empty; it never parks (so a blocked side burns CPU,
// which nimsync's channels and Go's do not).

import (
	"sync"
	"testing"

	"github.com/Workiva/go-datastructures/queue"
)

func init() {
	queuePeers = append(queuePeers, queuePeer{"workiva-ringbuffer", runWorkiva})
}

// workivaItem and workivaStop are the values sent: boxed once, so that the
// benchmark measures the queue and not the boxing of ints into
// interface{}; each receiver stops at a workivaStop, since Dispose drops
// the values still queued.
var (
	workivaItem any = 1
	workivaStop any = new(byte)
)

// runWorkiva moves b.N values through a queue.RingBuffer of the given
// capacity with p senders and c receivers, and reports items/s.
func runWorkiva(b *testing.B, p, c, capacity int) {
	b.ReportAllocs()
	q := queue.NewRingBuffer(uint64(capacity))
	var wgP, wgC sync.WaitGroup
	counts := make([]int, c)
	b.ResetTimer()
	for i := range c {
		wgC.Go(func() {
			n := 0
			for {
				v, err := q.Get()
				if err != nil {
					errorf(b, "Get: %v", err)
					return
				}
				if v == workivaStop {
					break
				}
				n++
			}
			counts[i] = n
		})
	}
	for i := range p {
		wgP.Go(func() {
			for range shareOf(b.N, p, i) {
				if err := q.Put(workivaItem); err != nil {
					errorf(b, "Put: %v", err)
					return
				}
			}
		})
	}
	wgP.Wait()
	for range c {
		if err := q.Put(workivaStop); err != nil {
			failf(b, "Put: %v", err)
		}
	}
	wgC.Wait()
	b.StopTimer()
	q.Dispose()
	checkCount(b, counts)
	reportItems(b, b.N)
}
