package core

import "sync/atomic"

// Stats is a snapshot of the runtime's own counters, for leak checks: after
// a test's goroutines have ended and its scope trees were cancelled,
// ParkedWaiters, QueuedTasks, LiveTasks and LiveScopes must come back to
// zero (LiveScopes counts only scopes linked under a live parent, so scopes
// a program keeps on purpose count too).
type Stats struct {
	ParkedWaiters int64 // goroutines linked in a channel's wait queue
	QueuedTasks   int   // group tasks queued and not yet taken by a worker
	LiveTasks     int64 // group tasks submitted and not yet finished (queued, running or skipped but not yet counted)
	LiveScopes    int64 // scopes and cancel hooks linked in a parent scope's child list
	Workers       int   // the task pool's permanent workers, busy or parked
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
	// finishedTasks counts finished tasks; Group.finish adds a worker's
	// count once per group per batch, not once per task.
	finishedTasks paddedUint64
)

type paddedInt64 struct {
	_ [cacheLine]byte
	atomic.Int64
	_ [cacheLine - 8]byte
}

type paddedUint64 struct {
	_ [cacheLine]byte
	atomic.Uint64
	_ [cacheLine - 8]byte
}

// ReadStats returns the counters. It takes the task pool's lock briefly;
// it is for tests and monitoring, not for hot paths.
func ReadStats() Stats {
	// Read finished before submitted, so that LiveTasks never undercounts:
	// it is at least the number live when ReadStats returns.
	finished := finishedTasks.Load()
	tasks.mu.Lock()
	defer tasks.mu.Unlock()
	return Stats{
		ParkedWaiters: parkedTotal.Load(),
		QueuedTasks:   tasks.n,
		LiveTasks:     int64(tasks.submitted - finished),
		LiveScopes:    liveScopes.Load(),
		Workers:       tasks.workers,
	}
}
