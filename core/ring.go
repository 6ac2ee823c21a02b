package core

// ring is Dmitry Vyukov's bounded MPMC queue ("Bounded MPMC queue",
// 1024cores.net, 2010), with crossbeam-channel's closed mark on the tail
// index. MPSC, SPMC and MPMC are defined types of it (mpmc.go says why not
// wrappers), which add their single-side contract checks.
//
// Each slot carries a sequence number seq. For the position p that maps to
// the slot (p & mask):
//
//	seq == 2p          the slot is free for the sender of position p
//	seq == 2p+1        the slot holds the value of position p
//	seq == 2(p+cap)    the value of p was consumed; free for position p+cap
//
// Vyukov's original uses p, p+1 and p+cap, which confuses "holds p" with
// "free for p+1" when cap is 1; doubling keeps free (even) and published
// (odd) apart for every capacity. Positions stay below 2^63, so 2p fits.
//
// Invariants:
//
//  1. tail (without closedBit) is the number of positions ever reserved by
//     senders, head the number ever claimed by receivers;
//     head <= tail <= head+cap.
//  2. A sender reserves position p by CAS(tail, p, p+1) only after it saw
//     seq == 2p. It then owns the slot: it writes the value and publishes it
//     with seq.Store(2p+1) (release). No other sender can reserve p, and no
//     receiver reads the slot before seeing seq == 2p+1 (acquire).
//  3. A receiver claims position p by CAS(head, p, p+1) only after it saw
//     seq == 2p+1. It then owns the slot: it reads the value, zeroes it and
//     frees the slot with seq.Store(2(p+cap)). (tryRecv zeroes even
//     pointer-free values: the plain write takes the slot's line exclusive
//     before the locked free, which measured about 3x faster per value here
//     than freeing a line held shared. The batch path zeroes only pointerful
//     values: it frees a run of slots per claim.)
//  4. Close sets closedBit in tail with an atomic Or. Reservations are CASes
//     on the whole word, so none succeeds after Close: every value that gets
//     into the ring was reserved before Close, and is delivered to receivers
//     that drain after it. A Send that returns ErrClosed reserved nothing.
//  5. Linearizability of the Try operations. A reservation or claim may be
//     in flight: tail > p with seq == 2p (a sender between its CAS and its
//     publish), or head > p-cap with seq == 2(p-cap)+1 (a receiver between
//     its claim and its free). The in-flight operation has not returned, so its
//     linearization point is its CAS: the queue is neither empty nor full,
//     and TryRecv / TrySend must not report ErrEmpty / ErrFull. They back
//     off (busy-wait, then yield, then sleep: backoff) until the owner
//     finishes, which takes a few instructions unless the owner is
//     descheduled.
//  6. Blocking operations wait on their own slot. Only TrySend and TryRecv
//     must tell a full (empty) ring from a peer in flight (invariant 5).
//     The first attempt of a blocking Send or Recv (send and recv with own
//     set; trySendBatch and tryRecvBatch with own, for the batches' first
//     attempts and a SendBatch's first after progress) does not: when the
//     slot at its index is not ready it returns
//     errWouldBlock at once, rather than waiting in backoff for a peer in
//     flight, and the operation waits in its slow path (ops.go), which
//     polls that slot (peekSend, peekRecv), loads the other side's index
//     only to re-check before parking (canSend, canRecv), and retries with
//     trySend and tryRecv. Neither loads the other side's index there,
//     except a Recv once Close set rclosed (after it marked tail), which
//     loads tail so that a Recv on a closed, drained ring still returns
//     ErrClosed at once; a Recv that misses the hint finds closedBit in
//     its slow path (canRecv, then tryRecv). What a blocking operation may return does
//     not change: it never returns ErrFull or ErrEmpty, and it reserves or
//     claims only with the CASes of invariants 2 and 3. Measured on the
//     development VM (BenchmarkRing, impl=mpmclocal against mpmc, 4 passes
//     in one run, load 1.4-1.9): 1.00-1.29x, median about 1.15x; with a
//     load of tail at every miss instead of the rclosed hint, 0.76-1.01x
//     of that.
//
// Layout: three 64-byte lines (lineSize), as SPSC's: the senders' line
// (tail, which every send writes, then what every send reads: the slots,
// the mask, recvq's count; then what only slow paths write: recvq's list,
// the senders' spin state), a read-mostly line (the zeroing flag and
// Close's hint), and the receivers' line, which mirrors the senders' from
// head, 128 bytes (cacheLine) after tail. Each side has its own copy of
// the slots' slice and mask, so neither reads a line the other writes per
// operation. The header is exactly 192 bytes, an allocation size class
// whose objects start on 64-byte boundaries, so each side's fields share
// one line whatever the object's address; the adjacent-line prefetcher's
// 128-byte pair then holds the senders' line with the read-mostly one, or
// the read-mostly line with the receivers' (layout_internal_test.go). A
// channel of capacity 1 of int costs 208 bytes with its slot. The slot
// array interleaves seq and value, so a slot's value travels with its seq.
//
// (Until issue 16 the header was 216 bytes, a 224-byte size class, whose
// objects start at any multiple of 32 bytes: at an address 96 modulo 128,
// which the benchmarks' channels had, each side's fields straddled two
// lines and the senders' second line shared a 128-byte pair with head.
// The change measured no difference in throughput on the development VM,
// BenchmarkRing, 3 passes interleaved with the old binary, medians
// 0.94-1.11x by row: what it buys is 32 bytes a channel and a layout that
// does not depend on where the allocator puts the ring.)

