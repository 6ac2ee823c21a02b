package core

// The pool's monitor: the goroutine that enforces the liveness rule of
// pool.go (invariant 7) for the tasks whose workers block where core cannot
// see, or compute for longer than a tick. It runs only while tasks are
// queued with every permanent worker running (pool.go, invariant 2) or a
// batch has unclaimed entries (invariant 3), so an idle or keeping-up pool
// has no monitor and no timer.
//
// At every tick, under the pool's lock, in this order:
//
//  1. Every batch whose claim word did not change during the tick goes back
//     to the head of the queue (invariant 3); a batch that changed counts as
//     progress, and one fully claimed leaves the all list.
//  2. If no task was taken from the queue and no batch advanced, every
//     queued task gets a temporary worker, which the monitor hands the task
//     (invariant 7). Otherwise, if tasks are queued and nobody searches while
//     a permanent worker is parked or missing (GOMAXPROCS grew), one is woken
//     or started.
//  3. The monitor stops when the queue is empty and no listed batch
//     advanced.
//
// A tick in which tasks were started counts as progress: the monitor
// judges the workers only by what they claim, never by how busy the CPUs
// look. So CPU-bound tasks shorter than a tick keep GOMAXPROCS workers
// claiming and never make the pool grow; a longer one lets the tasks queued
// behind it start on goroutines of their own, as go statements would.

import (
	"runtime"
	"time"
)

// monitorLocked makes sure the monitor runs.
func (p *pool) monitorLocked() {
	if !p.monitoring {
		p.monitoring = true
		go p.monitor()
	}
}

// monitor is the monitor goroutine's body.
func (p *pool) monitor() {
	p.mu.Lock()
	last := p.taken
	p.mu.Unlock()
	var started []*worker // temporary workers to start, reused across ticks
	for {
		time.Sleep(monitorTick) // the monitor reads knobs freely (tuning.go, invariant 2)
		procs := runtime.GOMAXPROCS(0)
		p.mu.Lock()
		p.procs = procs
		moved := p.taken != last
		watching := false
		for w := p.all; w != nil; { // step 1
			nw := w.allNext
			c := w.claim.Load()
			_, next, end := claimParts(c)
			switch {
			case c != w.seen:
				w.seen, moved = c, true
				if next < end {
					watching = true
				} else {
					p.unlistLocked(w)
				}
			case next < end:
				p.stealLocked(w) // no claim for a whole tick (invariant 3)
				p.unlistLocked(w)
			default:
				p.unlistLocked(w)
			}
			w = nw
		}
		if p.n == 0 && !watching { // step 3
			if p.dirty { // temporary workers never park to clear it
				clear(p.buf)
				p.dirty = false
			}
			p.monitoring = false
			p.mu.Unlock()
			return
		}
		var hw *worker
		sp := spawnNone
		switch { // step 2
		case p.n > 0 && !moved:
			started = p.startAllLocked(started)
		case p.n > 0 && p.searching == 0 && (p.idle != nil || p.workers < p.procs):
			hw, sp = p.helperLocked(false)
		}
		last = p.taken
		p.mu.Unlock()
		p.start(hw, sp)
		for i, w := range started {
			go p.work(w)
			started[i] = nil
		}
		started = started[:0]
	}
}

// startAllLocked takes every queued task and hands each to a new temporary
// worker, appended to ws; the caller starts them after releasing mu
// (invariant 7). The slots are cleared as they are taken: temporary workers
// never park, where the ring is cleared.
func (p *pool) startAllLocked(ws []*worker) []*worker {
	mask := len(p.buf) - 1
	for ; p.n > 0; p.n-- {
		w := &worker{temp: true}
		w.one[0] = p.buf[p.head]
		p.buf[p.head] = task{}
		w.claim.Store(claimWord(0, 0, 1))
		p.head = (p.head + 1) & mask
		p.taken++ // invariant 6
		ws = append(ws, w)
	}
	p.qlen.Store(0)
	return ws
}

// stealLocked claims the unclaimed entries of w's batch and puts them back
// at the head of the queue (invariants 3 and 6). It reports whether there
// were any.
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
		p.pushFrontLocked(b)
		clear(b) // claimed by us (invariant 3)
		return true
	}
}
