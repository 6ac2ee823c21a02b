package scenarios

// The channel machinery the stream scenarios share: a run's environment,
// the value type, the four flavors, and sender and receiver loops that mix
// the single, Try and batch operations by a seeded draw.
//
// Invariants:
//
//  1. A flow's channel is closed by the last of its senders to finish (an
//     atomic countdown), so it is closed after every accepted value entered
//     it and receivers end with ErrClosed only after they drained it.
//  2. Each sender and receiver goroutine owns its *rand.Rand, drawn from
//     the run's generator by the goroutine that starts it, before it starts:
//     the shape depends on the seed only.
//  3. Every goroutine a flow starts is counted on the caller's crew
//     before it starts (sched.go), so the caller's join orders all of
//     them, and their ledger marks, before verify (check.go, invariant 3).
//  4. A flow's operations run under the run's abort context (env.ctx),
//     which only the run's first violation cancels (check.go, invariant 5):
//     then senders and receivers return, blocked or not, and the error a
//     cancelled operation returns is not a violation of its own.
//  5. The run's own context (Scenario.Run's ctx: a soak's deadline, an
//     interrupt) is seen between rounds and, through env.ending, by every
//     sender between two of its runs of operations: a sender that sees it
//     stops sending, records how far it got on the ledger (ledger.stop)
//     and goes on to its part of the close, so the round ends as a short
//     round would, with its invariants checked against what was sent.
//     Receivers never stop early: they drain. So a run ends within a
//     batch per sender plus the channels' contents of its context's end
//     (TestScenariosStopSoonAfterContextEnds), however slow a fault plan
//     makes its rounds.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

const (
	// sampleEvery: one value (or task) in sampleEvery is stamped for the
	// latency histogram.
	sampleEvery = 64
	// maxBatch is the largest batch (and run of single operations) a loop
	// draws.
	maxBatch = 64
	// flushOps is how many operations a goroutine counts before it adds
	// them to the meter.
	flushOps = 1024
)

// env is what one run of a scenario carries around: its name, faults,
// meter, the monotonic base time of its latency stamps, and its abort
// context. Read-only after newEnv; any goroutine may use it.
type env struct {
	name string
	f    *faults
	m    *Meter
	fail func(error) // Config.Fail
	base time.Time
	// ctx is the run's abort context: the run's first violation cancels
	// it (check.go, invariant 5), nothing else does. Operations that must
	// not outlive a failed run take it.
	ctx context.Context
	// sched is Config.Sched: nil, or the scheduler the run's goroutines
	// start and wait under (sched.go).
	sched Sched
	// done is the Done channel of the run's own context (invariant 5), nil
	// in the serialized mode: there a run stops between rounds only, so
	// that its steps depend on its schedule and not on the wall clock,
	// and a failing schedule replays whatever the clock did.
	done <-chan struct{}
}

