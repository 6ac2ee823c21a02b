package core

// The task pool: the goroutines that run group tasks, shared by every Group.
//
// Tasks wait in one FIFO queue. Worker goroutines take them in batches, park
// when there is nothing to do, and exit after idleTimeout parked, so the pool
// grows to demand and shrinks when idle. A task costs its queue slot; no
// goroutine is started per task while workers keep up.
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
//     (unless GOMAXPROCS shrank). A temporary worker is started only when
//     tasks are queued and no worker takes them: by the monitor, which hands
//     it its first task, or by kick or exit, which count it as searching.
//     It takes one task at a time and exits as soon as it finds the queue
//     empty: it never parks.
//     all links the workers that hold a batch of more than one task (the
//     monitor unlinks them once the batch is fully claimed; listed says
//     whether a worker is linked).
//  2. No stranded task in the queue. Whenever the queue is non-empty, a
//     worker will look at it: a submitter that finds searching == 0 wakes an
//     idle worker or starts one and counts it as searching before it
//     releases mu; a searcher parks only after it saw the queue empty under
//     mu. The exception is when every permanent worker is running and there
//     are GOMAXPROCS of them: then the monitor runs, and starts temporary
//     workers while two ticks pass with tasks queued, none taken, and CPU
//     to spare (the workers are blocked, not busy); and while the Ps are
//     busy, one temporary worker every starveTicks ticks in which nothing
//     was taken (so a task the blocked workers wait for cannot starve
//     behind goroutines outside the pool that keep the CPUs busy).
//  3. No stranded task in a batch. A worker's batch slots are filled only
//     under mu (by the worker when it takes a batch, which it does only
//     once the previous batch is fully claimed), and a slot is cleared only
//     by whoever claimed it. Batch entries are claimed
//     one at a time by a CAS on the worker's claim word, by the worker
//     before it runs one, or by the monitor, under mu, for all of them at
//     once: when a worker claimed nothing for a whole tick (its task is
//     blocked, perhaps waiting for one behind it in its batch), the monitor
//     claims the rest of its batch and puts it back in the queue. The
//     monitor runs while any batch has unclaimed entries.
//  4. A parked worker is woken exactly once per unlink: whoever unlinks it
//     from idle (a submitter, a cascading worker, kick, exit, the monitor)
//     sends one
//     token on its wake channel (capacity 1) after releasing mu, and counts
//     it as searching. A worker whose idle timer fires exits only if it is
//     still linked; otherwise a token is on its way and it waits for it.
//  5. qlen mirrors the queue's length. It is written only under mu and read
//     without it by searching workers, as a hint.
//
// The pool's tuning knobs (batchMax, idleTimeout, monitorTick, growMin,
// starveTicks, minQueue) are in tuning.go: constants in a plain build,
// values a fault plan chose in a chaos build. None of the invariants above
// depends on their values; each holds, and no task is stranded, with
// batches of one (batchMax 1: a batch is a worker's one slot), workers that
// exit as soon as they park (idleTimeout 0: the timer races the wake token,
// and invariant 4 settles the race), a monitor that starts one worker at a
// time (growMin 1) or starves a task for only one tick (starveTicks 1), and
// a queue that shrinks to one slot (minQueue 1: it doubles as it fills).
// The knobs a worker reads are read under mu, while it is counted as
// searching (poll), or by the monitor: the moments tuning.go's invariant 2
// keeps free of SetTuning.

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingcap/failpoint"
)

// task is one queued call: run fn in group g.
type task struct {
	fn func(context.Context) error
	g  *Group
}

type pool struct {
	qlen atomic.Int64 // invariant 5; polled by searchers, so on a line of its own
	_    [cacheLine - 8]byte

	mu         sync.Mutex
	submitted  uint64 // tasks ever submitted (ReadStats: live = submitted - finished)
	finished   uint64 // tasks finished, as their workers published them (publishLocked)
	buf        []task // ring of queued tasks, len a power of two
	head, n    int    // first queued task and count
	idle       *worker
	all        *worker // every live worker, through allNext/allPrev
	workers    int     // permanent workers (invariant 1)
	procs      int     // GOMAXPROCS as last read (off the hot path: reading it takes the scheduler's lock)
	grown      int     // temporary workers started since the monitor last saw the queue empty
	searching  int     // workers looking at the queue (invariant 2)
	taken      uint64  // tasks taken from the queue, for the monitor
	monitoring bool    // the monitor goroutine runs
	dirty      bool    // taken slots of buf may still hold tasks (parkLocked)
}

