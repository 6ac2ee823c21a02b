package properties_test

// Property 7, channel liveness. Generated scenarios put a channel where
// goroutines wait — k receivers on an empty channel, or k senders on a
// full one — caught either still spinning (the event follows as soon as
// they started, after a seeded jitter of up to about 2 µs) or parked (once
// ReadStats().ParkedWaiters rose by k), and then trigger one event in the
// window where a wakeup is easiest to lose: Close; a batch of m values for
// receivers (or m freed slots for senders), m below, at or above k, as one
// batch operation, single operations or Try operations; contexts cancelled
// in the same step as the batch (before it, after it, or at once); or the
// cancellations alone. The event runs either with every P or on one
// (GOMAXPROCS(1)), which holds the goroutines it wakes or cancels until it
// is done: a cancellation and a wakeup then land in one step for them, and
// a waiter still spinning is held mid-spin while Close or the batch runs.
// A model says what must follow, and every step is bounded (liveBound):
//
//   - Close: every waiter returns, a receiver with ErrClosed once the
//     channel is drained, a sender with ErrClosed; a second Close returns
//     ErrClosed.
//   - A batch: no value stays buffered while a receiver is parked, and no
//     slot stays free while a sender is: with single operations exactly
//     min(m, k) waiters return and the others wait until Close.
//   - A cancelled waiter returns either what it waited for or ctx.Err(),
//     never ctx.Err() after taking a value, and a wakeup it does not use
//     goes to another waiter. Every value whose send returned nil is
//     received exactly once, by a waiter, the event or the final drain; no
//     value whose send failed is ever received.
//   - At every quiescent point (each goroutine returned or parked), the
//     runtime's own ReadStats().ParkedWaiters equals the number of
//     goroutines the model says are parked, and Len what it says is
//     buffered; not only at the end.
//
// Before the waiters start, a sequential prelude checks the channel against
// a FIFO model: Cap is the requested capacity rounded up to a power of two,
// TrySend with room and TryRecv with a value succeed (ErrFull and ErrEmpty
// only on a full or empty channel), an operation with a context already
// done completes if it can at once and otherwise returns ctx.Err() at once,
// and RecvBatch with an empty dst returns 0, nil. After Close, a drain
// checks the same of the closed channel. The sequential steps are in
// liveness_seq_test.go, the waiters and the events in liveness_wait_test.go;
// TrySend and TryRecv under concurrency are liveness_try_test.go's.

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

// The events of a scenario.
const (
	evClose       = iota // Close
	evBatch              // M values for waiting receivers, or M slots freed for waiting senders (see Op)
	evCancelBatch        // cancel waiters' contexts in the same step as the batch
	evCancel             // cancel waiters' contexts, nothing else
	nEvents
)

var eventNames = [nEvents]string{"Close", "batch", "cancel+batch", "cancel"}

// How the event's batch arrives (or leaves): one batch operation, single
// blocking operations, or Try operations.
const (
	opBatch = iota
	opSingle
	opTry
	nOps
)

// The prelude's probe: an operation with a context already done.
const (
	probeSend = iota
	probeRecv
	probeSendBatch
	probeRecvBatch
	nProbes
)

// liveCase is one generated scenario. norm maps any field values (shrunk
// ones included) to a valid scenario, and a valid one to itself.
type liveCase struct {
	Flavor   int  // index into chantest.Flavors
	Capacity int  // requested capacity (1 in about a fifth of the cases)
	Fill     int  // values buffered before the probe (at most Cap)
	Probe    int  // the prelude's probe with a done context
	ProbeN   int  // the probe batch's length
	Senders  bool // the waiters send on a full channel; else they receive on an empty one
	Batch    int  // 0: waiters call Recv or Send; n: RecvBatch or SendBatch of n
	Waiters  int  // k, as many as the flavor allows on the waiting side
	Parked   bool // the event comes once the waiters parked; else right after they started
	Event    int  // evClose ... evCancel
	Size     int  // the event's batch relative to k and Cap: 1, k-1, k, k+1, Cap or k+Cap+1
	M        int  // the event's batch (from Size): values sent to receivers, or slots freed for senders
	Op       int  // the batch as one SendBatch (RecvBatch), single Sends (Recvs), or TrySends (TryRecvs)
	Cancel   int  // how many waiters' contexts the event cancels
	Order    int  // cancellations before the batch, after it, or at once
	Delay    int  // 0..3: a busy wait (jitter) before the event of spinning waiters, and between batch and cancellations
	Serial   bool // the event runs on one P (GOMAXPROCS(1)): what it wakes or cancels runs only after it
}