import (
	"context"
	"runtime"
	"time"
	"unsafe"

	"github.com/pingcap/failpoint"
)

type slot[T any] struct {
	seq atomicUint64
	val T
}

type ring[T any] struct {
	// The senders' line (lineSize bytes, from offset 0). tail is written by
	// every send; the rest is read by every send and written rarely (the
	// queue and the spin state when a goroutine parks or spins).
	tail   atomicUint64 // reserved count | closedBit; CAS by senders, Or by Close
	sslots []slot[T]    // the slots, as senders see them (the same array as rslots)
	smask  uint64       // len(sslots)-1
	recvq  waitq        // receivers waiting for a value: every send loads recvq.n
	sspin  spinState    // senders' spin state (park.go)

	// The read-mostly line, from offset lineSize: written at construction
	// and once by Close.
	zero bool // T has pointers: zero consumed slots
	// rclosed is set by Close after it marked tail (invariant 6): a hint
	// that a Recv finding no value should load tail to learn whether the
	// ring is closed and drained.
	rclosed atomicBool
	_       [ringHalf - ringMidEnd]byte

	// The receivers' line, from offset ringHalf: head is written by every
	// receive, the rest read by every receive.
	head   atomicUint64 // claimed count; CAS by receivers
	rslots []slot[T]    // the slots, as receivers see them
	rmask  uint64       // len(rslots)-1
	sendq  waitq        // senders waiting for room: every receive loads sendq.n
	rspin  spinState    // receivers' spin state (park.go)
}

const (
	// ringHalf is the offset of a ring's receivers' line: the words each
	// side writes on every operation (tail, head) are a cache line pair
	// (cacheLine) apart, and each side's line holds all it touches per
	// operation.
	ringHalf = cacheLine
	// ringMidEnd is where the read-mostly line's fields end: zero at
	// lineSize, padded to rclosed's 4-byte alignment, then rclosed
	// (TestLayout checks the struct's size and each field's line).
	ringMidEnd = lineSize + 4 + unsafe.Sizeof(atomicBool{})
)

func (r *ring[T]) init(fn string, capacity int) {
	n := roundCapacity(fn, capacity)
	slots := make([]slot[T], n)
	for i := range slots {
		slots[i].seq.Store(2 * uint64(i))
	}
	r.sslots, r.smask = slots, n-1
	r.rslots, r.rmask = slots, n-1
	r.zero = hasPointers[T]()
}

// contended backs off after a lost CAS, so that two goroutines of one side
// on two cores do not pass the index's cache line back and forth on every
// retry: a few dozen loop iterations, growing with i.
func contended(i int) {
	busyWait(4 + min(i, 4)) // 16 << min(i, 4)
}

