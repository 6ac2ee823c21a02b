package core

// The pool's monitor: the goroutine that enforces the liveness rule of
// pool.go (invariant 7) for the tasks whose workers block where core cannot
// see, or compute for longer than a tick. It runs only while tasks are
// queued with every permanent worker running (pool.go, invariant 2) or a
// batch has unclaimed entries (invariant 3), so an idle or keeping-up pool
// has no monitor and no timer.
//
// The monitor wakes every shortTick and reads Go's scheduler's counts
// (runtime/metrics). A permanent worker is blocked with a P idle when fewer
// goroutines besides the monitor run or wait for a P than permanent workers
// are out of the idle list: a worker out of the idle list is searching or
// running its batch, so it wants a P unless it is blocked; and as there are
// at most GOMAXPROCS permanent workers (invariant 1), fewer goroutines
// that want a P than that leave a P for a goroutine started for a waiting
// task. A tick ends at the first wake at which monitorTick has passed since
// the last one ended (a long tick), or at a wake that finds a worker
// blocked with a P idle, as the wake before it did (a short tick: it
// stalled). Counting progress would not do for short ticks: a worker whose
// tasks block for about a tick claims one a tick (and idle, the runtime
// wakes timers on the millisecond, so a short tick lasts a millisecond
// where nothing runs), so the stall is read off the scheduler. Two wakes
// in a row keep a worker caught between two states from counting as
// blocked, and mostly one waiting for the pool's lock: in waves of 100K
// trivial tasks, about one wave in a hundred still stalls (2-core VM) and
// starts its queued tasks on goroutines of their own, as go statements
// would.
//
// At the end of every tick, under the pool's lock, in this order:
//
//  1. After a stall, every batch's unclaimed entries go back to the head of
//     the queue (whose worker is blocked is not known). After a long tick,
//     every batch whose claim word did not change during the tick does
//     (invariant 3); a batch that changed counts as progress, and one fully
//     claimed leaves the all list.
//  2. After a stall, or a long tick in which no task was taken from the
//     queue and no batch advanced, every queued task gets a temporary
//     worker, which the monitor hands the task (invariant 7). Otherwise, if
//     tasks are queued and nobody searches while a permanent worker is
//     parked or missing (GOMAXPROCS grew), one is woken or started.
//  3. The monitor stops when the queue is empty and no listed batch
//     advanced.
//
// In a serialized episode (step.go) the monitor is a goroutine of the
// episode: it sleeps and reads the clock in virtual time, and it reports no
// worker blocked with a P idle, ever, so that only long ticks decide (it
// then sleeps a whole monitorTick at a time: a short wake could only find
// that the tick goes on). Go's scheduler's counts mean nothing there: the
// episode runs one goroutine at a time, and every other goroutine of it
// waits on its wake channel, counted as blocked whatever it does, so every
// other wake would stall, and the tick's outcome would depend on the
// process, not on the schedule. Liveness (pool.go, invariant 7) still
// holds: its proof needs only the long ticks, and virtual time reaches the
// monitor's next wake whenever the episode's goroutines all wait (block,
// park, sleep or spin), which is when a task stuck behind a blocked one
// needs a goroutine of its own. (A task that waits for a queued one in a
// loop that is no wait to the scheduler, reading core's state with no
// spin, keeps virtual time still: the episode then ends in a livelock,
// where a real run would have started the queued task after a tick.)
//
// A long tick in which tasks were started counts as progress: it judges
// the workers only by what they claim. So CPU-bound tasks shorter than
// monitorTick keep GOMAXPROCS workers claiming (and wanting a P: no stall)
// and never make the pool grow; a longer one lets the tasks queued behind
// it start on goroutines of their own, as go statements would.

import (
	"math"
	"runtime"
	"runtime/metrics"
	"time"
)

// monitorLocked makes sure the monitor runs.
func (p *pool) monitorLocked() {
	if !p.monitoring {
		p.monitoring = true
		if stepMarkers { // the serialized mode (step.go): an episode's goroutine
			goStep(p.monitor)
		} else {
			go p.monitor()
		}
	}
}