// ending reports whether the run's context has ended (invariant 5): the
// run's senders and spawners stop at their next boundary and the round
// ends short. It costs a channel poll.
func (e *env) ending() bool {
	if e.done == nil {
		return false
	}
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// newEnv returns the environment of one run of the scenario name, whose
// own context is ctx (invariant 5).
func newEnv(ctx context.Context, name string, cfg Config) *env {
	m := cfg.Meter
	if m == nil {
		m = NewMeter()
	}
	abort, stop := context.WithCancel(context.Background())
	f := newFaults(name)
	f.stop = stop
	e := &env{name: name, f: f, m: m, fail: cfg.Fail, base: time.Now(), ctx: abort, sched: cfg.Sched}
	if cfg.Sched == nil {
		e.done = ctx.Done()
	}
	return e
}

// guard is deferred by every goroutine a scenario starts: a panic there (a
// broken core, or a chaos contract check) goes to Config.Fail with its
// stack, and the goroutine ends; without Fail it is raised again, as any
// goroutine's panic would be.
func (e *env) guard() {
	if v := recover(); v != nil {
		if e.fail == nil {
			panic(v)
		}
		e.fail(&PanicError{Scenario: e.name, Value: v, Stack: string(debug.Stack())})
	}
}

// now returns a latency stamp: the time since base, never 0 (0 means "not
// sampled").
func (e *env) now() int64 { return max(int64(time.Since(e.base)), 1) }

// observe records the latency of a value stamped at, if it was sampled.
func (e *env) observe(at int64) {
	if at != 0 {
		e.m.Observe(time.Duration(int64(time.Since(e.base)) - at))
	}
}

// item is the value of the stream scenarios: its sender (source) and its
// sequence number there, and a send stamp on one item in sampleEvery. It
// holds no pointers, so the rings need not clear consumed slots.
type item struct {
	src, seq uint32
	at       int64
}

func (e *env) item(src, seq int) item {
	it := item{src: uint32(src), seq: uint32(seq)}
	if seq%sampleEvery == 0 {
		it.at = e.now()
	}
	return it
}

// fit draws a flavor that allows senders and receivers.
func fit(r *rand.Rand, senders, receivers int) chantest.Flavor {
	for {
		if f := drawFlavor(r); f.Allows(senders, receivers) {
			return f
		}
	}
}

// drawFlavor draws one of the four flavors.
func drawFlavor(r *rand.Rand) chantest.Flavor { return chantest.Flavors[r.IntN(len(chantest.Flavors))] }

// capacities are the capacities a run draws from: 1 makes every operation a
// hand-off, 4096 lets a sender run far ahead.
var capacities = [...]int{1, 2, 4, 16, 64, 256, 1024, 4096}

func drawCap(r *rand.Rand) int { return capacities[r.IntN(len(capacities))] }

// counter batches a goroutine's operation count into the meter.
type counter struct {
	m *Meter
	n int
}

func (c *counter) add(k int) {
	if c.n += k; c.n >= flushOps {
		c.flush()
	}
}

func (c *counter) flush() { c.m.Add(c.n); c.n = 0 }

// sendAll sends values [0, n) of source src on c, in runs of single Sends,
// TrySends (falling back to Send when full) and SendBatches drawn from r. It
// returns how many values c accepted, which is n unless an operation failed
// or the run's context ended first (invariant 5), and the error of the
// operation that failed.
func (e *env) sendAll(ctx context.Context, c core.Chan[item], src, n int, r *rand.Rand) (int, error) {
	ops := counter{m: e.m}
	defer ops.flush()
	buf := make([]item, maxBatch)
	seq := 0
	for seq < n && !e.ending() {
		k := min(1+r.IntN(maxBatch), n-seq)
		switch r.IntN(4) {
		case 0:
			for end := seq + k; seq < end; seq++ {
				if err := c.Send(ctx, e.item(src, seq)); err != nil {
					return seq, err
				}
			}
		case 1:
			for end := seq + k; seq < end; seq++ {
				it := e.item(src, seq)
				err := c.TrySend(it)
				if errors.Is(err, core.ErrFull) {
					err = c.Send(ctx, it)
				}
				if err != nil {
					return seq, err
				}
			}
		default:
			for j := range k {
				buf[j] = e.item(src, seq+j)
			}
			sent, err := c.SendBatch(ctx, buf[:k])
			seq += sent
			if err != nil {
				return seq, err
			}
		}
		ops.add(k)
	}
	return seq, nil
}

// recvAll receives from c until it is closed and drained, in runs of single
// Recvs, TryRecvs (falling back to Recv when empty) and RecvBatches drawn
// from r, and hands each value to cur. It returns nil at ErrClosed, or the
// error of the operation that failed. It also returns nil as soon as the
// run has failed (invariant 4): a channel that hands out values for ever,
// duplicates that cur reports at once, does not keep it going.
func (e *env) recvAll(ctx context.Context, c core.Chan[item], r *rand.Rand, cur *cursor) error {
	ops := counter{m: e.m}
	defer ops.flush()
	buf := make([]item, maxBatch)
	take := func(v item) {
		e.observe(v.at)
		cur.take(int(v.src), int(v.seq))
	}
	for !e.f.failed() {
		k := 1 + r.IntN(maxBatch)
		switch r.IntN(4) {
		case 0, 1:
			try := r.IntN(2) == 0
			for range k {
				var v item
				err := core.ErrEmpty
				if try {
					v, err = c.TryRecv()
				}
				if errors.Is(err, core.ErrEmpty) {
					v, err = c.Recv(ctx)
				}
				if err != nil {
					return closedOK(err)
				}
				take(v)
			}
		default:
			n, err := c.RecvBatch(ctx, buf[:k])
			if err != nil {
				return closedOK(err)
			}
			for _, v := range buf[:n] {
				take(v)
			}
			k = n
		}
		ops.add(k)
	}
	return nil
}

// closedOK maps ErrClosed, the normal end of a receive loop, to nil.
func closedOK(err error) error {
	if errors.Is(err, core.ErrClosed) {
		return nil
	}
	return err
}

// flow is one channel with its senders and receivers: senders
// [src0, src0+senders) of a ledger each send per values.
type flow struct {
	label              string // names the flow in violations
	c                  core.Chan[item]
	senders, receivers int
	per, src0          int
}

// start starts the flow's goroutines on c (invariants 1 to 4). Operations
// run under the run's abort context: a flow ends by Close, or when the run
// failed; a stuck one is the stall watchdog's to catch. A failed operation
// is a violation, unless the run had failed already.
func (e *env) start(c *crew, fl flow, l *ledger, r *rand.Rand) {
	ctx := e.ctx
	var left atomic.Int32
	left.Store(int32(fl.senders))
	for s := range fl.senders {
		sr := rng(r.Uint64())
		e.spawn(c, func() {
			defer e.guard()
			src := fl.src0 + s
			n, err := e.sendAll(ctx, fl.c, src, fl.per, sr)
			if err != nil && !e.f.failed() {
				e.f.add("send succeeds", "%s: sender %d: value %d: %v", fl.label, src, n, err)
			}
			l.stop(src, n)         // invariant 5
			if left.Add(-1) == 0 { // invariant 1
				if err := fl.c.Close(); err != nil {
					e.f.add("close succeeds", "%s: Close: %v", fl.label, err)
				}
			}
		})
	}
	for i := range fl.receivers {
		rr := rng(r.Uint64())
		cur := l.cursor(fmt.Sprintf("%s: receiver %d", fl.label, i))
		e.spawn(c, func() {
			defer e.guard()
			if err := e.recvAll(ctx, fl.c, rr, cur); err != nil && !e.f.failed() {
				e.f.add("receive succeeds", "%s: receiver %d: %v", fl.label, i, err)
			}
		})
	}
}

// streamRounds runs total values through rounds of one flow each, whose
// shape round draws; each round's channel is fresh. It checks exactly-once
// and per-sender order per receiver after each round, and ctx between them
// (and its senders within them: invariant 5).
func (e *env) streamRounds(ctx context.Context, r *rand.Rand, total, perRound int, round func(i, n int) flow) error {
	for i, done := 0, 0; done < total; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		fl := round(i, min(perRound, total-done))
		l := newLedger(e.f, fl.senders, fl.per)
		var c crew
		e.start(&c, fl, l, r)
		e.join(&c)
		l.verify(l.sentBy)
		if err := e.f.err(); err != nil {
			return err
		}
		done += fl.senders * fl.per
		if total-done < fl.senders {
			break // what per = n/senders rounded away: not worth a round
		}
	}
	return nil
}