// backoff waits for an in-flight peer (invariant 5) before attempt i+1.
// The peer is a few instructions from done, but it is writing the slot's
// line, which every re-read takes from it: so first busy-wait, without
// touching memory, for 2^(4+i) loop iterations (backoffSpins rounds, about
// 4000 iterations, a microsecond or two, in all); then yield; and after
// backoffYields yields, sleep (backoffSleep, doubling up to
// backoffMaxSleep): by then the peer's thread is not running (the OS, or
// the Go scheduler, preempted it mid-operation), and a waiter that yields
// in a loop only burns the CPU that thread needs. Measured on the shared
// 2-vCPU machine (BenchmarkRing, medians of 4 runs against a Go channel in
// the same run, load average 4-5 from other work), against the old backoff
// (no wait for 4 rounds, then a yield a round): MPMC 1p1c at capacity 64
// went from 0.47x to 0.69x, 8p8c at 64 from 0.65x to 0.89x, 2p2c at 1024
// from 0.87x to 1.23x.
//
// A chaos build keeps the serialized mode's wait (step.go): no busy rounds
// below activeSpins (a tuning knob), then a spin step and a yield a round,
// which the scheduler sees; it never sleeps behind the scheduler's back.
func backoff(i int) {
	switch {
	case stepMarkers:
		if i >= activeSpins {
			spinStep() // a scheduling point of the serialized mode (step.go)
			runtime.Gosched()
		}
	case i < backoffSpins:
		busyWait(4 + i)
	case i < backoffSpins+backoffYields:
		runtime.Gosched()
	default:
		time.Sleep(min(backoffSleep<<min(i-backoffSpins-backoffYields, 8), backoffMaxSleep))
	}
}

const (
	backoffSpins    = 8 // busy rounds: 2^4 + ... + 2^11 iterations
	backoffYields   = 4
	backoffSleep    = time.Microsecond
	backoffMaxSleep = 100 * time.Microsecond
)

// trySend returns nil, errWouldBlock (full) or ErrClosed.
func (r *ring[T]) trySend(v T) error { return r.send(v, false) }

// send is trySend, or with own the first attempt of a blocking Send
// (invariant 6): errWouldBlock while the slot at the tail is not free,
// without loading head.
func (r *ring[T]) send(v T, own bool) error {
	for i := 0; ; i++ {
		t := r.tail.Load()
		if t&closedBit != 0 {
			return ErrClosed
		}
		if plantedBugs && !own && planted(fpBugStaleFull) && r.bugTrySendFullOnStaleTail(t) {
			return errWouldBlock
		}
		s := &r.sslots[t&r.smask]
		switch seq := s.seq.Load(); {
		case seq == 2*t:
			if r.tail.CompareAndSwap(t, t+1) { // invariant 2: reserve
				failpoint.InjectCall(fpSendReserved)
				s.val = v
				s.seq.Store(2*t + 1) // publish
				return nil
			}
			// Another sender won position t, or Close marked tail.
			contended(i)
		case seq < 2*t:
			// The slot holds position t-cap. Full, unless a receiver
			// has claimed it and is copying it out (invariant 5).
			if own || r.head.Load()+r.smask+1 <= t {
				return errWouldBlock
			}
			backoff(i)
		default:
			// seq > 2t: t is stale; another sender reserved it.
		}
	}
}

// trySendBatch reserves the longest run of free slots at the tail, up to
// len(vs), with one CAS, and fills it. With own (a blocking SendBatch's
// first attempt, or its first after progress: invariant 6) it returns
// errWouldBlock when the slot at the tail is not free, without loading
// head.
func (r *ring[T]) trySendBatch(vs []T, own bool) (int, error) {
	for i := 0; ; i++ {
		t := r.tail.Load()
		if t&closedBit != 0 {
			return 0, ErrClosed
		}
		// A free slot stays free until the sender that reserves it
		// writes it, and reserving needs our CAS to fail: so a run seen
		// free is still free if the CAS succeeds.
		n := min(uint64(len(vs)), r.smask+1)
		k := uint64(0)
		for k < n && r.sslots[(t+k)&r.smask].seq.Load() == 2*(t+k) {
			k++
		}
		if k == 0 {
			switch seq := r.sslots[t&r.smask].seq.Load(); {
			case seq < 2*t:
				if own || r.head.Load()+r.smask+1 <= t {
					return 0, errWouldBlock
				}
				backoff(i)
			}
			continue
		}
		if !r.tail.CompareAndSwap(t, t+k) {
			continue
		}
		for j := uint64(0); j < k; j++ {
			s := &r.sslots[(t+j)&r.smask]
			s.val = vs[j]
			s.seq.Store(2*(t+j) + 1)
		}
		return int(k), nil
	}
}

