package core

// Stats is a snapshot of the runtime's own counters, for leak checks: after
// a test's goroutines and group tasks have ended and its scope trees were
// cancelled, ParkedWaiters, QueuedTasks, LiveTasks and LiveScopes must come
// back to zero (or to what the program holds on purpose: a live scope kept
// under a live parent counts).
type Stats struct {
	ParkedWaiters int64 // goroutines linked in a channel's wait queue
	QueuedTasks   int   // group tasks queued and not yet taken by a worker
	// LiveTasks counts group tasks submitted and not yet counted finished.
	// Workers count finished tasks when they next take the pool's lock
	// (to take more work, park or exit), so it may lag Wait by the rest of
	// a worker's batch, for a few microseconds; it never undercounts.
	LiveTasks int64
	// LiveScopes counts the scopes and cancel hooks linked in a parent
	// scope's child list. A context derived from a live scope with package
	// context (WithCancel, WithDeadline, AfterFunc) is such a hook until it
	// or the scope is cancelled: one whose cancel is never called counts.
	LiveScopes int64
	Workers    int // the task pool's permanent workers, busy or parked
}

// The counters behind ReadStats that are not guarded by the pool's lock.
// Each is padded onto its own cache line, away from each other and from
// other globals, since different goroutines write them.
var (
	// parkedTotal counts the waiters linked in all wait queues. It
	// changes only on the parking slow path (park.go).
	parkedTotal paddedInt64
	// liveScopes is scope.go's invariant 6: changed on attach and unlink,
	// under the parent's mu.
	liveScopes paddedInt64
)

type paddedInt64 struct {
	_ [cacheLine]byte
	atomicInt64
	_ [cacheLine - 8]byte
}

// ReadStats returns the counters. It takes the task pool's lock briefly;
// it is for tests and monitoring, not for hot paths.
func ReadStats() Stats {
	if stepMarkers { // the serialized mode (step.go): an episode's own pool
		return poolStep().stats()
	}
	tasks.mu.Lock()
	defer tasks.mu.Unlock()
	return Stats{
		ParkedWaiters: parkedTotal.Load(),
		QueuedTasks:   tasks.n,
		LiveTasks:     int64(tasks.submitted - tasks.finished),
		LiveScopes:    liveScopes.Load(),
		Workers:       tasks.workers,
	}
}
