package properties_test

// Property 8, channels under the serialized mode (issue 14). A generated
// episode runs a channel's senders, receivers, an optional canceller and
// the closing main goroutine one at a time under a seeded scheduler
// (chaos.Run.Serialize, package sched): core's atomics, locks, spins and
// parks are the scheduling points, so the episode's outcome is a function
// of its seed, its strategy, its plan and its case, and a failing episode
// replays step for step from its decision list.
//
// What must hold, whatever the schedule:
//
//   - The episode ends: no deadlock (a lost wakeup leaves a goroutine
//     parked with nothing runnable, which the scheduler reports at once
//     with each goroutine's point), no livelock, no panic.
//   - Exactly once: every value whose send returned nil (or that a batch
//     send counted) is received exactly once, by a receiver or by the
//     final drain; nothing else is ever received.
//   - FIFO per sender: each receiver gets each sender's values in the
//     order they were sent.
//   - Errors: a send fails only with ErrClosed after Close or with the
//     context's error after the cancel; a receive only with ErrClosed or
//     the context's error; a second Close returns ErrClosed.
//   - Settled (sched.G.Quiesce: once the senders are done, every receiver
//     has returned, after its quota of values if it has one, or parked, and
//     nothing can run), no value is buffered
//     while a receiver is parked, and ReadStats().ParkedWaiters counts each
//     waiting receiver once (Send/Recv and batch modes, closing after the
//     last sender).
//   - Len stays within [0, Cap] whenever a goroutine reads it, is 0 after
//     the drain, and no waiter stays counted in ReadStats().ParkedWaiters
//     once every goroutine has returned.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/nimsync/nimsync/sched"
)

// serialCase is one generated episode. It is JSON in a failure artifact.
type serialCase struct {
	Flavor     int    `json:"flavor"`      // index into chantest.Flavors
	Cap        int    `json:"cap"`         // requested capacity, 1..4
	Senders    int    `json:"senders"`     // 1..3, 1 for a single-sender flavor
	Receivers  int    `json:"receivers"`   // 1..3, 1 for a single-receiver flavor
	PerSender  int    `json:"per_sender"`  // values each sender sends, 1..6
	Mode       int    `json:"mode"`        // 0 Send/Recv, 1 batches of 2, 2 TrySend/TryRecv
	CancelAt   int    `json:"cancel_at"`   // 0: no cancel; k: a canceller cancels after k yields
	CloseEarly bool   `json:"close_early"` // close once the first sender is done, not the last
	Quota      int    `json:"quota"`       // 0: receivers receive until Close; q: each returns after q values
	Strategy   string `json:"strategy"`    // the scheduler's strategy
	Seed       uint64 `json:"seed"`        // the scheduler's seed
}

const (
	modeOne = iota
	modeBatch
	modeTry
	nModes
)

func (c serialCase) String() string {
	mode := [nModes]string{"Send/Recv", "batches", "Try"}[c.Mode]
	s := fmt.Sprintf("%s cap %d: %d senders × %d, %d receivers, %s", chantest.Flavors[c.Flavor].Type(), c.Cap, c.Senders, c.PerSender, c.Receivers, mode)
	if c.CancelAt > 0 {
		s += fmt.Sprintf(", cancel after %d yields", c.CancelAt)
	}
	if c.CloseEarly {
		s += ", close after the first sender"
	}
	if c.Quota > 0 {
		s += fmt.Sprintf(", receivers stop after %d", c.Quota)
	}
	return s + fmt.Sprintf("; %s seed %d", c.Strategy, c.Seed)
}

// norm makes a case valid, generated or shrunk (gopter shrinks fields
// toward zero, past their generators' ranges): at least one value, sender
// and receiver and a capacity of one, within the flavor's contract.
func (c serialCase) norm() serialCase {
	c.Flavor = min(max(c.Flavor, 0), len(chantest.Flavors)-1)
	f := chantest.Flavors[c.Flavor]
	c.Cap, c.PerSender = max(c.Cap, 1), max(c.PerSender, 1)
	c.Senders, c.Receivers = f.Senders(max(c.Senders, 1)), f.Receivers(max(c.Receivers, 1))
	c.Mode = min(max(c.Mode, 0), nModes-1)
	c.CancelAt, c.Quota = max(c.CancelAt, 0), max(c.Quota, 0)
	if c.Quota > 0 {
		// The receivers and the buffer take every value: no sender waits
		// for room that never comes.
		c.PerSender = max(min(c.PerSender, (c.Receivers*c.Quota+c.Cap)/c.Senders), 1)
		if c.Senders > c.Receivers*c.Quota+c.Cap {
			c.Quota = (c.Senders - c.Cap + c.Receivers - 1) / c.Receivers
		}
	}
	if _, err := sched.ParseStrategy(c.Strategy); err != nil {
		c.Strategy = "random"
	}
	return c
}

// serialObs is what an episode's goroutines saw. They run one at a time,
// so it needs no lock.
type serialObs struct {
	sent     []int   // values whose send succeeded, in no particular order
	recv     [][]int // per receiver, in order
	drained  []int
	errs     []string // every rule broken on the way, as it was seen
	parkedAt int      // ReadStats().ParkedWaiters before the episode
}