// tasks is the pool every Group submits to.
var tasks = &pool{buf: make([]task, minQueue), procs: runtime.GOMAXPROCS(0)}

// worker is one pool goroutine.
type worker struct {
	// claim is the batch's claim word (invariant 3): a generation in the
	// high 32 bits, then the next unclaimed index and the batch length,
	// 16 bits each.
	claim atomic.Uint64
	seen  uint64  // claim as the monitor saw it last tick (guarded by pool.mu)
	batch []task  // len >= batchMax once the worker took more than one task (batchMax as it was then)
	one   [1]task // the batch of a worker that takes one task at a time
	temp  bool    // a temporary worker (invariant 1); set at start

	next, prev       *worker // idle list (guarded by pool.mu)
	allNext, allPrev *worker // all list (guarded by pool.mu)
	parked           bool    // in the idle list (guarded by pool.mu)
	listed           bool    // in the all list (guarded by pool.mu)
	wake             chan struct{}
	timer            *time.Timer

	// Only the worker's goroutine touches these.
	g        *Group // group whose finished tasks are counted in done
	done     uint64
	finished uint64 // finished tasks not yet added to pool.finished (publishLocked)
	quit     bool   // set when the worker returns normally
}

func claimWord(gen uint64, next, end int) uint64 {
	return gen<<32 | uint64(next)<<16 | uint64(end)
}

func claimParts(c uint64) (gen uint64, next, end int) {
	return c >> 32, int(c >> 16 & 0xffff), int(c & 0xffff)
}

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

// kick is called by a goroutine about to block on a group (Wait, or Go
// waiting for a limit slot). It may be a worker, and then the pool has one
// runner less; so if tasks are queued and nobody searches, kick adds a
// searcher, a temporary worker if GOMAXPROCS permanent ones exist (one extra
// goroutine at most per blocking call, needed or not: the caller's identity
// is unknown). It is a cheap check when the queue is empty.
func (p *pool) kick() {
	if p.qlen.Load() == 0 {
		return
	}
	p.mu.Lock()
	if p.n == 0 || p.searching > 0 {
		p.mu.Unlock()
		return
	}
	w, spawn := p.helperLocked(true)
	p.mu.Unlock()
	p.start(w, spawn)
}

func (p *pool) pushLocked(t task) {
	if p.n == len(p.buf) {
		nb := make([]task, 2*len(p.buf))
		for i := 0; i < p.n; i++ {
			nb[i] = p.buf[(p.head+i)&(len(p.buf)-1)]
		}
		p.buf, p.head = nb, 0
	}
	p.buf[(p.head+p.n)&(len(p.buf)-1)] = t
	p.n++
	p.qlen.Store(int64(p.n))
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
		p.grown++
		p.searching++
		return nil, spawnTemporary
	}
	p.monitorLocked()
	return nil, spawnNone
}

func (p *pool) monitorLocked() {
	if !p.monitoring {
		p.monitoring = true
		go p.monitor()
	}
}

// start wakes w or starts a new worker, as helperLocked decided.
func (p *pool) start(w *worker, s spawn) {
	switch {
	case w != nil:
		w.wake <- struct{}{} // never blocks: invariant 4
	case s == spawnPermanent:
		go p.work(&worker{wake: make(chan struct{}, 1)})
	case s == spawnTemporary:
		go p.work(&worker{temp: true})
	}
}

func (p *pool) unlinkIdleLocked(w *worker) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		p.idle = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	}
	w.next, w.prev, w.parked = nil, nil, false
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
	p.taken += uint64(k)
	p.dirty = true
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

