package scenarios

// pipeline: a source, 3 to 5 stages of workers, a sink, joined by channels.
//
// Invariants:
//
//  1. Stage k's workers are the tasks of group k, under the pipeline's root
//     scope, and run their channel operations under the group's scope. A
//     worker ends when its input is closed and drained, or when its scope is
//     cancelled (only a storm, or the run's stop at a violation, invariant
//     5, does that before Wait returns); a value it held and could not send
//     on is dropped, and counted as dropped at stage k.
//  2. Stage k's driver goroutine waits for group k and then, being the only
//     receiver left, drains what its workers left in the input (counted as
//     dropped at stage k; there is none unless stage k was cancelled), and
//     only then closes the output: every sender of the output has returned,
//     so the close cuts off no value, and the next stage's receivers end
//     with ErrClosed only after the output was drained.
//  3. The source and the sink are plain goroutines under the run's abort
//     context, which storms never cancel. So every value the source sends
//     ends in exactly one of two ways, received by the sink or dropped at
//     one stage, and the ledger, marked by both, checks that.
//  4. A channel's flavor allows its number of senders and receivers (the
//     source, a stage's workers, the sink), so single-sided flavors keep
//     their contract.
//  5. The run stops at its first violation (check.go, invariant 5): the
//     abort context ends the source and the sink and cancels the root
//     scope, which ends the stages' workers; every receive loop also
//     returns once the run has failed, so a channel that hands out values
//     for ever cannot keep the run going.
//  6. The source sees the run's context end between two of its batches
//     (flow.go, invariant 5): it stops, records how far it got on the
//     ledger and closes its channel, and the round ends short; the rest of
//     the pipeline drains as in any round.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

// pitem is a pipeline value: its sequence number, the stages it went
// through, a value each stage transforms, and a send stamp.
type pitem struct {
	seq, hops uint32
	val       uint64
	at        int64
}

// transform is stage k's work on a value.
func transform(v uint64, k int) uint64 { return v*0x9e3779b97f4a7c15 + uint64(k+1) }

// pipe is one round of the pipeline scenario.
type pipe struct {
	e       *env
	label   string
	stages  []int              // workers per stage
	chans   []core.Chan[pitem] // chans[k] feeds stage k; chans[len(stages)] feeds the sink
	l       *ledger            // values received by the sink or dropped (invariant 3)
	dropped []atomic.Int64     // per stage
	firstDr []atomic.Int64     // per stage: 1 + the first seq dropped there, or 0
	tg      *targets           // the round's scopes, for storms
	root    *core.Scope        // parent of the stage groups
}

// pipelineRun runs rounds of 40K values (at scale 1, 400K in all) through
// pipelines of 3 to 5 stages of 1 to 4 workers each (one each in a quarter
// of the rounds), joined by channels of seed-chosen flavors (invariant 4)
// and capacities. Workers move values in seed-chosen batches; stage k
// multiplies a value's payload and adds k+1.
// Under a storm, the root scope or stage groups may be cancelled.
//
// Invariants: every value comes out of the sink transformed by every stage
// once, in order ("transformed once"); every value is received by the sink
// or dropped at a stage, exactly once ("no loss", "no duplicate"); values are
// dropped only at a stage a storm cancelled ("drop only when cancelled");
// with one worker per stage, the sink sees values in the order sent
// ("per-sender order").
func pipelineRun(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "pipeline", cfg)
	r := rng(cfg.Seed)
	total, per := cfg.scaled(400_000, 1000), 40_000
	var tg targets
	cfg.storm(tg.storm)
	defer cfg.storm(nil)
	for round, done := 0, 0; done < total; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(per, total-done)
		p := newPipe(e, r, round, &tg)
		p.run(n, r)
		if err := e.f.err(); err != nil {
			return err
		}
		done += n
	}
	return nil
}

