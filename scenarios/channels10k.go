package scenarios

// channels-10k: many channels alive at once, few goroutines.
//
// Invariants:
//
//  1. Worker pair w (a sender goroutine and a receiver goroutine) owns the
//     channels i with i%workers == w, and both walk them in the same order:
//     block b of every owned channel, then block b+1. So no pair deadlocks:
//     if the sender is blocked on channel c, full, in block B, the receiver
//     has not drained c's oldest value, of block B or earlier; the receiver
//     waits on channel c' in block B' only if the sender has not finished
//     (B', c'), so (B, c) <= (B', c') <= (B, c) in walk order: both are on
//     the same block of the same channel, where the receiver makes room.
//  2. The receiver takes exactly a block's values from a channel before it
//     moves on (RecvBatch gets a dst no longer than what is left of the
//     block), so it never takes a value of a later block early.
//  3. Both run under the run's abort context and stop once the run has
//     failed (check.go, invariant 5): then the pair's walk orders no
//     longer hold, and a blocked partner is freed by the cancellation.
//  4. The sender sees the run's context end (flow.go, invariant 5) before
//     its block B of a channel c, in walk order: it has sent block B to
//     every channel it owns before c and only the blocks before B to c and
//     the channels after it. It records that on the ledger, stores the
//     walk position (B, c) in the pair's cut, and then closes its
//     channels. The receiver, a step behind in the same walk, drains every
//     block sent; its Recv on c in block B returns ErrClosed only after
//     those Closes, so it reads the cut (B, c) there and goes to its final
//     check (each channel drained and closed) instead of reporting a short
//     block. A sender stops within one channel's block of the end, not a
//     whole walk (a block over 1250 channels was 80K operations).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

// channels10K keeps 10K channels (at scale 1) of mixed flavors and small
// seed-chosen capacities alive at once, and sends each 4 to 16 values
// through a fixed set of 2 to 8 sender and receiver goroutines (invariant
// 1), in blocks of 1, 2 or 4 values; twelve rounds, each with
// fresh channels and a fresh shape.
//
// Invariants: every channel delivers exactly its values, in order ("no
// loss", "no duplicate", "per-sender order", one sender per channel), and
// after its last block and Close a channel reports ErrClosed ("no extra
// value").
func channels10K(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "channels-10k", cfg)
	r := rng(cfg.Seed)
	nch := cfg.scaled(10_000, 16)
	for round := range 12 {
		if err := ctx.Err(); err != nil {
			return err
		}
		workers, per, block := 2+r.IntN(7), 4+r.IntN(13), 1<<r.IntN(3)
		chans := make([]core.Chan[item], nch)
		for i := range chans {
			chans[i] = chantest.New[item](drawFlavor(r), 1+r.IntN(8))
		}
		l := newLedger(e.f, nch, per)
		label := fmt.Sprintf("round %d (%d channels, %d workers, %d values each in blocks of %d)", round, nch, workers, per, block)
		var c crew
		cut := make([]atomic.Int64, workers) // invariant 4
		for w := range workers {
			sr, rr := rng(r.Uint64()), rng(r.Uint64())
			cur := l.cursor(fmt.Sprintf("%s: receiver %d", label, w))
			cut[w].Store(-1) // no cut
			e.spawn(&c, func() {
				defer e.guard()
				e.sendBlocks(chans, w, workers, per, block, sr, label, l, &cut[w])
			})
			e.spawn(&c, func() {
				defer e.guard()
				e.recvBlocks(chans, w, workers, per, block, rr, cur, label, &cut[w])
			})
		}
		e.join(&c)
		l.verify(l.sentBy)
		if err := e.f.err(); err != nil {
			return err
		}
	}
	return nil
}

