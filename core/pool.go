package core

// The task pool: the goroutines that run group tasks, shared by every Group.
// This file holds the queue; pool_worker.go the workers, pool_monitor.go
// the monitor.
//
// Tasks wait in one FIFO queue. Worker goroutines take them in batches, park
// when there is nothing to do, and exit after idleTimeout parked. No
// goroutine is started per task while workers keep up.
//
// The liveness rule: after a stalled monitor tick (20 ms in which no task
// left the queue and no batch advanced, or 200 µs at both ends of which a
// permanent worker was blocked while a P was idle), every waiting task
// gets a goroutine of its own.
//
// So a task waits for a goroutine only while other tasks are being started,
// whatever the running tasks block on (invariant 7). It is Go's scheduler's
// rule at the pool's scale: the runtime hands a goroutine's P on when the
// goroutine enters a syscall (handoffp), and sysmon retakes a P stuck there.
// A goroutine about to block in core (a channel's park, Group.Wait, a Go
// waiting for a limit slot) calls handoff, which puts a worker on the queue
// at once; the monitor covers what core cannot see (Go channels, locks,
// I/O, timers, long computations): within a short tick or two when a worker
// blocks and a P is idle (the scheduler's counts say so; pool_monitor.go),
// within a long tick when the tasks compute or the Ps are busy. handoff
// only saves a tick: no invariant needs it.
//
// Every field of pool is guarded by pool.mu unless it says otherwise.
//
// Invariants:
//
//  1. A worker goroutine is permanent or temporary. A permanent worker is in
//     one of three states: parked (linked in the idle list, receiving from
//     its wake channel), searching (counted in searching: it will look at
//     the queue under mu before it parks), or running its batch. workers
//     counts the permanent workers; there are at most GOMAXPROCS of them
//     (unless GOMAXPROCS shrank). A temporary worker is started by the
//     monitor, which hands it its first task (invariant 7), or by handoff or
//     exit when every permanent worker is running, which count it as
//     searching. It takes one task at a time and exits as soon as it finds
//     the queue empty: it never parks.
//  2. While the queue is non-empty, a worker searches or the monitor runs: a
//     submitter that finds searching == 0 wakes an idle worker or starts a
//     permanent one and counts it as searching before it releases mu, or,
//     when every permanent worker is running, starts the monitor; a worker
//     that takes tasks and leaves some with nobody searching does the same
//     (it cascades); a searcher parks only after it saw the queue empty
//     under mu; the monitor stops only when it finds the queue empty.
//  3. No stranded task in a batch. A worker's batch slots are filled only
//     under mu (by the worker when it takes a batch, which it does only
//     once the previous batch is fully claimed), and a slot is cleared only
//     by whoever claimed it. Batch entries are claimed one at a time by a
//     CAS on the worker's claim word, by the worker before it runs one, or
//     by the monitor, under mu, for all of them at once (stealLocked): when
//     a worker's claim word did not change for a whole long tick (its task
//     blocks, perhaps waiting for one behind it in its batch), or after a
//     stall, the monitor puts the rest of its batch back at the head of the
//     queue, since they are older than every queued task. all links the workers that hold a
//     batch of more than one task; the monitor runs while any of them has
//     unclaimed entries, and unlinks it once the batch is fully claimed
//     (listed says whether a worker is linked).
//  4. A parked worker is woken exactly once per unlink: whoever unlinks it
//     from idle (a submitter, a cascading worker, handoff, exit, the
//     monitor) sends one token on its wake channel (capacity 1) after
//     releasing mu, and counts it as searching. A worker whose idle timer
//     fires exits only if it is still linked; otherwise a token is on its
//     way and it waits for it.
//  5. qlen mirrors the queue's length. It is written only under mu and read
//     without it by searching workers and handoff, as a hint.
//  6. Older first. While a task X is queued, every task ahead of it in the
//     queue and every unclaimed batch entry was submitted before X: submit
//     pushes at the tail; a batch is taken from the head, so its entries are
//     older than every task left in the queue; and stealLocked and exit put
//     a batch's unclaimed entries back at the head. A worker claims the
//     first entry of a batch it takes before anything else. taken counts
//     the tasks ever taken from the queue, by workers and by the monitor.
//  7. Liveness: every submitted task starts. At the end of every tick the
//     monitor first steals each batch that did not advance during the tick,
//     or every batch if the tick stalled on a blocked worker (invariant 3);
//     then, if the tick stalled, or taken did not change and no batch
//     advanced, it takes every queued task and starts a temporary worker
//     for each. A tick ends within monitorTick (and a wake); in a
//     serialized episode, within monitorTick of its virtual time, and only
//     long ticks count (pool_monitor.go).
//     Proof sketch, by induction on submission order: let every task
//     submitted before X start, by some time T. After T no older task is
//     unclaimed, so nothing is ahead of X (invariant 6). If X is in a
//     batch, its worker claims it next, or claims nothing for a whole tick
//     (blocked in an older task) and the monitor puts X at the head of the
//     queue. At the head, X is the first entry of the next batch taken,
//     claimed at once; and a take comes: a searcher is on its way or the
//     monitor runs (invariant 2), and every tick without a take either
//     advances a batch, which can happen only finitely often before the
//     next take, or starts X on a goroutine of its own. A started task runs
//     on its own goroutine until it returns, so tasks that wait for each
//     other (a task for one queued behind it, a Wait inside a task,
//     channels between tasks) deadlock on the pool only if they would
//     deadlock as goroutines started by go statements.
//  8. The ring. buf, head and n are read and written only under mu, and
//     nobody keeps buf, or a pointer into it, past releasing mu: a batch
//     holds copies of the tasks taken (takeLocked and startAllLocked copy
//     them into the worker's own slots, w.one or w.batch, the only ones
//     runBatch and stealLocked read), and stealLocked copies unclaimed
//     entries back in (pushFrontLocked). So whoever holds mu may replace
//     the ring at any moment, with a larger one (growLocked) or a smaller
//     one (shrinkLocked): no worker, batch or monitor reads a slot of the
//     old one afterwards. Retention: whenever the queue is empty and no
//     permanent worker is left, the ring has at most minQueue slots, so a
//     burst's ring is given back once the pool goes idle, whichever worker
//     leaves last. Every step that enters that state calls shrinkLocked
//     before it releases mu: a permanent worker leaving (park, on its idle
//     timeout; exit, after a task's Goexit), and a take that empties the
//     queue while none is left (a temporary worker's takeLocked; the
//     monitor's startAllLocked); and SetTuning, which may lower minQueue.
//     Temporary workers may still be running tasks then: they hold no slot
//     of the ring. While a permanent worker is left, the ring keeps its
//     size for the next burst.
//
// The tuning knobs (batchMax, idleTimeout, monitorTick, shortTick,
// minQueue; tuning.go) may take any value in their ranges: no invariant
// depends on them. The knobs a worker reads are read under mu, while it is
// counted as searching (poll), or by the monitor: the moments tuning.go's
// invariant 2 keeps free of SetTuning.