func (o *serialObs) errorf(format string, args ...any) {
	o.errs = append(o.errs, fmt.Sprintf(format, args...))
}

// serialValue is sender s's i-th value: never zero, so a zeroed slot
// delivered by mistake is seen.
func serialValue(s, i int) int { return (s+1)*1000 + i }

// body returns the episode's main goroutine, recording into o.
func (c serialCase) body(o *serialObs) func(*sched.G) {
	return func(g *sched.G) {
		ch := chantest.New[int](chantest.Flavors[c.Flavor], c.Cap)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		o.recv = make([][]int, c.Receivers)
		o.parkedAt = int(core.ReadStats().ParkedWaiters)
		checkLen := func(who string) {
			if l := ch.Len(); l < 0 || l > ch.Cap() {
				o.errorf("%s read Len() = %d outside [0, Cap() = %d]", who, l, ch.Cap())
			}
		}
		sendersLeft, receiversLeft, firstDone := c.Senders, c.Receivers, false
		for s := range c.Senders {
			g.Go(func(sg *sched.G) {
				defer func() { sendersLeft--; firstDone = true }()
				c.send(sg, ch, ctx, s, o)
				checkLen(fmt.Sprintf("sender %d", s))
			})
		}
		for r := range c.Receivers {
			g.Go(func(rg *sched.G) {
				defer func() { receiversLeft-- }()
				c.recv(rg, ch, ctx, r, o)
				checkLen(fmt.Sprintf("receiver %d", r))
			})
		}
		if c.CancelAt > 0 {
			g.Go(func(cg *sched.G) {
				for range c.CancelAt {
					cg.Yield("canceller")
				}
				cancel()
			})
		}
		if c.CloseEarly {
			g.Block("wait for the first sender", func() bool { return firstDone })
		} else {
			g.Block("wait for the senders", func() bool { return sendersLeft == 0 })
			if c.Mode != modeTry { // Try receivers never park: they would never settle
				g.Quiesce("settle")
				if checkSettled(o, ch, receiversLeft) {
					o.errorf("settled as %v", g.Snapshot())
				}
			}
		}
		if err := ch.Close(); err != nil {
			o.errorf("the first Close returned %v, want nil", err)
		}
		if err := ch.Close(); !errors.Is(err, core.ErrClosed) {
			o.errorf("a second Close returned %v, want ErrClosed", err)
		}
		g.Block("wait for everyone", func() bool { return sendersLeft == 0 && receiversLeft == 0 })
		for {
			v, err := ch.TryRecv()
			if err != nil {
				if !errors.Is(err, core.ErrClosed) {
					o.errorf("the drain of the closed channel got %v, want a value or ErrClosed", err)
				}
				break
			}
			o.drained = append(o.drained, v)
		}
		if l := ch.Len(); l != 0 {
			o.errorf("Len() = %d after the drain, want 0", l)
		}
		if p := int(core.ReadStats().ParkedWaiters); p != o.parkedAt {
			o.errorf("ReadStats().ParkedWaiters is %+d off its baseline once every goroutine returned", p-o.parkedAt)
		}
	}
}

// checkSettled checks a channel whose senders are done and whose
// receivers each returned or parked (nothing else can run): every receiver
// still waiting is parked, and counted once in ReadStats().ParkedWaiters;
// and no value stays buffered while a receiver is parked.
// It reports whether it found a violation.
func checkSettled(o *serialObs, ch core.Chan[int], waiting int) bool {
	n := len(o.errs)
	parked := int(core.ReadStats().ParkedWaiters) - o.parkedAt
	if parked != waiting {
		o.errorf("settled with %d receivers waiting, ReadStats().ParkedWaiters counts %d parked", waiting, parked)
	}
	if l := ch.Len(); waiting > 0 && l > 0 {
		o.errorf("settled with %d values buffered while %d receivers are parked", l, waiting)
	}
	return len(o.errs) > n
}

// sendErr checks a send's error: ErrClosed, or ctx's once it is done.
func (c serialCase) sendErr(o *serialObs, ctx context.Context, who string, err error) {
	switch {
	case errors.Is(err, core.ErrClosed):
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
	default:
		o.errorf("%s: send returned %v, want nil, ErrClosed or the context's error", who, err)
	}
}

func (c serialCase) send(g *sched.G, ch core.Chan[int], ctx context.Context, s int, o *serialObs) {
	who := fmt.Sprintf("sender %d", s)
	for i := 0; i < c.PerSender; {
		switch c.Mode {
		case modeBatch:
			vs := []int{serialValue(s, i)}
			if i+1 < c.PerSender {
				vs = append(vs, serialValue(s, i+1))
			}
			n, err := ch.SendBatch(ctx, vs)
			if n < 0 || n > len(vs) {
				o.errorf("%s: SendBatch of %d returned %d", who, len(vs), n)
				return
			}
			o.sent = append(o.sent, vs[:n]...)
			i += n
			if err != nil {
				c.sendErr(o, ctx, who, err)
				return
			}
		case modeTry:
			err := ch.TrySend(serialValue(s, i))
			switch {
			case err == nil:
				o.sent = append(o.sent, serialValue(s, i))
				i++
			case errors.Is(err, core.ErrFull):
				if ctx.Err() != nil {
					return
				}
				g.Spin("sender retries TrySend")
			default:
				c.sendErr(o, ctx, who, err)
				return
			}
		default:
			if err := ch.Send(ctx, serialValue(s, i)); err != nil {
				c.sendErr(o, ctx, who, err)
				return
			}
			o.sent = append(o.sent, serialValue(s, i))
			i++
		}
	}
}

