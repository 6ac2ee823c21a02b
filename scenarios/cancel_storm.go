package scenarios

// cancel-storm: scopes created and cancelled as fast as a few goroutines
// can, while a group moves values through a channel beside them.
//
// Invariants:
//
//  1. Scopes are made under anchors: a few long-lived scopes under the
//     round's root, one of them the scope the work groups run under. A
//     storm may cancel an anchor; a canceller that finds its anchor
//     cancelled replaces it (under mu). Only storms and the round's end
//     cancel anchors; a canceller cancels only scopes it made.
//  2. Scope.Cancel returns after it ran the hooks of the subtree it
//     cancelled; only a canceller that reached part of the subtree first
//     runs that part's hooks itself. A canceller's scope has no canceller
//     but its maker and its anchor's, so if the anchor is still live when
//     the maker's Cancel has returned, nobody else reached the subtree and
//     every hook in it has run. Otherwise the round's final count, after
//     the stragglers settled, checks them.
//  3. A hook stopped by its stop function (which returned true) never runs.
//  4. The work: producer chains run in the producer group, consumer chains
//     in the consumer group (see work). When the cancellers are done the
//     producers stop, the channel is closed after the producer group's
//     Wait, and what the consumers left (a storm may have cancelled them)
//     is drained after the consumer group's Wait. So every value a
//     producer's TrySend accepted is received once, by a consumer or the
//     drain.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/nimsync/nimsync/core"
)

var (
	errChurn = errors.New("scenarios: churn")
)

// churn is one round of cancel-storm.
type churn struct {
	e     *env
	label string
	root  *core.Scope
	work  *core.Scope
	prod  *core.Group
	cons  *core.Group

	mu      sync.Mutex // guards anchors (invariant 1)
	anchors []*core.Scope

	hooks    atomic.Int64 // registered and not stopped
	hooksRun atomic.Int64
}

// hook is one OnCancel registration.
type hook struct {
	ran     atomic.Int32
	stopped atomic.Bool
}

// cancelStorm runs four rounds of 50K cancellations (200K at scale 1). In
// each, 2 to 4 goroutines make scopes under anchors (invariant 1), with 0 to
// 3 children and sometimes grandchildren, put OnCancel hooks on some (and
// stop a few of those), and cancel them, sometimes a child first. Beside
// them, a group of 1 to 4 producers and a group of 1 to 4 consumers move
// values through an MPMC channel. Under a storm, anchors and the work groups
// may be cancelled.
//
// Invariants: when Cancel returns, the scope and every scope under it are
// cancelled ("subtree cancelled"); every hook runs exactly once, by the time
// Cancel returned if nobody else cancelled its subtree ("hook ran once"),
// and a stopped hook never ("stopped hook never runs"); every value a
// producer sent is received exactly once ("no loss", "no duplicate") and in
// order per producer ("per-sender order").
func cancelStorm(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "cancel-storm", cfg)
	r := rng(cfg.Seed)
	total, per := cfg.scaled(200_000, 400), 50_000
	var cur atomic.Pointer[churn]
	cfg.storm(func(seed uint64) {
		if c := cur.Load(); c != nil {
			c.storm(seed)
		}
	})
	defer cfg.storm(nil)
	for round, done := 0, 0; done < total; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(per, total-done)
		c := newChurn(e, round)
		cur.Store(c)
		c.run(n, r)
		cur.Store(nil)
		if err := e.f.err(); err != nil {
			return err
		}
		done += n
	}
	return nil
}

func newChurn(e *env, round int) *churn {
	c := &churn{e: e, label: fmt.Sprintf("round %d", round)}
	c.root = core.NewScope(context.Background())
	c.work = core.NewScope(c.root)
	c.prod, c.cons = core.NewGroup(c.work), core.NewGroup(c.work)
	c.anchors = []*core.Scope{core.NewScope(c.root), core.NewScope(c.root), core.NewScope(c.root), c.work}
	return c
}

// storm cancels one or two anchors or work groups, chosen by seed.
func (c *churn) storm(seed uint64) {
	c.e.lock(&c.mu)
	pool := append([]*core.Scope{c.prod.Scope(), c.cons.Scope()}, c.anchors...)
	c.mu.Unlock()
	pool[seed%uint64(len(pool))].Cancel(errStorm)
	if seed>>32%2 == 0 {
		pool[(seed>>8)%uint64(len(pool))].Cancel(errStorm)
	}
}

