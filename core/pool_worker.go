package core

// The pool's workers: the goroutines that take tasks from the queue
// (pool.go) and run them, in batches whose entries they claim one at a
// time. The invariants cited here by number are pool.go's.

import (
	"runtime"
	"time"

	"github.com/pingcap/failpoint"
)

// worker is one pool goroutine.
type worker struct {
	// claim is the batch's claim word (invariant 3): a generation in the
	// high 32 bits, then the next unclaimed index and the batch length,
	// 16 bits each.
	claim atomicUint64
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
				hw, sp = p.helperLocked(false) // more work: cascade (invariant 2)
			}
			p.mu.Unlock()
			p.start(hw, sp)
			failpoint.InjectCall(fpPoolTake)
			w.runBatch() // claims the first entry first (invariant 6)
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
		p.searching-- // it saw the queue empty under mu (invariant 2)
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
	p.parked++
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
			busyWait(min(spinShift+i, maxShift))
		} else {
			spinStep() // a scheduling point of the serialized mode (step.go)
			runtime.Gosched()
		}
	}
	return seen > 0
}

// park waits for a token or the idle timeout idle. It reports false if the
// worker should exit; it has then left the idle and all lists. The wait for
// the token that a waker owes (w no longer parked) is a serialized wait
// (step.go); the first select is one with a timeout, step/block-for: in an
// episode the scheduler's timer replaces the Go timer (whose channel is
// synchronous since Go 1.23, so that no ready func could see it fire
// without consuming it), and the idle timeout is in virtual time. Once the
// serialized wait ends, the token decides, not the timeout: a waker may have
// unlinked w and sent it after the timer fired (invariant 4).
func (p *pool) park(w *worker, idle time.Duration) bool {
	if stepMarkers { // the serialized mode (step.go): an episode's wait and timer
		if awaitForStep(func() bool { return len(w.wake) > 0 }, idle) {
			if len(w.wake) > 0 {
				<-w.wake
				return true
			}
			goto expired
		}
	}
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
expired:
	p.mu.Lock()
	if !w.parked {
		p.mu.Unlock()
		if stepMarkers { // the serialized mode (step.go): the waker may not have sent it yet
			awaitStep(func() bool { return len(w.wake) > 0 })
		}
		<-w.wake // unlinked by a waker: its token is on the way (invariant 4)
		return true
	}
	p.unlinkIdleLocked(w)
	p.unlistLocked(w)
	p.workers--
	p.shrinkLocked() // the last one, perhaps, with the queue empty (invariant 8)
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
	p.parked--
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
	if !(plantedBugs && planted(fpBugExitUnpublished)) { // else the finished count is lost
		p.publishLocked(w)
	}
	p.stealLocked(w) // back at the head of the queue (invariants 3 and 6)
	p.unlistLocked(w)
	if !w.temp {
		p.workers--
		p.shrinkLocked() // invariant 8
	}
	var hw *worker
	sp := spawnNone
	if p.n > 0 && p.searching == 0 {
		hw, sp = p.helperLocked(true) // invariant 2
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
		if plantedBugs && planted(fpBugDoneEarly) {
			w.bugTaskDoneBeforeDefer(t)
		}
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