import (
	"context"
	"runtime"
)

// task is one queued call: run fn in group g.
type task struct {
	fn func(context.Context) error
	g  *Group
}

type pool struct {
	qlen atomicInt64 // invariant 5; polled by searchers, so on a line of its own
	_    [cacheLine - 8]byte

	mu         mutex
	submitted  uint64 // tasks ever submitted (ReadStats: live = submitted - finished)
	finished   uint64 // tasks finished, as their workers published them (publishLocked)
	buf        []task // ring of queued tasks, len a power of two (invariant 8)
	head, n    int    // first queued task and count
	idle       *worker
	parked     int     // workers in the idle list
	all        *worker // workers holding a batch of more than one task (invariant 3)
	workers    int     // permanent workers (invariant 1)
	procs      int     // GOMAXPROCS as last read (off the hot path: reading it takes the scheduler's lock)
	searching  int     // workers looking at the queue (invariant 2)
	taken      uint64  // tasks ever taken from the queue (invariant 6)
	monitoring bool    // the monitor goroutine runs
	dirty      bool    // taken slots of buf may still hold tasks (parkLocked)
}

// tasks is the pool every Group submits to.
var tasks = &pool{buf: make([]task, minQueue), procs: runtime.GOMAXPROCS(0)}

// submit queues t and makes sure a worker will look at it (invariant 2).
func (p *pool) submit(t task) {
	p.mu.Lock()
	p.submitted++
	p.pushLocked(t)
	if p.searching > 0 {
		p.mu.Unlock()
		return
	}
	w, spawn := p.helperLocked(false)
	p.mu.Unlock()
	p.start(w, spawn)
}

// spawn says which worker start should start.
type spawn int

const (
	spawnNone spawn = iota
	spawnPermanent
	spawnTemporary
)

// handoff is called by a goroutine about to block in core: a channel
// operation about to park (park.go), Group.Wait, or a Go waiting for a
// limit slot (group.go). It may be a worker, and then the pool has one
// runner less until it unblocks; so if tasks are queued and nobody
// searches, handoff adds a searcher, a temporary worker if GOMAXPROCS
// permanent ones exist: one extra goroutine at most per blocking call,
// needed or not, since the caller's identity is unknown. Without it the
// queued tasks would still start, a tick later (invariant 7). It costs one
// atomic load when the queue is empty.
func (p *pool) handoff() {
	if p.qlen.Load() == 0 {
		return
	}
	p.start(p.handoffSearcher())
}

// handoffSearcher is the part of handoff under mu: it takes mu, counts a
// searcher if tasks are queued and nobody searches, and releases mu,
// returning what start should wake or start.
func (p *pool) handoffSearcher() (*worker, spawn) {
	p.mu.Lock()
	if p.n == 0 || p.searching > 0 {
		p.mu.Unlock()
		return nil, spawnNone
	}
	w, spawn := p.helperLocked(true)
	p.mu.Unlock()
	return w, spawn
}