// tryRecv returns a value, errWouldBlock (empty) or ErrClosed.
func (r *ring[T]) tryRecv() (T, error) { return r.recv(false) }

// recv is tryRecv, or with own the first attempt of a blocking Recv
// (invariant 6): errWouldBlock while the slot at the head is not
// published, unless the ring is closed and drained (ErrClosed).
func (r *ring[T]) recv(own bool) (T, error) {
	for i := 0; ; i++ {
		h := r.head.Load()
		s := &r.rslots[h&r.rmask]
		switch seq := s.seq.Load(); {
		// PLANTED (the second test): a lap-less check, an ABA: an odd seq of
		// an earlier lap, 2(h-cap)+1 (a value claimed and not yet freed),
		// passes for published, and position h, never sent, is claimed
		// (invariant 3: a claim only after seq == 2h+1).
		case seq == 2*h+1 || plantedBugs && seq < 2*h && seq&1 == 1 && planted(fpBugStaleLap):
			if r.head.CompareAndSwap(h, h+1) { // invariant 3: claim
				failpoint.InjectCall(fpRecvClaimed)
				v := s.val
				var zero T
				s.val = zero                       // do not retain the value for the GC
				s.seq.Store(2 * (h + r.rmask + 1)) // free for the next lap
				return v, nil
			}
			contended(i) // another receiver won position h
		case seq < 2*h+1:
			// Not published. Empty, unless a sender reserved it and
			// is writing it (invariant 5).
			if own && !r.rclosed.Load() {
				var zero T
				return zero, errWouldBlock // invariant 6
			}
			t := r.tail.Load()
			if t&^closedBit == h {
				var zero T
				if t&closedBit != 0 {
					if plantedBugs && planted(fpBugRecvRunaway) {
						return r.bugRecvAfterCloseRunaway(h)
					}
					return zero, ErrClosed
				}
				return zero, errWouldBlock
			}
			if own {
				var zero T
				return zero, errWouldBlock // a sender in flight (invariant 6)
			}
			if r.head.Load() == h {
				backoff(i)
			}
		default:
			// seq > 2h+1: h is stale; another receiver claimed it.
		}
	}
}

// tryRecvBatch claims the longest run of published slots at the head, up to
// len(dst), with one claim, and drains it into dst. With own (a blocking
// RecvBatch's first attempt: invariant 6) it returns errWouldBlock when
// the slot at the head is not published, without loading tail, unless
// Close set rclosed.
func (r *ring[T]) tryRecvBatch(dst []T, own bool) (int, error) {
	for i := 0; ; i++ {
		h := r.head.Load()
		// A published slot stays published until the receiver that
		// claims it frees it, and claiming needs our CAS to fail.
		n := min(uint64(len(dst)), r.rmask+1)
		k := uint64(0)
		for k < n && r.rslots[(h+k)&r.rmask].seq.Load() == 2*(h+k)+1 {
			k++
		}
		if k == 0 {
			if r.rslots[h&r.rmask].seq.Load() < 2*h+1 {
				if own && !r.rclosed.Load() {
					return 0, errWouldBlock // invariant 6
				}
				t := r.tail.Load()
				if t&^closedBit == h {
					if t&closedBit != 0 {
						if plantedBugs && planted(fpBugRecvRunaway) {
							return r.bugRecvBatchAfterCloseRunaway(h, dst)
						}
						return 0, ErrClosed
					}
					return 0, errWouldBlock
				}
				if own {
					return 0, errWouldBlock // a sender in flight (invariant 6)
				}
				if r.head.Load() == h {
					backoff(i)
				}
			}
			continue
		}
		if !r.head.CompareAndSwap(h, h+k) {
			continue
		}
		var zero T
		for j := uint64(0); j < k; j++ {
			s := &r.rslots[(h+j)&r.rmask]
			dst[j] = s.val
			if r.zero {
				s.val = zero
			}
			s.seq.Store(2 * (h + j + r.rmask + 1))
		}
		return int(k), nil
	}
}

// canSend and canRecv are the re-checks of a parking goroutine (park.go,
// invariant 3): true if a retry may make progress.
func (r *ring[T]) canSend() bool {
	t := r.tail.Load()
	if plantedBugs && t&closedBit != 0 && planted(fpBugRecheckMissesClose) {
		t &^= closedBit // PLANTED: Close goes unseen
	}
	return t&closedBit != 0 || r.head.Load()+r.smask+1 > t
}

