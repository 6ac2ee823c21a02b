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