func (lc liveCase) norm() liveCase {
	pos := func(v, n int) int { return (v%n + n) % n }
	lc.Flavor = pos(lc.Flavor, len(chantest.Flavors))
	lc.Capacity = max(lc.Capacity, 1)
	room := roundPow2(lc.Capacity)
	lc.Fill = clamp(lc.Fill, 0, room)
	lc.Probe = pos(lc.Probe, nProbes)
	lc.ProbeN = clamp(lc.ProbeN, 1, room+2)
	lc.Batch = clamp(lc.Batch, 0, 3)
	f := chantest.Flavors[lc.Flavor]
	if lc.Waiters = clamp(lc.Waiters, 1, 4); lc.Senders {
		lc.Waiters = f.Senders(lc.Waiters)
	} else {
		lc.Waiters = f.Receivers(lc.Waiters)
	}
	lc.Event = pos(lc.Event, nEvents)
	lc.Size = pos(lc.Size, 6)
	lc.M = max([6]int{1, lc.Waiters - 1, lc.Waiters, lc.Waiters + 1, room, lc.Waiters + room + 1}[lc.Size], 1)
	if lc.Event == evCancel || lc.Event == evCancelBatch {
		lc.Cancel = clamp(lc.Cancel, 1, lc.Waiters)
	} else {
		lc.Cancel = 0
	}
	lc.Op = pos(lc.Op, nOps)
	lc.Order = pos(lc.Order, 3)
	lc.Delay = pos(lc.Delay, 4)
	return lc
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

func (lc liveCase) String() string {
	side, op := "receivers", "Recv"
	if lc.Senders {
		side, op = "senders", "Send"
	}
	if lc.Batch > 0 {
		op = fmt.Sprintf("%sBatch(%d)", op, lc.Batch)
	}
	state := "parked"
	if !lc.Parked {
		state = fmt.Sprintf("spinning (jitter %d)", lc.Delay)
	}
	batch := fmt.Sprintf("%s of %d", [nOps]string{"a batch", "single ops", "Try ops"}[lc.Op], lc.M)
	ev := eventNames[lc.Event]
	switch lc.Event {
	case evBatch:
		ev = batch
	case evCancelBatch:
		ev = fmt.Sprintf("%d cancelled %s %s", lc.Cancel, [3]string{"before", "after", "with"}[lc.Order], batch)
	case evCancel:
		ev = fmt.Sprintf("%d cancelled", lc.Cancel)
	}
	if lc.Serial {
		ev += ", on one P"
	}
	return fmt.Sprintf("%s cap %d (fill %d, probe %d/%d): %d %s in %s, %s; then %s",
		chantest.Flavors[lc.Flavor].Type(), lc.Capacity, lc.Fill, lc.Probe, lc.ProbeN, lc.Waiters, side, op, state, ev)
}

// genLiveCase generates scenarios on chantest.Flavors[flavor]; planCap, the plan's
// capacity (at most 64), is one of the capacities drawn.
func genLiveCase(flavor, planCap int) gopter.Gen {
	return gen.Struct(reflect.TypeOf(liveCase{}), map[string]gopter.Gen{
		"Flavor":   gen.Const(flavor),
		"Capacity": gen.Weighted([]gen.WeightedGen{{Weight: 2, Gen: gen.Const(1)}, {Weight: 6, Gen: gen.IntRange(2, 8)}, {Weight: 1, Gen: gen.Const(min(planCap, 64))}}),
		"Fill":     gen.IntRange(0, 8),
		"Probe":    gen.IntRange(0, nProbes-1),
		"ProbeN":   gen.IntRange(1, 10),
		"Senders":  gen.Bool(),
		"Batch":    gen.IntRange(0, 3),
		"Waiters":  gen.IntRange(1, 4),
		"Parked":   gen.Bool(),
		"Event":    gen.Weighted([]gen.WeightedGen{{Weight: 2, Gen: gen.Const(evClose)}, {Weight: 3, Gen: gen.Const(evBatch)}, {Weight: 4, Gen: gen.Const(evCancelBatch)}, {Weight: 1, Gen: gen.Const(evCancel)}}),
		"Op":       gen.IntRange(0, nOps-1),
		"Delay":    gen.IntRange(0, 3),
		"Serial":   gen.Bool(),
		"Size":     gen.IntRange(0, 5),
		"Cancel":   gen.IntRange(1, 4),
		"Order":    gen.IntRange(0, 2),
	}).Map(func(lc liveCase) liveCase { return lc.norm() })
}

func roundPow2(n int) int { return 1 << bits.Len(uint(n-1)) }

// liveBound bounds each step of a scenario: a wait for goroutines to
// start, park, settle or return, and a probe that must return at once
// (5 s; 0.5 s in the self-test, whose planted hangs it waits out).
func liveBound() time.Duration { return episodeDeadline / 4 }

// doneCtx is a context that is already done.
var doneCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// checkLiveCase runs one scenario, bounded.
func checkLiveCase(lc liveCase) error {
	lc = lc.norm()
	return bounded(8*liveBound(), func(ctx context.Context) error {
		r := &liveRun{liveCase: lc, ctx: ctx, c: chantest.Flavors[lc.Flavor].New(lc.Capacity), exact: -1}
		defer r.stop()
		return r.run()
	})
}

// liveRun is a scenario being run. The test's goroutine runs it; the
// waiters (and the event's batch sender) run on goroutines of their own.
type liveRun struct {
	liveCase
	ctx    context.Context
	c      core.Chan[int]
	room   int   // c.Cap()
	base   int64 // ParkedWaiters before the scenario
	model  []int // the channel's contents, while only the test's goroutine uses it
	led    ledger
	ws     []*liveWaiter
	batch  *liveWaiter // the event's batch sender, when receivers wait
	exact  int         // how many waiters the event must release, or -1: not exactly known
	wg     sync.WaitGroup
	closed atomic.Bool // set just before the scenario's Close
}

// liveWaiter is a goroutine blocked in one operation. Its results are
// written before done is set and read after done is seen.
type liveWaiter struct {
	ctx       context.Context
	cancel    context.CancelFunc
	cancelled bool // set by the test's goroutine before cancel
	want      int  // values to send, or dst's length
	vals      []int
	n         int
	err       error
	late      bool // it returned after the scenario's Close began
	started   atomic.Bool
	done      atomic.Bool
}

func (r *liveRun) run() error {
	r.base = core.ReadStats().ParkedWaiters
	if err := r.prelude(); err != nil {
		return fmt.Errorf("prelude: %w", err)
	}
	if err := r.startWaiters(); err != nil {
		return err
	}
	if err := r.event(); err != nil {
		return err
	}
	if !r.closed.Load() {
		// A quiescent point: what the event released has returned, and
		// the others are parked again.
		if err := r.settled("after the event"); err != nil {
			return err
		}
		if err := r.close(); err != nil {
			return err
		}
	} else if err := r.joinClosed(); err != nil {
		return err
	} else if err := r.c.Close(); !errors.Is(err, core.ErrClosed) {
		return fmt.Errorf("Close of a closed channel → %v, want ErrClosed", err)
	}
	if err := r.results(); err != nil {
		return err
	}
	if err := r.drain(); err != nil {
		if lerr := r.led.check(); lerr != nil {
			return fmt.Errorf("%w (after Close: %v)", lerr, err) // the ledger names the value
		}
		return fmt.Errorf("after Close: %w", err)
	}
	if err := r.led.check(); err != nil {
		return err
	}
	return r.parkedAre(0, "once every goroutine returned")
}

// stop ends whatever the scenario left running: it cancels every
// waiter's context and closes the channel, and waits for them (bounded).
func (r *liveRun) stop() {
	for _, w := range append(r.ws, r.batch) {
		if w != nil {
			w.cancel()
		}
	}
	r.c.Close()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(liveBound()):
	}
}