func newPipe(e *env, r *rand.Rand, round int, tg *targets) *pipe {
	p := &pipe{e: e, tg: tg}
	p.stages = make([]int, 3+r.IntN(3))
	single := r.IntN(4) == 0 // one worker a stage: the sink can check FIFO order
	for k := range p.stages {
		p.stages[k] = 1
		if !single {
			p.stages[k] += r.IntN(4)
		}
	}
	p.dropped = make([]atomic.Int64, len(p.stages))
	p.firstDr = make([]atomic.Int64, len(p.stages))
	desc := ""
	for k := range len(p.stages) + 1 {
		senders, receivers := 1, 1 // the source, the sink
		if k > 0 {
			senders = p.stages[k-1]
		}
		if k < len(p.stages) {
			receivers = p.stages[k]
		}
		f, capacity := fit(r, senders, receivers), drawCap(r)
		p.chans = append(p.chans, chantest.New[pitem](f, capacity))
		desc += fmt.Sprintf(" %s/%d", f.Type(), capacity)
		if k < len(p.stages) {
			desc += fmt.Sprintf(" [%d]", p.stages[k])
		}
	}
	p.label = fmt.Sprintf("round %d (%s )", round, desc)
	return p
}

// run sends n values through the pipeline and checks them.
func (p *pipe) run(n int, r *rand.Rand) {
	p.l = newLedger(p.e.f, 1, n)
	p.root = core.NewScope(context.Background())
	p.tg.reset()
	p.tg.add(p.root)
	ordered := true
	for _, w := range p.stages {
		ordered = ordered && w == 1
	}
	// Invariant 5: the run's first violation cancels the root.
	defer p.e.onAbort(func() { p.root.Cancel(errFailed) })()
	var c crew
	sr, kr := rng(r.Uint64()), rng(r.Uint64()) // before the goroutines: invariant 2 of flow.go
	p.e.spawn(&c, func() {
		defer p.e.guard()
		p.source(n, sr)
	})
	for k := range p.stages {
		r := rng(r.Uint64())
		p.e.spawn(&c, func() {
			defer p.e.guard()
			p.stage(k, r)
		})
	}
	p.e.spawn(&c, func() {
		defer p.e.guard()
		p.sink(ordered, kr)
	})
	p.e.join(&c)
	p.root.Cancel(nil)
	p.l.verify(p.l.sentBy)
}

// source sends values [0, n) into the first channel and closes it.
func (p *pipe) source(n int, r *rand.Rand) {
	ctx, c := p.e.ctx, p.chans[0] // invariants 3 and 5
	ops := counter{m: p.e.m}
	defer ops.flush()
	buf := make([]pitem, maxBatch)
	seq := 0
	for seq < n && !p.e.ending() { // invariant 6
		k := min(1+r.IntN(maxBatch), n-seq)
		for j := range k {
			buf[j] = pitem{seq: uint32(seq + j), val: uint64(seq + j)}
			if (seq+j)%sampleEvery == 0 {
				buf[j].at = p.e.now()
			}
		}
		var err error
		if k == 1 {
			err = c.Send(ctx, buf[0])
		} else {
			_, err = c.SendBatch(ctx, buf[:k])
		}
		if err != nil {
			if !p.e.f.failed() {
				p.e.f.add("send succeeds", "%s: source: value %d: %v", p.label, seq, err)
			}
			break
		}
		seq += k
		ops.add(k)
	}
	p.l.stop(0, seq)
	if err := c.Close(); err != nil {
		p.e.f.add("close succeeds", "%s: source: Close: %v", p.label, err)
	}
}