// peekSend and peekRecv poll the slot at the waiting side's index, not the
// other side's index, which is written per value.
func (r *ring[T]) peekSend() bool {
	t := r.tail.Load() &^ closedBit
	return r.sslots[t&r.smask].seq.Load() == 2*t
}

func (r *ring[T]) peekRecv() bool {
	h := r.head.Load()
	return r.rslots[h&r.rmask].seq.Load() == 2*h+1
}

// moreRoom and moreValues tell the spin levels whether the other side got
// ahead while this one waited.
func (r *ring[T]) moreRoom() bool   { return r.peekSend() }
func (r *ring[T]) moreValues() bool { return r.peekRecv() }

func (r *ring[T]) canRecv() bool {
	h := r.head.Load()
	t := r.tail.Load()
	if plantedBugs && t&closedBit != 0 && planted(fpBugRecheckMissesClose) {
		t &^= closedBit // PLANTED: Close goes unseen
	}
	return t != h // a value is reserved, or closedBit is set
}

// Send implements [Chan.Send]. Any number of goroutines may call it at once
// on MPMC; on SPMC, one at a time.
func (r *ring[T]) Send(ctx context.Context, v T) error {
	if err := r.send(v, true); err != errWouldBlock { // invariant 6
		if err == nil {
			r.recvq.wake(1)
		}
		return err
	}
	return sendSlow(ctx, r, v, &r.sspin, &r.sendq, &r.recvq)
}

// TrySend implements [Chan.TrySend], with the concurrency rules of Send.
func (r *ring[T]) TrySend(v T) error { return trySendResult(r.trySend(v), &r.recvq) }

// SendBatch implements [Chan.SendBatch], with the concurrency rules of Send.
// Each run of free slots is reserved with one CAS.
func (r *ring[T]) SendBatch(ctx context.Context, vs []T) (int, error) {
	return sendBatch(ctx, r, vs, &r.sendq, &r.recvq)
}

// Recv implements [Chan.Recv]. Any number of goroutines may call it at once.
func (r *ring[T]) Recv(ctx context.Context) (T, error) {
	if v, err := r.recv(true); err != errWouldBlock { // invariant 6
		if err == nil {
			r.sendq.wake(1)
		}
		return v, err
	}
	if plantedBugs && planted(fpBugContractLeftEarly) {
		// PLANTED: an MPSC receive leaves its contract check before it
		// waits (mpsc.go; a no-op for SPMC and MPMC, which never enter it).
		failpoint.InjectCall(fpContractRecv, any((*MPSC[T])(r)), false)
	}
	return recvSlow[T](ctx, r, &r.rspin, &r.recvq, &r.sendq)
}

// TryRecv implements [Chan.TryRecv]. Any number of goroutines may call it at
// once.
func (r *ring[T]) TryRecv() (T, error) {
	v, err := r.tryRecv()
	return v, tryRecvResult(err, &r.sendq)
}

// RecvBatch implements [Chan.RecvBatch]. Any number of goroutines may call it
// at once. Each run of published slots is claimed with one CAS.
func (r *ring[T]) RecvBatch(ctx context.Context, dst []T) (int, error) {
	// Taking &r.recvq makes the compiler check r for nil, by loading r's
	// first byte, tail, from the senders' line, unless this function
	// loaded a field of r before (mpmc.go): this load of head, from the
	// receivers' own line, is that check. (A bare _ = r.rmask is a nil
	// check of its own, which loads r's first byte.)
	_ = r.head.Load()
	return recvBatch(ctx, r, dst, &r.recvq, &r.sendq)
}

// Close implements [Chan.Close]. It may be called from any goroutine.
func (r *ring[T]) Close() error {
	err := closeRing(&r.tail, &r.recvq, &r.sendq)
	r.rclosed.Store(true) // after closedBit (invariant 6)
	if plantedBugs && err == nil && planted(fpBugCloseDrops) {
		r.bugCloseDropsValues()
	}
	return err
}

// Len implements [Chan.Len]. It may be called from any goroutine.
func (r *ring[T]) Len() int { return ringLen(&r.head, &r.tail, r.rmask) }

// Cap implements [Chan.Cap].
func (r *ring[T]) Cap() int { return int(r.rmask + 1) }