// work is a worker goroutine's body.
func (p *pool) work(w *worker) {
	defer p.exit(w)
	searching := true // helperLocked counted us
	if w.temp && w.claim.Load() != 0 {
		searching = false // the monitor handed us a task
		w.runBatch()
	}
	for {
		if w.temp && !searching && p.qlen.Load() == 0 {
			// A temporary worker leaves as soon as the queue is empty,
			// without taking mu: after a burst of 100K blocked tasks, the
			// workers it needed do not queue up on it.
			w.quit = true
			return
		}
		p.mu.Lock()
		p.publishLocked(w)
		if p.n > 0 {
			p.takeLocked(w)
			if searching {
				p.searching--
				searching = false
			}
			var hw *worker
			sp := spawnNone
			if p.n > 0 && p.searching == 0 {
				hw, sp = p.helperLocked(false) // more work: cascade
			}
			p.mu.Unlock()
			p.start(hw, sp)
			failpoint.InjectCall(fpPoolTake)
			w.runBatch()
			continue
		}
		if w.temp {
			if searching {
				p.searching--
			}
			p.mu.Unlock()
			w.quit = true
			return
		}
		if !searching {
			p.searching++
			searching = true
		}
		p.mu.Unlock()
		if p.poll() {
			continue
		}
		procs := runtime.GOMAXPROCS(0) // about to park: off the hot path
		p.mu.Lock()
		p.publishLocked(w)
		p.procs = procs
		if p.n > 0 {
			p.mu.Unlock()
			continue
		}
		p.searching--
		searching = false
		p.parkLocked(w)
		idle := idleTimeout // read under mu (tuning.go, invariant 2)
		p.mu.Unlock()
		failpoint.InjectCall(fpPoolPark)
		if !p.park(w, idle) {
			w.quit = true
			return
		}
		searching = true // the waker counted us (invariant 4)
	}
}

// parkLocked links w in the idle list. A worker that parks with the queue
// empty clears the ring's stale slots, so that finished tasks' closures are
// not retained (the monitor does the same when it stops, and temporary
// workers clear their slots as they take them). (Taking a task does not clear its slot:
// that write would pull the slot's cache line to the worker's core and back
// to the submitter's on its next lap.)
func (p *pool) parkLocked(w *worker) {
	if p.dirty && p.n == 0 {
		clear(p.buf)
		p.dirty = false
	}
	w.parked, w.next = true, p.idle
	if p.idle != nil {
		p.idle.prev = w
	}
	p.idle = w
}

// poll watches the queue for a little while before a searcher parks: a
// submitter that streams tasks then finds a worker awake and need not wake
// one. Once tasks appear, poll waits while the queue keeps growing (up to a
// batch), so that a worker behind a streaming submitter takes tasks in
// batches instead of fighting it for mu on every task. It backs off as spin
// does and gives up after about 10 µs.
func (p *pool) poll() bool {
	seen := int64(0)
	for i := 0; i < 12; i++ {
		n := p.qlen.Load()
		if n > 0 && (n == seen || n >= int64(batchMax)) {
			return true
		}
		if n > 0 && seen == 0 {
			i = 0 // tasks appeared: watch them grow for a few short rounds
		}
		seen = n
		if i < 8 {
			for j := 1 << min(spinShift+i, maxShift); j > 0; j-- {
			}
		} else {
			runtime.Gosched()
		}
	}
	return seen > 0
}

// park waits for a token or the idle timeout idle. It reports false if the
// worker should exit; it has then left the idle and all lists.
func (p *pool) park(w *worker, idle time.Duration) bool {
	if w.timer == nil {
		w.timer = time.NewTimer(idle)
	} else {
		w.timer.Reset(idle)
	}
	select {
	case <-w.wake:
		w.timer.Stop()
		return true
	case <-w.timer.C:
	}
	p.mu.Lock()
	if !w.parked {
		p.mu.Unlock()
		<-w.wake // unlinked by a waker: its token is on the way (invariant 4)
		return true
	}
	p.unlinkIdleLocked(w)
	p.unlistLocked(w)
	p.workers--
	if p.workers == 0 && p.n == 0 && len(p.buf) > minQueue {
		p.buf, p.head = make([]task, minQueue), 0 // give back a burst's queue
	}
	p.mu.Unlock()
	return false
}

// unlistLocked takes w out of the all list if it is there.
func (p *pool) unlistLocked(w *worker) {
	if !w.listed {
		return
	}
	w.listed = false
	if w.allPrev != nil {
		w.allPrev.allNext = w.allNext
	} else {
		p.all = w.allNext
	}
	if w.allNext != nil {
		w.allNext.allPrev = w.allPrev
	}
	w.allNext, w.allPrev = nil, nil
}