// stage runs stage k: its group of workers, then the drain and the close
// of its output (invariant 2).
func (p *pipe) stage(k int, r *rand.Rand) {
	in, out := p.chans[k], p.chans[k+1]
	g := core.NewGroup(p.root)
	p.tg.add(g.Scope())
	for range p.stages[k] {
		wr := rng(r.Uint64())
		g.Go(func(ctx context.Context) error {
			p.work(ctx, k, in, out, wr)
			return nil
		})
	}
	_ = g.Wait() // a storm's cause, or nil
	// A failed run drains no more (invariant 5).
	for !p.e.f.failed() {
		v, err := in.Recv(p.e.ctx)
		if err != nil {
			if !errors.Is(err, core.ErrClosed) && !p.e.f.failed() {
				p.e.f.add("receive succeeds", "%s: stage %d drain: %v", p.label, k, err)
			}
			break
		}
		p.drop(k, v)
	}
	if d := p.dropped[k].Load(); d > 0 && !stormed(g.Scope()) && !p.e.f.failed() {
		p.e.f.add("drop only when cancelled", "%s: stage %d dropped %d values, first %d, but no storm cancelled it (cause %v)",
			p.label, k, d, p.firstDr[k].Load()-1, context.Cause(g.Scope()))
	}
	if err := out.Close(); err != nil {
		p.e.f.add("close succeeds", "%s: stage %d: Close: %v", p.label, k, err)
	}
}

// drop accounts for a value dropped at stage k (invariants 1 to 3).
func (p *pipe) drop(k int, v pitem) {
	p.dropped[k].Add(1)
	p.firstDr[k].CompareAndSwap(0, int64(v.seq)+1)
	p.l.mark(0, int(v.seq), fmt.Sprintf("%s: stage %d (dropped)", p.label, k))
}

// work is one worker of stage k (invariant 1).
func (p *pipe) work(ctx context.Context, k int, in, out core.Chan[pitem], r *rand.Rand) {
	ops := counter{m: p.e.m}
	defer ops.flush()
	buf := make([]pitem, maxBatch)
	for !p.e.f.failed() { // invariant 5
		n, err := 1, error(nil)
		if b := 1 + r.IntN(maxBatch); b == 1 || r.IntN(4) == 0 {
			buf[0], err = in.Recv(ctx)
		} else {
			n, err = in.RecvBatch(ctx, buf[:b])
		}
		switch {
		case errors.Is(err, core.ErrClosed):
			return
		case err != nil && ctx.Err() != nil:
			return // cancelled: the driver drains the input
		case err != nil:
			p.e.f.add("receive succeeds", "%s: stage %d: %v", p.label, k, err)
			return
		}
		for j := range buf[:n] {
			buf[j].val = transform(buf[j].val, k)
			buf[j].hops++
		}
		sent := 0
		if r.IntN(4) == 0 {
			for ; sent < n && err == nil; sent++ {
				if err = out.Send(ctx, buf[sent]); err != nil {
					break
				}
			}
		} else {
			sent, err = out.SendBatch(ctx, buf[:n])
		}
		ops.add(n + sent)
		if err != nil {
			if ctx.Err() == nil {
				p.e.f.add("send succeeds", "%s: stage %d: %v", p.label, k, err)
			}
			for _, v := range buf[sent:n] {
				p.drop(k, v)
			}
			return
		}
	}
}

// sink receives the pipeline's output and checks each value.
func (p *pipe) sink(ordered bool, r *rand.Rand) {
	ctx, c := p.e.ctx, p.chans[len(p.stages)] // invariants 3 and 5
	ops := counter{m: p.e.m}
	defer ops.flush()
	cur := p.l.cursor(p.label + ": sink")
	buf := make([]pitem, maxBatch)
	for !p.e.f.failed() { // invariant 5
		n, err := c.RecvBatch(ctx, buf[:1+r.IntN(maxBatch)])
		if err != nil {
			if !errors.Is(err, core.ErrClosed) && !p.e.f.failed() {
				p.e.f.add("receive succeeds", "%s: sink: %v", p.label, err)
			}
			return
		}
		for _, v := range buf[:n] {
			p.e.observe(v.at)
			want := uint64(v.seq)
			for k := range p.stages {
				want = transform(want, k)
			}
			if int(v.hops) != len(p.stages) || v.val != want {
				p.e.f.add("transformed once", "%s: value %d went through %d of %d stages, payload %#x, want %#x",
					p.label, v.seq, v.hops, len(p.stages), v.val, want)
			}
			if ordered {
				cur.take(0, int(v.seq))
			} else {
				p.l.mark(0, int(v.seq), cur.who)
			}
		}
		ops.add(n)
	}
}
