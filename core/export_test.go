package core

import "context"

// Parked reports how many goroutines are parked in c's send and receive
// queues, so tests can wait for a goroutine to block instead of sleeping.
func Parked[T any](c Chan[T]) (senders, receivers int) {
	switch c := c.(type) {
	case *SPSC[T]:
		return c.sendq.parked(), c.recvq.parked()
	case *MPSC[T]:
		return c.sendq.parked(), c.recvq.parked()
	case *SPMC[T]:
		return c.sendq.parked(), c.recvq.parked()
	case *MPMC[T]:
		return c.sendq.parked(), c.recvq.parked()
	}
	panic("core: Parked: unknown channel type")
}

// Children returns how many live children s has linked.
func Children(s *Scope) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := s.first; c != nil; c = c.next {
		n++
	}
	return n
}

// ProbeCancelCtxKey runs the init probe of package context's cause key
// with cause in place of context.Cause.
func ProbeCancelCtxKey(cause func(context.Context) error) any {
	return probeCancelCtxKey(cause)
}

// SetCancelCtxKey makes scopes behave as if the init probe had found k (nil:
// the probe failed), and returns a function that restores the key. Call it
// only while no scope is in use.
func SetCancelCtxKey(k any) (restore func()) {
	old := cancelCtxKey
	cancelCtxKey = k
	return func() { cancelCtxKey = old }
}

// LimitWaiters reports how many Go calls of g wait for a slot of its
// limit, so tests can wait for them to block instead of sleeping.
func LimitWaiters(g *Group) int { return int(g.lwait.Load()) }

// PoolRing is a snapshot of the task pool's queue and workers, taken under
// its lock.
type PoolRing struct {
	Cap        int // the queue ring's capacity
	Min        int // the capacity it shrinks back to (minQueue)
	Queued     int
	Workers    int // permanent workers
	Parked     int
	Searching  int
	Monitoring bool
}

// ReadPoolRing returns a snapshot of the task pool's queue.
func ReadPoolRing() PoolRing {
	p := tasks
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolRing{
		Cap: len(p.buf), Min: minQueue, Queued: p.n, Workers: p.workers,
		Parked: p.parked, Searching: p.searching, Monitoring: p.monitoring,
	}
}

// HoldHandoff runs the task pool's handoff up to the point where it has
// released the pool's lock, and returns the rest: start wakes or starts
// the worker it counted as searching. It forces the schedule in which
// handoff's caller is descheduled between the two; until start is called,
// the pool counts that worker as searching, so the test must call start
// (once) whatever happens. temporary says whether it counted a temporary
// worker (every permanent one was running).
func HoldHandoff() (start func(), temporary bool) {
	w, s := tasks.handoffSearcher()
	return func() { tasks.start(w, s) }, s == spawnTemporary
}