// exit runs when a worker goroutine ends: normally after its idle timeout
// (quit), or because a task called runtime.Goexit. In the second case the
// task has been accounted for by Group.run; exit settles the batch's
// counts, puts the rest of the batch back in the queue and replaces the
// worker if the queue needs one.
func (p *pool) exit(w *worker) {
	if w.quit {
		if w.finished > 0 { // a temporary worker that left without mu
			p.mu.Lock()
			p.publishLocked(w)
			p.mu.Unlock()
		}
		return
	}
	w.flush()
	p.mu.Lock()
	if !planted(fpBugExitUnpublished) {
		p.publishLocked(w)
	}
	p.stealLocked(w)
	p.unlistLocked(w)
	if !w.temp {
		p.workers--
	}
	var hw *worker
	sp := spawnNone
	if p.n > 0 && p.searching == 0 {
		hw, sp = p.helperLocked(true)
	}
	p.mu.Unlock()
	p.start(hw, sp)
}

// publishLocked adds the tasks w finished since it last held mu to the
// pool's count (ReadStats). A worker publishes whenever it takes mu anyway,
// before it takes more work, parks or exits, so the count costs the hot path
// nothing; it lags by the tasks of the batch a worker is running.
func (p *pool) publishLocked(w *worker) {
	p.finished += w.finished
	w.finished = 0
}

// stealLocked claims the unclaimed entries of w's batch and puts them back
// in the queue (invariant 3). It reports whether there were any.
func (p *pool) stealLocked(w *worker) bool {
	for {
		c := w.claim.Load()
		gen, next, end := claimParts(c)
		if next >= end {
			return false
		}
		if !w.claim.CompareAndSwap(c, claimWord(gen, end, end)) {
			continue // w claimed one meanwhile
		}
		b := w.slots(end)[next:end]
		for _, t := range b {
			p.pushLocked(t)
		}
		clear(b) // claimed by us (invariant 3)
		return true
	}
}

// monitor runs while tasks are queued and every worker is busy, or while a
// batch has unclaimed entries. A worker that claimed nothing for a whole
// tick loses the rest of its batch to the queue. If two ticks pass with
// tasks queued and none taken, and the CPUs were not busy (cpusBusy), the
// workers are blocked (in tasks that wait for each other, for queued
// tasks, or for I/O): the monitor doubles the workers, up to the queue
// length, so that every queued task eventually starts. Long CPU-bound tasks
// keep the CPUs busy, so they make the pool grow only by one temporary
// worker every starveTicks ticks without progress (the guard against a
// task starved by goroutines outside the pool); WithLimit bounds it in any
// case.
func (p *pool) monitor() {
	p.mu.Lock()
	last := p.taken
	p.mu.Unlock()
	var grow []*worker
	stalledBefore := false
	idleTicks := 0 // ticks in a row with tasks queued and none taken
	sched := make([]metrics.Sample, len(schedMetrics))
	for i, name := range schedMetrics {
		sched[i].Name = name
	}
	for {
		time.Sleep(monitorTick)
		procs := runtime.GOMAXPROCS(0)
		busy := cpusBusy(sched, procs)
		p.mu.Lock()
		p.procs = procs
		watching := false
		for w := p.all; w != nil; {
			c := w.claim.Load()
			if _, next, end := claimParts(c); next >= end {
				nw := w.allNext
				p.unlistLocked(w)
				w = nw
				continue
			}
			if c == w.seen {
				p.stealLocked(w)
			} else {
				w.seen = c
				watching = true
			}
			w = w.allNext
		}
		if p.n == 0 {
			p.grown = 0
			if !watching {
				if p.dirty { // temporary workers never park to clear it
					clear(p.buf)
					p.dirty = false
				}
				p.monitoring = false
				p.mu.Unlock()
				return
			}
		}
		var hw *worker
		sp := spawnNone
		stalled := p.n > 0 && p.taken == last && !busy
		if p.n > 0 && p.taken == last {
			idleTicks++
		} else {
			idleTicks = 0
		}
		if p.n > 0 && p.searching == 0 {
			k := 0
			if p.idle != nil || p.workers < p.procs {
				hw, sp = p.helperLocked(false)
			} else if stalled && stalledBefore {
				// Nothing taken for two ticks with CPUs to spare: the
				// workers are blocked. (One tick could be the start of
				// a burst of long CPU-bound tasks.)
				// Double, by at least growMin, handing each new
				// temporary worker its first task so that they do not
				// all queue up on mu.
				k = min(max(p.workers+p.grown, growMin), p.n)
			} else if idleTicks >= starveTicks {
				// Nothing taken for starveTicks ticks, while the Ps
				// were busy (all or some of the time): perhaps long
				// CPU-bound tasks, perhaps blocked workers while
				// goroutines outside the pool keep the CPUs busy. In
				// the second case the queued task may be what the
				// workers wait for, so start one temporary worker: a
				// queued task waits at most about starveTicks ticks
				// for a goroutine, however busy the machine (a go
				// statement never waits at all).
				k, idleTicks = 1, 0
			}
			if k > 0 {
				p.grown += k
				for range k {
					w := &worker{temp: true}
					w.one[0] = p.buf[p.head]
					p.buf[p.head] = task{}
					w.claim.Store(claimWord(0, 0, 1))
					p.head = (p.head + 1) & (len(p.buf) - 1)
					p.n--
					grow = append(grow, w)
				}
				p.qlen.Store(int64(p.n))
				p.taken += uint64(k)
				p.dirty = true
			}
		}
		stalledBefore = stalled && len(grow) == 0 // after growing, wait two ticks again
		last = p.taken
		p.mu.Unlock()
		p.start(hw, sp)
		for i, w := range grow {
			go p.work(w)
			grow[i] = nil
		}
		grow = grow[:0]
	}
}