func TestChanLiveness(t *testing.T) {
	s := seed(t)
	plan := startPlan(t, s)
	planCap := plan.Const("capacity", 4)
	runs := 250
	if testing.Short() {
		runs = 60
	}
	deadline := time.Now().Add(budget(t))
	for i := uint64(0); i == 0 || time.Now().Before(deadline); i++ {
		for fi, f := range chantest.Flavors {
			t.Run(f.Type(), func(t *testing.T) {
				checkProps(t, s+i, runs, func(ps *gopter.Properties) {
					ps.Property(f.Type()+": waiters spinning or parked, then Close, a batch or cancellations", prop.ForAll(func(lc liveCase) *gopter.PropResult {
						if skipShrink() {
							return gopter.NewPropResult(true, "") // not followed (see skipShrink)
						}
						if err := checkLiveCase(lc); err != nil {
							t.Logf("%v: %v", lc.norm(), err)
							return noteFailure(gopter.NewPropResult(false, err.Error()))
						}
						return gopter.NewPropResult(true, "")
					}, fresh(genLiveCase(fi, planCap))))
					ps.Property(f.Type()+": TrySend with room and TryRecv with a value succeed", prop.ForAll(func(tc tryCase) *gopter.PropResult {
						if skipShrink() {
							return gopter.NewPropResult(true, "")
						}
						if err := checkTryTraffic(tc); err != nil {
							t.Logf("%v: %v", tc.norm(), err)
							return noteFailure(gopter.NewPropResult(false, err.Error()))
						}
						return gopter.NewPropResult(true, "")
					}, fresh(genTryCase(fi, planCap))))
				})
			})
		}
	}
}