// pushLocked queues t at the tail (invariant 6).
func (p *pool) pushLocked(t task) {
	if p.n == len(p.buf) {
		p.growLocked(1)
	}
	p.buf[(p.head+p.n)&(len(p.buf)-1)] = t
	p.n++
	p.qlen.Store(int64(p.n))
}

// pushFrontLocked puts b back at the head of the queue, in order: they are
// the unclaimed entries of a batch, older than every queued task
// (invariant 6).
func (p *pool) pushFrontLocked(b []task) {
	if p.n+len(b) > len(p.buf) {
		p.growLocked(len(b))
	}
	mask := len(p.buf) - 1
	p.head = (p.head - len(b)) & mask
	for i, t := range b {
		p.buf[(p.head+i)&mask] = t
	}
	p.n += len(b)
	p.qlen.Store(int64(p.n))
}

// growLocked doubles the ring until k more tasks fit.
func (p *pool) growLocked(k int) {
	size := len(p.buf)
	for size < p.n+k {
		size *= 2
	}
	nb := make([]task, size)
	for i := 0; i < p.n; i++ {
		nb[i] = p.buf[(p.head+i)&(len(p.buf)-1)]
	}
	p.buf, p.head = nb, 0
}

// shrinkLocked gives back a burst's ring once the pool is idle: the queue
// empty and no permanent worker left (invariant 8). The new ring holds no
// stale slots (parkLocked).
func (p *pool) shrinkLocked() {
	if p.n == 0 && p.workers == 0 && len(p.buf) > minQueue {
		p.buf, p.head, p.dirty = make([]task, minQueue), 0, false
	}
}

// helperLocked finds a worker to search the queue: it unlinks an idle one,
// or counts a new permanent one to start (below GOMAXPROCS), or with force a
// temporary one, and counts it as searching. Otherwise it makes sure the
// monitor runs. The caller passes the result to start after releasing mu.
func (p *pool) helperLocked(force bool) (*worker, spawn) {
	if w := p.idle; w != nil {
		p.unlinkIdleLocked(w)
		p.searching++
		return w, spawnNone
	}
	if p.workers == 0 {
		p.procs = runtime.GOMAXPROCS(0) // a cold start is slow anyway
	}
	if p.workers < p.procs {
		p.workers++
		p.searching++
		return nil, spawnPermanent
	}
	if force {
		p.searching++
		return nil, spawnTemporary
	}
	p.monitorLocked()
	return nil, spawnNone
}

// start wakes w or starts a new worker, as helperLocked decided.
func (p *pool) start(w *worker, s spawn) {
	switch {
	case w != nil:
		w.wake <- struct{}{} // never blocks: invariant 4
	case s == spawnPermanent:
		if stepMarkers { // the serialized mode (step.go): an episode's goroutine
			goStep(func() { p.work(&worker{wake: make(chan struct{}, 1)}) })
		} else {
			go p.work(&worker{wake: make(chan struct{}, 1)})
		}
	case s == spawnTemporary:
		if stepMarkers {
			goStep(func() { p.work(&worker{temp: true}) })
		} else {
			go p.work(&worker{temp: true})
		}
	}
}

// takeLocked moves up to half the queue (at least one task, at most
// batchMax) into w's batch, whose entries are all claimed (invariant 3).
func (p *pool) takeLocked(w *worker) {
	k := min((p.n+1)/2, batchMax)
	if w.temp {
		// The pool grew because tasks block: a batch would only hold tasks
		// behind another blocked one (and cost its memory 100K times).
		k = 1
	}
	b := w.one[:]
	if k > 1 {
		if len(w.batch) < k { // nil, or made under a smaller batchMax (tuning.go)
			w.batch = make([]task, batchMax)
		}
		b = w.batch
	}
	mask := len(p.buf) - 1
	for i := 0; i < k; i++ {
		b[i] = p.buf[(p.head+i)&mask] // slot not cleared: see parkLocked
	}
	if w.temp {
		p.buf[p.head] = task{} // temporary workers never park to clear it
	}
	p.head = (p.head + k) & mask
	p.n -= k
	p.qlen.Store(int64(p.n))
	p.taken += uint64(k) // invariant 6
	p.dirty = true
	if w.temp {
		p.shrinkLocked() // its last task, perhaps, with no permanent worker left (invariant 8)
	}
	gen, _, _ := claimParts(w.claim.Load())
	w.claim.Store(claimWord(gen+1, 0, k))
	if k > 1 {
		if !w.listed {
			w.allNext = p.all
			if p.all != nil {
				p.all.allPrev = w
			}
			p.all = w
			w.listed = true
		}
		p.monitorLocked() // invariant 3: someone watches the batch
	}
}