func (c serialCase) recv(g *sched.G, ch core.Chan[int], ctx context.Context, r int, o *serialObs) {
	who := fmt.Sprintf("receiver %d", r)
	got := func(vs ...int) { o.recv[r] = append(o.recv[r], vs...) }
	recvErr := func(err error) {
		if !errors.Is(err, core.ErrClosed) && !(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
			o.errorf("%s: receive returned %v, want a value, ErrClosed or the context's error", who, err)
		}
	}
	for c.Quota == 0 || len(o.recv[r]) < c.Quota {
		switch c.Mode {
		case modeBatch:
			var dst [2]int
			k := len(dst)
			if c.Quota > 0 {
				k = min(k, c.Quota-len(o.recv[r]))
			}
			n, err := ch.RecvBatch(ctx, dst[:k])
			if n < 0 || n > k {
				o.errorf("%s: RecvBatch into %d returned %d", who, k, n)
				return
			}
			got(dst[:n]...)
			if err != nil {
				recvErr(err)
				return
			}
		case modeTry:
			v, err := ch.TryRecv()
			switch {
			case err == nil:
				got(v)
			case errors.Is(err, core.ErrEmpty):
				if ctx.Err() != nil {
					return
				}
				g.Spin("receiver retries TryRecv")
			default:
				recvErr(err)
				return
			}
		default:
			v, err := ch.Recv(ctx)
			if err != nil {
				recvErr(err)
				return
			}
			got(v)
		}
	}
}

// verdict checks what an episode did against the rules at the top of this
// file; "" means it kept them.
func (c serialCase) verdict(res *sched.Result, o *serialObs) string {
	if res.Failure != nil {
		return res.Failure.Error()
	}
	if len(o.errs) > 0 {
		return strings.Join(o.errs, "; ")
	}
	want := map[int]int{}
	for _, v := range o.sent {
		want[v]++
	}
	seen := map[int]int{}
	for r, vs := range o.recv {
		last := map[int]int{} // sender → last index received by r
		for _, v := range vs {
			if want[v] == 0 {
				return fmt.Sprintf("receiver %d got %d, a value nobody sent", r, v)
			}
			seen[v]++
			s, i := v/1000-1, v%1000
			if p, ok := last[s]; ok && i <= p {
				return fmt.Sprintf("receiver %d got sender %d's value %d after its value %d: not FIFO", r, s, v, serialValue(s, p))
			}
			last[s] = i
		}
	}
	for _, v := range o.drained {
		seen[v]++
	}
	for v, n := range seen {
		switch {
		case want[v] == 0:
			return fmt.Sprintf("value %d was received %d times but never sent", v, n)
		case n > 1:
			return fmt.Sprintf("value %d was received %d times", v, n)
		}
	}
	var lost []int
	for v := range want {
		if seen[v] == 0 {
			lost = append(lost, v)
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		return fmt.Sprintf("values %v were sent but never received", lost)
	}
	return ""
}

// serialOptions bounds an episode. Most passing episodes take a few hundred
// steps, but Try mode on MPMC with three senders and three receivers can
// take thousands (seed 5, random: 7,010 steps, failed as a livelock at the
// old bound of 5,000): the bound is about three times that. PCT draws its
// change points over the first 300 steps, about a typical episode's length
// (sched.Options.Horizon).
var serialOptions = sched.Options{MaxSteps: 20000, Horizon: 300}

func (c serialCase) program() (sched.Options, func() (func(*sched.G), func(*sched.Result) string)) {
	c = c.norm()
	return serialOptions, func() (func(*sched.G), func(*sched.Result) string) {
		o := &serialObs{}
		return c.body(o), func(res *sched.Result) string { return c.verdict(res, o) }
	}
}

// runSerial runs case c as a serialized episode of r and returns the
// scheduler's result and the verdict ("" if the episode kept the rules).
func runSerial(r *chaos.Run, c serialCase) (*sched.Result, string) {
	c = c.norm()
	strat, err := sched.ParseStrategy(c.Strategy)
	if err != nil {
		panic(err)
	}
	o := &serialObs{}
	res := r.Serialize(c.Seed, strat, serialOptions, c.body(o))
	return res, c.verdict(res, o)
}

// replaySerial replays c under the recorded schedule a and returns the
// result and the verdict.
func replaySerial(r *chaos.Run, c serialCase, a *sched.Artifact) (*sched.Result, string) {
	c = c.norm()
	o := &serialObs{}
	res := r.ReplaySerial(a, serialOptions, c.body(o))
	return res, c.verdict(res, o)
}