// monitor is the monitor goroutine's body.
func (p *pool) monitor() {
	var sched schedCounts // the monitor's own: reads allocate nothing
	sched.init()
	p.mu.Lock()
	last := p.taken
	p.mu.Unlock()
	var started []*worker // temporary workers to start, reused across ticks
	begin := time.Now()   // of the tick
	if stepMarkers {      // the serialized mode (step.go): an episode's clock
		if now, ok := nowStep(); ok {
			begin = now
		}
	}
	blocked := false // the last wake found a worker blocked with a P idle
	for {
		if stepMarkers { // the serialized mode (step.go): an episode's monitor wakes for long ticks only
			if !sleepStep(monitorTick) {
				time.Sleep(min(shortTick, monitorTick))
			}
		} else {
			time.Sleep(min(shortTick, monitorTick)) // the monitor reads knobs freely (tuning.go, invariant 2)
		}
		wanting, procs := sched.read()
		long := time.Since(begin) >= monitorTick
		if stepMarkers { // the serialized mode: virtual time, and no stall (see the top of this file)
			if now, ok := nowStep(); ok {
				long = now.Sub(begin) >= monitorTick
				wanting = math.MaxInt
			}
		}
		p.mu.Lock()
		p.procs = procs
		stalled := blocked && wanting < p.workers-p.parked
		blocked = wanting < p.workers-p.parked
		if !long && !stalled {
			p.mu.Unlock()
			continue // the tick goes on
		}
		begin = time.Now()
		if stepMarkers {
			if now, ok := nowStep(); ok {
				begin = now
			}
		}
		moved := p.taken != last
		watching := false
		for w := p.all; w != nil; { // step 1
			nw := w.allNext
			c := w.claim.Load()
			_, next, end := claimParts(c)
			switch {
			case stalled:
				p.stealLocked(w) // a worker is blocked, perhaps w
				p.unlistLocked(w)
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
		case p.n > 0 && (stalled || !moved):
			started = p.startAllLocked(started)
		case p.n > 0 && p.searching == 0 && (p.idle != nil || p.workers < p.procs):
			hw, sp = p.helperLocked(false)
		}
		last = p.taken
		p.mu.Unlock()
		p.start(hw, sp)
		for i, w := range started {
			if stepMarkers { // the serialized mode (step.go): an episode's goroutine
				goStep(func() { p.work(w) })
			} else {
				go p.work(w)
			}
			started[i] = nil
		}
		started = started[:0]
	}
}

// schedCounts is the monitor's sample of Go's scheduler: the goroutines
// running and runnable, and GOMAXPROCS. Only the monitor goroutine uses
// one, its own.
type schedCounts [3]metrics.Sample

// init names the metrics.
func (s *schedCounts) init() {
	s[0].Name = "/sched/goroutines/running:goroutines"
	s[1].Name = "/sched/goroutines/runnable:goroutines"
	s[2].Name = "/sched/gomaxprocs:threads"
}

// read returns how many goroutines besides the caller run or wait for a P,
// and GOMAXPROCS. It takes the scheduler's lock and walks the Ps (about
// 70 ns at GOMAXPROCS 2) and allocates nothing. The counts are approximate
// (the Ps' run queues move while they are summed) and a moment old when
// the caller acts on them. A count the runtime lacks reads as 0: every
// permanent worker out of the idle list then looks blocked, which costs
// goroutines but never strands a task.
func (s *schedCounts) read() (wanting, procs int) {
	metrics.Read(s[:])
	n := 0
	for _, x := range s[:2] {
		if x.Value.Kind() == metrics.KindUint64 {
			n += int(x.Value.Uint64())
		}
	}
	if x := s[2].Value; x.Kind() == metrics.KindUint64 {
		procs = int(x.Uint64())
	} else {
		procs = runtime.GOMAXPROCS(0)
	}
	return max(n-1, 0), procs // n counts the caller, running
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
	p.shrinkLocked() // no permanent worker left, perhaps (invariant 8)
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