// sendBlocks is sender w of channels10K: it sends values [0, per) to each
// channel it owns, a block at a time in walk order (invariant 1), and then
// closes them. If the run's context ends, it stops before a channel's block and
// stores where in cut before it closes (invariant 4).
func (e *env) sendBlocks(chans []core.Chan[item], w, workers, per, block int, r *rand.Rand, label string, l *ledger, cut *atomic.Int64) {
	ctx := e.ctx // invariant 3
	ops := counter{m: e.m}
	defer ops.flush()
	buf := make([]item, block)
walk:
	for lo := 0; lo < per; lo += block {
		hi := min(lo+block, per)
		for i := w; i < len(chans); i += workers {
			if e.ending() { // invariant 4
				for j := w; j < len(chans); j += workers {
					if j < i {
						l.stop(j, hi)
					} else {
						l.stop(j, lo)
					}
				}
				cut.Store(walkPos(lo, i, len(chans))) // before the Closes below
				break walk
			}
			c := chans[i]
			var err error
			switch r.IntN(3) {
			case 0:
				for seq := lo; seq < hi && err == nil; seq++ {
					err = c.Send(ctx, e.item(i, seq))
				}
			case 1:
				for seq := lo; seq < hi && err == nil; seq++ {
					it := e.item(i, seq)
					if err = c.TrySend(it); errors.Is(err, core.ErrFull) {
						err = c.Send(ctx, it)
					}
				}
			default:
				for seq := lo; seq < hi; seq++ {
					buf[seq-lo] = e.item(i, seq)
				}
				_, err = c.SendBatch(ctx, buf[:hi-lo])
			}
			if err != nil {
				if !e.f.failed() {
					e.f.add("send succeeds", "%s: channel %d, block at %d: %v", label, i, lo, err)
				}
				return // the run stops (invariant 3)
			}
			ops.add(hi - lo)
		}
	}
	for i := w; i < len(chans); i += workers {
		if err := chans[i].Close(); err != nil {
			e.f.add("close succeeds", "%s: channel %d: Close: %v", label, i, err)
		}
	}
}

// recvBlocks is receiver w of channels10K: it receives each block of each
// channel it owns in walk order (invariants 1 and 2), and then checks that
// each channel, once closed, has nothing more. A block its sender cut
// (invariant 4) ends the walk.
func (e *env) recvBlocks(chans []core.Chan[item], w, workers, per, block int, r *rand.Rand, cur *cursor, label string, cut *atomic.Int64) {
	ctx := e.ctx // invariant 3
	ops := counter{m: e.m}
	defer ops.flush()
	buf := make([]item, block)
	take := func(i int, v item) {
		e.observe(v.at)
		if int(v.src) != i {
			e.f.add("no cross-talk", "%s: channel %d delivered value %d of channel %d", label, i, v.seq, v.src)
		}
		cur.take(int(v.src), int(v.seq))
	}
walk:
	for lo := 0; lo < per; lo += block {
		hi := min(lo+block, per)
		for i := w; i < len(chans); i += workers {
			c := chans[i]
			for left := hi - lo; left > 0; {
				n, err := 1, error(nil)
				switch r.IntN(3) {
				case 0:
					buf[0], err = c.Recv(ctx)
				case 1:
					if buf[0], err = c.TryRecv(); errors.Is(err, core.ErrEmpty) {
						buf[0], err = c.Recv(ctx)
					}
				default:
					n, err = c.RecvBatch(ctx, buf[:left]) // invariant 2
				}
				if err != nil {
					if errors.Is(err, core.ErrClosed) && left == hi-lo && cut.Load() == walkPos(lo, i, len(chans)) {
						break walk // invariant 4
					}
					if !e.f.failed() {
						e.f.add("receive succeeds", "%s: channel %d, block at %d, %d values short: %v", label, i, lo, left, err)
					}
					return
				}
				for _, v := range buf[:n] {
					take(i, v)
				}
				if e.f.failed() {
					return // invariant 3
				}
				left -= n
			}
			ops.add(hi - lo)
		}
	}
	for i := w; i < len(chans) && !e.f.failed(); i += workers {
		if v, err := chans[i].Recv(ctx); !errors.Is(err, core.ErrClosed) {
			e.f.add("no extra value", "%s: channel %d, drained, gave (%d, %d), %v instead of ErrClosed", label, i, v.src, v.seq, err)
		}
	}
}

// walkPos numbers (block lo, channel i) in the walk order of invariant 1,
// for a pair's cut (invariant 4).
func walkPos(lo, i, nch int) int64 { return int64(lo)*int64(nch) + int64(i) }