// schedMetrics are the scheduler's counts of goroutines on a P and waiting
// for one; cpusBusy adds them up.
var schedMetrics = [...]string{
	"/sched/goroutines/running:goroutines",
	"/sched/goroutines/runnable:goroutines",
}

// cpusBusy reports whether the Ps are busy: the goroutines running or
// runnable, besides the monitor itself, are at least procs. Workers that
// take nothing from the queue while the Ps are busy are running long
// tasks, not blocked: more goroutines would not help them. The counts are
// the scheduler's own (runtime/metrics; reading them takes the scheduler's
// lock, once a tick), so a machine loaded by other processes does not make
// busy workers look blocked, as the process's CPU time did. If the metrics
// are missing, the Ps count as idle: the pool then errs towards growing,
// which costs goroutines but never strands a task. s is the monitor's own
// sample slice, one per name in schedMetrics.
func cpusBusy(s []metrics.Sample, procs int) bool {
	metrics.Read(s)
	n := uint64(0)
	for _, x := range s {
		if x.Value.Kind() == metrics.KindUint64 {
			n += x.Value.Uint64()
		}
	}
	return n > uint64(procs) // n counts the monitor
}

// slots returns the batch of length end.
func (w *worker) slots(end int) []task {
	if end == 1 {
		return w.one[:]
	}
	return w.batch
}

// runBatch runs the tasks of w's batch, claiming each before it runs it
// (invariant 3). A task's completion is counted in its group when the
// worker moves to another group, after every task of a group with a limit
// (a blocked Go waits for that slot), and at the end of the batch; so a
// batch of one group's tasks touches the group's counter once.
func (w *worker) runBatch() {
	for {
		c := w.claim.Load()
		gen, next, end := claimParts(c)
		if next >= end {
			break
		}
		if !w.claim.CompareAndSwap(c, claimWord(gen, next+1, end)) {
			continue // the monitor took the rest
		}
		b := w.slots(end)
		t := b[next]
		b[next] = task{} // claimed: ours to clear (invariant 3)
		if t.g != w.g {
			w.flush()
			w.g = t.g
		}
		w.done++ // counted now, published by flush after t ends (even by Goexit)
		failpoint.Inject(fpBugDoneEarly, func() {
			var bug bool
			failpoint.InjectCall(fpBugDoneEarly, &bug)
			if bug { // published before the task runs
				w.done--
				w.finished++
				t.g.finish(1)
			}
		})
		t.g.run(t.fn)
		if t.g.limit > 0 {
			w.flush()
		}
	}
	w.flush()
}

// flush publishes the worker's finished-task count to its group.
func (w *worker) flush() {
	if w.done > 0 {
		w.finished += w.done
		w.g.finish(w.done)
		w.done = 0
	}
	w.g = nil
}