// anchor returns anchor i, replacing it if a storm cancelled it.
func (c *churn) anchor(i int) *core.Scope {
	c.e.lock(&c.mu)
	defer c.mu.Unlock()
	if c.anchors[i].Cancelled() {
		c.anchors[i] = core.NewScope(c.root)
	}
	return c.anchors[i]
}

// run runs n cancellations beside the work, then checks the round.
func (c *churn) run(n int, r *rand.Rand) {
	producers, consumers := 1+r.IntN(4), 1+r.IntN(4)
	w := &work{c: c, ch: core.NewMPMC[item](drawCap(r)), budget: 1 << 16}
	w.l = newLedger(c.e.f, producers, w.budget)
	w.sent = make([]atomic.Int64, producers)
	for p := range producers {
		w.produce(&producer{p: p, r: rng(r.Uint64())})
	}
	for q := range consumers {
		w.consume(&consumer{cur: w.l.cursor(fmt.Sprintf("%s: consumer %d", c.label, q)), r: rng(r.Uint64())})
	}
	var cw crew
	k := 2 + r.IntN(3)
	for j := range k {
		cr := rng(r.Uint64())
		c.e.spawn(&cw, func() {
			defer c.e.guard()
			c.cancelLoop(n/k+btoi(j < n%k), cr)
		})
	}
	c.e.join(&cw)
	w.stop.Store(true) // invariant 4
	_ = c.prod.Wait()
	if err := w.ch.Close(); err != nil {
		c.e.f.add("close succeeds", "%s: Close: %v", c.label, err)
	}
	_ = c.cons.Wait()
	drain := w.l.cursor(c.label + ": drain")
	for {
		v, err := w.ch.TryRecv()
		if err != nil {
			if !errors.Is(err, core.ErrClosed) {
				c.e.f.add("receive succeeds", "%s: drain: %v", c.label, err)
			}
			break
		}
		drain.take(int(v.src), int(v.seq))
	}
	w.l.verify(func(p int) int { return int(w.sent[p].Load()) })

	c.root.Cancel(errRoot)
	c.e.lock(&c.mu)
	for i, a := range c.anchors {
		if !a.Cancelled() {
			c.e.f.add("subtree cancelled", "%s: anchor %d is live after the root's Cancel returned", c.label, i)
		}
	}
	c.mu.Unlock()
	if !c.e.settle(func() bool { return c.hooks.Load() == c.hooksRun.Load() }) {
		c.e.f.add("hook ran once", "%s: %d hooks registered (and not stopped), %d ran", c.label, c.hooks.Load(), c.hooksRun.Load())
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// work is the channel traffic beside the cancellations (invariant 4). Its
// producers and consumers are chains of short tasks that never block: each
// moves up to a batch with TrySend or TryRecv and submits its successor, so
// they keep moving however few pool workers the cancellers leave them. The
// tasks of one chain run one after the other (each Go happens before the
// task it submits), so a chain's state needs no lock.
type work struct {
	c      *churn
	ch     core.Chan[item]
	l      *ledger
	budget int
	sent   []atomic.Int64 // per producer: values accepted
	stop   atomic.Bool
}

type producer struct {
	p, seq int
	r      *rand.Rand
}

type consumer struct {
	cur *cursor
	r   *rand.Rand
}

// produce submits p's next task: it sends values until the channel is full,
// a batch is done, the budget is spent, stop is set or the run is ending
// (flow.go, invariant 5: a producer that waited for stop sent on through
// the cancellers' join, tens of thousands of values past the run's end on
// a loaded machine).
func (w *work) produce(p *producer) {
	w.c.prod.Go(func(ctx context.Context) error {
		seq0 := p.seq
		more := w.sendSome(p)
		w.c.e.m.Add(p.seq - seq0) // before the successor may touch p
		if more && ctx.Err() == nil {
			w.produce(p) // a chain ends once a storm cancelled its group
		}
		return nil
	})
}

// sendSome is one task of p's chain; it reports whether the chain goes on.
func (w *work) sendSome(p *producer) bool {
	if w.c.e.ending() {
		return false
	}
	for range 1 + p.r.IntN(maxBatch) {
		if p.seq >= w.budget || w.stop.Load() {
			return false
		}
		err := w.ch.TrySend(w.c.e.item(p.p, p.seq))
		if errors.Is(err, core.ErrFull) {
			break
		}
		if err != nil {
			w.c.e.f.add("send succeeds", "%s: producer %d: value %d: %v", w.c.label, p.p, p.seq, err)
			return false
		}
		p.seq++
		w.sent[p.p].Store(int64(p.seq))
	}
	return true
}

// consume submits q's next task: it receives values until the channel is
// empty or a batch is done, and ends the chain at ErrClosed.
func (w *work) consume(q *consumer) {
	w.c.cons.Go(func(ctx context.Context) error {
		got, more := w.recvSome(q)
		w.c.e.m.Add(got)
		if more && ctx.Err() == nil {
			w.consume(q)
		}
		return nil
	})
}

// recvSome is one task of q's chain: it returns how many values it took and
// whether the chain goes on.
func (w *work) recvSome(q *consumer) (int, bool) {
	k := 1 + q.r.IntN(maxBatch)
	for got := 0; got < k; got++ {
		v, err := w.ch.TryRecv()
		switch {
		case errors.Is(err, core.ErrEmpty):
			return got, true
		case errors.Is(err, core.ErrClosed):
			return got, false
		case err != nil:
			w.c.e.f.add("receive succeeds", "%s: %s: %v", w.c.label, q.cur.who, err)
			return got, false
		}
		w.c.e.observe(v.at)
		q.cur.take(int(v.src), int(v.seq))
	}
	return k, true
}

// cancelLoop makes and cancels scopes until it has made n Cancel calls.
func (c *churn) cancelLoop(n int, r *rand.Rand) {
	ops := counter{m: c.e.m}
	defer ops.flush()
	var scopes []*core.Scope
	var hooks []*hook
	for done := 0; done < n && !c.e.ending(); { // the run's end: flow.go, invariant 5
		a := c.anchor(r.IntN(len(c.anchors)))
		s := core.NewScope(a)
		scopes = append(scopes[:0], s)
		hooks = hooks[:0]
		for range r.IntN(4) {
			kid := core.NewScope(s)
			scopes = append(scopes, kid)
			if r.IntN(4) == 0 {
				scopes = append(scopes, core.NewScope(kid))
			}
		}
		for _, x := range scopes {
			if r.IntN(2) == 0 {
				hooks = append(hooks, c.hook(x, r.IntN(8) == 0))
			}
		}
		if len(scopes) > 1 && r.IntN(3) == 0 {
			scopes[1].Cancel(errChurn)
			done++
		}
		s.Cancel(errChurn)
		done++
		for i, x := range scopes {
			if !x.Cancelled() {
				c.e.f.add("subtree cancelled", "%s: scope %d of a subtree of %d is live after the subtree's Cancel returned", c.label, i, len(scopes))
			}
		}
		if !a.Cancelled() { // invariant 2
			for i, h := range hooks {
				if ran, stopped := h.ran.Load(), h.stopped.Load(); ran != 1 && !stopped {
					c.e.f.add("hook ran once", "%s: hook %d of a subtree of %d scopes had run %d times when Cancel returned", c.label, i, len(scopes), ran)
				}
			}
		}
		ops.add(len(scopes))
	}
}

// hook registers a hook on s, and stops it at once if stop.
func (c *churn) hook(s *core.Scope, stop bool) *hook {
	h := &hook{}
	c.hooks.Add(1)
	unregister := s.OnCancel(func(cause error) {
		if n := h.ran.Add(1); n != 1 || cause == nil {
			c.e.f.add("hook ran once", "%s: a hook ran for the %d. time (cause %v)", c.label, n, cause)
		}
		if h.stopped.Load() {
			c.e.f.add("stopped hook never runs", "%s: a hook ran after its stop returned true", c.label)
		}
		c.hooksRun.Add(1)
	})
	if stop && unregister() { // invariant 3
		h.stopped.Store(true)
		c.hooks.Add(-1)
		if h.ran.Load() != 0 {
			c.e.f.add("stopped hook never runs", "%s: a hook ran though its stop returned true", c.label)
		}
	}
	return h
}
